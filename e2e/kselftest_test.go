package e2e

import (
	"path/filepath"
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
// result for every test on the patched and on the vanilla kernel.
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
		var top int
		counts := map[string]int{}
		for name, st := range ps {
			counts[st]++
			if !strings.Contains(name, "/") {
				top++
			}
		}
		if top < 6 || len(ps) < 100 {
			t.Errorf("%s: only %d programs and %d results: the kselftests did not run", p.Arch, top, len(ps))
		}
		t.Logf("%s: %d kselftest results identical on both kernels: pass=%d fail=%d skip=%d timeout=%d",
			p.Arch, len(ps), counts[report.Pass], counts[report.Fail], counts[report.Skip], counts[report.Timeout])
	}
}

// differences lists the results that are not the same on the patched (ps)
// and the vanilla (vs) kernel, one line each.
func differences(ps, vs map[string]string) []string {
	var diffs []string
	for name, st := range ps {
		if vs[name] != st {
			diffs = append(diffs, name+": patched "+st+", vanilla "+vs[name])
		}
	}
	for name, st := range vs {
		if _, ok := ps[name]; !ok {
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
