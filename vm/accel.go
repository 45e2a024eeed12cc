package vm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// Accel is a QEMU accelerator.
type Accel string

const (
	// AccelAuto lets ChooseAccel decide.
	AccelAuto Accel = ""
	AccelKVM  Accel = "kvm"
	AccelTCG  Accel = "tcg"
)

// TCGSlowdown is the factor by which timeouts grow when the guest is
// emulated by TCG instead of run by KVM.
const TCGSlowdown = 5

// ParseAccel parses a --accel value: "auto" (or empty), "kvm" or "tcg".
func ParseAccel(s string) (Accel, error) {
	switch s {
	case "", "auto":
		return AccelAuto, nil
	case "kvm":
		return AccelKVM, nil
	case "tcg":
		return AccelTCG, nil
	}
	return AccelAuto, fmt.Errorf("accelerator %q: want auto, kvm or tcg", s)
}

// Scale returns d scaled for the accelerator: TCGSlowdown times longer
// under TCG, unchanged under KVM.
func (a Accel) Scale(d time.Duration) time.Duration {
	if a == AccelKVM {
		return d
	}
	return d * TCGSlowdown
}

// AccelChoice is the accelerator picked for a run and why.
type AccelChoice struct {
	Accel  Accel
	Reason string
}

func (c AccelChoice) String() string { return string(c.Accel) + " (" + c.Reason + ")" }

// ChooseAccel picks the accelerator for a guest of spec on a host whose
// GOARCH is host. want forces a choice (AccelKVM fails if KVM cannot be
// used); AccelAuto takes KVM when the guest architecture is the host's and
// probeKVM (normally CheckKVM) succeeds, TCG otherwise. probeKVM is only
// called when KVM is a candidate.
func ChooseAccel(spec arch.Spec, want Accel, host string, probeKVM func() error) (AccelChoice, error) {
	switch want {
	case AccelTCG:
		return AccelChoice{AccelTCG, "tcg requested"}, nil
	case AccelKVM, AccelAuto:
	default:
		return AccelChoice{}, fmt.Errorf("accelerator %q: want auto, kvm or tcg", want)
	}
	if spec.KVMHostArch != host {
		why := fmt.Sprintf("%s guest on %s host: KVM needs a %s host", spec.Name, host, spec.KVMHostArch)
		if want == AccelKVM {
			return AccelChoice{}, fmt.Errorf("cannot use KVM: %s; use --accel tcg", why)
		}
		return AccelChoice{AccelTCG, why}, nil
	}
	if err := probeKVM(); err != nil {
		if want == AccelKVM {
			return AccelChoice{}, fmt.Errorf("cannot use KVM: %w; use --accel tcg", err)
		}
		return AccelChoice{AccelTCG, "KVM unusable: " + err.Error()}, nil
	}
	if want == AccelKVM {
		return AccelChoice{AccelKVM, "kvm requested and usable"}, nil
	}
	return AccelChoice{AccelKVM, "/dev/kvm usable and guest arch matches host"}, nil
}

// CheckKVM reports whether QEMU can run spec's machine under KVM here. It
// opens /dev/kvm read-write, then starts QEMU paused with -accel kvm and
// quits it through QMP on stdio: a /dev/kvm that opens is not enough (some
// nested or emulated KVMs abort QEMU when it sets up the vCPUs).
func CheckKVM(ctx context.Context, spec arch.Spec) error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/kvm: %w", err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	args := append([]string{}, spec.Machine...)
	args = append(args, "-accel", "kvm", "-m", "64M", "-nodefaults", "-display", "none", "-S", "-qmp", "stdio")
	cmd := exec.CommandContext(ctx, spec.QEMU, args...)
	cmd.Stdin = strings.NewReader(`{"execute":"qmp_capabilities"}` + "\n" + `{"execute":"quit"}` + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return fmt.Errorf("%s -accel kvm failed: %v: %s", spec.QEMU, err, msg)
	}
	return nil
}
