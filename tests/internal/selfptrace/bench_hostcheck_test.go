//go:build hostcheck

// Host checks of what the guest benchmark (tests/bench) adds to the
// library: OpLoop, FlagReblock with Syscall User Dispatch, LastRecord and
// the seccomp listener.
package selfptrace

import (
	"os"
	"runtime"
	"testing"
	"unsafe"

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

func TestHostReblock(t *testing.T) {
	for _, reblock := range []bool{false, true} {
		Reset()
		restore, err := InstallHandler()
		if err != nil {
			t.Fatal(err)
		}
		selector := new(byte)
		flags := uint64(FlagAnyCode | FlagPerform)
		if reblock {
			flags |= FlagReblock
		}
		SetPlan(Plan{Flags: flags, SelectorAddr: uint64(uintptr(unsafe.Pointer(selector)))})
		var ops []Op
		func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_ON,
				RestorerPC, 16, uintptr(unsafe.Pointer(selector)), 0); e != 0 {
				t.Fatalf("prctl(PR_SET_SYSCALL_USER_DISPATCH): %v", e)
			}
			ops = run(Store8(selector, 1), Loop(unix.SYS_GETPID, 0, 3), Store8(selector, 0))
			unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_OFF, 0, 0, 0, 0)
		}()
		restore()
		runtime.KeepAlive(selector)
		want := uint64(1) // the handler leaves the selector on ALLOW
		if reblock {
			want = 3
		}
		if Count() != want || int(ops[1].Ret) != os.Getpid() {
			t.Errorf("reblock %v: %d SIGSYS, want %d; getpid returned %#x", reblock, Count(), want, ops[1].Ret)
		}
		if last, _ := LastRecord(); last.Code() != SysUserDispatch || last.Flags&RecPerformed == 0 {
			t.Errorf("reblock %v: last SIGSYS %v", reblock, last.String())
		}
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
