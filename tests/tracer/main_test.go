// Package tracer_test runs selftrace (tools/selftrace) on real Debian
// programs and on its hazard test programs, chrooted into the root
// filesystem named by SELFPTRACE_VM_USERLAND, and compares it with the
// programs' native runs and with the real strace.
package tracer_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/selftrace/tracecmp"
	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

const (
	// Where selftrace is inside the root (package selftrace: GuestLauncher,
	// GuestLibrary, GuestTestProgDir).
	selftraceBin = "/usr/local/bin/selftrace"
	selftraceLib = "/usr/local/lib/selftrace/libselftrace.so"
	testProgDir  = "/usr/local/libexec/selftrace"
	straceBin    = "/usr/bin/strace"

	// cmdTimeout bounds every command. Guests run under software
	// emulation, and a program under strace and selftrace at once is
	// slow: no test asserts a duration.
	cmdTimeout = 300 * time.Second
)

// userland is the Debian root filesystem, by its path on the test's side.
type userland struct{ guest.Root }

// requireUserland fails the test unless SELFPTRACE_VM_USERLAND names a
// Debian root with strace and selftrace.
func requireUserland(t *testing.T) userland {
	t.Helper()
	return userland{guest.RequireRoot(t, cmdTimeout, "strace and selftrace",
		straceBin, selftraceBin, selftraceLib, testProgDir+"/hello", testProgDir+"/static-hello")}
}

// requireFeature fails the test, naming PTRACE_SELF_ON, when the kernel
// lacks self-ptrace.
func requireFeature(t *testing.T) { t.Helper(); sp.Require(t) }

// workdir creates a fresh work directory, removed at the end of the test.
func (u userland) workdir(t *testing.T) guest.Workdir {
	t.Helper()
	return u.Workdir(t, "tracer-")
}

// run runs argv chrooted into the root (argv[0] resolved by LookPath) in
// its own process group, with stdin on a pipe (even when empty), to its
// end; the test fails if it cannot start or outlives cmdTimeout.
func (u userland) run(t *testing.T, argv []string, stdin string) guest.Outcome {
	t.Helper()
	return u.Run(t, argv, strings.NewReader(stdin))
}

// readFile reads a file of the root by its test-side path.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return string(b)
}

// wantNoComplaint fails the test if strace wrote a message of its own.
func wantNoComplaint(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "strace: ") {
			t.Errorf("strace complained: %s", line)
		}
	}
}

// wantParsed fails the test unless every line of selftrace's trace is a
// call, a signal, an exit or a notice in strace's format, and the trace
// has at least one call.
func wantParsed(t *testing.T, trace string) []tracecmp.Record {
	t.Helper()
	recs := tracecmp.ParseSelftrace(trace)
	for i, r := range tracecmp.Unparsed(recs) {
		if i == 10 {
			t.Errorf("... and more unparsed lines")
			break
		}
		t.Errorf("selftrace's trace, line %d is not in strace's format: %q", r.Line, r.Text)
	}
	if !slices.ContainsFunc(recs, func(r tracecmp.Record) bool { return r.Kind == tracecmp.Call }) {
		t.Errorf("selftrace's trace has no call:\n%s", guest.Clip(trace))
	}
	return recs
}
