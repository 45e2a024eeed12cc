//go:build debugprofile

// The debug profile end-to-end test builds the debug kernels (lockdep,
// KASAN, UBSAN, DEBUG_ATOMIC_SLEEP, no stack initialisation) and runs the
// whole suite on them with panic_on_warn. The instrumented kernels take
// several times longer to build and to run than the lean ones, so the test
// has its own target: `make e2e-debug` (tag debugprofile).

package e2e

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// debugOptions are what the debug profile must have turned on in the
// kernel's final .config (configs/debug.config).
var debugOptions = []string{
	"CONFIG_PROVE_LOCKING=y",
	"CONFIG_DEBUG_ATOMIC_SLEEP=y",
	"CONFIG_KASAN=y",
	"CONFIG_UBSAN=y",
	"CONFIG_INIT_STACK_NONE=y",
}

// TestDebugProfilePassesSuite: on every arch, the suite passes on the debug
// kernel with no splat (the rig fails a run whose console shows a WARNING,
// BUG, lockdep or KASAN report; panic_on_warn turns any of them into a
// panic as well), the kernel really is the instrumented one, and its cache
// key differs from the default profile's.
func TestDebugProfilePassesSuite(t *testing.T) {
	e := needEnv(t)
	def := e.run(t, time.Minute, "cache-key", "--arch", archFlag())
	dbg := e.run(t, time.Minute, "cache-key", "--arch", archFlag(), "--profile", "debug")
	if def.code != 0 || dbg.code != 0 || def.stdout == dbg.stdout {
		t.Errorf("cache keys: default %q, debug %q: want two different keys", def.stdout, dbg.stdout)
	}

	dir := t.TempDir()
	js := filepath.Join(dir, "debug.json")
	start := time.Now()
	r := e.run(t, 80*time.Minute, "test", "--profile", "debug", "--arch", archFlag(), "--json", js, "--out", dir)
	t.Logf("debug profile in %s:\n%s", time.Since(start).Round(time.Second), r.stdout)
	if r.code != 0 {
		t.Errorf("test --profile debug exited %d, want 0\nstderr:\n%s", r.code, tailOf(r.stderr, 40))
	}
	rs := readEveryArch(t, js)
	for _, run := range rs.Runs {
		checkRunPassed(t, run)
		if run.Kernel.Profile != "debug" {
			t.Errorf("%s: kernel profile %q, want debug", run.Arch, run.Kernel.Profile)
		}
		if !strings.Contains(strings.Join(run.QEMU, " "), "panic_on_warn=1") {
			t.Errorf("%s: the kernel command line lacks panic_on_warn=1: %q", run.Arch, run.QEMU)
		}
		cfg := mustRead(t, filepath.Join(filepath.Dir(run.Kernel.Image), "config"))
		for _, opt := range debugOptions {
			if !hasLine(cfg, opt) {
				t.Errorf("%s: the debug kernel's config lacks %s", run.Arch, opt)
			}
		}
		console, err := os.ReadFile(run.ConsoleLog)
		if err != nil {
			t.Errorf("%s: console log: %v", run.Arch, err)
			continue
		}
		for _, splat := range []string{"WARNING:", "BUG:", "possible recursive locking", "possible circular locking", "KASAN:", "UBSAN:", "sleeping function called from invalid context"} {
			if bytes.Contains(console, []byte(splat)) {
				t.Errorf("%s: the console shows %q", run.Arch, splat)
			}
		}
		t.Logf("%s debug: %d tests, total %.0fs (kernel %.0fs cached=%v, boot %.1fs, tests %.1fs)",
			run.Arch, len(run.Tests), run.Timings.Total, run.Timings.KernelBuild, run.Kernel.CacheHit, run.Timings.Boot, run.Timings.Tests)
	}
	noQEMULeft(t, dir)
}

func hasLine(data []byte, line string) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if sc.Text() == line {
			return true
		}
	}
	return false
}
