package selfptrace_test

import (
	"encoding/binary"
)

// Numbers whose low 32 bits are write (64): riscv64 keeps the number as a
// long, so none of them may run write; a kernel that truncates it would.
var aliasesOfWrite = []uint64{0x1_0000_0040, 0x8000_0000_0000_0040, 0xffff_ffff_0000_0040}

// archNumbers are further numbers that could hurt on riscv64: 0xffffffff
// (-1 as an int, not as a long) and the smallest negative long.
var archNumbers = []uint64{0xffff_ffff, 0x8000_0000_0000_0000}

// cloneArgs returns the arguments of clone(2) for flags and no new stack:
// riscv64 takes (flags, newsp, parent_tid, tls, child_tid).
func cloneArgs(flags uint64) []uint64 { return []uint64{flags, 0, 0, 0, 0} }

// hasSUD tells whether the kernel has Syscall User Dispatch on this arch.
const hasSUD = true

// legacyCreation: riscv64 has no fork or vfork system call.
var legacyCreation []creationCall

// setSyscallNr changes the system call of a thread stopped at its
// syscall-entry stop: a7 in the NT_PRSTATUS regset (struct
// user_regs_struct: pc, ra, sp, ..., so x_n at 8*n, a7 = x17); the generic
// entry code reads the number again after the stop.
func setSyscallNr(tid int, nr uint64) error {
	var regs [32 * 8]byte
	if err := getRegset(tid, ntPrstatus, regs[:]); err != nil {
		return err
	}
	binary.NativeEndian.PutUint64(regs[17*8:], nr)
	return setRegset(tid, ntPrstatus, regs[:])
}

// vdsoSigreturn tells whether a handler installed without SA_RESTORER
// returns through an rt_sigreturn in the vDSO (the kernel's own return
// path).
const vdsoSigreturn = true

// forkCalls: riscv64 has no fork or vfork system call; clone(SIGCHLD) and
// CLONE_VM|CLONE_VFORK cover them in TestCreateWhileArmedStartsDisarmed.
var forkCalls = map[string]uint64{}
