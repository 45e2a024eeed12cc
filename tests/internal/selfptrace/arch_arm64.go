package selfptrace

// Architecture facts for arm64 (see also arch_asmgeneric.go).
const (
	// AuditArch is the si_arch value the kernel must report.
	AuditArch = AuditArchAArch64
	// Machine is what uname(2) reports for this GOARCH.
	Machine = "aarch64"
)

// SiSyscall is the si_syscall value the kernel reports for x8 = nr: el0_svc
// passes x8 to el0_svc_common() as an int (the low 32 bits, sign-extended),
// which is what regs->syscallno and syscall_get_nr() hold.
func SiSyscall(nr uint64) int32 { return int32(uint32(nr)) }
