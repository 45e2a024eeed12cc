//go:build amd64 || s390x || arm64

package selfptrace

// ksigaction is the kernel's struct sigaction: with SA_RESTORER it has the
// layout of Sigaction.
type ksigaction = Sigaction

func toKsigaction(act *Sigaction) ksigaction { return *act }
func fromKsigaction(k *ksigaction) Sigaction { return *k }
