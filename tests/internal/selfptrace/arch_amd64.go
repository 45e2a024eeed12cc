package selfptrace

// Architecture facts for x86_64. The assembly uses the sys* constants through
// go_asm.h (const_sysFork and so on).
const (
	// AuditArch is the si_arch value the kernel must report.
	AuditArch = AuditArchX86_64
	// Machine is what uname(2) reports for this GOARCH.
	Machine = "x86_64"
	// SysSigreturn is the non-RT sigreturn number, or -1 where the 64-bit
	// ABI has none (x86_64 only has rt_sigreturn).
	SysSigreturn = -1

	sysPtrace       = 101
	sysRtSigreturn  = 15
	sysFork         = 57
	sysVfork        = 58
	sysClone        = 56
	sysClone3       = 435
	sysExecve       = 59
	sysExecveat     = 322
	sysGetpid       = 39
	sysExit         = 60
	sysExitGroup    = 231
	sysSchedYield   = 24
	sysRtSigprocmsk = 14
)

// SysRtSigreturn is the rt_sigreturn number.
const SysRtSigreturn = sysRtSigreturn

// SiSyscall is the si_syscall value the kernel reports for a number register
// holding nr. On x86_64 the entry code passes the number as an int: the low
// 32 bits of rax, sign-extended.
func SiSyscall(nr uint64) int32 { return int32(uint32(nr)) }

// RolledBackResult is the value a record-only handler leaves in the result
// register, and thus the caller's result: after the rollback rax holds the
// number again.
func RolledBackResult(nr uint64, args [6]uint64) uint64 { return nr }

// NumberInRegister tells whether Record.Nr (rax) must equal the number the
// caller loaded (always on x86_64).
const NumberInRegister = true

// SyscallInsnLen is the length of "syscall" (0f 05).
const SyscallInsnLen = 2
