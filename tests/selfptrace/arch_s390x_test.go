package selfptrace_test

import "golang.org/x/sys/unix"

// Numbers whose low 16 bits are write (4): do_syscall() takes the number of
// "svc 0" from the low 16 bits of r1.
var aliasesOfWrite = []uint64{0x1_0004, 0xffff_ffff_fffe_0004, 0x1_0000_0004}

// cloneArgs returns the arguments of clone(2) for flags and no new stack:
// s390x takes (newsp, flags, parent_tid, child_tid, tls).
func cloneArgs(flags uint64) []uint64 { return []uint64{0, flags, 0, 0, 0} }

// nrUserOffset is the offset of gprs[2] in struct user (after the 16-byte
// PSW): at a syscall-entry stop gpr2 holds the number, and writing it
// changes the call the kernel runs.
const nrUserOffset = 16 + 2*8

// forkCalls are the arch's own fork and vfork system calls, made by an armed
// thread in TestCreateWhileArmedStartsDisarmed (an arch without them, such
// as arm64 or riscv64, leaves the map empty: clone covers them).
var forkCalls = map[string]uint64{"fork": unix.SYS_FORK, "vfork": unix.SYS_VFORK}
