package selfptrace_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// Syscall User Dispatch selector values (include/uapi/linux/prctl.h).
const (
	sudAllow = 0 // SYSCALL_DISPATCH_FILTER_ALLOW
	sudBlock = 1 // SYSCALL_DISPATCH_FILTER_BLOCK
)

// TestSyscallUserDispatch arms a thread that also has Syscall User Dispatch
// on. With the selector on BLOCK, SUD intercepts the call first (si_code
// SYS_USER_DISPATCH) and the thread stays armed: the next call, with the
// selector back on ALLOW (the handler switches it), is intercepted by
// self-ptrace. Contract: "Interception happens in syscall_trace_enter()
// right after Syscall User Dispatch" and "If Syscall User Dispatch
// intercepts a call first, the thread stays armed".
//
// arm64 has no Syscall User Dispatch in Linux 6.12 (the contract says so):
// there the test checks that the prctl is refused with EINVAL and that a
// call made armed right after the refused prctl is intercepted as usual.
func TestSyscallUserDispatch(t *testing.T) {
	s := sp.Begin(t)
	if !hasSUD {
		var sel byte
		ops := s.Run(
			sp.Syscall(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_ON, uint64(sp.RestorerPC), 16, ptr(&sel)),
			sp.On(), sp.Syscall(unix.SYS_GETPID, 0x5d4))
		wantRet(t, "prctl(PR_SET_SYSCALL_USER_DISPATCH) on an arch without it", ops[0], neg(int64(unix.EINVAL)))
		wantOn(t, ops[1])
		recs := wantRecords(t, 1)
		checkIntercept(t, &recs[0], unix.SYS_GETPID, []uint64{0x5d4})
		return
	}
	var problems []string
	// SUD is per thread: use a thread that ends with the test.
	onNewThread(func() {
		selector := new(byte)
		*selector = sudAllow
		sp.SetPlan(sp.Plan{SelectorAddr: uint64(uintptr(unsafe.Pointer(selector)))})
		// The restorer is in the always-allowed region too, so that the
		// handler's return is never dispatched.
		if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_ON,
			sp.RestorerPC, 16, uintptr(unsafe.Pointer(selector)), 0); e != 0 {
			problems = append(problems, fmt.Sprintf("prctl(PR_SET_SYSCALL_USER_DISPATCH, ON): %s", sp.ErrnoName(e)))
			return
		}
		ops := []sp.Op{
			sp.On(),
			sp.Store8(selector, sudBlock),
			sp.Syscall(unix.SYS_GETPID, 0x5d1),
			sp.Syscall(unix.SYS_GETPID, 0x5d2),
			sp.Syscall(unix.SYS_GETPID, 0x5d3),
			sp.Off(),
		}
		err := runMasked(ops, 0)
		*selector = sudAllow
		if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_OFF,
			0, 0, 0, 0); e != 0 {
			problems = append(problems, fmt.Sprintf("prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF): %s", sp.ErrnoName(e)))
		}
		runtime.KeepAlive(selector)
		if err != nil {
			problems = append(problems, err.Error())
			return
		}
		if ops[0].Ret != 0 {
			problems = append(problems, fmt.Sprintf("PTRACE_SELF_ON returned %#x", ops[0].Ret))
			return
		}
		recs := sp.Records()
		if len(recs) != 2 {
			problems = append(problems, fmt.Sprintf("%d SIGSYS, want 2 (SUD, then self-ptrace): %v", len(recs), recs))
			return
		}
		r0, r1 := &recs[0], &recs[1]
		if r0.Code() != sp.SysUserDispatch || r0.Syscall() != unix.SYS_GETPID {
			problems = append(problems, fmt.Sprintf("first SIGSYS is not Syscall User Dispatch's: %v", r0.String()))
		}
		if r0.Args[0] != 0x5d1 {
			// (On s390x, mainline's SUD rollback left -ENOSYS in r2:
			// the series fixes it first, in s390's syscall_rollback().)
			problems = append(problems, fmt.Sprintf("SUD's SIGSYS is not for the first getpid (its handler must see the first argument): %v", r0.String()))
		}
		if r1.Code() != sp.SysSelfPtrace || r1.Syscall() != unix.SYS_GETPID || r1.Args[0] != 0x5d2 {
			problems = append(problems, fmt.Sprintf("second SIGSYS is not self-ptrace's for the second getpid: the thread did not stay armed: %v", r1.String()))
		}
		if ops[4].Ret != uint64(os.Getpid()) {
			problems = append(problems, fmt.Sprintf("third getpid returned %#x, want the pid", ops[4].Ret))
		}
	})
	for _, p := range problems {
		t.Error(p)
	}
}
