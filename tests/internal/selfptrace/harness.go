package selfptrace

import (
	"runtime"
	"testing"
)

// Session is one test's use of the SIGSYS handler on one locked OS thread.
type Session struct {
	tb      testing.TB
	restore func() error
	// Unblocked lists the signals left unblocked while Run executes; every
	// other signal but SIGSYS is blocked so that no Go signal handler (which
	// could make a system call) runs on the armed thread.
	Unblocked uint64
}

// Require fails the test, never skips it, when the kernel lacks
// PTRACE_SELF_ON: "PTRACE_SELF_ON not supported by this kernel: ESRCH".
func Require(tb testing.TB) {
	tb.Helper()
	if err := Probe(); err != nil {
		tb.Fatal(err.Error())
	}
}

// Begin locks the calling goroutine to its thread, checks that the kernel
// supports self-ptrace (failing the test otherwise), installs the SIGSYS
// handler with an empty plan and clears the records. Cleanup restores the
// previous SIGSYS action and unlocks the thread.
func Begin(tb testing.TB) *Session {
	tb.Helper()
	runtime.LockOSThread()
	s := &Session{tb: tb}
	tb.Cleanup(func() {
		if s.restore != nil {
			if err := s.restore(); err != nil {
				tb.Errorf("restoring the SIGSYS action: %v", err)
			}
		}
		Reset()
		runtime.UnlockOSThread()
	})
	Require(tb)
	Reset()
	restore, err := InstallHandler()
	if err != nil {
		tb.Fatalf("installing the SIGSYS handler: %v", err)
	}
	s.restore = restore
	return s
}

// Plan sets the handler's plan.
func (s *Session) Plan(p Plan) { SetPlan(p) }

// Run runs ops back to back in assembly, followed by a PTRACE_SELF_OFF so
// that the thread never stays armed, with all signals but SIGSYS (and
// s.Unblocked) blocked. It returns the ops with their results and fails the
// test if the final PTRACE_SELF_OFF does not return 0.
func (s *Session) Run(ops ...Op) []Op {
	s.tb.Helper()
	all := append(append([]Op(nil), ops...), Off())
	old, err := Sigprocmask(SigSetmask, ^uint64(0)&^SigBit(SIGSYS)&^s.Unblocked)
	if err != nil {
		s.tb.Fatalf("blocking signals: %v", err)
	}
	RunRaw(all)
	if _, err := Sigprocmask(SigSetmask, old); err != nil {
		s.tb.Fatalf("restoring the signal mask: %v", err)
	}
	if last := all[len(all)-1]; last.Ret != 0 {
		s.tb.Errorf("final PTRACE_SELF_OFF returned %#x (%s), want 0", last.Ret, ErrnoName(last.Errno()))
	}
	return all[:len(ops)]
}

// Records returns the records so far.
func (s *Session) Records() []Record { return Records() }

// RunMasked runs ops back to back with every signal but SIGSYS and
// unblocked blocked, then restores the mask: for threads that are not a
// Session's (a seccomp filter's thread, a thread of its own).
func RunMasked(ops []Op, unblocked uint64) error {
	old, err := Sigprocmask(SigSetmask, ^uint64(0)&^SigBit(SIGSYS)&^unblocked)
	if err != nil {
		return err
	}
	RunRaw(ops)
	_, err = Sigprocmask(SigSetmask, old)
	return err
}
