package userland_test

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
)

// TestStraceFollow runs every case of TestPrograms under `strace -f`: the
// program prints exactly what it printed natively and strace passes its
// exit status through; the trace has the execve of the program and what
// the case must show (a clone with CLONE_THREAD for the threaded programs,
// a clone, fork or vfork for those that fork, the delivery of signals).
func TestStraceFollow(t *testing.T) {
	u := requireUserland(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, trace := c.tracedLikeNative(t, u, "-f")
			wantTrace(t, trace, append([]string{`execve\("` + regexp.QuoteMeta(r.prog) + `", `}, c.trace...)...)
		})
	}
}

// echoPid prints the shell's $$, which busybox ash takes from getpid().
var echoPid = []string{"busybox", "sh", "-c", "echo $$"}

// injectedPid is above PID_MAX_LIMIT (4 Mi): no process can have it.
const injectedPid = "7654321"

// victimCase removes the file victim of its work directory.
func victimCase(status int, stderr string, removed bool) progCase {
	return progCase{
		argv:   []string{"rm", "{w}/victim"},
		status: status,
		stderr: stderr,
		setup:  func(t *testing.T, w guest.Workdir) { writeFile(t, w.At("victim"), []byte("x")) },
		check: func(t *testing.T, w guest.Workdir, stdout string) {
			wantStdout(t, stdout, "")
			_, err := os.Lstat(w.At("victim"))
			if gone := os.IsNotExist(err); gone != removed {
				t.Errorf("victim removed: %v (%v), want %v", gone, err, removed)
			}
		},
	}
}

// TestStraceInject checks `strace -e inject`: a result or an error injected
// into a call changes what the program does exactly as the program's own
// logic says, where the native run shows the real result; the trace marks
// the call INJECTED. (strace tampers with traced calls only: `-e
// trace=none` would disable the injection.)
func TestStraceInject(t *testing.T) {
	u := requireUserland(t)
	injections := []struct {
		name             string
		inject           string // argument of -e inject=
		native, injected progCase
		trace            string // the injected call in the trace
	}{{
		name:   "getpid-retval",
		inject: "getpid:retval=" + injectedPid,
		native: progCase{argv: echoPid, check: func(t *testing.T, w guest.Workdir, stdout string) {
			if pid, err := strconv.Atoi(strings.TrimSpace(stdout)); err != nil || pid <= 0 || stdout == injectedPid+"\n" {
				t.Errorf("echo $$ printed %q, want a real pid", stdout)
			}
		}},
		injected: progCase{argv: echoPid, want: injectedPid + "\n"},
		trace:    `getpid\(\) += ` + injectedPid + ` \(INJECTED\)`,
	}, {
		name:     "unlinkat-eperm",
		inject:   "unlinkat:error=EPERM",
		native:   victimCase(0, "", true),
		injected: victimCase(1, "Operation not permitted", false),
		trace:    `unlinkat\(.*"\{w\}/victim".*= -1 EPERM \(Operation not permitted\) \(INJECTED\)`,
	}}
	for _, in := range injections {
		t.Run(in.name, func(t *testing.T) {
			in.native.run(t, u)
			_, trace := in.injected.traced(t, u, "-e", "inject="+in.inject)
			wantTrace(t, trace, in.trace)
		})
	}
}

// TestStraceSeccompBPF runs cases under `strace --seccomp-bpf -f -e
// trace=openat,execve`: the program prints exactly what it printed natively
// and has the same exit status; the trace holds only openat and execve
// calls (and signal and exit lines), at least one openat; the traced
// program really runs under the seccomp filter (Seccomp: 2).
func TestStraceSeccompBPF(t *testing.T) {
	u := requireUserland(t)
	opts := []string{"--seccomp-bpf", "-f", "-e", "trace=openat,execve"}
	for _, c := range cases {
		if c.name != "find-exec" && c.name != "xz-threads" && c.name != "shell-subshells" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			_, trace := c.tracedLikeNative(t, u, opts...)
			wantOnlyCalls(t, trace, "openat", "execve")
		})
	}
	t.Run("filter-installed", func(t *testing.T) {
		c := progCase{argv: []string{"grep", "^Seccomp:", "/proc/self/status"}, want: "Seccomp:\t2\n"}
		c.traced(t, u, opts...)
	})
}

// tracedLikeNative runs the case natively, then under strace with opts
// (see traced), and fails the test unless the traced program printed the
// same.
func (c progCase) tracedLikeNative(t *testing.T, u userland, opts ...string) (ran, string) {
	t.Helper()
	native := c.run(t, u)
	r, trace := c.traced(t, u, opts...)
	if r.Stdout != native.Stdout {
		t.Errorf("stdout under strace differs from the native run:\n%s\nnative:\n%s", guest.Clip(r.Stdout), guest.Clip(native.Stdout))
	}
	return r, trace
}

// traced runs the case (and its checks) under `strace opts -qq -o FILE`
// and returns the trace, with the case's work directory as {w}. strace
// must not complain.
func (c progCase) traced(t *testing.T, u userland, opts ...string) (ran, string) {
	t.Helper()
	tw := u.workdir(t)
	prefix := append(append([]string{"strace"}, opts...), "-qq", "-o", tw.In+"/trace", "--")
	r := c.run(t, u, prefix...)
	wantNoComplaint(t, r.Stderr)
	return r, readTrace(t, tw.At("trace"), r.w)
}

// wantNoComplaint fails the test if strace wrote a message to stderr.
func wantNoComplaint(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "strace: ") {
			t.Errorf("strace complained: %s", line)
		}
	}
}

// readTrace returns the trace file, with w's path as {w}; it must not be
// empty.
func readTrace(t *testing.T, name string, w guest.Workdir) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("reading the trace: %v", err)
	}
	if len(b) == 0 {
		t.Fatalf("the trace %s is empty", name)
	}
	return w.Collapse(string(b))
}

// wantTrace fails the test unless the trace matches every pattern.
func wantTrace(t *testing.T, trace string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(trace) {
			t.Errorf("no match for %q in the trace:\n%s", p, guest.Clip(trace))
		}
	}
}

var (
	// tracePid is the pid prefix of the lines of `strace -f -o FILE`.
	tracePid = regexp.MustCompile(`^[0-9]+ +`)
	// traceCall is a call, the rest of an interrupted one, or a signal or
	// exit line.
	traceCall = regexp.MustCompile(`^(?:([a-z0-9_]+)\(|<\.\.\. ([a-z0-9_]+) resumed>|(---|\+\+\+) )`)
)

// wantOnlyCalls fails the test unless every line of the trace is one of
// calls (or a signal or exit line) and the first of calls appears.
func wantOnlyCalls(t *testing.T, trace string, calls ...string) {
	t.Helper()
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(trace, "\n"), "\n") {
		m := traceCall.FindStringSubmatch(tracePid.ReplaceAllString(line, ""))
		name := ""
		if m != nil {
			name = m[1] + m[2] + m[3]
		}
		if name != "---" && name != "+++" && !slices.Contains(calls, name) {
			t.Errorf("unexpected trace line %q (want only %v)", line, calls)
		}
		seen[name]++
	}
	if seen[calls[0]] == 0 {
		t.Errorf("no %s in the trace:\n%s", calls[0], guest.Clip(trace))
	}
	t.Logf("trace lines by call: %v", seen)
}
