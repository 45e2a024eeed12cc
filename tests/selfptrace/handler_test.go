package selfptrace_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// TestRewriteOpenat has the handler perform an intercepted openat of path A
// with path B instead: the caller gets a descriptor of B.
// Contract: intercepted call 5 "A handler that wants the call done ...
// performs it itself (the thread is disarmed, so that call runs normally),
// possibly with changed arguments, and stores the result".
func TestRewriteOpenat(t *testing.T) {
	s := sp.Begin(t)
	dir := t.TempDir()
	pathA, pathB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, f := range []struct{ path, content string }{{pathA, "content of A"}, {pathB, "content of B"}} {
		if err := os.WriteFile(f.path, []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b := cstr(pathA), cstr(pathB)
	s.Plan(sp.Plan{Flags: sp.FlagPerform, RewriteMask: 1 << 1, RewriteVal: [6]uint64{1: bufPtr(b)}})
	atFdcwd := neg(-unix.AT_FDCWD)
	flags := uint64(unix.O_RDONLY | unix.O_CLOEXEC)
	ops := s.Run(sp.On(), sp.Syscall(unix.SYS_OPENAT, atFdcwd, bufPtr(a), flags, 0))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	wantOn(t, ops[0])
	recs := wantRecords(t, 1)
	checkIntercept(t, &recs[0], unix.SYS_OPENAT, []uint64{atFdcwd, bufPtr(a), flags, 0})
	if recs[0].Flags&sp.RecPerformed == 0 || recs[0].PerfArgs[1] != bufPtr(b) {
		t.Fatalf("handler did not perform openat with path B: %v", recs[0].String())
	}
	fd := int(int64(ops[1].Ret))
	if fd < 0 {
		t.Fatalf("openat performed by the handler returned %d (%s)", fd, sp.ErrnoName(ops[1].Errno()))
	}
	defer unix.Close(fd)
	got := make([]byte, 64)
	n, err := unix.Read(fd, got)
	if err != nil || string(got[:n]) != "content of B" {
		t.Errorf("the caller's descriptor reads %q (%v), want %q", got[:max(n, 0)], err, "content of B")
	}
}

// TestRewriteWriteFd has the handler perform an intercepted write to fd X
// as a write to fd Y: the bytes arrive on Y only, and the caller sees the
// count.
func TestRewriteWriteFd(t *testing.T) {
	s := sp.Begin(t)
	x, y := pipe(t), pipe(t)
	msg := []byte("rewritten")
	s.Plan(sp.Plan{Flags: sp.FlagPerform, RewriteMask: 1 << 0, RewriteVal: [6]uint64{0: uint64(y[1])}})
	ops := s.Run(sp.On(), sp.Syscall(unix.SYS_WRITE, uint64(x[1]), bufPtr(msg), uint64(len(msg))))
	runtime.KeepAlive(msg)
	wantOn(t, ops[0])
	wantRecords(t, 1)
	wantRet(t, "write performed by the handler", ops[1], uint64(len(msg)))
	wantPipeEmpty(t, x[0])
	got := make([]byte, 64)
	n, err := unix.Read(y[0], got)
	if err != nil || string(got[:n]) != string(msg) {
		t.Errorf("fd Y got %q (%v), want %q", got[:max(n, 0)], err, msg)
	}
}

// TestResult has the handler store results, including restart codes, that
// the caller must see exactly, and checks that nothing runs the call again.
// Contract: intercepted call 5 "whatever the ucontext's return register
// holds ... is the call's result as the caller sees it" and "never executes
// an intercepted call afterwards by any path (syscall restart logic
// included)".
func TestResult(t *testing.T) {
	values := append([]uint64{neg(int64(unix.EPERM)), neg(int64(unix.EACCES)), 0, 1, 0x1234}, nasty...)
	for _, v := range values {
		t.Run(fmt.Sprintf("%#x", v), func(t *testing.T) {
			s := sp.Begin(t)
			s.Plan(sp.Plan{Flags: sp.FlagSetResult, Result: v})
			ops := s.Run(sp.On(), sp.Syscall(unix.SYS_GETPID, 0x5e7), sp.Syscall(unix.SYS_GETPID))
			wantOn(t, ops[0])
			recs := wantRecords(t, 1)
			if recs[0].Flags&sp.RecResultSet == 0 {
				t.Errorf("handler did not set the result: %v", recs[0].String())
			}
			wantRet(t, "intercepted getpid", ops[1], v)
			wantRet(t, "next getpid", ops[2], uint64(os.Getpid()))
		})
	}
	t.Run("performed", func(t *testing.T) {
		s := sp.Begin(t)
		s.Plan(sp.Plan{Flags: sp.FlagPerform})
		ops := s.Run(sp.On(), sp.Syscall(unix.SYS_GETPPID, 0x5e8))
		wantOn(t, ops[0])
		wantRecords(t, 1)
		wantRet(t, "getppid performed by the handler", ops[1], uint64(os.Getppid()))
	})
}

// TestOneShot checks that only the first call after PTRACE_SELF_ON is
// intercepted. Contract: intercepted call 2 "The thread is disarmed at that
// moment (one-shot)".
func TestOneShot(t *testing.T) {
	s := sp.Begin(t)
	ops := s.Run(sp.On(),
		sp.Syscall(unix.SYS_GETPID, 0x1),
		sp.Syscall(unix.SYS_GETPID, 0x2),
		sp.Syscall(unix.SYS_GETPPID, 0x3))
	wantOn(t, ops[0])
	recs := wantRecords(t, 1)
	checkIntercept(t, &recs[0], unix.SYS_GETPID, []uint64{0x1})
	wantRet(t, "second getpid", ops[2], uint64(os.Getpid()))
	wantRet(t, "getppid", ops[3], uint64(os.Getppid()))
}

// TestRearm1000 re-arms from the handler 1000 times: 1000 interceptions in
// order, then PTRACE_SELF_OFF and the next call runs normally.
// Contract: intercepted call 5 "it may call PTRACE_SELF_ON again before
// returning to catch the next call (re-arming)"; rt_sigreturn is exempt
// (every handler return here happens armed); "PTRACE_SELF_OFF disarms the
// calling thread and returns 0".
func TestRearm1000(t *testing.T) {
	const n = 1000
	s := sp.Begin(t)
	s.Plan(sp.Plan{Flags: sp.FlagRearm})
	ops := []sp.Op{sp.On()}
	for i := range n {
		ops = append(ops, sp.Syscall(unix.SYS_GETPID, uint64(i), 0xa11))
	}
	ops = append(ops, sp.Off(), sp.Syscall(unix.SYS_GETPID, 0xe4d))
	ops = s.Run(ops...)
	wantOn(t, ops[0])
	recs := wantRecords(t, n)
	for i := range n {
		r := &recs[i]
		if r.Seq != uint64(i) || r.Args[0] != uint64(i) || r.Args[1] != 0xa11 || r.Code() != sp.SysSelfPtrace ||
			r.Syscall() != unix.SYS_GETPID {
			t.Fatalf("interception %d out of order or wrong: %v", i, r.String())
		}
		if r.Flags&sp.RecRearmed == 0 || r.RearmRet != 0 {
			t.Fatalf("interception %d: re-arming PTRACE_SELF_ON returned %#x (flags %#x)", i, r.RearmRet, r.Flags)
		}
		wantRet(t, fmt.Sprintf("intercepted getpid %d", i), ops[1+i], sp.RolledBackResult(unix.SYS_GETPID, r.Args))
	}
	wantRet(t, "PTRACE_SELF_OFF while armed", ops[n+1], 0)
	wantRet(t, "getpid after PTRACE_SELF_OFF", ops[n+2], uint64(os.Getpid()))
}

// TestOff checks PTRACE_SELF_OFF. Contract: "ptrace(PTRACE_SELF_OFF, 0, 0,
// 0) disarms the calling thread and returns 0, armed or not".
func TestOff(t *testing.T) {
	t.Run("before any call", func(t *testing.T) {
		s := sp.Begin(t)
		ops := s.Run(sp.On(), sp.Off(), sp.Syscall(unix.SYS_GETPID, 0x0ff))
		wantOn(t, ops[0])
		wantRet(t, "PTRACE_SELF_OFF while armed", ops[1], 0)
		wantRet(t, "getpid after PTRACE_SELF_OFF", ops[2], uint64(os.Getpid()))
		wantRecords(t, 0)
	})
	t.Run("not armed", func(t *testing.T) {
		s := sp.Begin(t)
		ops := s.Run(sp.Off(), sp.Off(), sp.Syscall(unix.SYS_GETPID))
		wantRet(t, "PTRACE_SELF_OFF (not armed)", ops[0], 0)
		wantRet(t, "second PTRACE_SELF_OFF (not armed)", ops[1], 0)
		wantRet(t, "getpid", ops[2], uint64(os.Getpid()))
		wantRecords(t, 0)
	})
	t.Run("after an interception", func(t *testing.T) {
		s := sp.Begin(t)
		ops := s.Run(sp.On(), sp.Syscall(unix.SYS_GETPID, 1), sp.Off(), sp.Syscall(unix.SYS_GETPID, 2))
		wantOn(t, ops[0])
		wantRet(t, "PTRACE_SELF_OFF after the one-shot interception", ops[2], 0)
		wantRet(t, "getpid", ops[3], uint64(os.Getpid()))
		wantRecords(t, 1)
	})
}

// TestExemptions checks the calls that are never intercepted. Contract:
// "Every system call is intercepted except ptrace itself (so that ON/OFF
// always work) and rt_sigreturn / sigreturn (so that a handler can
// return)".
func TestExemptions(t *testing.T) {
	t.Run("ON twice", func(t *testing.T) {
		s := sp.Begin(t)
		ops := s.Run(sp.On(), sp.On(), sp.Syscall(unix.SYS_GETPID, 0xe1))
		wantOn(t, ops[0])
		wantRet(t, "second PTRACE_SELF_ON while armed", ops[1], 0)
		recs := wantRecords(t, 1)
		checkIntercept(t, &recs[0], unix.SYS_GETPID, []uint64{0xe1})
	})
	t.Run("OFF while armed", func(t *testing.T) {
		s := sp.Begin(t)
		ops := s.Run(sp.On(), sp.Off())
		wantOn(t, ops[0])
		wantRet(t, "PTRACE_SELF_OFF while armed", ops[1], 0)
		wantRecords(t, 0)
	})
	t.Run("other ptrace request", func(t *testing.T) {
		// An ordinary ptrace request (here one that fails) is exempt
		// too, and does not disarm: the getpid after it is intercepted.
		s := sp.Begin(t)
		ops := s.Run(sp.On(), sp.Syscall(unix.SYS_PTRACE, unix.PTRACE_PEEKUSR, 0, 0, 0),
			sp.Syscall(unix.SYS_GETPID, 0xe2))
		wantOn(t, ops[0])
		if ops[1].Errno() == 0 {
			t.Errorf("PTRACE_PEEKUSR on pid 0 returned %#x, want an error", ops[1].Ret)
		}
		recs := wantRecords(t, 1)
		checkIntercept(t, &recs[0], unix.SYS_GETPID, []uint64{0xe2})
	})
	t.Run("rt_sigreturn of the SIGSYS handler", func(t *testing.T) {
		// The handler re-arms and returns with rt_sigreturn while armed.
		// Were rt_sigreturn intercepted, it would be recorded (the
		// restorer retries it) and the second getpid would not be.
		s := sp.Begin(t)
		s.Plan(sp.Plan{Flags: sp.FlagRearm, RearmLimit: 2})
		ops := s.Run(sp.On(), sp.Syscall(unix.SYS_GETPID, 0xe3), sp.Syscall(unix.SYS_GETPID, 0xe4),
			sp.Syscall(unix.SYS_GETPID, 0xe5))
		wantOn(t, ops[0])
		recs := wantRecords(t, 2)
		checkIntercept(t, &recs[0], unix.SYS_GETPID, []uint64{0xe3})
		checkIntercept(t, &recs[1], unix.SYS_GETPID, []uint64{0xe4})
		if recs[0].RearmRet != 0 {
			t.Errorf("re-arming from the handler returned %#x", recs[0].RearmRet)
		}
		wantRet(t, "third getpid", ops[3], uint64(os.Getpid()))
	})
	t.Run("rt_sigreturn of another handler", func(t *testing.T) {
		testArmingHandler(t, true, sp.ArmHandlerPC, sp.RestorerPC)
	})
	if sp.SysSigreturn >= 0 {
		t.Run("sigreturn", func(t *testing.T) {
			testArmingHandler(t, false, sp.ArmHandlerPC, sp.OldRestorerPC)
		})
	}
	if vdsoSigreturn {
		t.Run("rt_sigreturn through the vDSO", func(t *testing.T) {
			testArmingHandler(t, true, sp.ArmHandlerKernelRetPC, 0)
		})
	}
}

// testArmingHandler installs handler for SIGUSR2, a handler that arms its
// thread and returns through restorer (rt_sigreturn with SA_SIGINFO,
// sigreturn without; with restorer 0, no SA_RESTORER: the kernel returns
// through the vDSO), raises SIGUSR2 and checks that the signal return was
// not intercepted: the thread comes back armed and its next call is.
func testArmingHandler(t *testing.T, siginfo bool, handler, restorer uintptr) {
	s := sp.Begin(t)
	act := sp.HandlerAction(handler)
	act.Restorer = restorer
	if restorer == 0 {
		act.Flags &^= sp.SaRestorer
	}
	if !siginfo {
		act.Flags &^= sp.SaSiginfo // the kernel builds a non-RT frame
	}
	restore, err := sp.InstallAction(int(unix.SIGUSR2), act)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	s.Unblocked = sp.SigBit(int(unix.SIGUSR2))
	ops := s.Run(
		sp.Syscall(unix.SYS_TGKILL, uint64(os.Getpid()), uint64(unix.Gettid()), uint64(unix.SIGUSR2)),
		sp.Syscall(unix.SYS_GETPID, 0xe6))
	n, ret := sp.ArmHandlerResult()
	if n != 1 {
		t.Fatalf("SIGUSR2 handler ran %d times, want 1", n)
	}
	if ret != 0 {
		t.Fatalf("PTRACE_SELF_ON in the SIGUSR2 handler returned %#x", ret)
	}
	wantRet(t, "tgkill", ops[0], 0)
	recs := wantRecords(t, 1)
	checkIntercept(t, &recs[0], unix.SYS_GETPID, []uint64{0xe6})
}

// TestBadInput checks that a non-zero pid, addr or data is rejected with
// EINVAL and changes nothing, armed or not. Contract: "A non-zero pid, addr
// or data is rejected with EINVAL and changes nothing" and "Neither request
// can act on another task" (pid = 1, the own pid, a child's pid).
func TestBadInput(t *testing.T) {
	child := helperCmd("sleep")
	if err := child.Start(); err != nil {
		t.Fatalf("starting a child: %v", err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	bad := []struct {
		name            string
		pid, addr, data uint64
	}{
		{"pid=1", 1, 0, 0},
		{"pid=self", uint64(os.Getpid()), 0, 0},
		{"pid=tid", uint64(unix.Gettid()), 0, 0},
		{"pid=child", uint64(child.Process.Pid), 0, 0},
		{"pid=-1", ^uint64(0), 0, 0},
		{"addr=1", 0, 1, 0},
		{"addr=high", 0, 1 << 63, 0},
		{"data=1", 0, 0, 1},
		{"data=-1", 0, 0, ^uint64(0)},
		{"all", 1, 1, 1},
	}
	reqs := []struct {
		name string
		req  uint64
	}{{"ON", sp.PtraceSelfOn}, {"OFF", sp.PtraceSelfOff}}
	einval := neg(int64(unix.EINVAL))
	for _, rq := range reqs {
		for _, b := range bad {
			op := sp.Syscall(unix.SYS_PTRACE, rq.req, b.pid, b.addr, b.data)
			t.Run(rq.name+"/"+b.name+"/not armed", func(t *testing.T) {
				s := sp.Begin(t)
				ops := s.Run(op, sp.Syscall(unix.SYS_GETPID, 0xbad))
				wantRet(t, "request", ops[0], einval)
				wantRet(t, "getpid after it (must not be intercepted)", ops[1], uint64(os.Getpid()))
				wantRecords(t, 0)
			})
			t.Run(rq.name+"/"+b.name+"/armed", func(t *testing.T) {
				s := sp.Begin(t)
				ops := s.Run(sp.On(), op, sp.Syscall(unix.SYS_GETPID, 0xbad))
				wantOn(t, ops[0])
				wantRet(t, "request", ops[1], einval)
				recs := wantRecords(t, 1) // still armed
				checkIntercept(t, &recs[0], unix.SYS_GETPID, []uint64{0xbad})
			})
		}
	}
}
