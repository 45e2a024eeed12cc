package selfptrace

// riscv64-only assembly, see handler_riscv64.s.
func armHandlerKRet()
func armHandlerKRetPC() uintptr

// ArmHandlerKernelRetPC is armHandler returning to the address the kernel
// gave it (ra: the vDSO's rt_sigreturn) instead of jumping to RestorerPC.
var ArmHandlerKernelRetPC = armHandlerKRetPC()

// riscv64 has no form of ecall that selects the call and no 64-bit non-RT
// sigreturn: OpSvcImm returns -ENOSYS without a system call, and there is
// no old-style restorer.
var (
	SvcImmSitePC  uintptr
	OldRestorerPC uintptr
)
