package userland_test

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// The armed thread's calls: close(fdX) is intercepted and the handler
// performs it as close(fdY); close(fdZ) comes after it, unarmed (the
// interception disarmed the thread and the handler does not re-arm). All
// three fail with EBADF. strace prints them in decimal.
const (
	fdX = 0x7ace01
	fdY = 0x7ace02
	fdZ = 0x7ace03
)

// spinMax bounds the armed thread's wait for the go-ahead (seconds to
// minutes, by CPU and emulation); the test kills a helper that overstays.
const spinMax = 1 << 34

// The armed thread's flags live in package variables: the assembly spin
// reads them by address, and these never move.
var armedFlag, releaseFlag uint32

// helpers are the helper modes, by name.
var helpers = map[string]func() int{"armed-close": helperArmedClose}

// runHelper runs a helper mode in a child process and returns its exit
// status.
func runHelper(mode string) int {
	if h, ok := helpers[mode]; ok {
		return h()
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 3
}

// helperArmedClose arms a thread whose SIGSYS handler performs an
// intercepted close(X) as close(Y); once released (see runReleased) the
// thread makes close(X) and close(Z). Exit status 3: no self-ptrace.
func helperArmedClose() int {
	if err := sp.Prepare(); err != nil {
		fmt.Println(err)
		return 3
	}
	sp.Reset()
	sp.SetPlan(sp.Plan{Flags: sp.FlagPerform, RewriteMask: 1, RewriteVal: [6]uint64{fdY}})
	ops, err := runReleased([]sp.Op{
		sp.On(),
		sp.Spin(&armedFlag, &releaseFlag, spinMax),
		sp.Syscall(unix.SYS_CLOSE, fdX),
		sp.Syscall(unix.SYS_CLOSE, fdZ),
		sp.Off(),
	})
	if err != nil {
		fmt.Println(err)
		return 3
	}
	if problems := armedCloseProblems(ops); len(problems) != 0 {
		fmt.Printf("armed-close: FAIL: %s\n", strings.Join(problems, "; "))
		return 1
	}
	fmt.Println("armed-close: ok")
	return 0
}

// runReleased runs ops, which spin on armedFlag and releaseFlag, on a new
// thread that ends with them (its goroutine stays locked), so that a
// tracer attached to that thread alone ends too. It prints "tid=N armed"
// once the spin has started and releases it when "go" comes on stdin.
func runReleased(ops []sp.Op) ([]sp.Op, error) {
	// The spinning goroutine keeps its P and cannot be preempted: the
	// others need Ps of their own, and no GC may try to stop it.
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), 4))
	debug.SetGCPercent(-1)
	tid := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked
		tid <- unix.Gettid()
		done <- runMasked(ops)
	}()
	n := <-tid
	for atomic.LoadUint32(&armedFlag) == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("tid=%d armed\n", n)
	var line [3]byte
	if _, err := io.ReadFull(os.Stdin, line[:]); err != nil || string(line[:]) != "go\n" {
		fmt.Printf("reading the go-ahead: %q %v\n", line, err)
	}
	atomic.StoreUint32(&releaseFlag, 1)
	return ops, <-done
}

// runMasked runs ops with every signal but SIGSYS blocked, so that no Go
// signal handler runs on the armed thread.
func runMasked(ops []sp.Op) error {
	old, err := sp.Sigprocmask(sp.SigSetmask, ^sp.SigBit(sp.SIGSYS))
	if err != nil {
		return err
	}
	sp.RunRaw(ops)
	_, err = sp.Sigprocmask(sp.SigSetmask, old)
	return err
}

// armedCloseProblems checks the results of helperArmedClose's ops and the
// handler's records: one interception, of close(X), performed as close(Y).
func armedCloseProblems(ops []sp.Op) []string {
	var problems []string
	ebadf := ^uint64(unix.EBADF) + 1 // -EBADF
	if ops[0].Ret != 0 {
		problems = append(problems, fmt.Sprintf("PTRACE_SELF_ON returned %#x", ops[0].Ret))
	}
	if ops[1].Ret != 1 {
		problems = append(problems, "the spin timed out")
	}
	if ops[2].Ret != ebadf || ops[3].Ret != ebadf {
		problems = append(problems, fmt.Sprintf("close(X) returned %#x, close(Z) %#x, want -EBADF", ops[2].Ret, ops[3].Ret))
	}
	recs := sp.Records()
	if len(recs) != 1 {
		problems = append(problems, fmt.Sprintf("%d interceptions, want 1", len(recs)))
	} else if r := recs[0]; r.Code() != sp.SysSelfPtrace || r.Syscall() != unix.SYS_CLOSE || r.Args[0] != fdX ||
		r.Flags&sp.RecPerformed == 0 || r.PerfArgs[0] != fdY {
		problems = append(problems, "wrong interception: "+r.String())
	}
	return problems
}

// helper is the test binary running a helper mode (not chrooted).
type helper struct {
	*guest.Proc
	stdin io.WriteCloser
}

// startHelper re-executes the test binary in helper mode.
func startHelper(t *testing.T, mode string) *helper {
	t.Helper()
	h := &helper{Proc: guest.NewProc(cmdTimeout, "/proc/self/exe", "-test.run=^$")}
	h.Cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	var err error
	if h.stdin, err = h.Cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	h.Begin(t)
	return h
}

var armedLine = regexp.MustCompile(`(?m)^tid=([0-9]+) armed$`)

// TestStraceArmedThread attaches the real strace (`-p TID -e trace=close`)
// to a thread armed with self-ptrace, whose intercepted close(X) the
// SIGSYS handler performs as close(Y) before the thread makes close(Z):
// strace shows close(Y), then close(Z), and never close(X), the call that
// was intercepted and not executed; a SIGSYS delivery line, if strace shows
// one, comes before close(Y). Contract: "An intercepted call was never
// executed: it produces no ptrace entry/exit stop ... Every call that the
// handler then really performs passes through all of them"; "A tracer can
// PTRACE_ATTACH / PTRACE_SEIZE an armed thread". Fails on a kernel without
// self-ptrace.
func TestStraceArmedThread(t *testing.T) {
	u := requireUserland(t)
	if err := sp.Probe(); err != nil {
		t.Fatalf("the kernel lacks PTRACE_SELF_ON (expected of a vanilla kernel): %v", err)
	}
	straceArmedThread(t, u, "armed-close")
}

// straceArmedThread starts the helper mode, attaches strace to its armed
// thread, releases it and checks the trace (see TestStraceArmedThread).
func straceArmedThread(t *testing.T, u userland, mode string) {
	h := startHelper(t, mode)
	var tid int
	h.WaitFor(t, "the helper's armed thread", func() bool {
		m := armedLine.FindStringSubmatch(h.Stdout.String())
		if m != nil {
			tid, _ = strconv.Atoi(m[1])
		}
		return m != nil
	})
	tw := u.workdir(t)
	st := u.start(t, []string{"strace", "-qq", "-e", "trace=close", "-o", tw.In + "/trace", "-p", strconv.Itoa(tid)}, "")
	status := fmt.Sprintf("/proc/%d/task/%d/status", h.Cmd.Process.Pid, tid)
	st.WaitFor(t, "strace to attach to thread "+strconv.Itoa(tid), func() bool { return tracerPid(t, status) != 0 })
	if _, err := io.WriteString(h.stdin, "go\n"); err != nil {
		t.Fatalf("releasing the armed thread: %v", err)
	}
	h.stdin.Close()
	ho := h.Wait(t)
	if !ho.Exited(0) || !strings.Contains(ho.Stdout, mode+": ok") {
		t.Errorf("helper: %s", ho)
	}
	// strace ends with the thread; SIGINT makes it detach otherwise.
	select {
	case <-st.Done():
	case <-time.After(30 * time.Second):
		t.Logf("strace still running 30 s after the helper ended: SIGINT")
		st.Cmd.Process.Signal(os.Interrupt)
	}
	so := st.Wait(t)
	t.Logf("strace %s", guest.DescribeStatus(so.Status))
	wantNoComplaint(t, so.Stderr)
	wantArmedTrace(t, readTrace(t, tw.At("trace"), tw))
}

var tracerPidLine = regexp.MustCompile(`(?m)^TracerPid:\s*([0-9]+)$`)

// tracerPid returns the TracerPid of a task's status file.
func tracerPid(t *testing.T, status string) int {
	t.Helper()
	b, err := os.ReadFile(status)
	if err != nil {
		t.Fatalf("reading %s: %v", status, err)
	}
	m := tracerPidLine.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no TracerPid in %s:\n%s", status, b)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	return pid
}

// wantArmedTrace checks strace's trace of the armed thread: close(Y), then
// close(Z), no close(X); a SIGSYS delivery before close(Y).
func wantArmedTrace(t *testing.T, trace string) {
	t.Helper()
	idx := func(re string) int {
		if loc := regexp.MustCompile(`(?m)` + re).FindStringIndex(trace); loc != nil {
			return loc[0]
		}
		return -1
	}
	x := idx(fmt.Sprintf(`close\(%d\)`, fdX))
	y := idx(fmt.Sprintf(`^close\(%d\)`, fdY))
	z := idx(fmt.Sprintf(`^close\(%d\)`, fdZ))
	sig := idx(`^--- SIGSYS \{si_signo=SIGSYS, si_code=`)
	if x >= 0 {
		t.Errorf("strace shows the intercepted close(%d), which must never run", fdX)
	}
	if y < 0 || z < y {
		t.Errorf("want close(%d) (the handler's), then close(%d); found at offsets %d and %d", fdY, fdZ, y, z)
	}
	if sig >= 0 {
		line, _, _ := strings.Cut(trace[sig:], "\n")
		t.Logf("signal delivery: %s", line)
		if y >= 0 && sig > y {
			t.Errorf("the SIGSYS delivery comes after close(%d)", fdY)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("trace:\n%s", guest.Clip(trace))
	}
}
