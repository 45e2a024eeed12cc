package selfptrace_test

import (
	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// Numbers whose low 32 bits are write (1): the x86_64 entry code passes the
// number to the system call table as an int. 0x40000001 has the x32 bit.
var aliasesOfWrite = []uint64{0x1_0000_0001, 0x8000_0000_0000_0001, 0xffff_ffff_0000_0001, 0x4000_0001}

// archNumbers are further numbers that could hurt on this arch (none beyond
// the shared list).
var archNumbers []uint64

// cloneArgs returns the arguments of clone(2) for flags and no new stack:
// x86_64 takes (flags, newsp, parent_tid, child_tid, tls).
func cloneArgs(flags uint64) []uint64 { return []uint64{flags, 0, 0, 0, 0} }

// hasSUD tells whether the kernel has Syscall User Dispatch on this arch.
const hasSUD = true

// legacyCreation are the process-creating calls besides clone, clone3,
// execve and execveat.
var legacyCreation = []creationCall{
	{"fork", sp.Syscall(unix.SYS_FORK)},
	{"vfork", sp.Syscall(unix.SYS_VFORK)},
}

// setSyscallNr changes the system call of a thread stopped at its
// syscall-entry stop: orig_rax in struct user.
func setSyscallNr(tid int, nr uint64) error {
	return pokeUser(tid, 15*8, nr)
}

// vdsoSigreturn tells whether a handler installed without SA_RESTORER
// returns through an rt_sigreturn in the vDSO: not on x86_64, whose 64-bit
// ABI requires SA_RESTORER.
const vdsoSigreturn = false

// forkCalls are the arch's own fork and vfork system calls, made by an armed
// thread in TestCreateWhileArmedStartsDisarmed (an arch without them, such
// as arm64 or riscv64, leaves the map empty: clone covers them).
var forkCalls = map[string]uint64{"fork": unix.SYS_FORK, "vfork": unix.SYS_VFORK}
