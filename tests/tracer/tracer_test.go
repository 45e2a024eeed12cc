package tracer_test

import (
	"testing"

	"github.com/selfptrace/selfptrace-vm/selftrace/tracecmp"
	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
)

// traceOpts are selftrace's options of the tests: follow every process and
// thread, write the trace to a file (lines prefixed with the thread id).
func traceOpts(out guest.Workdir, extra ...string) []string {
	return append(append([]string{selftraceBin}, extra...), "-f", "-o", out.In+"/trace", "--")
}

// sameRunOpts trace selftrace itself with strace: strace's trace S is
// out/strace, selftrace's T is out/trace.
func sameRunOpts(out guest.Workdir, extra ...string) []string {
	return append([]string{straceBin, "-f", "-qq", "-s", "256", "-o", out.In + "/strace", "--"}, traceOpts(out, extra...)...)
}

// TestTransparency runs every program natively and under `selftrace -f -o
// FILE`: stdout, stderr and the exit status (or the signal) must be the
// same bytes and the same status, and the trace must be in strace's
// format.
func TestTransparency(t *testing.T) {
	u := requireUserland(t)
	requireFeature(t)
	for _, c := range allCases {
		t.Run(c.name, func(t *testing.T) {
			native := c.native(t, u)
			out := u.workdir(t)
			traced := c.run(t, u, traceOpts(out)...)
			sameOutcome(t, "under selftrace", native.Outcome, traced.Outcome)
			wantParsed(t, readFile(t, out.At("trace")))
		})
	}
}

// TestEquivalenceWithStrace runs every program under `strace -f -qq -s 256
// -o S selftrace -f -o T`: strace sees every call selftrace's handler
// performs. The program's calls derived from S (package
// selftrace/tracecmp: the rules are its documentation) must be the calls
// of T, pid by pid, with the same results; a mismatch prints both traces
// around the first difference of each pid.
//
// The Debian programs are this test; the hazard programs of
// tools/selftrace/testprogs are TestEquivalenceHazards, so that each half
// has a whole per-test timeout (under strace, on s390x under TCG with
// other guests on the host, the 32 programs take many minutes).
func TestEquivalenceWithStrace(t *testing.T) {
	u := requireUserland(t)
	requireFeature(t)
	for _, c := range debianCases {
		t.Run(c.name, func(t *testing.T) { sameRun(t, u, c) })
	}
}

// TestEquivalenceHazards is TestEquivalenceWithStrace for the hazard
// programs (threads, forks, signals, seccomp, closing every descriptor,
// thread exits).
func TestEquivalenceHazards(t *testing.T) {
	u := requireUserland(t)
	requireFeature(t)
	for _, c := range testProgCases {
		t.Run(c.name, func(t *testing.T) { sameRun(t, u, c) })
	}
}

// sameRun runs the case under strace and selftrace and compares the two
// traces.
func sameRun(t *testing.T, u userland, c progCase, extra ...string) {
	t.Helper()
	out := u.workdir(t)
	r := c.run(t, u, sameRunOpts(out, extra...)...)
	wantNoComplaint(t, r.Stderr)
	if !r.Exited(c.status) {
		t.Errorf("under strace and selftrace: want exit status %d, got %s", c.status, r.Outcome)
	}
	s := tracecmp.ParseStrace(readFile(t, out.At("strace")))
	self := wantParsed(t, readFile(t, out.At("trace")))
	cmp := tracecmp.Compare(s, self, tracecmp.Options{})
	if !cmp.Equivalent() {
		t.Errorf("selftrace's trace and strace's (the program's calls derived from it) differ: %s", cmp)
		return
	}
	t.Logf("equivalent: %s", cmp)
}

// summaryCases are deterministic programs without signal handlers (whose
// interceptions could nest, which the flat derivation of -c does not
// follow), without emulated calls (whose results strace cannot see) and
// without a static exec: the hello and threads test programs, threadexit
// (a thread ends in a read: neither counts it), and an exec chain (env
// execs hello: two images of one pid).
func summaryCases(t *testing.T) []progCase {
	t.Helper()
	return []progCase{
		caseNamed(t, "hello"),
		caseNamed(t, "threads"),
		caseNamed(t, "threadexit"),
		{name: "env-exec-hello", argv: []string{"env", "-C", "/tmp", testProg("hello")}},
	}
}

// TestSummary runs programs under `strace -f -qq -o S selftrace -c -f -o
// T`: selftrace's -c table (T) must count, per call, the calls and the
// errors that strace saw the program make (derived from S with
// tracecmp.Options.Flat), exit and exit_group aside (strace -c leaves
// them out).
func TestSummary(t *testing.T) {
	u := requireUserland(t)
	requireFeature(t)
	for _, c := range summaryCases(t) {
		t.Run(c.name, func(t *testing.T) {
			native := c.native(t, u)
			out := u.workdir(t)
			r := c.run(t, u, sameRunOpts(out, "-c")...)
			wantNoComplaint(t, r.Stderr)
			if r.Stdout != native.Stdout || !r.Exited(c.status) {
				t.Errorf("under strace and selftrace -c: %s\nnative: %s", r.Outcome, native.Outcome)
			}
			table := readFile(t, out.At("trace"))
			got, err := tracecmp.ParseSummary(table)
			if err != nil {
				t.Fatalf("selftrace -c: %v:\n%s", err, guest.Clip(table))
			}
			d := tracecmp.Derive(tracecmp.ParseStrace(readFile(t, out.At("strace"))), tracecmp.Options{Flat: true})
			for _, p := range d.Problems {
				t.Errorf("strace's trace: %s", p)
			}
			want := d.Summary()
			if diff := tracecmp.CompareSummary(got, want); diff != "" {
				t.Errorf("selftrace -c against strace's trace of the same run:\n%s\nthe table:\n%s", diff, guest.Clip(table))
			}
			if len(want) == 0 {
				t.Errorf("no call derived from strace's trace")
			}
			t.Logf("%d calls by name: %v", len(want), want)
		})
	}
}
