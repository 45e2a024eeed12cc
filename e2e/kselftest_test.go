package e2e

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// TestKselftestsSamePatchedAndVanilla is the regression guard: the upstream
// kselftests of the neighbours of the change (seccomp, syscall user
// dispatch, ptrace), built from each kernel's own tree, give the same
// result for every test on the patched and on the vanilla kernel. The
// series' own kselftest, self_ptrace_test, is the exception, checked apart
// (checkSelfPtrace): every case passes on the patched kernel and skips on
// the vanilla one.
func TestKselftestsSamePatchedAndVanilla(t *testing.T) {
	e := needEnv(t)
	dir := t.TempDir()
	results := map[bool]report.Results{}
	// kselftests runs the kselftests of arches on one kernel.
	kselftests := func(vanilla bool, arches, name string) report.Results {
		js := filepath.Join(dir, name+map[bool]string{false: "-patched.json", true: "-vanilla.json"}[vanilla])
		args := []string{"test", "--kselftest", "--arch", arches, "--json", js, "--out", filepath.Join(dir, "out")}
		if vanilla {
			args = append(args, "--vanilla")
		}
		r := e.run(t, 60*time.Minute, args...)
		// Some kselftests fail on this lean config on both kernels (see
		// the README); a rig error is another matter.
		if r.code != 0 && r.code != 1 {
			t.Fatalf("%v exited %d\n%s", args, r.code, tailOf(r.stderr, 30))
		}
		return readResults(t, js)
	}
	for _, vanilla := range []bool{false, true} {
		results[vanilla] = kselftests(vanilla, archFlag(), "first")
	}
	for i, p := range results[false].Runs {
		v := results[true].Runs[i]
		if p.Arch != v.Arch {
			t.Fatalf("run %d: arch %s vs %s", i, p.Arch, v.Arch)
		}
		for _, run := range []report.Run{p, v} {
			if run.Outcome != vm.OutcomePass && run.Outcome != vm.OutcomeFail {
				t.Errorf("%s (patched=%v): outcome %s: %s", run.Arch, run.Kernel.Patched, run.Outcome, run.Error)
			}
		}
		ps, vs := statuses(p), statuses(v)
		checkSelfPtrace(t, p, v)
		checkSeriesCases(t, p, v)
		diffs := differences(ps, vs)
		if len(diffs) > 0 {
			// A disagreement is rerun on both kernels before it is
			// called a difference (as compare does): some kselftests
			// race on timing under TCG. Only a result that disagrees the
			// same way twice counts.
			t.Logf("%s: %d results differ, rerunning both kernels: %s", p.Arch, len(diffs), strings.Join(diffs, "; "))
			ps2 := statuses(kselftests(false, p.Arch, "rerun").Runs[0])
			vs2 := statuses(kselftests(true, p.Arch, "rerun").Runs[0])
			again := map[string]bool{}
			for _, d := range differences(ps2, vs2) {
				again[d] = true
			}
			var kept []string
			for _, d := range diffs {
				if again[d] {
					kept = append(kept, d)
				} else {
					t.Logf("%s: flaky, not a difference: %s", p.Arch, d)
				}
			}
			diffs = kept
		}
		sort.Strings(diffs)
		if len(diffs) > 0 {
			t.Errorf("%s: kselftest results differ between patched and vanilla:\n  %s", p.Arch, strings.Join(diffs, "\n  "))
		}
		var top, same int
		counts := map[string]int{}
		for name, st := range ps {
			if !strings.Contains(name, "/") {
				top++
			}
			if isSeriesCase(name) {
				continue
			}
			counts[st]++
			same++
		}
		if top < 7 || same < 100 {
			t.Errorf("%s: only %d programs and %d results: the kselftests did not run", p.Arch, top, same)
		}
		t.Logf("%s: %d kselftest results identical on both kernels: pass=%d fail=%d skip=%d timeout=%d",
			p.Arch, same, counts[report.Pass], counts[report.Fail], counts[report.Skip], counts[report.Timeout])
	}
}

// selfPtraceProgram is the series' own kselftest: it passes on the patched
// kernel and skips on the vanilla one, so that it is never a difference.
const selfPtraceProgram = "kselftest.self_ptrace_test"

// minSelfPtraceCases is fewer than the cases of self_ptrace_test (41): a
// run with fewer lost some.
const minSelfPtraceCases = 40

// selfPtraceSkipReason starts the reason every case gives on a kernel
// without self ptrace.
const selfPtraceSkipReason = "self ptrace not supported: ptrace(PTRACE_SELF_ON, 0, 0, 0) failed"

func isSelfPtrace(name string) bool {
	return name == selfPtraceProgram || strings.HasPrefix(name, selfPtraceProgram+"/")
}

// seriesCases are the cases the series adds to upstream kselftests, each
// with the arches that lack what it tests (there it skips): the first
// argument in a Syscall User Dispatch handler (patch 0002, with s390's fix
// in 0001), a dispatched call that is not restarted (patch 0007, with the
// fixes in 0003-0006), and a call that SECCOMP_RET_TRAP skipped that is not
// restarted (patch 0020, with the fixes in 0018 and 0019). The vanilla tree
// does not have them.
var seriesCases = []seriesCase{
	// arm64 has no Syscall User Dispatch in 6.12.
	{"kselftest.sud_test/global.dispatch_keeps_first_argument", []string{"arm64"}},
	{"kselftest.sud_test/global.dispatch_is_not_restarted", []string{"arm64"}},
	{"kselftest.seccomp_bpf/global.TRAP_is_not_restarted", nil},
}

type seriesCase struct {
	name   string
	skipOn []string
}

// isSeriesCase says whether a result comes from a test the series adds
// (self_ptrace_test, the cases of seriesCases): not a difference between
// the two kernels, and checked on its own.
func isSeriesCase(name string) bool {
	return isSelfPtrace(name) || slices.ContainsFunc(seriesCases, func(c seriesCase) bool { return c.name == name })
}

// checkSeriesCases: the series' cases in upstream kselftests pass on the
// patched kernel (a handler sees the first argument, its result is the
// call's) or skip where the arch lacks the mechanism, and the vanilla tree
// does not have them.
func checkSeriesCases(t *testing.T, p, v report.Run) {
	t.Helper()
	ps, vs := statuses(p), statuses(v)
	for _, c := range seriesCases {
		if _, ok := vs[c.name]; ok {
			t.Errorf("%s: the vanilla tree has %s", v.Arch, c.name)
		}
		want := report.Pass
		if slices.Contains(c.skipOn, p.Arch) {
			want = report.Skip
		}
		if ps[c.name] != want {
			t.Errorf("%s: %s is %q on the patched kernel, want %s", p.Arch, c.name, ps[c.name], want)
		}
	}
}

// patchedSkipAllowed says whether a case of self_ptrace_test may skip on
// the patched kernel of arch: only the order with Syscall User Dispatch on
// arm64, which has no Syscall User Dispatch in 6.12.
func patchedSkipAllowed(arch, name string) bool {
	return arch == "arm64" && name == selfPtraceProgram+"/self_ptrace.user_dispatch_first"
}

// checkSelfPtrace checks self_ptrace_test on one arch: on the patched
// kernel (p) the program and every case pass, at least minSelfPtraceCases
// of them; on the vanilla kernel (v) the program passes (the harness exits
// 0 when every case skips) and each of the same cases skips with the
// reason.
func checkSelfPtrace(t *testing.T, p, v report.Run) {
	t.Helper()
	cases := func(run report.Run) (top report.Test, sub map[string]report.Test) {
		sub = map[string]report.Test{}
		for _, tc := range run.Tests {
			switch {
			case tc.Name == selfPtraceProgram:
				top = tc
			case isSelfPtrace(tc.Name):
				sub[tc.Name] = tc
			}
		}
		return top, sub
	}
	ptop, pc := cases(p)
	vtop, vc := cases(v)
	if ptop.Status != report.Pass || vtop.Status != report.Pass {
		t.Errorf("%s: %s: patched %q, vanilla %q; want pass on both", p.Arch, selfPtraceProgram, ptop.Status, vtop.Status)
	}
	if len(pc) < minSelfPtraceCases {
		t.Errorf("%s: %s ran %d cases on the patched kernel, want at least %d", p.Arch, selfPtraceProgram, len(pc), minSelfPtraceCases)
	}
	var pass, skip int
	for name, tc := range pc {
		switch {
		case tc.Status == report.Pass:
			pass++
		case tc.Status == report.Skip && patchedSkipAllowed(p.Arch, name):
			skip++
		default:
			t.Errorf("%s: patched: %s: %s\n%s", p.Arch, name, tc.Status, tailOf(tc.Output, 20))
		}
		vt, ok := vc[name]
		switch {
		case !ok:
			t.Errorf("%s: vanilla: %s missing", p.Arch, name)
		case vt.Status != report.Skip:
			t.Errorf("%s: vanilla: %s: %s, want skip\n%s", p.Arch, name, vt.Status, tailOf(vt.Output, 20))
		case !strings.Contains(vt.Output, selfPtraceSkipReason):
			t.Errorf("%s: vanilla: %s skipped without the reason %q:\n%s", p.Arch, name, selfPtraceSkipReason, tailOf(vt.Output, 20))
		}
	}
	for name := range vc {
		if _, ok := pc[name]; !ok {
			t.Errorf("%s: %s ran on the vanilla kernel only", p.Arch, name)
		}
	}
	t.Logf("%s: %s: patched pass=%d skip=%d, vanilla skip=%d of %d", p.Arch, selfPtraceProgram, pass, skip, len(vc), len(pc))
}

// differences lists the results that are not the same on the patched (ps)
// and the vanilla (vs) kernel, one line each. self_ptrace_test is left
// out: it is meant to differ (checkSelfPtrace).
func differences(ps, vs map[string]string) []string {
	var diffs []string
	for name, st := range ps {
		if isSeriesCase(name) {
			continue
		}
		if vs[name] != st {
			diffs = append(diffs, name+": patched "+st+", vanilla "+vs[name])
		}
	}
	for name, st := range vs {
		if _, ok := ps[name]; !ok && !isSeriesCase(name) {
			diffs = append(diffs, name+": patched missing, vanilla "+st)
		}
	}
	sort.Strings(diffs)
	return diffs
}

func statuses(run report.Run) map[string]string {
	m := map[string]string{}
	for _, tc := range run.Tests {
		m[tc.Name] = tc.Status
	}
	return m
}
