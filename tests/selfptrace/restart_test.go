package selfptrace_test

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// restartCodes are the kernel's internal restart codes (-ERESTARTSYS,
// -ERESTARTNOINTR, -ERESTARTNOHAND, -ENOIOCTLCMD, -ERESTART_RESTARTBLOCK)
// and -ENOSYS, which the entry code of arm64 and riscv64 stores in the
// result register before the entry work.
var restartCodes = []uint64{neg(512), neg(513), neg(514), neg(515), neg(516), neg(int64(unix.ENOSYS))}

// TestRestartLogic intercepts calls whose result register holds a restart
// code after the rollback (the first argument on s390x, arm64 and riscv64;
// the number on x86_64), with and without SA_RESTART on the SIGSYS
// handler, combined with numbers that could hurt (getpid, -1, 0xffffffff:
// NO_SYSCALL on arm64). The signal code must neither restart the call (the
// handler would see the pc of the system call instruction, and the call
// would then run) nor turn the value into -EINTR: the caller gets the
// rolled-back value, and the next call runs normally.
// Contract: "The number and the arguments reach the handler intact
// whatever their values are, and the kernel never executes an intercepted
// call afterwards by any path (syscall restart logic included)"; "Each
// architecture still needs its own check of the rollback: where the first
// argument and the return value share a register ..., or where signal
// delivery applies the restart logic to the rolled-back registers, the
// port must keep every value intact and never restart the call".
func TestRestartLogic(t *testing.T) {
	for _, restart := range []bool{false, true} {
		numbers := append([]uint64{unix.SYS_GETPID, ^uint64(0), 0xffff_ffff}, restartCodes...)
		for _, nr := range numbers {
			firsts := restartCodes
			if nr != unix.SYS_GETPID {
				firsts = []uint64{0x1, neg(513)}
			}
			for _, a0 := range firsts {
				name := fmt.Sprintf("SA_RESTART=%v/nr=%#x/arg1=%#x", restart, nr, a0)
				t.Run(name, func(t *testing.T) { testRestart(t, restart, nr, a0) })
			}
		}
	}
}

func testRestart(t *testing.T, restart bool, nr, a0 uint64) {
	s := sp.Begin(t)
	if restart {
		act := sp.HandlerAction(sp.HandlerPC)
		act.Flags |= sp.SaRestart
		restore, err := sp.InstallAction(sp.SIGSYS, act)
		if err != nil {
			t.Fatal(err)
		}
		defer restore()
	}
	args := [6]uint64{a0, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666}
	ops := s.Run(sp.On(), sp.Syscall(nr, args[:]...), sp.Syscall(unix.SYS_GETPID, 0x7e57))
	wantOn(t, ops[0])
	recs := wantRecords(t, 1)
	checkIntercept(t, &recs[0], nr, args[:])
	wantRet(t, "intercepted call", ops[1], sp.RolledBackResult(nr, args))
	wantRet(t, "getpid after it", ops[2], uint64(os.Getpid()))
}
