package selfptrace

// ksigaction is riscv64's struct sigaction (include/linux/signal_types.h
// without __ARCH_HAS_SA_RESTORER): no restorer field. The kernel always
// returns from a handler through the vDSO's rt_sigreturn; the assembly
// handlers of this package ignore that return address and jump to
// sigreturnTramp (RestorerPC) instead, so Sigaction.Restorer is only
// informative here.
//
// The trailing pad is never read by the kernel (sigsetsize is 8), but
// qemu-user (7.2) writes 32 bytes for the old action: without the pad it
// overwrites whatever follows on the stack.
type ksigaction struct {
	Handler uintptr
	Flags   uint64
	Mask    uint64
	_       uint64
}

func toKsigaction(act *Sigaction) ksigaction {
	return ksigaction{Handler: act.Handler, Flags: act.Flags &^ SaRestorer, Mask: act.Mask}
}

func fromKsigaction(k *ksigaction) Sigaction {
	return Sigaction{Handler: k.Handler, Flags: k.Flags, Mask: k.Mask}
}
