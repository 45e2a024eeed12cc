package selfptrace_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/tests/internal/audit"
	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// Magic first arguments of the visibility target's getppid calls.
const (
	visMagicX = 0x7ace0011 // the armed, intercepted call
	visMagicY = 0x7ace0012 // the same call as the handler performs it
	visMagicZ = 0x7ace0013 // a plain call after it: the end marker
)

// helperVisibilityTarget arms itself and makes getppid(X): intercepted, the
// handler performs it as getppid(Y). Then getppid(Z) runs disarmed. It
// prints "pid=P tid=T" and checks its results. getppid is a call the Go
// runtime never makes, so the audit rule and the trace filter see only
// these.
func helperVisibilityTarget() int {
	runtime.LockOSThread()
	if code := helperInstall(); code != 0 {
		return code
	}
	sp.Reset()
	sp.SetPlan(sp.Plan{Flags: sp.FlagPerform, RewriteMask: 1, RewriteVal: [6]uint64{visMagicY}})
	fmt.Printf("pid=%d tid=%d\n", unix.Getpid(), unix.Gettid())
	ops := []sp.Op{
		sp.On(),
		sp.Syscall(unix.SYS_GETPPID, visMagicX, 0x5e1f),
		sp.Syscall(unix.SYS_GETPPID, visMagicZ),
		sp.Off(),
	}
	if err := runMasked(ops, 0); err != nil {
		fmt.Println(err)
		return 3
	}
	// No further getppid: the plain getppid(Z) tells the parent's pid.
	ppid := ops[2].Ret
	recs := sp.Records()
	switch {
	case ops[0].Ret != 0:
		fmt.Printf("visibility: FAIL: PTRACE_SELF_ON returned %#x\n", ops[0].Ret)
	case len(recs) != 1 || recs[0].Flags&sp.RecPerformed == 0:
		fmt.Printf("visibility: FAIL: %d interceptions, want 1 performed\n", len(recs))
	case int64(ppid) <= 0 || ops[1].Ret != ppid:
		fmt.Printf("visibility: FAIL: getppid returned %#x and %#x, want %#x\n", ops[1].Ret, ops[2].Ret, ppid)
	default:
		fmt.Println("visibility: ok")
		return 0
	}
	return 1
}

// runVisibilityTarget runs the helper and returns its pid and the tid of
// the thread that made the calls.
func runVisibilityTarget(t *testing.T) (pid, tid int) {
	t.Helper()
	out, ws := runHelperProcess(t, "visibility-target")
	if !ws.Exited() || ws.ExitStatus() != 0 || !strings.Contains(out, "visibility: ok") {
		t.Fatalf("visibility target %s; output:\n%s", guest.DescribeStatus(ws), out)
	}
	if _, err := fmt.Sscanf(out, "pid=%d tid=%d", &pid, &tid); err != nil {
		t.Fatalf("visibility target did not name itself: %v; output:\n%s", err, out)
	}
	return pid, tid
}

// TestAuditIntercepted takes the audit netlink socket as the audit daemon
// would, adds an exit rule for getppid and runs the visibility target: the
// intercepted getppid(X) must leave no SYSCALL record, the getppid(Y) the
// handler performs exactly one, with its rewritten argument, and so must
// the plain getppid(Z). Contract: "An intercepted call was never executed:
// it produces ... no audit record ... Every call that the handler then
// really performs passes through all of them as usual".
func TestAuditIntercepted(t *testing.T) {
	sp.Require(t)
	a, err := audit.Open()
	if err != nil {
		t.Fatalf("taking the audit socket: %v", err)
	}
	defer func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := a.AddSyscallRule(unix.SYS_GETPPID, uint32(sp.AuditArch), ""); err != nil {
		t.Fatal(err)
	}
	pid, _ := runVisibilityTarget(t)
	recs, err := a.SyscallRecords(audit.FieldIs("pid", uint64(pid)), audit.FieldIs("a0", visMagicZ), 60*time.Second)
	if err != nil {
		t.Fatalf("reading audit records: %v (records of pid %d so far: %q)", err, pid, recs)
	}
	counts := map[uint64]int{}
	for _, r := range recs {
		a0, err := audit.Field(r, "a0")
		if err != nil {
			t.Fatalf("audit record without a0: %q", r)
		}
		counts[a0]++
		if sc, _ := audit.Field(r, "syscall"); sc != unix.SYS_GETPPID {
			t.Errorf("record of syscall %d, want getppid (%d): %q", sc, unix.SYS_GETPPID, r)
		}
	}
	if counts[visMagicX] != 0 {
		t.Errorf("the intercepted getppid(%#x) produced %d audit SYSCALL records, want none", visMagicX, counts[visMagicX])
	}
	if counts[visMagicY] != 1 {
		t.Errorf("the getppid the handler performed, a0=%#x, produced %d audit SYSCALL records, want 1", visMagicY, counts[visMagicY])
	}
	if counts[visMagicZ] != 1 {
		t.Errorf("the plain getppid(%#x) produced %d audit SYSCALL records, want 1", visMagicZ, counts[visMagicZ])
	}
	if len(recs) != 2 {
		t.Errorf("%d getppid records for pid %d, want 2: %q", len(recs), pid, recs)
	}
	if t.Failed() {
		t.Logf("records: %q", recs)
	}
}

// TestTracepointsIntercepted enables the raw_syscalls sys_enter and
// sys_exit events in tracefs, unfiltered, and runs the visibility target.
// On the target's thread every sys_exit event must follow a sys_enter
// event (all but the thread's first event, the return from clone or
// execve): the intercepted getppid(X) must produce neither event, so no
// unpaired exit, and no sys_enter with arg0 X. The getppid(Y) the handler
// performs must produce one sys_enter with its rewritten argument followed
// by its sys_exit, and so must the plain getppid(Z). Pairing is needed
// because the exit event's id is syscall_get_nr() after the rollback: -1
// on x86_64, like the rt_sigreturn exit's, so an id filter cannot tell
// them apart. Contract: "Interception happens ... before ...
// tracepoints"; "Every call that the handler then really performs passes
// through all of them".
func TestTracepointsIntercepted(t *testing.T) {
	sp.Require(t)
	tr, err := openTracefs()
	if err != nil {
		t.Fatalf("tracefs: %v", err)
	}
	enable := func(on bool) error {
		for _, ev := range []string{"sys_enter", "sys_exit"} {
			if err := tr.write("events/raw_syscalls/"+ev+"/filter", "0"); err != nil {
				return err
			}
		}
		v := "0"
		if on {
			v = "1"
		}
		return tr.write("events/raw_syscalls/enable", v)
	}
	// The counter clock orders the events of all CPUs strictly, so a
	// thread that migrates keeps its events in order (the guest's clock
	// can give equal time stamps).
	clocks, err := os.ReadFile(filepath.Join(tr.dir, "trace_clock"))
	if err != nil {
		t.Fatal(err)
	}
	clock := regexp.MustCompile(`\[(\w+)\]`).FindSubmatch(clocks)
	if clock == nil {
		t.Fatalf("no selected clock in trace_clock: %q", clocks)
	}
	if err := tr.write("trace_clock", "counter"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := tr.write("trace_clock", string(clock[1])); err != nil {
			t.Errorf("restoring the trace clock: %v", err)
		}
	}()
	if err := tr.write("trace", ""); err != nil {
		t.Fatal(err)
	}
	if err := enable(true); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := enable(false); err != nil {
			t.Errorf("disabling the events: %v", err)
		}
	}()
	_, tid := runVisibilityTarget(t)
	if err := enable(false); err != nil {
		t.Fatal(err)
	}
	trace, err := os.ReadFile(filepath.Join(tr.dir, "trace"))
	if err != nil {
		t.Fatal(err)
	}
	events, total, err := threadSyscallEvents(string(trace), tid)
	if err != nil {
		t.Fatal(err)
	}
	probs, from := checkSyscallEvents(events)
	for _, p := range probs {
		t.Error(p)
	}
	t.Logf("%d events in the trace, %d of thread %d", total, len(events), tid)
	if t.Failed() {
		from = max(from-8, 0)
		var lines []string
		for _, ev := range events[from:] {
			lines = append(lines, ev.line)
		}
		t.Logf("events of thread %d from #%d of %d:\n%s", tid, from, len(events), strings.Join(lines, "\n"))
	}
}

// syscallEvent is one raw_syscalls event of a thread.
type syscallEvent struct {
	enter bool
	nr    int64
	arg0  uint64 // sys_enter only
	line  string
}

// threadSyscallEvents parses the trace text and returns the events of
// thread tid in order, and the number of events in the trace. It fails if
// the ring buffer lost events.
func threadSyscallEvents(trace string, tid int) ([]syscallEvent, int, error) {
	// "# entries-in-buffer/entries-written: 812/812   #P:1"
	cnt := regexp.MustCompile(`entries-in-buffer/entries-written: (\d+)/(\d+)`).FindStringSubmatch(trace)
	if cnt == nil {
		return nil, 0, fmt.Errorf("no entries-in-buffer/entries-written line in the trace header:\n%.2000s", trace)
	}
	if cnt[1] != cnt[2] {
		return nil, 0, fmt.Errorf("the trace ring buffer overflowed (%s of %s events kept): the pairing cannot be judged", cnt[1], cnt[2])
	}
	// "comm-TID [cpu] flags ts: sys_enter: NR 110 (7ace0012, 0, ...)"
	// "comm-TID [cpu] flags ts: sys_exit: NR -1 = 291"
	re := regexp.MustCompile(`-(\d+)\s+\[\d+\].*\bsys_(enter|exit): NR (-?\d+) (?:\(([0-9a-f]+),|= )`)
	var events []syscallEvent
	for _, l := range strings.Split(trace, "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil || m[1] != strconv.Itoa(tid) {
			continue
		}
		ev := syscallEvent{enter: m[2] == "enter", line: strings.TrimSpace(l)}
		ev.nr, _ = strconv.ParseInt(m[3], 10, 64)
		if ev.enter {
			ev.arg0, _ = strconv.ParseUint(m[4], 16, 64)
		}
		events = append(events, ev)
	}
	total, _ := strconv.Atoi(cnt[1])
	return events, total, nil
}

// checkSyscallEvents checks the visibility target thread's events and
// returns what is wrong, and the index of the first event that is wrong
// or belongs to a getppid call (where a log of them should start). Enter
// and exit events must alternate, but the first event may be an exit (a
// new thread returns from clone) and the last an enter (exit_group).
func checkSyscallEvents(events []syscallEvent) (probs []string, from int) {
	from = len(events)
	enters := map[uint64]int{} // getppid sys_enter events by arg0
	paired := map[uint64]int{} // ... followed by their sys_exit
	for i, ev := range events {
		if !ev.enter {
			if i > 0 && !events[i-1].enter {
				from = min(from, i)
				probs = append(probs, fmt.Sprintf("sys_exit event with no sys_enter before it (the intercepted call's?): %q", ev.line))
			}
			continue
		}
		if i+1 < len(events) && events[i+1].enter {
			from = min(from, i)
			probs = append(probs, fmt.Sprintf("sys_enter event followed by another sys_enter: %q", ev.line))
		}
		if ev.nr != unix.SYS_GETPPID {
			continue
		}
		from = min(from, i)
		enters[ev.arg0]++
		if i+1 < len(events) && !events[i+1].enter {
			paired[ev.arg0]++
		}
	}
	if enters[visMagicX] != 0 {
		probs = append(probs, fmt.Sprintf("the intercepted getppid(%#x) produced %d sys_enter events, want none", visMagicX, enters[visMagicX]))
	}
	for _, w := range []struct {
		what string
		a0   uint64
	}{{"the getppid the handler performed", visMagicY}, {"the plain getppid", visMagicZ}} {
		if enters[w.a0] != 1 || paired[w.a0] != 1 {
			probs = append(probs, fmt.Sprintf("%s, arg0 %#x, produced %d sys_enter events, %d followed by a sys_exit; want 1 and 1", w.what, w.a0, enters[w.a0], paired[w.a0]))
		}
	}
	if len(probs) > 0 && from == len(events) {
		from = 0 // no getppid event at all: show everything
	}
	return probs, from
}

// tracefs is the mounted tracing file system.
type tracefs struct{ dir string }

// openTracefs mounts tracefs on /sys/kernel/tracing unless it is there.
func openTracefs() (*tracefs, error) {
	tr := &tracefs{dir: "/sys/kernel/tracing"}
	if _, err := os.Stat(filepath.Join(tr.dir, "trace")); err == nil {
		return tr, nil
	}
	if err := os.MkdirAll(tr.dir, 0o755); err != nil {
		return nil, fmt.Errorf("mkdir %s: %w", tr.dir, err)
	}
	if err := unix.Mount("tracefs", tr.dir, "tracefs", 0, ""); err != nil {
		return nil, fmt.Errorf("mount tracefs on %s (CONFIG_FTRACE?): %w", tr.dir, err)
	}
	return tr, nil
}

// write writes s to a tracefs file (truncating it, as the shell's > does).
func (tr *tracefs) write(name, s string) error {
	p := filepath.Join(tr.dir, name)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		return fmt.Errorf("writing %q to %s: %w", s, p, err)
	}
	return nil
}
