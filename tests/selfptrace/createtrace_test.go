package selfptrace_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// createMagic marks, in its sixth argument, the exempt ptrace call that the
// tracer turns into a task-creating call. Its first five arguments are
// already those of the call to make (no creating call takes six), so the
// tracer only has to change the number.
const createMagic = 0x7ace0004

// threadFlags are the clone flags of a thread (what pthread_create uses,
// without the TLS and tid words the test does not need).
const threadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM

// creation is one way for an armed thread to create a task. The child runs
// on the parent's stack (no new stack is given): that is safe because the
// parent stays stopped by the tracer, or suspended by vfork, until the
// child has made its first system call and exited.
type creation struct {
	name   string
	nr     uint64 // the system call the tracer substitutes
	thread bool   // the child is a thread of the tracee
	// args returns the call's arguments (at most five) and what the
	// arguments point to, to keep alive while the call runs.
	args func() ([]uint64, any)
}

// creations lists the cases: the arch's own fork and vfork (forkCalls, in
// the per-arch file), then clone and clone3 in the shapes that matter.
func creations() []creation {
	var cs []creation
	names := make([]string, 0, len(forkCalls))
	for n := range forkCalls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cs = append(cs, creation{name: n, nr: forkCalls[n], args: noArgs})
	}
	clone := func(flags uint64) func() ([]uint64, any) {
		return func() ([]uint64, any) { return cloneArgs(flags), nil }
	}
	// struct clone_args, CLONE_ARGS_SIZE_VER0 (64 bytes): flags, pidfd,
	// child_tid, parent_tid, exit_signal, stack, stack_size, tls.
	clone3 := func(flags, exitSignal uint64) func() ([]uint64, any) {
		return func() ([]uint64, any) {
			ca := &[8]uint64{0: flags, 4: exitSignal}
			return []uint64{ptr(ca), uint64(unsafe.Sizeof(*ca))}, ca
		}
	}
	return append(cs,
		creation{name: "clone_fork", nr: unix.SYS_CLONE, args: clone(uint64(unix.SIGCHLD))},
		creation{name: "clone_thread", nr: unix.SYS_CLONE, thread: true, args: clone(threadFlags)},
		creation{name: "clone_vm_vfork", nr: unix.SYS_CLONE, args: clone(unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD))},
		creation{name: "clone3", nr: unix.SYS_CLONE3, args: clone3(0, uint64(unix.SIGCHLD))},
		creation{name: "clone3_thread", nr: unix.SYS_CLONE3, thread: true, args: clone3(threadFlags, 0)},
	)
}

func noArgs() ([]uint64, any) { return nil, nil }

func findCreation(name string) (creation, bool) {
	for _, c := range creations() {
		if c.name == name {
			return c, true
		}
	}
	return creation{}, false
}

// helperCreateTracee arms a thread, waits for the tracer, then makes
// ptrace(args of the creating call..., createMagic): exempt, so it is not
// intercepted, and the tracer turns it into the creating call at its entry
// stop. The call so runs while the thread is armed: the only way to create
// a task from an armed thread (its own fork or clone would be
// intercepted). Then getppid(Z) ends the trace (intercepted and performed
// in the parent).
func helperCreateTracee(name string) int {
	c, ok := findCreation(name)
	if !ok {
		fmt.Printf("unknown creation %q\n", name)
		return 3
	}
	if code := helperInstall(); code != 0 {
		return code
	}
	sp.Reset()
	enoughProcs()
	debug.SetGCPercent(-1)
	sp.SetPlan(sp.Plan{Flags: sp.FlagPerform})
	args, keep := c.args()
	marked := sp.Syscall(unix.SYS_PTRACE, args...)
	marked.Args[5] = createMagic
	var armed, release uint32
	res, tidCh := armedThreadOps(&armed, &release, []sp.Op{marked, sp.Syscall(unix.SYS_GETPPID, traceeMagicZ)})
	tid := <-tidCh
	for atomic.LoadUint32(&armed) == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("tid=%d armed\n", tid)
	bufio.NewReader(os.Stdin).ReadString('\n')
	atomic.StoreUint32(&release, 1)
	ops := <-res
	runtime.KeepAlive(keep)
	if int64(ops[2].Ret) <= 0 {
		fmt.Printf("tracee: FAIL: the rewritten call returned %#x (%s), want a child id\n", ops[2].Ret,
			sp.ErrnoName(unix.Errno(-int64(ops[2].Ret))))
		return 1
	}
	if int(ops[3].Ret) != os.Getppid() {
		fmt.Printf("tracee: FAIL: getppid after the creation returned %#x\n", ops[3].Ret)
		return 1
	}
	fmt.Println("tracee: ok")
	return 0
}

// TestCreateWhileArmedStartsDisarmed makes an armed thread fork, vfork,
// clone a thread, clone with CLONE_VM|CLONE_VFORK (what posix_spawn does)
// and clone3 (a process and a thread), with a tracer that rewrites an
// exempt ptrace call into the creating call at its syscall-entry stop. The
// child's first system call must run normally: a syscall-entry stop, not a
// SIGSYS. Contract: "fork, vfork and clone (threads too) start disarmed".
func TestCreateWhileArmedStartsDisarmed(t *testing.T) {
	for _, c := range creations() {
		t.Run(c.name, func(t *testing.T) {
			sp.Require(t)
			runtime.LockOSThread() // every ptrace request from this thread
			defer runtime.UnlockOSThread()
			tr := startTracee(t, "create-tracee:"+c.name)
			verdict, traceErr := traceCreate(tr.tid, tr.cmd.Process.Pid, c, tr.stdin)
			out, werr := tr.finish()
			if traceErr != nil {
				t.Fatalf("tracing: %v\ntracee output:\n%s", traceErr, out)
			}
			if verdict != "" {
				t.Fatalf("%s\ntracee output:\n%s", verdict, out)
			}
			if werr != nil || !strings.Contains(out, "tracee: ok") {
				t.Errorf("tracee: %v; output:\n%s", werr, out)
			}
		})
	}
}

// traceCreate seizes the armed thread, turns its marked ptrace call into
// c's call and examines the child's first system call. It returns a
// description of what was wrong with the child, empty if it started
// disarmed.
func traceCreate(tid, pid int, c creation, stdin io.Writer) (string, error) {
	var ws unix.WaitStatus
	opts := unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACECLONE
	if err := seize(tid, uintptr(opts), stdin, &ws); err != nil {
		return "", err
	}
	created := false
	inject := 0
	for n := 0; n < 10000; n++ {
		if _, e := sp.Ptrace(unix.PTRACE_SYSCALL, uintptr(tid), 0, uintptr(inject)); e != 0 {
			return "", fmt.Errorf("PTRACE_SYSCALL: %s", sp.ErrnoName(e))
		}
		if err := waitStopped(tid, &ws); err != nil {
			return "", err
		}
		inject = 0
		switch sig := ws.StopSignal(); {
		case sig == unix.SIGTRAP|0x80:
			nr, args, entry, err := syscallEntry(tid)
			if err != nil {
				return "", err
			}
			if !entry {
				continue
			}
			if nr == unix.SYS_PTRACE && args[5] == createMagic {
				if err := setSyscallNr(tid, c.nr); err != nil {
					return "", err
				}
			}
			if nr == unix.SYS_GETPPID && args[0] == traceeMagicZ {
				if _, e := sp.Ptrace(unix.PTRACE_DETACH, uintptr(tid), 0, 0); e != 0 {
					return "", fmt.Errorf("PTRACE_DETACH: %s", sp.ErrnoName(e))
				}
				if !created {
					return fmt.Sprintf("%s never created a task", c.name), nil
				}
				return "", nil
			}
		case sig == unix.SIGTRAP && (ws.TrapCause() == unix.PTRACE_EVENT_FORK ||
			ws.TrapCause() == unix.PTRACE_EVENT_VFORK || ws.TrapCause() == unix.PTRACE_EVENT_CLONE):
			msg, err := unix.PtraceGetEventMsg(tid)
			if err != nil {
				return "", fmt.Errorf("PTRACE_GETEVENTMSG: %w", err)
			}
			created = true
			verdict, err := examineChild(int(msg), pid, c.thread)
			if verdict != "" {
				// An armed child: kill the tracee and reap the tasks this
				// thread traces, or the tracee's zombie is never reported.
				unix.Kill(pid, unix.SIGKILL)
				unix.Kill(int(msg), unix.SIGKILL) // a process of its own
				reapTraced(int(msg), tid)
			}
			if verdict != "" || err != nil {
				return verdict, err
			}
		case sig == unix.SIGTRAP:
			// a ptrace event stop of no interest
		default:
			inject = int(sig) // SIGSYS of the parent's own interception, and the like
		}
	}
	return "", fmt.Errorf("no end of trace")
}

// examineChild lets the new child (a thread of process pid if thread) make
// its first system call: a syscall-entry stop of getppid(Z) means it
// started disarmed, and the tracer turns that call into exit, which ends
// the child alone; a self-ptrace SIGSYS means it inherited the armed state.
// The parent stays stopped meanwhile, so the child has the shared stack to
// itself.
func examineChild(child, pid int, thread bool) (string, error) {
	var ws unix.WaitStatus
	if _, err := unix.Wait4(child, &ws, unix.WALL, nil); err != nil {
		return "", fmt.Errorf("waiting for the child's first stop: %w", err)
	}
	tgid, err := threadGroup(child)
	if err != nil {
		return "", err
	}
	if thread && tgid != pid {
		return fmt.Sprintf("the child %d is in thread group %d, want a thread of %d", child, tgid, pid), nil
	}
	if !thread && tgid != child {
		return fmt.Sprintf("the child %d is in thread group %d, want a process of its own", child, tgid), nil
	}
	for n := 0; n < 100; n++ {
		if _, e := sp.Ptrace(unix.PTRACE_SYSCALL, uintptr(child), 0, 0); e != 0 {
			return "", fmt.Errorf("PTRACE_SYSCALL on the child: %s", sp.ErrnoName(e))
		}
		if _, err := unix.Wait4(child, &ws, unix.WALL, nil); err != nil {
			return "", fmt.Errorf("waiting for the child: %w", err)
		}
		if !ws.Stopped() {
			return fmt.Sprintf("the child ended before its first system call: %#x", uint32(ws)), nil
		}
		switch sig := ws.StopSignal(); {
		case sig == unix.SIGTRAP|0x80:
			nr, args, entry, err := syscallEntry(child)
			if err != nil {
				return "", err
			}
			if !entry {
				continue
			}
			if nr != unix.SYS_GETPPID || args[0] != traceeMagicZ {
				return fmt.Sprintf("the child's first system call is %d (arg0 %#x), want getppid(%#x)", nr, args[0], traceeMagicZ), nil
			}
			// Executed normally: the child is disarmed. End it.
			return "", endChild(child)
		case sig == unix.SIGSYS:
			var info sp.Siginfo
			if _, e := sp.Ptrace(unix.PTRACE_GETSIGINFO, uintptr(child), 0, uintptr(unsafe.Pointer(&info))); e != 0 {
				return "", fmt.Errorf("PTRACE_GETSIGINFO: %s", sp.ErrnoName(e))
			}
			return fmt.Sprintf("the child of an armed thread started armed: its first system call became SIGSYS si_code %d si_syscall %d",
				info.Code(), info.Syscall()), nil
		}
	}
	return "", fmt.Errorf("the child never made a system call")
}

// reapTraced waits until the traced tasks ids are gone.
func reapTraced(ids ...int) {
	for _, id := range ids {
		for {
			var ws unix.WaitStatus
			if _, err := unix.Wait4(id, &ws, unix.WALL, nil); err != nil || ws.Exited() || ws.Signaled() {
				break
			}
		}
	}
}

// endChild turns the call at the child's entry stop into exit (of the
// child alone, a thread or not) and waits until it is gone.
func endChild(child int) error {
	if err := setSyscallNr(child, unix.SYS_EXIT); err != nil {
		return err
	}
	if _, e := sp.Ptrace(unix.PTRACE_CONT, uintptr(child), 0, 0); e != 0 {
		return fmt.Errorf("PTRACE_CONT on the child: %s", sp.ErrnoName(e))
	}
	for {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(child, &ws, unix.WALL, nil); err != nil {
			return fmt.Errorf("waiting for the child's exit: %w", err)
		}
		if ws.Exited() || ws.Signaled() {
			return nil
		}
		if _, e := sp.Ptrace(unix.PTRACE_CONT, uintptr(child), 0, 0); e != 0 {
			return fmt.Errorf("PTRACE_CONT on the child: %s", sp.ErrnoName(e))
		}
	}
}

// threadGroup reads the Tgid of task tid.
func threadGroup(tid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return 0, fmt.Errorf("reading the child's status: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no Tgid in /proc/%d/status", tid)
}

// syscallEntry reads the stopped thread's syscall info: at an entry stop,
// the number and the six arguments.
func syscallEntry(tid int) (nr uint64, args [6]uint64, entry bool, err error) {
	var info [88]byte
	if _, e := sp.Ptrace(unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid), uintptr(len(info)), uintptr(unsafe.Pointer(&info[0]))); e != 0 {
		return 0, args, false, fmt.Errorf("PTRACE_GET_SYSCALL_INFO: %s", sp.ErrnoName(e))
	}
	// struct ptrace_syscall_info: op@0, entry.nr@24, entry.args@32.
	if info[0] != unix.PTRACE_SYSCALL_INFO_ENTRY {
		return 0, args, false, nil
	}
	for i := range args {
		args[i] = binary.NativeEndian.Uint64(info[32+8*i:])
	}
	return binary.NativeEndian.Uint64(info[24:]), args, true, nil
}
