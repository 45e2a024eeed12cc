package selfptrace_test

import "golang.org/x/sys/unix"

// Numbers whose low 32 bits are write (1): the x86_64 entry code passes the
// number to the system call table as an int. 0x40000001 has the x32 bit.
var aliasesOfWrite = []uint64{0x1_0000_0001, 0x8000_0000_0000_0001, 0xffff_ffff_0000_0001, 0x4000_0001}

// cloneArgs returns the arguments of clone(2) for flags and no new stack:
// x86_64 takes (flags, newsp, parent_tid, child_tid, tls).
func cloneArgs(flags uint64) []uint64 { return []uint64{flags, 0, 0, 0, 0} }

// nrUserOffset is the offset of orig_rax in struct user: writing it at a
// syscall-entry stop changes the call the kernel runs.
const nrUserOffset = 15 * 8

// forkCalls are the arch's own fork and vfork system calls, made by an armed
// thread in TestCreateWhileArmedStartsDisarmed (an arch without them, such
// as arm64 or riscv64, leaves the map empty: clone covers them).
var forkCalls = map[string]uint64{"fork": unix.SYS_FORK, "vfork": unix.SYS_VFORK}
