package selfptrace_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// TestDelivery checks one interception end to end.
// Contract: "ptrace(PTRACE_SELF_ON, 0, 0, 0) arms the calling thread and
// returns 0"; intercepted call 1 (not executed: exactly one SIGSYS), 3
// (registers rolled back), 4 (siginfo cleared, si_signo, si_code
// SYS_SELF_PTRACE, si_errno 0, si_syscall, si_arch, si_call_addr), 5 (the
// result register is the caller's result).
func TestDelivery(t *testing.T) {
	s := sp.Begin(t)
	args := []uint64{0x1111111111111111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666}
	ops := s.Run(sp.On(), sp.Syscall(unix.SYS_GETPID, args...))
	wantOn(t, ops[0])
	recs := wantRecords(t, 1)
	checkIntercept(t, &recs[0], unix.SYS_GETPID, args)
	wantRet(t, "intercepted getpid", ops[1], sp.RolledBackResult(unix.SYS_GETPID, [6]uint64(args)))
	if recs[0].Result != ops[1].Ret {
		t.Errorf("caller got %#x, handler left %#x in the result register", ops[1].Ret, recs[0].Result)
	}
	t.Logf("%v", recs[0].String())
}

// TestNotExecuted checks that intercepted calls have no effect.
// Contract: intercepted call 1 "It is not executed".
func TestNotExecuted(t *testing.T) {
	t.Run("write", func(t *testing.T) {
		s := sp.Begin(t)
		p := pipe(t)
		buf := []byte("must not arrive")
		ops := s.Run(sp.On(), sp.Syscall(unix.SYS_WRITE, uint64(p[1]), bufPtr(buf), uint64(len(buf))))
		runtime.KeepAlive(buf)
		wantOn(t, ops[0])
		recs := wantRecords(t, 1)
		checkIntercept(t, &recs[0], unix.SYS_WRITE, []uint64{uint64(p[1]), bufPtr(buf), uint64(len(buf))})
		wantPipeEmpty(t, p[0])
	})
	t.Run("close", func(t *testing.T) {
		s := sp.Begin(t)
		p := pipe(t)
		ops := s.Run(sp.On(), sp.Syscall(unix.SYS_CLOSE, uint64(p[1])))
		wantOn(t, ops[0])
		wantRecords(t, 1)
		if _, err := unix.FcntlInt(uintptr(p[1]), unix.F_GETFD, 0); err != nil {
			t.Errorf("fd %d closed by an intercepted close: %v", p[1], err)
		}
	})
	t.Run("exit_group", func(t *testing.T) {
		s := sp.Begin(t)
		ops := s.Run(sp.On(), sp.Syscall(unix.SYS_EXIT_GROUP, 77))
		wantOn(t, ops[0])
		recs := wantRecords(t, 1)
		checkIntercept(t, &recs[0], unix.SYS_EXIT_GROUP, []uint64{77})
		// Still alive: the call was not executed.
	})
	t.Run("kill", func(t *testing.T) {
		s := sp.Begin(t)
		ops := s.Run(sp.On(), sp.Syscall(unix.SYS_KILL, uint64(os.Getpid()), uint64(unix.SIGKILL)))
		wantOn(t, ops[0])
		wantRecords(t, 1)
	})
}

// TestArgumentsIntact passes argument values that could hurt through an
// interception: every one must reach the handler and come back unchanged,
// and the call must not be restarted, turned into EINTR or run.
// Contract: intercepted call 3 and "The number and the arguments reach the
// handler intact whatever their values are, and the kernel never executes
// an intercepted call afterwards by any path (syscall restart logic
// included)". On s390x the first argument register r2 is also the result
// register that the signal code inspects for restart codes.
func TestArgumentsIntact(t *testing.T) {
	for i := range nasty {
		var args [6]uint64
		for j := range args {
			args[j] = nasty[(i+j)%len(nasty)]
		}
		t.Run(fmt.Sprintf("arg1=%#x", args[0]), func(t *testing.T) {
			s := sp.Begin(t)
			ops := s.Run(sp.On(), sp.Syscall(unix.SYS_GETPID, args[:]...), sp.Syscall(unix.SYS_GETPID))
			wantOn(t, ops[0])
			recs := wantRecords(t, 1)
			checkIntercept(t, &recs[0], unix.SYS_GETPID, args[:])
			wantRet(t, "intercepted getpid", ops[1], sp.RolledBackResult(unix.SYS_GETPID, args))
			wantRet(t, "getpid after the interception", ops[2], uint64(os.Getpid()))
		})
	}
}

// TestSyscallNumbersIntact intercepts calls whose number could hurt: -1,
// the restart codes, numbers beyond the table and numbers whose low bits
// alias write(2). Their arguments make a write to a pipe, so any execution
// (direct, restarted, or of the aliased call) leaves a byte in the pipe.
// Contract: intercepted call 3 and 4, and the "intact whatever their values
// ... never executes ... afterwards" sentence.
func TestSyscallNumbersIntact(t *testing.T) {
	numbers := []uint64{^uint64(0), neg(512), neg(513), neg(514), neg(515), neg(516), 1000, 0xffff, 0x7fffffff}
	numbers = append(append(numbers, aliasesOfWrite...), archNumbers...)
	for _, nr := range numbers {
		t.Run(fmt.Sprintf("nr=%#x", nr), func(t *testing.T) {
			s := sp.Begin(t)
			p := pipe(t)
			buf := []byte("x")
			args := [6]uint64{uint64(p[1]), bufPtr(buf), 1}
			ops := s.Run(sp.On(), sp.Syscall(nr, args[:]...))
			runtime.KeepAlive(buf)
			wantOn(t, ops[0])
			recs := wantRecords(t, 1)
			checkIntercept(t, &recs[0], nr, args[:])
			wantRet(t, "intercepted call", ops[1], sp.RolledBackResult(nr, args))
			wantPipeEmpty(t, p[0])
		})
	}
}

func pipe(t *testing.T) [2]int {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatalf("pipe2: %v", err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p
}

func wantPipeEmpty(t *testing.T, fd int) {
	t.Helper()
	b := make([]byte, 64)
	n, err := unix.Read(fd, b)
	if !errors.Is(err, unix.EAGAIN) {
		t.Errorf("pipe not empty after an intercepted call: read %q, %v", b[:max(n, 0)], err)
	}
}
