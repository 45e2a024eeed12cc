package bench_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// The tracee's markers: getppid with these first arguments.
const (
	traceeMark = 0x7ace0a // between two samples
	traceeEnd  = 0x7ace0e // the end: the tracer detaches
)

// Environment of the tracee helper.
const (
	envTraceeIters   = "SELFPTRACE_BENCH_TRACEE_ITERS"
	envTraceeSamples = "SELFPTRACE_BENCH_TRACEE_SAMPLES"
)

// sessionTimeout bounds one tracing session (a few seconds normally): the
// tracee is killed, the tracer's wait fails.
const sessionTimeout = 2 * time.Minute

func runHelper(mode string) int {
	if mode == "tracee" {
		return helperTracee()
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 3
}

// helperTracee runs, on one locked thread, a spin until the tracer says
// "go", then a mark, then SAMPLES times ITERS getpid calls and a mark, then
// the end marker. The tracer times the marks. It prints "tid=N ready" when
// it spins and "tracee: ok ret=R" with the last getpid's result at the end.
func helperTracee() int {
	n, err1 := strconv.Atoi(os.Getenv(envTraceeIters))
	k, err2 := strconv.Atoi(os.Getenv(envTraceeSamples))
	if err1 != nil || err2 != nil || n < 1 || k < 1 {
		fmt.Printf("tracee: bad %s=%q or %s=%q\n", envTraceeIters, os.Getenv(envTraceeIters), envTraceeSamples, os.Getenv(envTraceeSamples))
		return 3
	}
	debug.SetGCPercent(-1)
	// The spinning thread holds a P in assembly: the main goroutine needs
	// another one, even on a guest with one CPU.
	runtime.GOMAXPROCS(max(4, runtime.NumCPU()))
	var ready, release uint32
	ops := []sp.Op{sp.Spin(&ready, &release, 1<<62), sp.Syscall(unix.SYS_GETPPID, traceeMark)}
	for range k {
		ops = append(ops, sp.Loop(unix.SYS_GETPID, 0, uint64(n)), sp.Syscall(unix.SYS_GETPPID, traceeMark))
	}
	ops = append(ops, sp.Syscall(unix.SYS_GETPPID, traceeEnd))
	tid := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		_, err := runMasked(ops)
		done <- err
	}()
	t := <-tid
	for atomic.LoadUint32(&ready) == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("tid=%d ready\n", t)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil || line != "go\n" {
		fmt.Printf("tracee: reading the go-ahead: %q %v\n", line, err)
		return 1
	}
	atomic.StoreUint32(&release, 1)
	if err := <-done; err != nil {
		fmt.Printf("tracee: %v\n", err)
		return 1
	}
	fmt.Printf("tracee: ok ret=%d pid=%d\n", int64(ops[len(ops)-3].Ret), os.Getpid())
	return 0
}

// benchTracer: an external tracer (this process) traces the tracee thread
// with PTRACE_SYSCALL (an entry and an exit stop per call, the kernel
// performs the call) or PTRACE_SYSEMU (one entry stop, the kernel skips the
// call, the tracer writes the result register). At every stop it reads the
// call with PTRACE_GET_SYSCALL_INFO, as a real tracer reads the registers.
// Each sampling starts a new tracee.
func benchTracer(mech string) mechanism {
	req := uintptr(unix.PTRACE_SYSCALL)
	if mech == benchfmt.PtraceSysemu {
		req = ptraceSysemu
	}
	// The result of the last traced getpid and the tracee's pid, checked
	// once every round is done.
	var lastRet int64
	var traceePid int
	return mechanism{
		sample: func(n, k int) ([]time.Duration, error) {
			ds, ret, p, err := traceSession(n, k, req)
			lastRet, traceePid = ret, p
			return ds, err
		},
		finish: func(r *benchfmt.Result) {
			switch {
			case r.Error != "":
				if mech == benchfmt.PtraceSysemu && strings.Contains(r.Error, "PTRACE_SYSEMU: EIO") {
					*r = benchfmt.Result{Mech: r.Mech, NA: "the kernel does not implement PTRACE_SYSEMU for " + runtime.GOARCH + " (EIO)"}
				}
			case mech == benchfmt.PtraceSyscall:
				r.Note = "the tracer reads PTRACE_GET_SYSCALL_INFO at the entry and exit stops; the kernel performs the call"
				if lastRet != int64(traceePid) {
					r.Error = fmt.Sprintf("the traced getpid returned %d, want the pid %d", lastRet, traceePid)
				}
			case lastRet == int64(traceePid):
				r.Note = "the tracer reads PTRACE_GET_SYSCALL_INFO and writes the result (the pid) at the one stop; the kernel skips the call"
			case emulationNA != "":
				// The kernel honours PTRACE_SYSEMU but the tracer cannot
				// set the skipped call's result: not a working emulation.
				r.NA = fmt.Sprintf("%s (the skipped getpid returned %d)", emulationNA, lastRet)
				r.Note = "the samples measure PTRACE_SYSEMU that only skips: one stop per call, the result is not emulated"
			default:
				r.Error = fmt.Sprintf("the emulated getpid returned %d, want the pid %d that the tracer wrote", lastRet, traceePid)
			}
		},
	}
}

// traceSession starts a tracee that makes k samples of n getpid calls,
// traces its calling thread with req, and returns the time between
// consecutive marks, the last getpid's result as the tracee saw it, and
// the tracee's pid.
func traceSession(n, k int, req uintptr) (ds []time.Duration, ret int64, tracee int, err error) {
	// All ptrace requests must come from one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=tracee",
		fmt.Sprintf("%s=%d", envTraceeIters, n), fmt.Sprintf("%s=%d", envTraceeSamples, k))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, 0, fmt.Errorf("starting the tracee: %w", err)
	}
	tracee = cmd.Process.Pid
	killer := time.AfterFunc(sessionTimeout, func() { cmd.Process.Kill() })
	defer killer.Stop()
	out := bufio.NewReader(stdout)
	first, rerr := out.ReadString('\n')
	var tid int
	if _, serr := fmt.Sscanf(first, "tid=%d ready", &tid); rerr != nil || serr != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, 0, tracee, fmt.Errorf("the tracee did not report its thread: %q %v %s", first, rerr, stderr.String())
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(out); rest <- string(b) }()

	marks, terr := trace(tracee, tid, n, req, stdin)
	stdin.Close()
	if terr != nil {
		cmd.Process.Kill()
	}
	werr := cmd.Wait()
	output := first + <-rest
	if terr != nil {
		return nil, 0, tracee, fmt.Errorf("tracing: %w; tracee output: %s%s", terr, output, stderr.String())
	}
	if werr != nil {
		return nil, 0, tracee, fmt.Errorf("tracee: %v: %s%s", werr, output, stderr.String())
	}
	i := strings.Index(output, "tracee: ok ret=")
	if i < 0 {
		return nil, 0, tracee, fmt.Errorf("tracee: %s%s", output, stderr.String())
	}
	fmt.Sscanf(output[i:], "tracee: ok ret=%d", &ret)
	if len(marks) != k+1 {
		return nil, ret, tracee, fmt.Errorf("%d marks, want %d", len(marks), k+1)
	}
	for i := 1; i < len(marks); i++ {
		ds = append(ds, marks[i].Sub(marks[i-1]))
	}
	return ds, ret, tracee, nil
}

// trace seizes thread tid, lets the tracee go, and resumes it with req at
// every stop until the end marker; it returns the times of the marks. It
// checks that it saw n getpid calls between two marks.
func trace(tracee, tid, n int, req uintptr, stdin io.Writer) ([]time.Time, error) {
	var ws unix.WaitStatus
	wait := func() error {
		if _, err := unix.Wait4(tid, &ws, unix.WALL, nil); err != nil {
			return fmt.Errorf("wait4: %w", err)
		}
		if !ws.Stopped() {
			return fmt.Errorf("tracee thread not stopped: wait status %#x", uint32(ws))
		}
		return nil
	}
	if _, e := sp.Ptrace(unix.PTRACE_SEIZE, uintptr(tid), 0, unix.PTRACE_O_TRACESYSGOOD|unix.PTRACE_O_EXITKILL); e != 0 {
		return nil, fmt.Errorf("PTRACE_SEIZE: %s", sp.ErrnoName(e))
	}
	if _, e := sp.Ptrace(unix.PTRACE_INTERRUPT, uintptr(tid), 0, 0); e != 0 {
		return nil, fmt.Errorf("PTRACE_INTERRUPT: %s", sp.ErrnoName(e))
	}
	if err := wait(); err != nil {
		return nil, err
	}
	name := "PTRACE_SYSCALL"
	if req == ptraceSysemu {
		name = "PTRACE_SYSEMU"
	}
	var marks []time.Time
	calls := 0
	inject := 0
	said := false
	var info [88]byte // struct ptrace_syscall_info: op@0, entry.nr@24, entry.args@32
	for {
		if _, e := sp.Ptrace(req, uintptr(tid), 0, uintptr(inject)); e != 0 {
			return marks, fmt.Errorf("%s: %s", name, sp.ErrnoName(e))
		}
		inject = 0
		if !said {
			said = true
			if _, err := io.WriteString(stdin, "go\n"); err != nil {
				return marks, err
			}
		}
		if err := wait(); err != nil {
			return marks, err
		}
		sig := ws.StopSignal()
		switch {
		case sig == unix.SIGTRAP|0x80:
			if _, e := sp.Ptrace(unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid), uintptr(len(info)),
				uintptr(unsafe.Pointer(&info[0]))); e != 0 {
				return marks, fmt.Errorf("PTRACE_GET_SYSCALL_INFO: %s", sp.ErrnoName(e))
			}
			if info[0] != unix.PTRACE_SYSCALL_INFO_ENTRY {
				continue
			}
			nr := binary.NativeEndian.Uint64(info[24:])
			arg0 := binary.NativeEndian.Uint64(info[32:])
			switch {
			case nr == unix.SYS_GETPID:
				calls++
				if req == ptraceSysemu {
					if err := setResult(tid, uint64(tracee)); err != nil {
						return marks, err
					}
				}
			case nr == unix.SYS_GETPPID && arg0 == traceeMark:
				marks = append(marks, time.Now())
				if len(marks) > 1 && calls != n {
					return marks, fmt.Errorf("%d getpid stops between two marks, want %d", calls, n)
				}
				calls = 0
			case nr == unix.SYS_GETPPID && arg0 == traceeEnd:
				if _, e := sp.Ptrace(unix.PTRACE_DETACH, uintptr(tid), 0, 0); e != 0 {
					return marks, fmt.Errorf("PTRACE_DETACH: %s", sp.ErrnoName(e))
				}
				return marks, nil
			}
		case int(uint32(ws)>>16) == unix.PTRACE_EVENT_STOP:
			// group-stop or PTRACE_INTERRUPT: resume
		default:
			inject = int(sig)
		}
	}
}
