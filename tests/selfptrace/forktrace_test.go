package selfptrace_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// forkMagic marks, in its sixth argument, the exempt ptrace call that the
// tracer turns into a fork.
const forkMagic = 0x7ace0004

// forkMarkArgs are the arguments of the marked ptrace call: those of the
// fork it becomes (forkRewrite: none for fork, clone's on arm64 and
// riscv64), forkMagic as the sixth (which neither fork nor clone reads).
func forkMarkArgs() []uint64 {
	args := make([]uint64, 6)
	copy(args, forkRewrite.args)
	args[5] = forkMagic
	return args
}

// helperForkTracee arms a thread, waits for the tracer, then makes
// ptrace(..., forkMagic): exempt, so it is not intercepted and the tracer
// sees its entry stop and turns it into a fork (fork, or clone(SIGCHLD)
// where there is no fork). The fork so runs while the thread is armed: the
// only way to create a task from an armed thread. Then getppid(Z) ends the
// trace (intercepted and performed in the parent).
func helperForkTracee() int {
	if code := helperInstall(); code != 0 {
		return code
	}
	sp.Reset()
	enoughProcs()
	debug.SetGCPercent(-1)
	sp.SetPlan(sp.Plan{Flags: sp.FlagPerform})
	var armed, release uint32
	res, tidCh := armedThreadOps(&armed, &release, []sp.Op{
		sp.Syscall(unix.SYS_PTRACE, forkMarkArgs()...),
		sp.Syscall(unix.SYS_GETPPID, traceeMagicZ),
	})
	tid := <-tidCh
	for atomic.LoadUint32(&armed) == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("tid=%d armed\n", tid)
	bufio.NewReader(os.Stdin).ReadString('\n')
	atomic.StoreUint32(&release, 1)
	ops := <-res
	if int64(ops[2].Ret) <= 0 {
		fmt.Printf("tracee: FAIL: the rewritten call returned %#x, want a child pid\n", ops[2].Ret)
		return 1
	}
	fmt.Println("tracee: ok")
	return 0
}

// TestForkWhileArmedStartsDisarmed makes an armed thread fork, with a
// tracer that rewrites an exempt call into fork at its syscall-entry stop
// (the thread's own fork would be intercepted). The child's first system
// call must run normally: a syscall-entry stop, not a SIGSYS.
// Contract: "fork, vfork and clone (threads too) start disarmed".
func TestForkWhileArmedStartsDisarmed(t *testing.T) {
	sp.Require(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tr := startTracee(t, "fork-tracee")
	child, childErr := traceFork(tr.tid, tr.stdin)
	out, werr := tr.finish()
	if childErr != nil {
		t.Fatalf("tracing: %v\ntracee output:\n%s", childErr, out)
	}
	if werr != nil || !strings.Contains(out, "tracee: ok") {
		t.Errorf("tracee: %v; output:\n%s", werr, out)
	}
	if child != "" {
		t.Error(child)
	}
}

// traceFork seizes the armed thread, turns its ptrace(..., forkMagic) into a fork
// and examines the child's first system call. It returns a description of
// what was wrong with the child, empty if it started disarmed.
func traceFork(tid int, stdin io.Writer) (string, error) {
	var ws unix.WaitStatus
	wait := func(pid int) error { return waitStopped(pid, &ws) }
	if err := seize(tid, unix.PTRACE_O_TRACESYSGOOD|unix.PTRACE_O_TRACEFORK, stdin, &ws); err != nil {
		return "", err
	}
	verdict := "the fork never happened"
	inject := 0
	for n := 0; n < 10000; n++ {
		if _, e := sp.Ptrace(unix.PTRACE_SYSCALL, uintptr(tid), 0, uintptr(inject)); e != 0 {
			return "", fmt.Errorf("PTRACE_SYSCALL: %s", sp.ErrnoName(e))
		}
		if err := wait(tid); err != nil {
			return "", err
		}
		inject = 0
		sig := ws.StopSignal()
		switch {
		case sig == unix.SIGTRAP|0x80:
			nr, args, entry, err := syscallEntry(tid)
			if err != nil {
				return "", err
			}
			if !entry {
				continue
			}
			if nr == unix.SYS_PTRACE && args[5] == forkMagic {
				if err := setSyscallNr(tid, forkRewrite.nr); err != nil {
					return "", fmt.Errorf("turning the marked ptrace call into a fork: %w", err)
				}
			}
			if nr == unix.SYS_GETPPID && args[0] == traceeMagicZ {
				if _, e := sp.Ptrace(unix.PTRACE_DETACH, uintptr(tid), 0, 0); e != 0 {
					return "", fmt.Errorf("PTRACE_DETACH: %s", sp.ErrnoName(e))
				}
				return verdict, nil
			}
		case sig == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_FORK:
			msg, err := unix.PtraceGetEventMsg(tid)
			if err != nil {
				return "", fmt.Errorf("PTRACE_GETEVENTMSG: %w", err)
			}
			if verdict, err = examineChild(int(msg)); err != nil {
				return "", err
			}
		case sig == unix.SIGTRAP:
			// a ptrace event stop of no interest
		default:
			inject = int(sig) // SIGSYS of the parent's own interception, and the like
		}
	}
	return "", fmt.Errorf("no end of trace")
}

// examineChild lets the new child make its first system call: a syscall
// entry stop means it started disarmed; a self-ptrace SIGSYS means it
// inherited the armed state.
func examineChild(child int) (string, error) {
	defer func() {
		unix.Kill(child, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(child, &ws, unix.WALL, nil)
	}()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(child, &ws, unix.WALL, nil); err != nil {
		return "", fmt.Errorf("waiting for the child's first stop: %w", err)
	}
	for n := 0; n < 100; n++ {
		if _, e := sp.Ptrace(unix.PTRACE_SYSCALL, uintptr(child), 0, 0); e != 0 {
			return "", fmt.Errorf("PTRACE_SYSCALL on the child: %s", sp.ErrnoName(e))
		}
		if _, err := unix.Wait4(child, &ws, unix.WALL, nil); err != nil {
			return "", fmt.Errorf("waiting for the child: %w", err)
		}
		if !ws.Stopped() {
			return fmt.Sprintf("the child ended before its first system call: %v", ws), nil
		}
		switch sig := ws.StopSignal(); {
		case sig == unix.SIGTRAP|0x80:
			nr, args, entry, err := syscallEntry(child)
			if err != nil {
				return "", err
			}
			if entry && nr == unix.SYS_GETPPID && args[0] == traceeMagicZ {
				return "", nil // executed normally: the child is disarmed
			}
			if entry {
				return fmt.Sprintf("the child's first system call is %d (arg0 %#x), want getppid(%#x)", nr, args[0], traceeMagicZ), nil
			}
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

// syscallEntry reads the stopped thread's syscall info (struct
// ptrace_syscall_info: op@0, entry.nr@24, entry.args@32).
func syscallEntry(tid int) (nr uint64, args [6]uint64, entry bool, err error) {
	var info [88]byte
	if _, e := sp.Ptrace(unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid), uintptr(len(info)), uintptr(unsafe.Pointer(&info[0]))); e != 0 {
		return 0, args, false, fmt.Errorf("PTRACE_GET_SYSCALL_INFO: %s", sp.ErrnoName(e))
	}
	if info[0] != unix.PTRACE_SYSCALL_INFO_ENTRY {
		return 0, args, false, nil
	}
	for i := range args {
		args[i] = binary.NativeEndian.Uint64(info[32+8*i:])
	}
	return binary.NativeEndian.Uint64(info[24:]), args, true, nil
}

// execMagic marks, in its fourth argument, the exempt ptrace call that the
// tracer turns into execve.
const execMagic = 0x7ace0005

// helperExecTracee arms a thread, waits for the tracer, then makes
// ptrace(path, argv, envp, execMagic): exempt, so the tracer sees its entry
// stop and turns it into execve, which so runs while the thread is armed.
// The new program is this binary in helper mode check-disarmed.
func helperExecTracee() int {
	if code := helperInstall(); code != 0 {
		return code
	}
	sp.Reset()
	enoughProcs()
	debug.SetGCPercent(-1)
	path := cstr("/proc/self/exe")
	argv, keepArgv := cstrv([]string{"/proc/self/exe", "-test.run=^$"})
	envp, keepEnvp := cstrv(append(withoutHelperEnv(), helperEnv+"=check-disarmed"))
	var armed, release uint32
	res, tidCh := armedThreadOps(&armed, &release, []sp.Op{
		sp.Syscall(unix.SYS_PTRACE, bufPtr(path), ptr(&argv[0]), ptr(&envp[0]), execMagic),
	})
	tid := <-tidCh
	for atomic.LoadUint32(&armed) == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("tid=%d armed\n", tid)
	bufio.NewReader(os.Stdin).ReadString('\n')
	atomic.StoreUint32(&release, 1)
	ops := <-res
	runtime.KeepAlive(path)
	runtime.KeepAlive(keepArgv)
	runtime.KeepAlive(keepEnvp)
	fmt.Printf("tracee: FAIL: the rewritten call returned %#x instead of executing a new program\n", ops[2].Ret)
	return 1
}

// TestExecWhileArmedStartsDisarmed makes an armed thread execve, with a
// tracer that rewrites an exempt call into execve at its syscall-entry
// stop (the thread's own execve would be intercepted). The new program
// must start disarmed: it checks that its calls run normally (an armed one
// would die by SIGSYS at its first system call: the handler is gone).
// Contract: "execve starts disarmed (... the rule holds for every path)".
func TestExecWhileArmedStartsDisarmed(t *testing.T) {
	sp.Require(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tr := startTracee(t, "exec-tracee")
	traceErr := traceExec(tr.tid, tr.stdin)
	out, werr := tr.finish()
	if traceErr != nil {
		t.Fatalf("tracing: %v\ntracee output:\n%s", traceErr, out)
	}
	if werr != nil || !strings.Contains(out, "check-disarmed: ok") {
		t.Errorf("the program executed by an armed thread did not start disarmed: %s\noutput:\n%s",
			describeStatus(tr.cmd.ProcessState.Sys().(syscall.WaitStatus)), out)
	}
}

// traceExec seizes the armed thread, turns its ptrace(..., execMagic) into
// execve at the entry stop and detaches, letting the execve run.
func traceExec(tid int, stdin io.Writer) error {
	var ws unix.WaitStatus
	wait := func() error { return waitStopped(tid, &ws) }
	if err := seize(tid, unix.PTRACE_O_TRACESYSGOOD, stdin, &ws); err != nil {
		return err
	}
	inject := 0
	for n := 0; n < 10000; n++ {
		if _, e := sp.Ptrace(unix.PTRACE_SYSCALL, uintptr(tid), 0, uintptr(inject)); e != 0 {
			return fmt.Errorf("PTRACE_SYSCALL: %s", sp.ErrnoName(e))
		}
		if err := wait(); err != nil {
			return err
		}
		inject = 0
		switch sig := ws.StopSignal(); {
		case sig == unix.SIGTRAP|0x80:
			var info [88]byte
			if _, e := sp.Ptrace(unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid), uintptr(len(info)), uintptr(unsafe.Pointer(&info[0]))); e != 0 {
				return fmt.Errorf("PTRACE_GET_SYSCALL_INFO: %s", sp.ErrnoName(e))
			}
			// entry.nr@24, entry.args[3]@56
			if info[0] == unix.PTRACE_SYSCALL_INFO_ENTRY && binary.NativeEndian.Uint64(info[24:]) == unix.SYS_PTRACE &&
				binary.NativeEndian.Uint64(info[56:]) == execMagic {
				if err := setSyscallNr(tid, unix.SYS_EXECVE); err != nil {
					return fmt.Errorf("turning the marked ptrace call into execve: %w", err)
				}
				if _, e := sp.Ptrace(unix.PTRACE_DETACH, uintptr(tid), 0, 0); e != 0 {
					return fmt.Errorf("PTRACE_DETACH: %s", sp.ErrnoName(e))
				}
				return nil
			}
		case sig == unix.SIGTRAP:
		default:
			inject = int(sig)
		}
	}
	return fmt.Errorf("the marked ptrace call never came")
}
