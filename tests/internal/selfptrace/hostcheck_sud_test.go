//go:build hostcheck && !arm64

// Host checks with Syscall User Dispatch, which arm64 does not have in
// Linux 6.12.
package selfptrace

import (
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestHostSUD(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	Reset()
	restore, err := InstallHandler()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	var selector byte // SYSCALL_DISPATCH_FILTER_ALLOW
	SetPlan(Plan{SelectorAddr: uint64(uintptr(unsafe.Pointer(&selector)))})
	if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_ON,
		RestorerPC, 16, uintptr(unsafe.Pointer(&selector)), 0); e != 0 {
		t.Fatalf("prctl SUD: %v", e)
	}
	ops := run(Store8(&selector, 1), Syscall(unix.SYS_GETPID, 0xabc), Syscall(unix.SYS_GETPID, 0xdef))
	unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_OFF, 0, 0, 0, 0)
	recs := Records()
	// s390x: Syscall User Dispatch leaves -ENOSYS in r2 (first argument).
	if len(recs) != 1 || recs[0].Code() != SysUserDispatch || (recs[0].Args[0] != 0xabc && runtime.GOARCH != "s390x") {
		t.Fatalf("records %v", recs)
	}
	if int(ops[2].Ret) != os.Getpid() {
		t.Errorf("second getpid %d", ops[2].Ret)
	}
	t.Logf("%v", recs[0].String())
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
