//go:build hostcheck

// Host-only sanity checks of the handler mechanics, with seccomp's
// SECCOMP_RET_TRAP (si_code SYS_SECCOMP), which rolls back the registers
// and delivers SIGSYS like self-ptrace does, and with Syscall User Dispatch.
// They run on a kernel without self-ptrace:
//
//	go test -tags hostcheck ./tests/internal/selfptrace/
package selfptrace

import (
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const trapFd = 0x7777 // write(trapFd, ...) is trapped by the filter

// onTrapThread runs f on a fresh locked thread with the handler installed
// and a filter that traps write(trapFd, ...). The thread ends with the
// goroutine (it is never unlocked), and the filter with it.
func onTrapThread(t *testing.T, f func()) {
	t.Helper()
	Reset()
	restore, err := InstallHandler()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		fd := uint32(trapFd)
		if err := InstallSeccompFilter([]SeccompRule{{Nr: unix.SYS_WRITE, ArgLo0: &fd, Ret: unix.SECCOMP_RET_TRAP}}); err != nil {
			done <- err
			return
		}
		f()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func run(ops ...Op) []Op {
	old, _ := Sigprocmask(SigSetmask, ^uint64(0)&^SigBit(SIGSYS))
	RunRaw(ops)
	Sigprocmask(SigSetmask, old)
	return ops
}

func TestHostRecord(t *testing.T) {
	buf := []byte("x")
	args := []uint64{trapFd, uint64(uintptr(unsafe.Pointer(&buf[0]))), 1, 0xfffffffffffffe00, 0x8000000000000000, ^uint64(0)}
	var ops []Op
	onTrapThread(t, func() { ops = run(Syscall(unix.SYS_WRITE, args...)) })
	recs := Records()
	if len(recs) != 1 {
		t.Fatalf("records: %d, want 1", len(recs))
	}
	r := recs[0]
	t.Logf("%v", r.String())
	if r.Signo() != SIGSYS || r.Code() != SysSeccomp || r.Errno() != 0 || r.Syscall() != unix.SYS_WRITE || r.Arch() != AuditArch {
		t.Errorf("siginfo: %v", r.String())
	}
	if r.CallAddr() != uint64(SysSitePC)+SyscallInsnLen || r.PC != r.CallAddr() {
		t.Errorf("call_addr %#x pc %#x, want %#x", r.CallAddr(), r.PC, SysSitePC+SyscallInsnLen)
	}
	for i, a := range args {
		// On s390x, seccomp's trap (unlike self-ptrace, whose rollback
		// keeps it) leaves -ENOSYS in r2, the first argument register.
		if i == 0 && runtime.GOARCH == "s390x" {
			continue
		}
		if r.Args[i] != a {
			t.Errorf("arg %d = %#x, want %#x", i, r.Args[i], a)
		}
	}
	if r.Nr != unix.SYS_WRITE || ops[0].Ret != r.Result {
		t.Errorf("nr %#x, result %#x", r.Nr, ops[0].Ret)
	}
	if bad := r.NonZeroInfoTail(); len(bad) != 0 {
		t.Errorf("siginfo not cleared at %v", bad)
	}
}

func TestHostPerformRewriteResult(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	buf := []byte("hello")
	var ops []Op
	onTrapThread(t, func() {
		SetPlan(Plan{Flags: FlagAnyCode | FlagPerform, RewriteMask: 1, RewriteVal: [6]uint64{uint64(p[1])}})
		ops = run(Syscall(unix.SYS_WRITE, trapFd, uint64(uintptr(unsafe.Pointer(&buf[0]))), 5))
		SetPlan(Plan{Flags: FlagAnyCode | FlagSetResult, Result: ^uint64(12)})
		ops = append(ops, run(Syscall(unix.SYS_WRITE, trapFd, 0, 0))...)
	})
	runtime.KeepAlive(buf)
	if ops[0].Ret != 5 {
		t.Errorf("performed write: %#x, want 5", ops[0].Ret)
	}
	got := make([]byte, 16)
	n, _ := unix.Read(p[0], got)
	if string(got[:n]) != "hello" {
		t.Errorf("pipe got %q", got[:n])
	}
	if int64(ops[1].Ret) != -13 {
		t.Errorf("set result: %d", int64(ops[1].Ret))
	}
	recs := Records()
	if len(recs) != 2 || recs[0].Flags&RecPerformed == 0 || recs[0].PerfArgs[0] != uint64(p[1]) {
		t.Fatalf("records: %v", recs)
	}
}

func TestHostProbes(t *testing.T) {
	for _, kind := range []uint64{ProbeFork, ProbeVfork, ProbeClone} {
		var ops []Op
		onTrapThread(t, func() {
			SetPlan(Plan{Flags: FlagAnyCode, Probe: kind, ChildMagic: 0x1234})
			ops = run(Syscall(unix.SYS_WRITE, trapFd, 0, 0))
		})
		recs := Records()
		if len(recs) != 1 || recs[0].Flags&RecProbed == 0 {
			t.Fatalf("probe %d: records %v", kind, recs)
		}
		pid := int(int64(recs[0].ProbeRet))
		if pid <= 0 || ops[0].Ret != recs[0].ProbeRet {
			t.Fatalf("probe %d: ret %d, caller %#x", kind, pid, ops[0].Ret)
		}
		if kind == ProbeClone {
			if v := ProbeFlagValue(); v != ProbeNotIntercepted {
				t.Errorf("clone probe verdict %d", v)
			}
			for i := 0; CloneTidWord() != 0 && i < 1000; i++ {
				runtime.Gosched()
			}
			if CloneTidWord() != 0 {
				t.Errorf("clone child did not exit")
			}
			continue
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
			t.Fatal(err)
		}
		if !ws.Exited() || ws.ExitStatus() != ProbeNotIntercepted {
			t.Errorf("probe %d: child status %v", kind, ws)
		}
	}
}

func TestHostUsr1AndSpin(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	Reset()
	act := HandlerAction(Usr1HandlerPC)
	restore, err := InstallAction(int(unix.SIGUSR1), act)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	SetUsr1Op(Syscall(unix.SYS_GETPPID, 1, 2, 3))
	old, _ := Sigprocmask(SigSetmask, ^uint64(0)&^SigBit(SIGSYS)&^SigBit(int(unix.SIGUSR1)))
	var armed, release uint32
	ops := []Op{
		Syscall(unix.SYS_TGKILL, uint64(os.Getpid()), uint64(unix.Gettid()), uint64(unix.SIGUSR1)),
		Spin(&armed, &release, 1000),
	}
	RunRaw(ops)
	Sigprocmask(SigSetmask, old)
	n, r := Usr1Result()
	if n != 1 || int(r) != os.Getppid() || ops[0].Ret != 0 || armed != 1 || ops[1].Ret != 0 {
		t.Errorf("usr1 count %d ret %d, tgkill %#x, armed %d spin %d", n, r, ops[0].Ret, armed, ops[1].Ret)
	}
}

func TestHostHandlerExtent(t *testing.T) {
	if hHandlerEnd <= uint64(HandlerPC) || hHandlerEnd > uint64(HandlerPC)+8192 {
		t.Fatalf("handler [%#x, %#x): implausible extent", HandlerPC, hHandlerEnd)
	}
	t.Logf("handler [%#x, %#x)", HandlerPC, hHandlerEnd)
}

// TestHostSelfSignal delivers a SIGSYS sent with tgkill from runSeq's
// system call instruction (no seccomp needed: this also runs under
// qemu-user, which emulates neither seccomp nor Syscall User Dispatch) and
// checks what the handler read from the ucontext (the number register, the
// argument registers after the call, the pc after the instruction) and
// that the result it stores is what the caller gets.
func TestHostSelfSignal(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	Reset()
	restore, err := InstallHandler()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	SetPlan(Plan{Flags: FlagAnyCode | FlagSetResult, Result: 0x5e1f})
	pid, tid := uint64(os.Getpid()), uint64(unix.Gettid())
	ops := run(Syscall(unix.SYS_TGKILL, pid, tid, SIGSYS, 0x44, 0x55, 0x66), Syscall(unix.SYS_GETPID))
	recs := Records()
	if len(recs) != 1 {
		t.Fatalf("records: %d, want 1", len(recs))
	}
	r := recs[0]
	t.Logf("%v", r.String())
	if r.Signo() != SIGSYS || r.Code() != -6 /* SI_TKILL */ {
		t.Errorf("siginfo: %v", r.String())
	}
	if want := uint64(SysSitePC) + SyscallInsnLen; r.PC != want {
		t.Errorf("ucontext pc %#x, want %#x", r.PC, want)
	}
	// The first argument register is the result register except on x86_64:
	// tgkill's result, 0, is there.
	want := [6]uint64{0, tid, SIGSYS, 0x44, 0x55, 0x66}
	if runtime.GOARCH == "amd64" {
		want[0] = pid
	}
	// (On x86_64 the number register rax holds tgkill's result by then.)
	if (r.Nr != unix.SYS_TGKILL && runtime.GOARCH != "amd64") || r.Args != want {
		t.Errorf("nr %#x args %#x, want %#x and %#x", r.Nr, r.Args, unix.SYS_TGKILL, want)
	}
	if r.SP == 0 || r.Result != 0x5e1f || ops[0].Ret != 0x5e1f || int(ops[1].Ret) != os.Getpid() {
		t.Errorf("sp %#x, result %#x, caller got %#x then %#x", r.SP, r.Result, ops[0].Ret, ops[1].Ret)
	}
}
