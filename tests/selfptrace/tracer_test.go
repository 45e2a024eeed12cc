package selfptrace_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// Magic first arguments of the tracee's calls, to recognise them in
// PTRACE_GET_SYSCALL_INFO.
const (
	traceeMagicX = 0x7ace0001 // the armed, intercepted getpid
	traceeMagicY = 0x7ace0002 // the same getpid as the handler performs it
	traceeMagicZ = 0x7ace0003 // getppid after the handler: end of the trace
)

// helperTracee arms a thread that spins until the parent (the tracer) has
// attached and says "go", then makes getpid(X); the handler performs it as
// getpid(Y); then the thread makes getppid(Z). It prints the thread's id
// when armed, and its results at the end.
func helperTracee() int {
	if code := helperInstall(); code != 0 {
		return code
	}
	sp.Reset()
	enoughProcs()
	debug.SetGCPercent(-1)
	sp.SetPlan(sp.Plan{Flags: sp.FlagPerform, RewriteMask: 1, RewriteVal: [6]uint64{traceeMagicY}})
	var armed, release uint32
	res, tidCh := armedThreadOps(&armed, &release, []sp.Op{
		sp.Syscall(unix.SYS_GETPID, traceeMagicX),
		sp.Syscall(unix.SYS_GETPPID, traceeMagicZ),
	})
	tid := <-tidCh
	for atomic.LoadUint32(&armed) == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("tid=%d armed\n", tid)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil || line != "go\n" {
		fmt.Printf("reading the go-ahead: %q %v\n", line, err)
	}
	atomic.StoreUint32(&release, 1)
	ops := <-res
	recs := sp.Records()
	var problems []string
	if ops[0].Ret != 0 {
		problems = append(problems, fmt.Sprintf("PTRACE_SELF_ON returned %#x", ops[0].Ret))
	}
	if ops[1].Ret != 1 {
		problems = append(problems, "spin timed out")
	}
	if len(recs) != 1 {
		problems = append(problems, fmt.Sprintf("%d interceptions, want 1 (the thread must stay armed while traced)", len(recs)))
	} else if r := recs[0]; r.Code() != sp.SysSelfPtrace || r.Syscall() != unix.SYS_GETPID || r.Args[0] != traceeMagicX ||
		r.Flags&sp.RecPerformed == 0 {
		problems = append(problems, "wrong interception: "+r.String())
	}
	if int(ops[2].Ret) != os.Getpid() {
		problems = append(problems, fmt.Sprintf("getpid performed by the handler returned %#x", ops[2].Ret))
	}
	if int(ops[3].Ret) != os.Getppid() {
		problems = append(problems, fmt.Sprintf("getppid returned %#x", ops[3].Ret))
	}
	if len(problems) != 0 {
		fmt.Printf("tracee: FAIL: %s\n", strings.Join(problems, "; "))
		return 1
	}
	fmt.Println("tracee: ok")
	return 0
}

// armedThreadOps is armedThread with a list of calls after the spin.
func armedThreadOps(armed, release *uint32, after []sp.Op) (<-chan []sp.Op, <-chan int) {
	res := make(chan []sp.Op, 1)
	tid := make(chan int, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		ops := append([]sp.Op{sp.On(), sp.Spin(armed, release, spinMax)}, after...)
		ops = append(ops, sp.Off())
		if err := runMasked(ops, 0); err != nil {
			panic(err)
		}
		res <- ops
	}()
	return res, tid
}

// traceEvent is one stop of the traced thread.
type traceEvent struct {
	kind string // "entry", "exit", "signal", "other"
	nr   uint64
	arg0 uint64
	sig  int
	info sp.Siginfo
}

func (e traceEvent) String() string {
	switch e.kind {
	case "entry":
		return fmt.Sprintf("entry nr=%d arg0=%#x", e.nr, e.arg0)
	case "signal":
		return fmt.Sprintf("signal %d code=%d syscall=%d", e.sig, e.info.Code(), e.info.Syscall())
	}
	return e.kind
}

// TestTracer covers an armed thread under a tracer.
// Contract: "A tracer can PTRACE_ATTACH / PTRACE_SEIZE an armed thread";
// "Interception happens ... before ptrace syscall-entry stops ... An
// intercepted call ... produces no ptrace entry/exit stop ... Every call
// that the handler then really performs passes through all of them".
func TestTracer(t *testing.T) {
	t.Run("seize", func(t *testing.T) { testTracer(t, false) })
	t.Run("attach", func(t *testing.T) { testTracer(t, true) })
}

func testTracer(t *testing.T, attach bool) {
	sp.Require(t)
	// All ptrace requests must come from the tracer thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	tr := startTracee(t, "tracee")
	events, traceErr := traceThread(t, tr.cmd.Process.Pid, tr.tid, attach, tr.stdin)
	out, werr := tr.finish()
	tid := tr.tid
	if traceErr != nil {
		t.Fatalf("tracing thread %d: %v\nevents: %v\ntracee output:\n%s", tid, traceErr, events, out)
	}
	if werr != nil || !strings.Contains(out, "tracee: ok") {
		t.Errorf("tracee: %v; output:\n%s", werr, out)
	}
	if attach {
		return // PTRACE_ATTACH then detach: the thread stayed armed (tracee: ok)
	}
	// The syscall stops of the traced thread after "go".
	sigIdx, yIdx, zIdx := -1, -1, -1
	for i, e := range events {
		switch {
		case e.kind == "entry" && e.nr == unix.SYS_GETPID && e.arg0 == traceeMagicX:
			t.Errorf("syscall-entry stop for the intercepted getpid (event %d): %v", i, events)
		case e.kind == "signal" && e.sig == sp.SIGSYS:
			if sigIdx < 0 {
				sigIdx = i
			}
			if e.info.Code() != sp.SysSelfPtrace || e.info.Syscall() != unix.SYS_GETPID {
				t.Errorf("SIGSYS stop with si_code %d si_syscall %d, want %d and %d", e.info.Code(), e.info.Syscall(),
					sp.SysSelfPtrace, unix.SYS_GETPID)
			}
		case e.kind == "entry" && e.nr == unix.SYS_GETPID && e.arg0 == traceeMagicY:
			yIdx = i
		case e.kind == "entry" && e.nr == unix.SYS_GETPPID && e.arg0 == traceeMagicZ:
			zIdx = i
		}
	}
	if sigIdx < 0 || yIdx < 0 || zIdx < 0 || !(sigIdx < yIdx && yIdx < zIdx) {
		t.Errorf("want a SIGSYS signal-delivery-stop, then the entry of the handler's getpid, then getppid; got indexes %d %d %d in %v",
			sigIdx, yIdx, zIdx, events)
	}
	// Entry and exit stops must pair up: an intercepted call has neither.
	inCall := false
	for i, e := range events {
		switch e.kind {
		case "entry":
			if inCall {
				t.Errorf("two syscall-entry stops without an exit stop (event %d): %v", i, events)
			}
			inCall = true
		case "exit":
			if !inCall {
				t.Errorf("syscall-exit stop without an entry stop (event %d, the intercepted call's?): %v", i, events)
			}
			inCall = false
		}
	}
}

// traceThread attaches to thread tid of process pid, tells the tracee to go
// on, and records its stops under PTRACE_SYSCALL until the entry of
// getppid(Z), where it detaches. With attach, it uses PTRACE_ATTACH and
// detaches at once (only attaching to an armed thread is under test).
func traceThread(t *testing.T, pid, tid int, attach bool, stdin io.Writer) ([]traceEvent, error) {
	var events []traceEvent
	var ws unix.WaitStatus
	wait := func() error { return waitStopped(tid, &ws) }
	if attach {
		if _, e := sp.Ptrace(unix.PTRACE_ATTACH, uintptr(tid), 0, 0); e != 0 {
			return nil, fmt.Errorf("PTRACE_ATTACH on an armed thread: %s", sp.ErrnoName(e))
		}
		if err := wait(); err != nil {
			return nil, err
		}
		if _, e := sp.Ptrace(unix.PTRACE_DETACH, uintptr(tid), 0, 0); e != 0 {
			return nil, fmt.Errorf("PTRACE_DETACH: %s", sp.ErrnoName(e))
		}
		// PTRACE_ATTACH's SIGSTOP may have stopped the other threads.
		if err := unix.Kill(pid, unix.SIGCONT); err != nil {
			return nil, fmt.Errorf("SIGCONT: %w", err)
		}
		if _, err := io.WriteString(stdin, "go\n"); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if err := seize(tid, unix.PTRACE_O_TRACESYSGOOD, stdin, &ws); err != nil {
		return nil, err
	}
	inject := 0
	for n := 0; n < 10000; n++ {
		if _, e := sp.Ptrace(unix.PTRACE_SYSCALL, uintptr(tid), 0, uintptr(inject)); e != 0 {
			return events, fmt.Errorf("PTRACE_SYSCALL: %s", sp.ErrnoName(e))
		}
		if err := wait(); err != nil {
			return events, err
		}
		inject = 0
		sig := ws.StopSignal()
		switch {
		case sig == unix.SIGTRAP|0x80:
			var info [88]byte
			if _, e := sp.Ptrace(unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid), uintptr(len(info)),
				uintptr(unsafe.Pointer(&info[0]))); e != 0 {
				return events, fmt.Errorf("PTRACE_GET_SYSCALL_INFO: %s", sp.ErrnoName(e))
			}
			// struct ptrace_syscall_info: op@0, entry.nr@24, entry.args@32.
			switch info[0] {
			case unix.PTRACE_SYSCALL_INFO_ENTRY:
				e := traceEvent{kind: "entry", nr: binary.NativeEndian.Uint64(info[24:]), arg0: binary.NativeEndian.Uint64(info[32:])}
				events = append(events, e)
				if e.nr == unix.SYS_GETPPID && e.arg0 == traceeMagicZ {
					if _, e := sp.Ptrace(unix.PTRACE_DETACH, uintptr(tid), 0, 0); e != 0 {
						return events, fmt.Errorf("PTRACE_DETACH: %s", sp.ErrnoName(e))
					}
					return events, nil
				}
			case unix.PTRACE_SYSCALL_INFO_EXIT:
				events = append(events, traceEvent{kind: "exit"})
			default:
				events = append(events, traceEvent{kind: "other"})
			}
		case int(uint32(ws)>>16) == unix.PTRACE_EVENT_STOP:
			// group-stop or PTRACE_INTERRUPT: resume
		default:
			e := traceEvent{kind: "signal", sig: int(sig)}
			if _, errno := sp.Ptrace(unix.PTRACE_GETSIGINFO, uintptr(tid), 0, uintptr(unsafe.Pointer(&e.info))); errno != 0 {
				return events, fmt.Errorf("PTRACE_GETSIGINFO: %s", sp.ErrnoName(errno))
			}
			events = append(events, e)
			inject = int(sig)
		}
	}
	return events, fmt.Errorf("no getppid(%#x) after 10000 stops", traceeMagicZ)
}

// tracee is a helper process whose armed thread waits for a tracer.
type tracee struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	tid    int
	first  string
	rest   chan string
	stderr *strings.Builder
	killer *time.Timer
}

// startTracee starts the test binary in helper mode and waits for the line
// "tid=N armed" that names its armed thread.
func startTracee(t *testing.T, mode string) *tracee {
	t.Helper()
	tr := &tracee{cmd: helperCmd(mode), rest: make(chan string, 1), stderr: new(strings.Builder)}
	var err error
	if tr.stdin, err = tr.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := tr.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tr.cmd.Stderr = tr.stderr
	if err := tr.cmd.Start(); err != nil {
		t.Fatalf("starting the tracee: %v", err)
	}
	tr.killer = time.AfterFunc(60*time.Second, func() { tr.cmd.Process.Kill() })
	outR := bufio.NewReader(stdout)
	tr.first, err = outR.ReadString('\n')
	if _, serr := fmt.Sscanf(tr.first, "tid=%d armed", &tr.tid); err != nil || serr != nil {
		tr.cmd.Process.Kill()
		tr.cmd.Wait()
		tr.killer.Stop()
		t.Fatalf("tracee did not report its armed thread: %q %v %s", tr.first, err, tr.stderr.String())
	}
	go func() { b, _ := io.ReadAll(outR); tr.rest <- string(b) }()
	return tr
}

// finish closes the tracee's stdin, reads all its output (before Wait,
// which closes the pipe) and waits for it.
func (tr *tracee) finish() (out string, werr error) {
	defer tr.killer.Stop()
	tr.stdin.Close()
	out = tr.first + <-tr.rest + tr.stderr.String()
	return out, tr.cmd.Wait()
}

// seize attaches to the thread with PTRACE_SEIZE and options, stops it with
// PTRACE_INTERRUPT, waits for the stop and tells the tracee to go on.
func seize(tid int, options uintptr, stdin io.Writer, ws *unix.WaitStatus) error {
	if _, e := sp.Ptrace(unix.PTRACE_SEIZE, uintptr(tid), 0, options); e != 0 {
		return fmt.Errorf("PTRACE_SEIZE on an armed thread: %s", sp.ErrnoName(e))
	}
	if _, e := sp.Ptrace(unix.PTRACE_INTERRUPT, uintptr(tid), 0, 0); e != 0 {
		return fmt.Errorf("PTRACE_INTERRUPT: %s", sp.ErrnoName(e))
	}
	if err := waitStopped(tid, ws); err != nil {
		return err
	}
	_, err := io.WriteString(stdin, "go\n")
	return err
}

// waitStopped waits for a stop of the task tid.
func waitStopped(tid int, ws *unix.WaitStatus) error {
	if _, err := unix.Wait4(tid, ws, unix.WALL, nil); err != nil {
		return fmt.Errorf("wait4 %d: %w", tid, err)
	}
	if !ws.Stopped() {
		return fmt.Errorf("task %d not stopped: %s", tid, guest.DescribeStatus(syscall.WaitStatus(*ws)))
	}
	return nil
}

// selfPtraceConfig is struct ptrace_self_ptrace_config.
type selfPtraceConfig struct{ Mode uint64 }

// configRequest makes PTRACE_GET/SET_SELF_PTRACE_CONFIG on tid with addr
// size and data &cfg.
func configRequest(req, tid int, size uintptr, cfg *selfPtraceConfig) unix.Errno {
	_, e := sp.Ptrace(uintptr(req), uintptr(tid), size, uintptr(unsafe.Pointer(cfg)))
	return e
}

// TestTracerConfig covers a tracer's access to the armed state of a
// stopped tracee: the armed thread of the "tracee" helper is stopped by
// PTRACE_INTERRUPT, the tracer reads its state, sets the modes of the
// case (reading each back), detaches, and the thread's next call is
// intercepted or not accordingly.
// Contract: "A tracer can read and set a stopped tracee's armed state, as
// Syscall User Dispatch offers with PTRACE_GET/SET_SYSCALL_USER_DISPATCH_CONFIG,
// so that a checkpointed armed thread is restored armed."
func TestTracerConfig(t *testing.T) {
	for _, c := range []struct {
		name        string
		set         []uint64
		intercepted bool
	}{
		{"read", nil, true},
		{"clear", []uint64{sp.PtraceSelfOff}, false},
		{"clear_then_set", []uint64{sp.PtraceSelfOff, sp.PtraceSelfOn}, true},
		{"set_armed", []uint64{sp.PtraceSelfOn}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sp.Require(t)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tr := startTracee(t, "tracee")
			tid := tr.tid
			size := unsafe.Sizeof(selfPtraceConfig{})
			var cfg selfPtraceConfig
			// Not traced: as every request on a task that is not a
			// stopped tracee of ours.
			if e := configRequest(sp.PtraceGetSelfPtraceConfig, tid, size, &cfg); e != unix.ESRCH {
				t.Errorf("PTRACE_GET_SELF_PTRACE_CONFIG on a thread that is not traced: %s, want ESRCH", sp.ErrnoName(e))
			}
			var ws unix.WaitStatus
			if err := seize(tid, 0, tr.stdin, &ws); err != nil {
				out, _ := tr.finish()
				t.Fatalf("%v\ntracee output:\n%s", err, out)
			}
			cfg = selfPtraceConfig{Mode: 0xdead}
			if e := configRequest(sp.PtraceGetSelfPtraceConfig, tid, size, &cfg); e != 0 || cfg.Mode != sp.PtraceSelfOn {
				t.Errorf("PTRACE_GET_SELF_PTRACE_CONFIG of the armed thread: %s, mode %#x, want 0 and PTRACE_SELF_ON", sp.ErrnoName(e), cfg.Mode)
			}
			for _, bad := range []struct {
				req  int
				size uintptr
				mode uint64
			}{
				{sp.PtraceGetSelfPtraceConfig, size + 8, 0},
				{sp.PtraceGetSelfPtraceConfig, size - 1, 0},
				{sp.PtraceSetSelfPtraceConfig, size - 1, sp.PtraceSelfOff},
				{sp.PtraceSetSelfPtraceConfig, size, 1},
				{sp.PtraceSetSelfPtraceConfig, size, sp.PtraceSelfOff | 1<<32},
			} {
				cfg := selfPtraceConfig{Mode: bad.mode}
				if e := configRequest(bad.req, tid, bad.size, &cfg); e != unix.EINVAL {
					t.Errorf("request %#x with size %d, mode %#x: %s, want EINVAL", bad.req, bad.size, bad.mode, sp.ErrnoName(e))
				}
			}
			for _, mode := range c.set {
				cfg := selfPtraceConfig{Mode: mode}
				if e := configRequest(sp.PtraceSetSelfPtraceConfig, tid, size, &cfg); e != 0 {
					t.Errorf("PTRACE_SET_SELF_PTRACE_CONFIG %#x: %s", mode, sp.ErrnoName(e))
				}
				cfg = selfPtraceConfig{Mode: 0xdead}
				if e := configRequest(sp.PtraceGetSelfPtraceConfig, tid, size, &cfg); e != 0 || cfg.Mode != mode {
					t.Errorf("after setting %#x: %s, mode %#x", mode, sp.ErrnoName(e), cfg.Mode)
				}
			}
			if _, e := sp.Ptrace(unix.PTRACE_DETACH, uintptr(tid), 0, 0); e != 0 {
				t.Errorf("PTRACE_DETACH: %s", sp.ErrnoName(e))
			}
			out, werr := tr.finish()
			switch {
			case c.intercepted && (werr != nil || !strings.Contains(out, "tracee: ok")):
				t.Errorf("the thread, left armed by the tracer, did not have its next call intercepted once: %v\n%s", werr, out)
			case !c.intercepted && !strings.Contains(out, "0 interceptions, want 1"):
				t.Errorf("the thread, disarmed by the tracer, still had its next call intercepted: %v\n%s", werr, out)
			}
		})
	}
}
