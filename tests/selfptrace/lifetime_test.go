package selfptrace_test

import (
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// TestForcedDelivery arms a child process whose SIGSYS is blocked, ignored
// or at its default action: the armed call must kill it by SIGSYS. The
// handled case is the control. Contract: intercepted call 4 "SIGSYS is
// forced on the thread (like seccomp: if SIGSYS is blocked, ignored or has
// no handler, the process dies by SIGSYS; nothing is silently skipped)".
func TestForcedDelivery(t *testing.T) {
	sp.Require(t)
	for _, c := range []string{"blocked", "ignored", "default"} {
		t.Run(c, func(t *testing.T) {
			out, ws := runHelperProcess(t, "forced-"+c)
			if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
				t.Errorf("armed call with SIGSYS %s: child %s, want killed by SIGSYS; output:\n%s", c, guest.DescribeStatus(ws), out)
			}
		})
	}
	t.Run("handled", func(t *testing.T) {
		out, ws := runHelperProcess(t, "forced-handled")
		if !ws.Exited() || ws.ExitStatus() != 0 {
			t.Errorf("armed call with a SIGSYS handler: child %s, want exit 0; output:\n%s", guest.DescribeStatus(ws), out)
		}
	})
}

// TestArmedProcessCreation checks that fork and vfork (where the arch has
// them), clone (fork-like, vfork-like and thread), clone3, execve and
// execveat made armed are intercepted like any call and create nothing
// (in a child process, see helperArmedCreation). Contract: "Every system
// call is intercepted except ..." and intercepted call 1; "execve starts
// disarmed (an armed thread cannot reach execve without being intercepted
// ...)".
func TestArmedProcessCreation(t *testing.T) {
	sp.Require(t)
	out, ws := runHelperProcess(t, "armed-creation")
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("helper %s; output:\n%s", guest.DescribeStatus(ws), out)
	}
	names := []string{"clone", "clone vfork", "clone3", "execve", "execveat", "clone thread"}
	for _, c := range legacyCreation {
		names = append(names, c.name)
	}
	for _, name := range names {
		if !strings.Contains(out, "ok "+name+"\n") {
			t.Errorf("armed %s: not reported intercepted and harmless", name)
		}
	}
	t.Logf("helper output:\n%s", out)
}

// TestChildrenStartDisarmed creates a process or thread from the SIGSYS
// handler right after an interception (the closest a task can get to an
// armed fork: an armed thread's fork is itself intercepted). The child's
// first call must run normally. Contract: "fork, vfork and clone (threads
// too) start disarmed".
func TestChildrenStartDisarmed(t *testing.T) {
	for _, c := range []struct {
		name string
		kind uint64
	}{{"fork", sp.ProbeFork}, {"vfork", sp.ProbeVfork}, {"clone thread", sp.ProbeClone}} {
		t.Run(c.name, func(t *testing.T) {
			s := sp.Begin(t)
			s.Plan(sp.Plan{Probe: c.kind, ChildMagic: 0xc41d})
			ops := s.Run(sp.On(), sp.Syscall(unix.SYS_GETPID, 0xc0de))
			wantOn(t, ops[0])
			recs := sp.Records()
			if len(recs) == 0 {
				t.Fatalf("getpid not intercepted")
			}
			r := recs[0]
			checkIntercept(t, &r, unix.SYS_GETPID, []uint64{0xc0de})
			id := int(int64(r.ProbeRet))
			if r.Flags&sp.RecProbed == 0 || id <= 0 {
				t.Fatalf("%s from the handler failed: %#x (%s)", c.name, r.ProbeRet, sp.ErrnoName(unix.Errno(-int64(r.ProbeRet))))
			}
			wantRet(t, "intercepted getpid", ops[1], r.ProbeRet)
			var verdict int
			if c.kind == sp.ProbeClone {
				verdict = int(sp.ProbeFlagValue())
				deadline := time.Now().Add(10 * time.Second)
				for sp.CloneTidWord() != 0 && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				if sp.CloneTidWord() != 0 {
					t.Errorf("the clone child thread %d did not exit", id)
				}
			} else {
				var ws unix.WaitStatus
				if _, err := unix.Wait4(id, &ws, unix.WALL, nil); err != nil {
					t.Fatalf("wait4(%d): %v", id, err)
				}
				if !ws.Exited() {
					t.Fatalf("%s child %s", c.name, guest.DescribeStatus(syscall.WaitStatus(ws)))
				}
				verdict = ws.ExitStatus()
			}
			switch verdict {
			case sp.ProbeNotIntercepted:
			case sp.ProbeIntercepted:
				t.Errorf("the %s child's first system call was intercepted: it started armed", c.name)
			default:
				t.Errorf("%s child verdict %d, want %d (not intercepted)", c.name, verdict, sp.ProbeNotIntercepted)
			}
			// The child's call must not have been counted (a vfork or
			// clone child shares the counter).
			if n := sp.Count(); n != 1 {
				t.Errorf("%d interceptions, want 1: %v", n, sp.Records())
			}
			runtime.KeepAlive(s)
		})
	}
}

// TestExecStartsDisarmed has the SIGSYS handler execve a new program right
// after an interception, in a child process (helperExecProbe); the new
// program must start disarmed (helperCheckDisarmed). Contract: "execve
// starts disarmed".
func TestExecStartsDisarmed(t *testing.T) {
	sp.Require(t)
	out, ws := runHelperProcess(t, "exec-probe")
	if ws.Signaled() && ws.Signal() == syscall.SIGSYS {
		t.Fatalf("the program started by execve was killed by SIGSYS: it started armed; output:\n%s", out)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 || !strings.Contains(out, "check-disarmed: ok") {
		t.Fatalf("exec probe %s, want exit 0 with check-disarmed: ok; output:\n%s", guest.DescribeStatus(ws), out)
	}
}
