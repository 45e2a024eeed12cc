package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// TestSuitePassesOnEveryArch is the main job: build every patched kernel
// (or take them from the cache), boot each, and run the whole guest suite.
// Every test must pass on every arch, and none may be skipped.
func TestSuitePassesOnEveryArch(t *testing.T) {
	e := needEnv(t)
	dir := t.TempDir()
	js, ju, kt := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.ktap")
	r := e.run(t, 60*time.Minute, "test", "--arch", archFlag(), "--json", js, "--junit", ju, "--ktap", kt, "--out", dir)
	t.Logf("summary:\n%s", r.stdout)
	if r.code != 0 {
		t.Errorf("test --arch all exited %d, want 0\nstderr:\n%s", r.code, tailOf(r.stderr, 40))
	}
	rs := readEveryArch(t, js)
	for _, run := range rs.Runs {
		checkRunPassed(t, run)
		t.Logf("%s: cold/warm total %.1fs (kernel %.1fs cached=%v, initramfs %.1fs, boot %.1fs, tests %.1fs)",
			run.Arch, run.Timings.Total, run.Timings.KernelBuild, run.Kernel.CacheHit, run.Timings.Initramfs, run.Timings.Boot, run.Timings.Tests)
	}
	for _, p := range []string{ju, kt} {
		if b := mustRead(t, p); len(b) == 0 {
			t.Errorf("%s is empty", p)
		}
	}
	if !strings.Contains(string(mustRead(t, kt)), "KTAP version 1") {
		t.Errorf("--ktap output is not KTAP")
	}

	// The same run again: everything comes from the cache.
	js2 := filepath.Join(dir, "warm.json")
	r = e.run(t, 20*time.Minute, "test", "--arch", archFlag(), "--json", js2)
	if r.code != 0 {
		t.Fatalf("warm run exited %d\n%s", r.code, tailOf(r.stderr, 30))
	}
	for _, run := range readResults(t, js2).Runs {
		if !run.Kernel.CacheHit {
			t.Errorf("%s: warm run rebuilt the kernel", run.Arch)
		}
		checkRunPassed(t, run)
		t.Logf("%s warm: total %.2fs (kernel %.2fs, initramfs %.2fs, boot %.2fs, tests %.2fs)",
			run.Arch, run.Timings.Total, run.Timings.KernelBuild, run.Timings.Initramfs, run.Timings.Boot, run.Timings.Tests)
	}
	noQEMULeft(t, dir)
}

// checkRunPassed asserts that a run of the patched kernel passed with the
// full suite: smoke and conformance tests present, all passing, none
// skipped.
func checkRunPassed(t *testing.T, run report.Run) {
	t.Helper()
	if !run.Kernel.Patched {
		t.Errorf("%s: kernel not patched", run.Arch)
	}
	checkSuitePassed(t, run)
}

// checkSuitePassed asserts that a run, whatever its kernel's flavor,
// passed with the full suite.
func checkSuitePassed(t *testing.T, run report.Run) {
	t.Helper()
	if run.Outcome != vm.OutcomePass {
		t.Errorf("%s: outcome %s, want pass (%s)\n%s", run.Arch, run.Outcome, run.Error, run.Excerpt)
	}
	var smoke, feature int
	for _, tc := range run.Tests {
		if tc.Status != report.Pass {
			t.Errorf("%s: %s is %s:\n%s", run.Arch, tc.Name, tc.Status, tailOf(tc.Output, 15))
		}
		switch {
		case strings.HasPrefix(tc.Name, "smoke."):
			smoke++
		case strings.HasPrefix(tc.Name, "selfptrace."):
			feature++
		}
	}
	if smoke < 3 || feature < 18 {
		t.Errorf("%s: %d smoke and %d selfptrace results, want at least 3 and 18", run.Arch, smoke, feature)
	}
}

// TestVanillaFailsEveryFeatureTest is the negative control: the unpatched
// kernel must fail every self-ptrace test with a clear message, and still
// pass the smoke tests (so the failure is the feature, not the rig).
func TestVanillaFailsEveryFeatureTest(t *testing.T) {
	e := needEnv(t)
	js := filepath.Join(t.TempDir(), "vanilla.json")
	r := e.run(t, 60*time.Minute, "test", "--arch", archFlag(), "--vanilla", "--json", js)
	if r.code != 1 {
		t.Errorf("test --vanilla exited %d, want 1 (tests failed)\n%s", r.code, tailOf(r.stderr, 30))
	}
	rs := readEveryArch(t, js)
	for _, run := range rs.Runs {
		if run.Kernel.Patched {
			t.Errorf("%s: --vanilla booted a patched kernel", run.Arch)
		}
		if run.Outcome != vm.OutcomeFail {
			t.Errorf("%s: outcome %s, want fail", run.Arch, run.Outcome)
		}
		var features int
		for _, tc := range run.Tests {
			top := !strings.Contains(tc.Name, "/")
			switch {
			case strings.HasPrefix(tc.Name, "smoke."):
				if tc.Status != report.Pass {
					t.Errorf("%s: smoke test %s is %s on vanilla", run.Arch, tc.Name, tc.Status)
				}
			case strings.HasPrefix(tc.Name, "selfptrace.") && top:
				features++
				if tc.Status != report.Fail {
					t.Errorf("%s: feature test %s is %s on the vanilla kernel, want fail", run.Arch, tc.Name, tc.Status)
				} else if !strings.Contains(tc.Output, "not supported by this kernel") {
					t.Errorf("%s: %s failed without the clear message:\n%s", run.Arch, tc.Name, tailOf(tc.Output, 10))
				}
			}
		}
		if features < 18 {
			t.Errorf("%s: %d feature tests ran on vanilla, want at least 18", run.Arch, features)
		}
		t.Logf("%s vanilla: %d feature tests, all failed as they must", run.Arch, features)
	}
}
