package selfptrace_test

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// onFilteredThread installs a seccomp filter on a new thread (the filter
// stays with the thread, which ends with the goroutine) and runs f there; f
// reports problems through the returned strings.
func onFilteredThread(t *testing.T, rules []sp.SeccompRule, f func() []string) {
	t.Helper()
	var problems []string
	onNewThread(func() {
		if err := sp.InstallSeccompFilter(rules); err != nil {
			problems = []string{fmt.Sprintf("installing the seccomp filter: %v", err)}
			return
		}
		problems = f()
	})
	for _, p := range problems {
		t.Error(p)
	}
}

func checkf(problems *[]string, ok bool, format string, args ...any) {
	if !ok {
		*problems = append(*problems, fmt.Sprintf(format, args...))
	}
}

// TestSeccompErrno: with a filter that makes getpid fail with errno 99, an
// armed getpid is still intercepted (self-ptrace comes before seccomp), and
// the handler's real getpid gets the filter's errno. Contract: "Interception
// happens ... before ... seccomp"; "Every call that the handler then really
// performs passes through all of them as usual, so the feature cannot bypass
// seccomp".
func TestSeccompErrno(t *testing.T) {
	sp.Begin(t)
	sp.SetPlan(sp.Plan{Flags: sp.FlagPerform})
	minus99 := neg(99)
	onFilteredThread(t, []sp.SeccompRule{{Nr: unix.SYS_GETPID, Ret: unix.SECCOMP_RET_ERRNO | 99}}, func() (p []string) {
		plain := []sp.Op{sp.Syscall(unix.SYS_GETPID)}
		armed := []sp.Op{sp.On(), sp.Syscall(unix.SYS_GETPID, 0x5ec), sp.Off()}
		if err := runMasked(plain, 0); err != nil {
			return []string{err.Error()}
		}
		checkf(&p, plain[0].Ret == minus99, "filter not effective: getpid returned %#x, want -99", plain[0].Ret)
		if err := runMasked(armed, 0); err != nil {
			return append(p, err.Error())
		}
		checkf(&p, armed[0].Ret == 0, "PTRACE_SELF_ON returned %#x", armed[0].Ret)
		recs := sp.Records()
		checkf(&p, len(recs) == 1, "%d interceptions, want 1: %v", len(recs), recs)
		if len(recs) == 1 {
			r := &recs[0]
			checkf(&p, r.Code() == sp.SysSelfPtrace && r.Syscall() == unix.SYS_GETPID && r.Args[0] == 0x5ec,
				"wrong interception: %v", r.String())
			checkf(&p, r.Flags&sp.RecPerformed != 0 && r.Result == minus99,
				"the handler's real getpid returned %#x, want -99 from the filter", r.Result)
		}
		checkf(&p, armed[1].Ret == minus99, "caller got %#x, want -99", armed[1].Ret)
		return p
	})
}

// TestSeccompTrap: with a filter that traps getppid (SECCOMP_RET_TRAP), an
// armed getppid is intercepted by self-ptrace only (no seccomp evaluation
// of the intercepted call), and the handler's real getppid is then trapped
// by seccomp (SIGSYS with si_code SYS_SECCOMP from inside the handler).
// Contract: "An intercepted call was never executed: it produces no ...
// seccomp evaluation" and "cannot bypass seccomp".
func TestSeccompTrap(t *testing.T) {
	sp.Begin(t)
	sp.SetPlan(sp.Plan{Flags: sp.FlagPerform})
	onFilteredThread(t, []sp.SeccompRule{{Nr: unix.SYS_GETPPID, Ret: unix.SECCOMP_RET_TRAP}}, func() (p []string) {
		ops := []sp.Op{sp.On(), sp.Syscall(unix.SYS_GETPPID, 0x5ec2), sp.Off()}
		if err := runMasked(ops, 0); err != nil {
			return []string{err.Error()}
		}
		checkf(&p, ops[0].Ret == 0, "PTRACE_SELF_ON returned %#x", ops[0].Ret)
		recs := sp.Records()
		if len(recs) != 2 {
			return append(p, fmt.Sprintf("%d SIGSYS, want 2 (self-ptrace, then seccomp for the handler's call): %v", len(recs), recs))
		}
		r0, r1 := &recs[0], &recs[1]
		checkf(&p, r0.Code() == sp.SysSelfPtrace && r0.Syscall() == unix.SYS_GETPPID && r0.Args[0] == 0x5ec2 &&
			r0.CallAddr() == uint64(sp.SysSitePC)+sp.SyscallInsnLen,
			"first SIGSYS is not self-ptrace's for the caller's getppid: %v", r0.String())
		checkf(&p, r1.Code() == sp.SysSeccomp && r1.Syscall() == unix.SYS_GETPPID &&
			r1.CallAddr() == uint64(sp.PerformSitePC)+sp.SyscallInsnLen,
			"second SIGSYS is not seccomp's for the handler's getppid (performed at %#x): %v", sp.PerformSitePC, r1.String())
		checkf(&p, ops[1].Ret == r0.Result && r0.Result == r1.Result,
			"caller got %#x, handler stored %#x, seccomp's trap left %#x", ops[1].Ret, r0.Result, r1.Result)
		return p
	})
}

// TestSeccompDeniesPtrace: with a filter that denies ptrace, PTRACE_SELF_ON
// and PTRACE_SELF_OFF fail with the filter's errno and nothing is armed.
// Contract: "Both are ordinary system calls: a seccomp filter that denies
// ptrace denies them too".
func TestSeccompDeniesPtrace(t *testing.T) {
	sp.Begin(t)
	minus77 := neg(77)
	onFilteredThread(t, []sp.SeccompRule{{Nr: unix.SYS_PTRACE, Ret: unix.SECCOMP_RET_ERRNO | 77}}, func() (p []string) {
		ops := []sp.Op{sp.On(), sp.Syscall(unix.SYS_GETPID, 0xde71), sp.Off()}
		if err := runMasked(ops, 0); err != nil {
			return []string{err.Error()}
		}
		checkf(&p, ops[0].Ret == minus77, "PTRACE_SELF_ON returned %#x, want -77 from the filter", ops[0].Ret)
		checkf(&p, ops[1].Ret == uint64(os.Getpid()), "getpid returned %#x, want the pid (not armed)", ops[1].Ret)
		checkf(&p, ops[2].Ret == minus77, "PTRACE_SELF_OFF returned %#x, want -77 from the filter", ops[2].Ret)
		checkf(&p, sp.Count() == 0, "%d interceptions, want 0", sp.Count())
		return p
	})
}
