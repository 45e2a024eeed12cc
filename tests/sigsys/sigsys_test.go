// Package sigsys_test holds differential checks of the three in-process
// SIGSYS mechanisms: seccomp's SECCOMP_RET_TRAP, Syscall User Dispatch and
// self-ptrace. Each one skips a system call, rolls the registers back to
// their values at entry and forces a SIGSYS whose handler finds the call in
// its ucontext and writes its result. What must hold for any of them:
//
//   - the handler sees the call's number and first argument as the caller
//     set them, whatever their values;
//   - the result the handler writes is what the call returns;
//   - the call is never run again, nor restarted, by the signal code.
//
// The values that hurt are the ones the kernel gives a meaning to: a first
// argument (the result register on s390x, arm64 and riscv64) or a number
// (the result register on x86_64 after the rollback) that looks like one of
// the internal restart codes, with and without SA_RESTART, and -ENOSYS.
//
// The package is not part of the default suite: on a mainline kernel some
// of these checks fail by design of the arch code, and the point is to say
// which, on the vanilla kernel and on the series, per arch and mechanism
// (`selfptrace-vm test --tests ./tests/sigsys`, and with --vanilla).
// A mechanism the kernel or the arch lacks (self-ptrace on vanilla, Syscall
// User Dispatch on arm64) is skipped with the reason.
package sigsys_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// handlerResult is what the handler stores in the result register.
const handlerResult = 0x5e7

func neg(v int64) uint64 { return uint64(-v) }

// hurtful are first arguments that the kernel could take for a result:
// -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK,
// -ENOSYS; 0x1234 is the harmless control.
var hurtful = []uint64{0x1234, neg(512), neg(513), neg(514), neg(516), neg(int64(unix.ENOSYS))}

// mechanism is one in-process SIGSYS mechanism.
type mechanism struct {
	name string
	code int32 // si_code
	// run makes the call nr(args) intercepted on the current, locked OS
	// thread, followed by getpid, and returns the ops with their
	// results; skip is non-empty if the kernel or the arch lacks the
	// mechanism.
	run func(nr uint64, args []uint64) (ops []sp.Op, skip string, err error)
}

var mechanisms = []mechanism{
	{"seccomp_trap", sp.SysSeccomp, runSeccompTrap},
	{"user_dispatch", sp.SysUserDispatch, runUserDispatch},
	{"self_ptrace", sp.SysSelfPtrace, runSelfPtrace},
}

// TestFirstArgument: a call whose first argument may hurt, with the number
// of getppid (which ignores its arguments).
func TestFirstArgument(t *testing.T) {
	for _, m := range mechanisms {
		for _, restart := range []bool{false, true} {
			for _, a0 := range hurtful {
				t.Run(fmt.Sprintf("%s/SA_RESTART=%v/arg1=%#x", m.name, restart, a0), func(t *testing.T) {
					check(t, m, restart, unix.SYS_GETPPID, []uint64{a0, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666})
				})
			}
		}
	}
}

// TestNumber: a call whose number is a restart code (no such system call:
// each mechanism intercepts it before the number is checked).
func TestNumber(t *testing.T) {
	for _, m := range mechanisms {
		for _, restart := range []bool{false, true} {
			for _, nr := range []uint64{neg(512), neg(513), neg(516)} {
				t.Run(fmt.Sprintf("%s/SA_RESTART=%v/nr=%#x", m.name, restart, nr), func(t *testing.T) {
					check(t, m, restart, nr, []uint64{0x1, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666})
				})
			}
		}
	}
}

// check runs one interception on a new OS thread (a seccomp filter cannot
// be removed: the thread ends with the test) and checks what the handler
// saw and what the caller got.
func check(t *testing.T, m mechanism, restart bool, nr uint64, args []uint64) {
	var (
		ops  []sp.Op
		recs []sp.Record
		skip string
		err  error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread ends
		act := sp.HandlerAction(sp.HandlerPC)
		if restart {
			act.Flags |= sp.SaRestart
		}
		restore, e := sp.InstallAction(sp.SIGSYS, act)
		if e != nil {
			err = e
			return
		}
		defer restore()
		sp.Reset()
		ops, skip, err = m.run(nr, args)
		recs = sp.Records()
	}()
	<-done
	if skip != "" {
		t.Skip(skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	call, after := ops[len(ops)-2], ops[len(ops)-1]
	if len(recs) != 1 {
		t.Fatalf("%d SIGSYS for one call, want 1 (a restarted call is intercepted again): %v", len(recs), recs)
	}
	r := &recs[0]
	var problems []string
	if r.Code() != m.code {
		problems = append(problems, fmt.Sprintf("si_code %d, want %d", r.Code(), m.code))
	}
	if want := sp.SiSyscall(nr); r.Syscall() != want {
		problems = append(problems, fmt.Sprintf("si_syscall %d, want %d", r.Syscall(), want))
	}
	if r.Args[0] != args[0] {
		problems = append(problems, fmt.Sprintf("the handler found %#x as the first argument, want %#x", r.Args[0], args[0]))
	}
	if want := uint64(sp.SysSitePC) + sp.SyscallInsnLen; r.PC != want {
		problems = append(problems, fmt.Sprintf("the handler returns to %#x, want %#x after the system call instruction (a restart rewinds it)", r.PC, want))
	}
	if call.Ret != handlerResult {
		problems = append(problems, fmt.Sprintf("the call returned %#x (%d), want the handler's %#x", call.Ret, int64(call.Ret), handlerResult))
	}
	if after.Ret != uint64(os.Getpid()) {
		problems = append(problems, fmt.Sprintf("getpid after it returned %#x", after.Ret))
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// plan makes the handler store handlerResult whatever the si_code.
func plan(selector *byte) {
	p := sp.Plan{Flags: sp.FlagSetResult | sp.FlagAnyCode, Result: handlerResult}
	if selector != nil {
		p.SelectorAddr = uint64(uintptr(unsafe.Pointer(selector)))
	}
	sp.SetPlan(p)
}

func runSeccompTrap(nr uint64, args []uint64) ([]sp.Op, string, error) {
	plan(nil)
	// The filter sees the number the kernel reports (s390x: 16 bits).
	if err := sp.InstallSeccompFilter([]sp.SeccompRule{{Nr: uint32(sp.SiSyscall(nr)), Ret: unix.SECCOMP_RET_TRAP}}); err != nil {
		return nil, "", fmt.Errorf("installing the seccomp filter: %w", err)
	}
	ops := []sp.Op{sp.Syscall(nr, args...), sp.Syscall(unix.SYS_GETPID)}
	return ops, "", sp.RunMasked(ops, 0)
}

func runUserDispatch(nr uint64, args []uint64) ([]sp.Op, string, error) {
	selector := new(byte)
	plan(selector)
	// The restorer is in the region that dispatch always allows, so that
	// the handler's return is never dispatched; the handler switches the
	// selector to ALLOW at its entry.
	if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_ON,
		sp.RestorerPC, 16, uintptr(unsafe.Pointer(selector)), 0); e != 0 {
		if e == unix.EINVAL && runtime.GOARCH == "arm64" {
			return nil, "arm64 has no Syscall User Dispatch in Linux 6.12 (prctl: EINVAL)", nil
		}
		return nil, "", fmt.Errorf("prctl(PR_SET_SYSCALL_USER_DISPATCH, ON): %s", sp.ErrnoName(e))
	}
	ops := []sp.Op{sp.Store8(selector, 1), sp.Syscall(nr, args...), sp.Syscall(unix.SYS_GETPID)}
	err := sp.RunMasked(ops, 0)
	*selector = 0
	if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_OFF, 0, 0, 0, 0); e != 0 && err == nil {
		err = fmt.Errorf("prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF): %s", sp.ErrnoName(e))
	}
	runtime.KeepAlive(selector)
	return ops[1:], "", err
}

func runSelfPtrace(nr uint64, args []uint64) ([]sp.Op, string, error) {
	if err := sp.Probe(); err != nil {
		return nil, err.Error(), nil
	}
	plan(nil)
	ops := []sp.Op{sp.On(), sp.Syscall(nr, args...), sp.Syscall(unix.SYS_GETPID), sp.Off()}
	err := sp.RunMasked(ops, 0)
	if err == nil && ops[0].Ret != 0 {
		err = fmt.Errorf("PTRACE_SELF_ON returned %#x", ops[0].Ret)
	}
	return ops[1:3], "", err
}
