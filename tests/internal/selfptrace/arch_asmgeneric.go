//go:build arm64 || riscv64

package selfptrace

// System call numbers of the asm-generic table (include/uapi/asm-generic/
// unistd.h), shared by arm64 and riscv64; the assembly uses them through
// go_asm.h. These arches have no fork, vfork or non-RT sigreturn: the fork
// and vfork probes use clone with the flags below, and clone takes
// (flags, newsp, parent_tid, tls, child_tid) (CONFIG_CLONE_BACKWARDS).
const (
	// SysSigreturn: the 64-bit ABI has no non-RT sigreturn.
	SysSigreturn = -1

	sysPtrace       = 117
	sysRtSigreturn  = 139
	sysClone        = 220
	sysClone3       = 435
	sysExecve       = 221
	sysExecveat     = 281
	sysGetpid       = 172
	sysExit         = 93
	sysExitGroup    = 94
	sysSchedYield   = 124
	sysRtSigprocmsk = 135

	sigchld         = 17
	cloneVM         = 0x100
	cloneVfork      = 0x4000
	cloneForkFlags  = sigchld
	cloneVforkFlags = cloneVM | cloneVfork | sigchld
)

// SysRtSigreturn is the rt_sigreturn number.
const SysRtSigreturn = sysRtSigreturn

// RolledBackResult is the value a record-only handler leaves in the result
// register, and thus the caller's result: the result register (x0, a0) is
// also the first argument register, which the rollback restores.
func RolledBackResult(nr uint64, args [6]uint64) uint64 { return args[0] }

// NumberInRegister tells whether Record.Nr (x8, a7) must equal the number
// the caller loaded: the kernel never writes the number register.
const NumberInRegister = true

// SyscallInsnLen is the length of "svc #0" and of "ecall".
const SyscallInsnLen = 4
