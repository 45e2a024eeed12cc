//go:build amd64 || s390x || arm64

package selfptrace

// ArmHandlerKernelRetPC is armHandler, which returns to the address the
// kernel gave it (the return address register or the stack): the
// sa_restorer, or the vDSO's rt_sigreturn when the action has no
// SA_RESTORER (s390x and arm64; x86_64 requires SA_RESTORER).
var ArmHandlerKernelRetPC = armHandlerPC()
