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

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

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
			guest.DescribeStatus(tr.cmd.ProcessState.Sys().(syscall.WaitStatus)), out)
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
