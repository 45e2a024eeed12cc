package selfptrace_test

import (
	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// Numbers whose low 16 bits are write (4): do_syscall() takes the number of
// "svc 0" from the low 16 bits of r1.
var aliasesOfWrite = []uint64{0x1_0004, 0xffff_ffff_fffe_0004, 0x1_0000_0004}

// archNumbers are further numbers that could hurt on this arch (none beyond
// the shared list).
var archNumbers []uint64

// cloneArgs returns the arguments of clone(2) for flags and no new stack:
// s390x takes (newsp, flags, parent_tid, child_tid, tls).
func cloneArgs(flags uint64) []uint64 { return []uint64{0, flags, 0, 0, 0} }

// hasSUD tells whether the kernel has Syscall User Dispatch on this arch.
const hasSUD = true

// legacyCreation are the process-creating calls besides clone, clone3,
// execve and execveat.
var legacyCreation = []creationCall{
	{"fork", sp.Syscall(unix.SYS_FORK)},
	{"vfork", sp.Syscall(unix.SYS_VFORK)},
}

// setSyscallNr changes the system call of a thread stopped at its
// syscall-entry stop: at that stop gprs[2] (in struct user after the
// 16-byte PSW) holds the number, and writing it changes the call the
// kernel runs.
func setSyscallNr(tid int, nr uint64) error {
	return pokeUser(tid, 16+2*8, nr)
}

// vdsoSigreturn tells whether a handler installed without SA_RESTORER
// returns through an rt_sigreturn in the vDSO (the kernel's own return
// path).
const vdsoSigreturn = true

// forkCalls are the arch's own fork and vfork system calls, made by an armed
// thread in TestCreateWhileArmedStartsDisarmed (an arch without them, such
// as arm64 or riscv64, leaves the map empty: clone covers them).
var forkCalls = map[string]uint64{"fork": unix.SYS_FORK, "vfork": unix.SYS_VFORK}
