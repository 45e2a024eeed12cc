package vm

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func readGolden(t testing.TB, name string) []Line {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []Line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, Line{Text: sc.Text()})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestClassifyGolden(t *testing.T) {
	const realMarker = "VMTEST INIT STARTED"
	const ktapMarker = "KTAP version 1"
	exited := Exit{Started: true, Code: 0}
	tests := []struct {
		file    string
		marker  string
		exit    Exit
		want    Outcome
		kind    CrashKind
		title   string // substring of Title
		excerpt string // substring of one excerpt line
	}{
		{file: "x86_64-poweroff.log", marker: realMarker, exit: Exit{Started: true, Shutdown: "guest-shutdown"},
			want: OutcomePass, excerpt: "reboot: Power down"},
		{file: "x86_64-init-exit.log", marker: realMarker, exit: Exit{Started: true, Shutdown: "guest-reset"},
			want: OutcomePanic, kind: CrashPanic, title: "Attempted to kill init!", excerpt: "VMTEST init exiting"},
		{file: "x86_64-sysrq.log", marker: realMarker, exit: exited,
			want: OutcomePanic, kind: CrashPanic, title: "sysrq triggered crash", excerpt: "sysrq_handle_crash"},
		{file: "x86_64-no-rootfs.log", marker: realMarker, exit: exited,
			want: OutcomeBootFail, kind: CrashBootFailure, title: "VFS: Unable to mount root fs", excerpt: "No filesystem could mount root"},
		{file: "x86_64-oops.log", marker: ktapMarker, exit: exited,
			want: OutcomePanic, kind: CrashBUG, title: "BUG: kernel NULL pointer dereference", excerpt: "syscall_trace_enter+0x4b/0x1c0"},
		{file: "x86_64-gpf.log", marker: ktapMarker, exit: exited,
			want: OutcomePanic, kind: CrashGPF, title: "general protection fault", excerpt: "ptrace_self_disarm"},
		{file: "x86_64-warning.log", marker: ktapMarker, exit: Exit{Started: true, Shutdown: "guest-shutdown"},
			want: OutcomeFail, kind: CrashWarning, title: "WARNING: CPU: 0 PID: 57 at kernel/entry/common.c:61", excerpt: "cut here"},
		{file: "x86_64-hang.log", marker: ktapMarker, exit: Exit{Started: true, Signal: syscall.SIGTERM, Stop: StopNoOutput, Limit: 50 * time.Second},
			want: OutcomeTimeout, excerpt: "waiting for SIGSYS"},
		{file: "x86_64-hang.log", marker: ktapMarker, exit: Exit{Started: true, Stop: StopRunTimeout, Limit: time.Minute},
			want: OutcomeTimeout, excerpt: "ok 3 self_on_rejects_pid"},
		{file: "x86_64-boot-hang.log", marker: ktapMarker, exit: Exit{Started: true, Stop: StopBootTimeout, Limit: time.Minute},
			want: OutcomeBootFail, excerpt: "ledtrig-cpu"},
		{file: "x86_64-boot-hang.log", marker: ktapMarker, exit: Exit{Started: true, Stop: StopNoOutput, Limit: time.Minute},
			want: OutcomeBootFail, excerpt: "ledtrig-cpu"},
		{file: "s390x-poweroff.log", marker: realMarker, exit: Exit{Started: true, Shutdown: "guest-shutdown"},
			want: OutcomePass, excerpt: "VMTEST DONE"},
		{file: "s390x-init-exit.log", marker: realMarker, exit: exited,
			want: OutcomePanic, kind: CrashPanic, title: "Attempted to kill init!", excerpt: "VMTEST init exiting"},
		{file: "s390x-sysrq.log", marker: realMarker, exit: exited,
			want: OutcomePanic, kind: CrashPanic, title: "sysrq triggered crash", excerpt: "sysrq: Trigger a crash"},
		{file: "s390x-no-init.log", marker: realMarker, exit: exited,
			want: OutcomeBootFail, kind: CrashBootFailure, title: "No working init found", excerpt: "Run /bin/sh as init process"},
		{file: "s390x-oops.log", marker: ktapMarker, exit: exited,
			want: OutcomePanic, kind: CrashFault, title: "Unable to handle kernel pointer dereference", excerpt: "Krnl PSW : 0704c00180000000"},
		{file: "s390x-stack-overflow.log", marker: ktapMarker, exit: exited,
			want: OutcomePanic, kind: CrashStackOverflow, title: "Kernel stack overflow.", excerpt: "Corrupt kernel stack"},
		// A crash wins over what happened to QEMU afterwards.
		{file: "x86_64-sysrq.log", marker: realMarker, exit: Exit{Started: true, Signal: syscall.SIGKILL},
			want: OutcomePanic, kind: CrashPanic, title: "sysrq triggered crash"},
		// QEMU killed from outside while the guest ran.
		{file: "x86_64-hang.log", marker: ktapMarker, exit: Exit{Started: true, Code: -1, Signal: syscall.SIGKILL},
			want: OutcomeQEMUError, excerpt: "waiting for SIGSYS"},
		{file: "x86_64-hang.log", marker: ktapMarker, exit: Exit{Started: true, Shutdown: "host-signal"},
			want: OutcomeQEMUError, excerpt: "waiting for SIGSYS"},
		{file: "x86_64-hang.log", marker: ktapMarker, exit: Exit{Started: true, Stop: StopCanceled, Signal: syscall.SIGTERM},
			want: OutcomeCanceled},
		// The guest powered off before its first user-space line.
		{file: "x86_64-boot-hang.log", marker: ktapMarker, exit: exited,
			want: OutcomeBootFail},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s/%s/%s", tc.file, tc.want, strings.ReplaceAll(string(tc.exit.Stop), " ", "_"))
		t.Run(name, func(t *testing.T) {
			lines := readGolden(t, tc.file)
			v := Classify(DetectConfig{BootMarker: tc.marker}, lines, tc.exit)
			if v.Outcome != tc.want {
				t.Fatalf("outcome = %s (%s), want %s", v.Outcome, v.Reason, tc.want)
			}
			if v.Kind != tc.kind {
				t.Errorf("kind = %q, want %q", v.Kind, tc.kind)
			}
			if !strings.Contains(v.Title, tc.title) {
				t.Errorf("title = %q, want it to contain %q", v.Title, tc.title)
			}
			if tc.excerpt != "" && !slices.ContainsFunc(v.Excerpt, func(l string) bool { return strings.Contains(l, tc.excerpt) }) {
				t.Errorf("excerpt lacks %q:\n%s", tc.excerpt, strings.Join(v.Excerpt, "\n"))
			}
			if v.Reason == "" {
				t.Error("empty reason")
			}
			if len(v.Excerpt) > 10+1+50+30 {
				t.Errorf("excerpt has %d lines; want it bounded", len(v.Excerpt))
			}
		})
	}
}

func TestClassifyQEMUErrors(t *testing.T) {
	stderr := []Line{{Text: "qemu-system-x86_64: -kernel /nope: could not open kernel file", Stream: StreamQEMU}}
	v := Classify(DetectConfig{BootMarker: "x"}, stderr, Exit{Started: true, Code: 1})
	if v.Outcome != OutcomeQEMUError || !strings.Contains(v.Reason, "status 1: qemu-system-x86_64: -kernel /nope") {
		t.Errorf("exit 1: got %s %q", v.Outcome, v.Reason)
	}
	if !slices.Contains(v.Excerpt, stderr[0].Text) {
		t.Errorf("excerpt %q lacks the QEMU message", v.Excerpt)
	}

	v = Classify(DetectConfig{}, nil, Exit{StartErr: errors.New(`exec: "qemu-system-foo": executable file not found in $PATH`)})
	if v.Outcome != OutcomeQEMUError || !strings.Contains(v.Reason, "did not start") {
		t.Errorf("not started: got %s %q", v.Outcome, v.Reason)
	}

	// QEMU lines never count as kernel reports.
	v = Classify(DetectConfig{}, []Line{{Text: "Kernel panic - not syncing: fake", Stream: StreamQEMU}}, Exit{Started: true})
	if v.Outcome != OutcomePass {
		t.Errorf("kernel words on stderr: got %s %q", v.Outcome, v.Reason)
	}
}

func TestClassifyEdgeCases(t *testing.T) {
	lines := func(s ...string) []Line {
		var out []Line
		for _, l := range s {
			out = append(out, Line{Text: l})
		}
		return out
	}
	tests := []struct {
		name  string
		lines []Line
		exit  Exit
		want  Outcome
		kind  CrashKind
	}{
		{"no marker configured counts as booted", lines("hello"), Exit{Started: true}, OutcomePass, ""},
		{"panic after unterminated user output", lines("KTAP version 1", "ok 1 x", "# running[   1.2] Kernel panic - not syncing: boom"), Exit{Started: true}, OutcomePanic, CrashPanic},
		{"user space saying Oops is not a report", lines("KTAP version 1", "# Oops: that test printed this", "ok 1 x"), Exit{Started: true}, OutcomePass, ""},
		{"user-space gpf is not a kernel report", lines("KTAP version 1", "[    3.1] traps: init[1] general protection fault ip:401000 sp:c000 error:0 in init[400000+1000]"), Exit{Started: true}, OutcomePass, ""},
		{"kernel BUG at", lines("KTAP version 1", "[    2.0] kernel BUG at mm/slub.c:123!"), Exit{Started: true}, OutcomePanic, CrashBUG},
		{"soft lockup is a stall", lines("KTAP version 1", "[   30.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [selftest:57]"), Exit{Started: true}, OutcomeFail, CrashStall},
		{"rcu stall", lines("KTAP version 1", "[   30.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"), Exit{Started: true}, OutcomeFail, CrashStall},
		{"warning then panic: panic decides", lines("KTAP version 1", "[ 1.0] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2", "[ 1.1] Kernel panic - not syncing: x"), Exit{Started: true}, OutcomePanic, CrashPanic},
		{"caller id prefix", lines("KTAP version 1", "[    1.000000][    T1] Oops: 0000 [#1] SMP"), Exit{Started: true}, OutcomePanic, CrashOops},
		{"guest panic from QMP only", lines("KTAP version 1"), Exit{Started: true, GuestPanicked: true}, OutcomePanic, ""},
		{"monitor quit", lines("KTAP version 1"), Exit{Started: true, Shutdown: "host-qmp-quit"}, OutcomeCanceled, ""},
		{"stopped after crash", lines("KTAP version 1", "Kernel panic - not syncing: x"), Exit{Started: true, Stop: StopAfterCrash, Signal: syscall.SIGTERM}, OutcomePanic, CrashPanic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marker := "KTAP version 1"
			if tc.name == "no marker configured counts as booted" {
				marker = ""
			}
			v := Classify(DetectConfig{BootMarker: marker}, tc.lines, tc.exit)
			if v.Outcome != tc.want || v.Kind != tc.kind {
				t.Errorf("got %s/%q (%s), want %s/%q", v.Outcome, v.Kind, v.Reason, tc.want, tc.kind)
			}
		})
	}
}

// TestCrashPatternsReachable checks that the first-byte fast path in
// matchCrash lets every pattern through, with and without a timestamp.
func TestCrashPatternsReachable(t *testing.T) {
	for _, p := range crashPatterns {
		for _, line := range []string{p.prefix + " x", "[   12.345678] " + p.prefix + " x"} {
			kind, title := matchCrash(line)
			want := p.kind
			if p.refine != nil {
				want = p.refine(p.prefix + " x")
			}
			if kind != want || title != p.prefix+" x" {
				t.Errorf("matchCrash(%q) = %q, %q; want %q", line, kind, title, want)
			}
		}
	}
}

func TestDetectorWindowIsBounded(t *testing.T) {
	d := NewDetector(DetectConfig{BootMarker: "KTAP version 1", Before: 5, After: 7, Tail: 9})
	d.Feed(Line{Text: "KTAP version 1"})
	for i := range 100000 {
		d.Feed(Line{Text: fmt.Sprintf("[ %d.0] noise %d", i, i)})
	}
	d.Feed(Line{Text: "[ 9.0] BUG: unable to handle page fault for address: ffff"})
	for i := range 100000 {
		d.Feed(Line{Text: fmt.Sprintf("after %d", i)})
	}
	v := d.Verdict(Exit{Started: true})
	if v.Outcome != OutcomePanic {
		t.Fatalf("outcome %s", v.Outcome)
	}
	if len(v.Excerpt) != 5+1+7 {
		t.Fatalf("excerpt has %d lines, want 13: %q", len(v.Excerpt), v.Excerpt)
	}
	if v.Excerpt[0] != "[ 99995.0] noise 99995" || v.Excerpt[5] != "[ 9.0] BUG: unable to handle page fault for address: ffff" || v.Excerpt[12] != "after 6" {
		t.Errorf("excerpt = %q", v.Excerpt)
	}
	if got := d.tail.Cap(); got != 9 {
		t.Errorf("ring holds %d lines, want 9", got)
	}
	v = d.Verdict(Exit{Started: true, Stop: StopRunTimeout})
	if v.Outcome != OutcomePanic {
		t.Errorf("timeout after crash: %s", v.Outcome)
	}
}

func TestStripPrintkPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"[    1.234567] Oops: x":          "Oops: x",
		"[    1.234567][    T1] Oops: x":  "Oops: x",
		"[    1.234567] [    C0] Oops: x": "Oops: x",
		"Oops: x":                         "Oops: x",
		"[mem 0x0-0x9] usable":            "[mem 0x0-0x9] usable",
		"[":                               "[",
		"[]":                              "[]",
	} {
		if got := stripPrintkPrefix(in); got != want {
			t.Errorf("stripPrintkPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWorse(t *testing.T) {
	if got := Worse(OutcomePass, OutcomeFail); got != OutcomeFail {
		t.Errorf("Worse(pass, fail) = %s", got)
	}
	if got := Worse(OutcomePanic, OutcomeFail); got != OutcomePanic {
		t.Errorf("Worse(panic, fail) = %s", got)
	}
	if !OutcomeFail.Completed() || OutcomeTimeout.Completed() {
		t.Error("Completed")
	}
}

// BenchmarkDetector scans a large console log: the real x86_64 boot
// repeated to about 8 MB, with a panic at the end.
func BenchmarkDetector(b *testing.B) {
	boot := readGolden(b, "x86_64-poweroff.log")
	var lines []Line
	size := 0
	for size < 8<<20 {
		for _, l := range boot {
			lines = append(lines, l)
			size += len(l.Text) + 1
		}
	}
	lines = append(lines, Line{Text: "[ 9.9] Kernel panic - not syncing: end"})
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		v := Classify(DetectConfig{BootMarker: "VMTEST INIT STARTED"}, lines, Exit{Started: true})
		if v.Outcome != OutcomePanic {
			b.Fatalf("outcome %s", v.Outcome)
		}
	}
}
