//go:build hostcheck

// Host checks of what the guest benchmark (tests/bench) adds to the
// library: OpLoop, LastRecord and the seccomp listener (FlagReblock with
// Syscall User Dispatch: hostcheck_sud_test.go).
package selfptrace

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestHostLoop(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ops := []Op{Loop(unix.SYS_GETPID, 0, 1000), Loop(unix.SYS_GETPID, 0, 0)}
	RunRaw(ops)
	if int(ops[0].Ret) != os.Getpid() || ops[1].Ret != 0 {
		t.Errorf("loop results %#x and %#x, want the pid and 0", ops[0].Ret, ops[1].Ret)
	}
	// Every call of the loop is a call: each one is trapped.
	onTrapThread(t, func() {
		SetPlan(Plan{Flags: FlagAnyCode | FlagSetResult, Result: 7})
		ops = run(Loop(unix.SYS_WRITE, trapFd, 5))
	})
	if Count() != 5 || ops[0].Ret != 7 {
		t.Errorf("%d SIGSYS for 5 trapped calls, result %#x (want 7)", Count(), ops[0].Ret)
	}
	last, ok := LastRecord()
	recs := Records()
	if !ok || last.Seq != 4 || last != recs[len(recs)-1] {
		t.Errorf("LastRecord = %v, %v; want the fifth record", last.String(), ok)
	}
}

func TestHostSeccompListener(t *testing.T) {
	fds := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread ends with its filter
		fd, err := InstallSeccompListener([]SeccompRule{{Nr: unix.SYS_GETPPID, Ret: unix.SECCOMP_RET_USER_NOTIF}})
		fds <- fd
		done <- err
	}()
	fd := <-fds
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || fd < 3 {
		t.Errorf("listener fd %d: %v", fd, err)
	}
}
