package selfptrace

// x86_64 has no "svc NN" form and no 64-bit non-RT sigreturn: OpSvcImm
// returns -ENOSYS without a system call, and there is no old-style restorer.
var (
	SvcImmSitePC  uintptr
	OldRestorerPC uintptr
)
