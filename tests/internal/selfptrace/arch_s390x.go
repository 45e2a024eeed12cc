package selfptrace

// Architecture facts for s390x. The assembly uses the sys* constants through
// go_asm.h (const_sysFork and so on).
const (
	// AuditArch is the si_arch value the kernel must report.
	AuditArch = AuditArchS390X
	// Machine is what uname(2) reports for this GOARCH.
	Machine = "s390x"
	// SysSigreturn is the non-RT sigreturn number (119), used by handlers
	// installed without SA_SIGINFO.
	SysSigreturn = 119

	sysPtrace       = 26
	sysRtSigreturn  = 173
	sysSigreturn    = 119
	sysFork         = 2
	sysVfork        = 190
	sysClone        = 120
	sysClone3       = 435
	sysExecve       = 11
	sysExecveat     = 354
	sysGetpid       = 20
	sysExit         = 1
	sysExitGroup    = 248
	sysSchedYield   = 158
	sysRtSigprocmsk = 175
)

// SysRtSigreturn is the rt_sigreturn number.
const SysRtSigreturn = sysRtSigreturn

// SiSyscall is the si_syscall value the kernel reports for "svc 0" with r1 =
// nr: do_syscall() takes the low 16 bits of r1.
func SiSyscall(nr uint64) int32 { return int32(nr & 0xffff) }

// RolledBackResult is the value a record-only handler leaves in the result
// register, and thus the caller's result: after the rollback r2 holds the
// first argument again.
func RolledBackResult(nr uint64, args [6]uint64) uint64 { return args[0] }

// NumberInRegister tells whether Record.Nr (r1) must equal the number the
// caller loaded: true for "svc 0", which is what runSeq uses.
const NumberInRegister = true

// SyscallInsnLen is the length of "svc 0" (0a 00).
const SyscallInsnLen = 2
