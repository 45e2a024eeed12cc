//go:build arm64 || riscv64

package selfptrace

// arm64 and riscv64 have no "svc NN" form that selects the call (arm64
// ignores the svc immediate) and no 64-bit non-RT sigreturn: OpSvcImm
// returns -ENOSYS without a system call, and there is no old-style
// restorer.
var (
	SvcImmSitePC  uintptr
	OldRestorerPC uintptr
)
