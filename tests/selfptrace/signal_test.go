package selfptrace_test

import (
	"os"
	"runtime/debug"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

const usr1Magic = 0x0051_0051

// installUsr1 makes usr1Handler (which performs getppid(usr1Magic)) the
// SIGUSR1 action for the test.
func installUsr1(t *testing.T) {
	t.Helper()
	sp.SetUsr1Op(sp.Syscall(unix.SYS_GETPPID, usr1Magic, 0x52))
	restore, err := sp.InstallAction(int(unix.SIGUSR1), sp.HandlerAction(sp.Usr1HandlerPC))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := restore(); err != nil {
			t.Errorf("restoring SIGUSR1: %v", err)
		}
	})
}

// TestSignalHandlerSyscall: the SIGSYS handler performs an intercepted
// tgkill(self, SIGUSR1) and re-arms; SIGUSR1 is then delivered while the
// thread is armed, and the system call its handler makes is the one
// intercepted. Contract: "Every system call is intercepted ..." (from any
// context of the thread), "Disarmed at interception, not in
// handle_signal() on the delivery of any signal", re-arming.
func TestSignalHandlerSyscall(t *testing.T) {
	s := sp.Begin(t)
	installUsr1(t)
	s.Unblocked = sp.SigBit(int(unix.SIGUSR1))
	s.Plan(sp.Plan{Flags: sp.FlagPerform | sp.FlagRearm, RearmLimit: 2})
	pid, tid := uint64(os.Getpid()), uint64(unix.Gettid())
	ops := s.Run(sp.On(),
		sp.Syscall(unix.SYS_TGKILL, pid, tid, uint64(unix.SIGUSR1)),
		sp.Syscall(unix.SYS_GETPID, 0x7a11))
	wantOn(t, ops[0])
	recs := wantRecords(t, 2)
	checkIntercept(t, &recs[0], unix.SYS_TGKILL, []uint64{pid, tid, uint64(unix.SIGUSR1)})
	r := &recs[1]
	if r.Code() != sp.SysSelfPtrace || r.Syscall() != unix.SYS_GETPPID || r.Args[0] != usr1Magic {
		t.Errorf("second interception is not the SIGUSR1 handler's getppid: %v", r.String())
	}
	n, ret := sp.Usr1Result()
	if n != 1 {
		t.Errorf("SIGUSR1 handler ran %d times, want 1", n)
	}
	if ret != uint64(os.Getppid()) {
		t.Errorf("SIGUSR1 handler's getppid returned %#x, want %d (performed by the SIGSYS handler)", ret, os.Getppid())
	}
	wantRet(t, "tgkill (performed by the SIGSYS handler)", ops[1], 0)
	wantRet(t, "getpid after the signal (thread disarmed)", ops[2], uint64(os.Getpid()))
}

// TestSignalDeliveryKeepsArmed: another thread sends SIGUSR1 to an armed
// thread that makes no system call; the signal's delivery does not disarm
// it, and the handler's getppid is intercepted (then the thread is
// disarmed, so its own next call runs). Contract: "Disarmed at
// interception, not in handle_signal() on the delivery of any signal".
func TestSignalDeliveryKeepsArmed(t *testing.T) {
	sp.Begin(t)
	installUsr1(t)
	sp.SetPlan(sp.Plan{Flags: sp.FlagPerform})
	defer enoughProcs()()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var armed, release uint32
	res, tidCh := armedThread(&armed, &release, 0xa5a5, sp.SigBit(int(unix.SIGUSR1)))
	tidA := <-tidCh
	waitFlag(t, "thread A to arm", func() bool { return atomic.LoadUint32(&armed) != 0 })
	if err := unix.Tgkill(os.Getpid(), tidA, unix.SIGUSR1); err != nil {
		atomic.StoreUint32(&release, 1)
		<-res
		t.Fatalf("tgkill: %v", err)
	}
	waitFlag(t, "the SIGUSR1 handler", func() bool { n, _ := sp.Usr1Result(); return n != 0 })
	atomic.StoreUint32(&release, 1)
	ops := <-res
	wantOn(t, ops[0])
	if ops[1].Ret != 1 {
		t.Errorf("thread A's spin timed out")
	}
	recs := wantRecords(t, 1)
	r := &recs[0]
	if r.Code() != sp.SysSelfPtrace || r.Syscall() != unix.SYS_GETPPID || r.Args[0] != usr1Magic {
		t.Errorf("interception is not the SIGUSR1 handler's getppid: %v", r.String())
	}
	if _, ret := sp.Usr1Result(); ret != uint64(os.Getppid()) {
		t.Errorf("SIGUSR1 handler's getppid returned %#x, want %d", ret, os.Getppid())
	}
	wantRet(t, "thread A's getpid after the signal", ops[2], uint64(os.Getpid()))
}
