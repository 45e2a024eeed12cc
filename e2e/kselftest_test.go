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
	for _, vanilla := range []bool{false, true} {
		js := filepath.Join(dir, map[bool]string{false: "patched.json", true: "vanilla.json"}[vanilla])
		args := []string{"test", "--kselftest", "--arch", archFlag(), "--json", js, "--out", filepath.Join(dir, "out")}
		if vanilla {
			args = append(args, "--vanilla")
		}
		r := e.run(t, 60*time.Minute, args...)
		// Some kselftests fail on this lean config on both kernels (see
		// the README); a rig error is another matter.
		if r.code != 0 && r.code != 1 {
			t.Fatalf("%v exited %d\n%s", args, r.code, tailOf(r.stderr, 30))
		}
		results[vanilla] = readResults(t, js)
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

func statuses(run report.Run) map[string]string {
	m := map[string]string{}
	for _, tc := range run.Tests {
		m[tc.Name] = tc.Status
	}
	return m
}
