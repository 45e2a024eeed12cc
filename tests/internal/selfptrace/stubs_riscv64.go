package selfptrace

// riscv64-only assembly, see handler_riscv64.s.
func armHandlerKRet()
func armHandlerKRetPC() uintptr

// ArmHandlerKernelRetPC is armHandler returning to the address the kernel
// gave it (ra: the vDSO's rt_sigreturn) instead of jumping to RestorerPC.
var ArmHandlerKernelRetPC = armHandlerKRetPC()
