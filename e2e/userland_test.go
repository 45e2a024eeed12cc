package e2e

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/report"
)

// featureUserlandTests are the tests of tests/userland and tests/tracer
// that need the feature: they must fail on a vanilla kernel, and only they
// (tracer.TestWithoutFeature and tracer.TestSUDBackend pass on both: the
// first checks selftrace's exit status 3 there, the second uses Syscall
// User Dispatch).
var featureUserlandTests = []string{
	"userland.TestStraceArmedThread",
	"tracer.TestTransparency", "tracer.TestEquivalenceWithStrace", "tracer.TestEquivalenceHazards", "tracer.TestInject",
	"tracer.TestSummary", "tracer.TestStaticProgram",
}

// TestUserlandSuite is `test --userland debian`: the whole suite plus the
// userland tests pass on the patched kernel of every arch; on the vanilla
// kernel the userland tests pass too (they test the rig and the kernel's
// ordinary paths), except those that need the feature, which fail.
func TestUserlandSuite(t *testing.T) {
	e := needEnv(t)
	dir := t.TempDir()
	js := filepath.Join(dir, "userland.json")
	r := e.run(t, 60*time.Minute, "test", "--arch", archFlag(), "--userland", "debian", "--json", js, "--out", dir)
	t.Logf("summary:\n%s", r.stdout)
	if r.code != 0 {
		t.Errorf("test --userland debian exited %d, want 0\nstderr:\n%s", r.code, tailOf(r.stderr, 40))
	}
	for _, run := range readEveryArch(t, js).Runs {
		checkRunPassed(t, run)
		n := countPrefix(run, "userland.")
		if n < 8 {
			t.Errorf("%s: %d userland results, want at least 8", run.Arch, n)
		}
		if n := countPrefix(run, "tracer."); n < 20 {
			t.Errorf("%s: %d selftrace results, want at least 20 (tests/tracer runs with the userland)", run.Arch, n)
		}
		if u := run.Userland; u == nil || u.Packages < 10 || u.Bytes == 0 {
			t.Errorf("%s: the JSON does not describe the userland: %+v", run.Arch, u)
		} else {
			t.Logf("%s: Debian %s %s, %d packages, %.1f MB, userland %.1fs (cached %v), boot %.1fs, tests %.1fs",
				run.Arch, u.Suite, u.DebianArch, u.Packages, float64(u.Bytes)/1e6, run.Timings.Userland, u.CacheHit,
				run.Timings.Boot, run.Timings.Tests)
		}
		logMemory(t, run)
	}

	jv := filepath.Join(dir, "vanilla.json")
	r = e.run(t, 60*time.Minute, "test", "--arch", archFlag(), "--vanilla", "--userland", "debian",
		"--tests", "./tests/smoke,./tests/userland,./tests/tracer", "--json", jv)
	if r.code != 1 {
		t.Errorf("test --vanilla --userland exited %d, want 1 (the feature's userland tests fail)\n%s", r.code, tailOf(r.stderr, 30))
	}
	for _, run := range readEveryArch(t, jv).Runs {
		if run.Kernel.Patched {
			t.Errorf("%s: --vanilla booted a patched kernel", run.Arch)
		}
		seen := map[string]bool{}
		for _, tc := range run.Tests {
			top := !strings.Contains(tc.Name, "/")
			needsFeature := false
			for _, f := range featureUserlandTests {
				if tc.Name == f || strings.HasPrefix(tc.Name, f+"/") {
					needsFeature, seen[f] = true, seen[f] || top
				}
			}
			switch {
			case needsFeature && top && tc.Status != report.Fail:
				t.Errorf("%s: %s is %s on the vanilla kernel, want fail", run.Arch, tc.Name, tc.Status)
			case needsFeature && top && !strings.Contains(tc.Output, "PTRACE_SELF_ON"):
				t.Errorf("%s: %s failed without naming the missing feature:\n%s", run.Arch, tc.Name, tailOf(tc.Output, 10))
			case !needsFeature && tc.Status != report.Pass:
				t.Errorf("%s: %s is %s on the vanilla kernel, want pass:\n%s", run.Arch, tc.Name, tc.Status, tailOf(tc.Output, 15))
			}
		}
		for _, f := range featureUserlandTests {
			if !seen[f] {
				t.Errorf("%s: %s did not run on vanilla", run.Arch, f)
			}
		}
		t.Logf("%s vanilla: %d userland results, %d selftrace results", run.Arch, countPrefix(run, "userland."), countPrefix(run, "tracer."))
	}
	noQEMULeft(t, dir)
}

func countPrefix(run report.Run, prefix string) int {
	n := 0
	for _, tc := range run.Tests {
		if strings.HasPrefix(tc.Name, prefix) {
			n++
		}
	}
	return n
}

var memLine = regexp.MustCompile(`info memory: (MemTotal [^\n]*)`)

// logMemory logs what the guest had left after boot (the runner's memory
// line in the console log).
func logMemory(t *testing.T, run report.Run) {
	t.Helper()
	b, err := os.ReadFile(run.ConsoleLog)
	if err != nil {
		return
	}
	if m := memLine.FindSubmatch(b); m != nil {
		t.Logf("%s: guest %s", run.Arch, m[1])
	}
}

// TestUserlandCache makes the userland of the first arch in an empty
// cache, finds it again without mmdebstrap (the only step that touches
// the network), rebuilds a damaged entry, and refuses an unknown package
// with exit 3, a message naming it and no cache entry.
func TestUserlandCache(t *testing.T) {
	e := needEnv(t)
	a := arches[0]
	cache := t.TempDir()
	cold := e.run(t, 15*time.Minute, "userland", "--arch", a, "--cache-dir", cache)
	if cold.code != 0 {
		t.Fatalf("cold userland exited %d\n%s", cold.code, tailOf(cold.stderr, 30))
	}
	archive := strings.TrimSpace(cold.stdout)
	if st, err := os.Stat(archive); err != nil || st.Size() < 1e6 {
		t.Fatalf("userland printed %q: %v", archive, err)
	}
	t.Logf("cold: %s", lastLine(cold.stderr))

	// A mmdebstrap that fails and leaves a mark: the warm run must not run it.
	fake := t.TempDir()
	mark := filepath.Join(fake, "ran")
	os.WriteFile(filepath.Join(fake, "mmdebstrap"), []byte("#!/bin/sh\ntouch "+mark+"\nexit 1\n"), 0o755)
	path := "PATH=" + fake + ":" + os.Getenv("PATH")
	warm := e.runWith(t, 2*time.Minute, []string{path}, "userland", "--arch", a, "--cache-dir", cache)
	if warm.code != 0 || strings.TrimSpace(warm.stdout) != archive || !strings.Contains(warm.stderr, "(cached)") {
		t.Errorf("warm userland: exit %d, %q, want 0 and %q from the cache\n%s", warm.code, warm.stdout, archive, warm.stderr)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("the warm run ran mmdebstrap")
	}
	t.Logf("warm: %s", lastLine(warm.stderr))

	// Damaged: found by its checksum, and made again.
	if err := os.Truncate(archive, 1000); err != nil {
		t.Fatal(err)
	}
	again := e.run(t, 15*time.Minute, "userland", "--arch", a, "--cache-dir", cache)
	if again.code != 0 || !strings.Contains(again.stderr, "damaged") || !strings.Contains(again.stderr, "(made)") {
		t.Errorf("damaged entry: exit %d, want 0, a damage report and a rebuild\n%s", again.code, tailOf(again.stderr, 20))
	}
	if st, err := os.Stat(strings.TrimSpace(again.stdout)); err != nil || st.Size() < 1e6 {
		t.Errorf("rebuilt archive: %v", err)
	}

	// Unknown package: exit 3, named, nothing left in the cache.
	before := cacheFiles(t, cache)
	const pkg = "no-such-package-selfptrace"
	bad := e.run(t, 5*time.Minute, "userland", "--arch", a, "--cache-dir", cache, "--userland", "debian:"+pkg)
	if bad.code != 3 || !strings.Contains(bad.stderr, "no package "+pkg) {
		t.Errorf("unknown package: exit %d, want 3 and a message naming %s\n%s", bad.code, pkg, tailOf(bad.stderr, 20))
	}
	if after := cacheFiles(t, cache); after != before {
		t.Errorf("the failed userland changed the cache:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// A malformed name is a usage error, before anything runs.
	if r := e.run(t, time.Minute, "userland", "--arch", a, "--cache-dir", cache, "--userland", "debian:Bad_Name"); r.code != 2 {
		t.Errorf("malformed package name: exit %d, want 2", r.code)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// cacheFiles lists the userland cache's files (locks aside).
func cacheFiles(t *testing.T, cache string) string {
	t.Helper()
	var out []string
	filepath.Walk(filepath.Join(cache, "userland"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !strings.Contains(p, "/locks") {
			out = append(out, strings.TrimPrefix(p, cache))
		}
		return nil
	})
	return strings.Join(out, "\n")
}

// TestRunInUserland is the first example: the real strace, on the
// kernel under test, of a busybox pipeline, from the command line.
func TestRunInUserland(t *testing.T) {
	e := needEnv(t)
	for _, a := range arches {
		t.Run(a, func(t *testing.T) {
			dir := t.TempDir()
			r := e.run(t, 20*time.Minute, "run", "--arch", a, "--userland", "debian", "--out", dir, "--",
				"strace", "-f", "busybox", "sh", "-c", "echo hi | wc -c")
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, tailOf(r.stdout, 20), tailOf(r.stderr, 20))
			}
			// strace writes to the same console as the program, so the
			// program's "3\n" can land inside a strace line: check wc's
			// write as strace shows it.
			for _, re := range []string{`write\(1, "3\\n", 2`, `execve\("/(usr/)?bin/busybox"`, `\+\+\+ exited with 0 \+\+\+`} {
				if !regexp.MustCompile(re).MatchString(r.stdout) {
					t.Errorf("%s not in the output:\n%s", re, tailOf(r.stdout, 30))
				}
			}
			noQEMULeft(t, dir)
		})
	}
}

// TestShellEndsAtEndOfInput: a scripted Debian shell session, typed all at
// once before the guest has booted and without exit, runs every command
// (the rig holds the input back until the shell's first prompt) and ends
// when its input does.
func TestShellEndsAtEndOfInput(t *testing.T) {
	e := needEnv(t)
	a := arches[0]
	spec, err := arch.Lookup(a)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := e.startConsole(t, "shell", "--arch", a, "--userland", "debian", "--out", dir)
	io.WriteString(c.stdin, "uname -m; echo marker-$((6*7)) $(id -un)\nsqlite3 :memory: 'select 6*7'\n")
	c.stdin.Close() // no exit
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("shell exited with %v after its input ended", err)
		}
	case <-time.After(10 * time.Minute):
		t.Fatal("shell still running 10 minutes after its input ended")
	}
	c.mu.Lock()
	out := ansi.ReplaceAllString(c.out.String(), "")
	c.mu.Unlock()
	for _, want := range []string{spec.UnameMachine + "\r\n", "marker-42 root", "\n42\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q not in the session's output (typed-ahead input lost?):\n%s", want, tailOf(out, 30))
		}
	}
	noQEMULeft(t, dir)
}

// TestGoRunKilled: the README's form, go run, killed with SIGKILL (as a CI
// runner does), leaves neither the rig nor QEMU running.
func TestGoRunKilled(t *testing.T) {
	e := needEnv(t)
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./cmd/selfptrace-vm", "run", "--arch", arches[0], "--out", dir, "--", "sleep", "600")
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "SELFPTRACE_VM_CACHE="+e.cache)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	deadline := time.Now().Add(10 * time.Minute)
	for len(processesWith(dir, "qemu-system")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("QEMU never started")
		}
		time.Sleep(500 * time.Millisecond)
	}
	cmd.Process.Kill() // go run only, not its group
	cmd.Wait()
	deadline = time.Now().Add(time.Minute)
	for {
		left := processesWith(dir, "")
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left running a minute after go run was killed:\n%s", strings.Join(left, "\n"))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// processesWith lists the processes whose command line holds dir (and
// name, if not empty).
func processesWith(dir, name string) []string {
	out, _ := exec.Command("pgrep", "-af", regexp.QuoteMeta(dir)).Output()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && strings.Contains(l, dir) && strings.Contains(l, name) && !strings.Contains(l, "pgrep") {
			lines = append(lines, l)
		}
	}
	return lines
}
