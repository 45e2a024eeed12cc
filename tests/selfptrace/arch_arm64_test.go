package selfptrace_test

import (
	"encoding/binary"
)

// Numbers whose low 32 bits are write (64): el0_svc passes x8 to
// el0_svc_common() as an int.
var aliasesOfWrite = []uint64{0x1_0000_0040, 0x8000_0000_0000_0040, 0xffff_ffff_0000_0040}

// archNumbers are further numbers that could hurt on arm64: the low 32
// bits of 0xffffffff and 0x1_ffffffff are -1, NO_SYSCALL, for which
// el0_svc_common() stores -ENOSYS in x0 before the entry work (so the
// rollback must restore x0 from orig_x0) and for which in_syscall() is
// false.
var archNumbers = []uint64{0xffff_ffff, 0x1_ffff_ffff}

// cloneArgs returns the arguments of clone(2) for flags and no new stack:
// arm64 takes (flags, newsp, parent_tid, tls, child_tid).
func cloneArgs(flags uint64) []uint64 { return []uint64{flags, 0, 0, 0, 0} }

// hasSUD: arm64 has no Syscall User Dispatch in Linux 6.12 (it does not use
// the generic entry code).
const hasSUD = false

// legacyCreation: arm64 has no fork or vfork system call.
var legacyCreation []creationCall

// ntArmSystemCall is NT_ARM_SYSTEM_CALL, the regset that holds the number
// of the system call a thread stopped at its syscall-entry stop is about to
// run (arm64 has no PTRACE_POKEUSR).
const ntArmSystemCall = 0x404

// setSyscallNr changes the system call of a thread stopped at its
// syscall-entry stop.
func setSyscallNr(tid int, nr uint64) error {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(nr))
	return setRegset(tid, ntArmSystemCall, b[:])
}

// vdsoSigreturn tells whether a handler installed without SA_RESTORER
// returns through an rt_sigreturn in the vDSO (the kernel's own return
// path).
const vdsoSigreturn = true

// forkCalls: arm64 has no fork or vfork system call; clone(SIGCHLD) and
// CLONE_VM|CLONE_VFORK cover them in TestCreateWhileArmedStartsDisarmed.
var forkCalls = map[string]uint64{}
