package selfptrace

// Architecture facts for riscv64 (see also arch_asmgeneric.go).
const (
	// AuditArch is the si_arch value the kernel must report.
	AuditArch = AuditArchRiscv64
	// Machine is what uname(2) reports for this GOARCH.
	Machine = "riscv64"
)

// SiSyscall is the si_syscall value the kernel reports for a7 = nr: the
// entry code keeps the number as a long (do_trap_ecall_u), and si_syscall
// is an int: the low 32 bits.
func SiSyscall(nr uint64) int32 { return int32(uint32(nr)) }
