package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/bench"
)

// TestConcurrentRunsBuildOnce starts two test runs at once on one fresh
// cache: both pass, and the kernel is built once (the other run waits for
// the lock and finds it in the cache).
func TestConcurrentRunsBuildOnce(t *testing.T) {
	e := needEnv(t)
	cache := t.TempDir()
	var wg sync.WaitGroup
	results := make([]result, 2)
	jsons := []string{filepath.Join(t.TempDir(), "a.json"), filepath.Join(t.TempDir(), "b.json")}
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.runWith(t, 40*time.Minute, []string{"SELFPTRACE_VM_CACHE=" + cache},
				"test", "--arch", "s390x", "--tests", "./tests/smoke", "--json", jsons[i])
		}()
	}
	wg.Wait()
	built := 0
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("run %d exited %d\n%s", i, r.code, tailOf(r.stderr, 20))
			continue
		}
		run := readResults(t, jsons[i]).Runs[0]
		if !run.Kernel.CacheHit {
			built++
		}
	}
	if built != 1 {
		t.Errorf("%d of the 2 runs built the kernel, want exactly 1", built)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "kernels", "s390x-*"))
	if len(entries) != 1 {
		t.Errorf("cache holds %d s390x kernels, want 1: %v", len(entries), entries)
	}
}

// TestDamagedCacheEntryIsRebuilt truncates a cached kernel image: the next
// build notices (checksum) and rebuilds it instead of booting a broken file.
func TestDamagedCacheEntryIsRebuilt(t *testing.T) {
	e := needEnv(t)
	for _, a := range arches {
		t.Run(a, func(t *testing.T) {
			r := e.run(t, 30*time.Minute, "build", "--arch", a)
			if r.code != 0 {
				t.Fatalf("build exited %d\n%s", r.code, tailOf(r.stderr, 20))
			}
			image := strings.TrimSpace(r.stdout)
			good, err := os.ReadFile(image)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(image, int64(len(good)/2)); err != nil {
				t.Fatal(err)
			}
			r = e.run(t, 30*time.Minute, "build", "--arch", a)
			if r.code != 0 {
				t.Fatalf("build after damage exited %d\n%s", r.code, tailOf(r.stderr, 20))
			}
			if !strings.Contains(r.stderr, "damaged") || !strings.Contains(r.stderr, "built") {
				t.Errorf("the damage was not reported and rebuilt:\n%s", r.stderr)
			}
			after, err := os.ReadFile(strings.TrimSpace(r.stdout))
			if err != nil {
				t.Fatal(err)
			}
			if len(after) <= len(good)/2 {
				t.Errorf("rebuilt image has %d bytes: still the truncated file", len(after))
			}
			// The new entry is sound: the next build takes it from the cache.
			r = e.run(t, 5*time.Minute, "build", "--arch", a)
			if r.code != 0 || !strings.Contains(r.stderr, "cached") || strings.Contains(r.stderr, "damaged") {
				t.Errorf("the rebuilt entry is not a sound cache hit (exit %d):\n%s", r.code, r.stderr)
			}
		})
	}
}

// fakeRoot makes a checkout whose patches/ or configs/ can be changed
// without touching the real one; everything else links to the real tree.
func fakeRoot(t *testing.T, e *env, edit func(root string)) string {
	t.Helper()
	root := t.TempDir()
	if err := bench.ScratchRoot(e.root, root, "patches", "configs"); err != nil {
		t.Fatal(err)
	}
	edit(root)
	return root
}

// entryPatch is the patch of the series that hooks self ptrace into
// kernel/entry/common.c.
const entryPatch = "0010-entry-Add-self-ptrace.patch"

// TestPatchThatDoesNotApply breaks a hunk of the series: the error names the
// patch and the hunk, the exit code says the rig failed, nothing is cached.
func TestPatchThatDoesNotApply(t *testing.T) {
	e := needEnv(t)
	root := fakeRoot(t, e, func(root string) {
		p := filepath.Join(root, "patches", "linux-6.12", entryPatch)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// Change the context of the kernel/entry/common.c hunk so that it
		// cannot apply.
		b2 := strings.Replace(string(b), " \t\t\treturn -1L;\n \t}\n \n+\t/*\n+\t * Handle self ptrace.", " \t\t\treturn -2L;\n \t}\n \n+\t/*\n+\t * Handle self ptrace.", 1)
		if b2 == string(b) {
			t.Fatal("context line to break not found")
		}
		// A line of its own in the commit message makes the cache key
		// unique, so that no earlier entry can hide the failure.
		b2 = strings.Replace(b2, "\n---\n", fmt.Sprintf("\nX-Test-Run: %d\n---\n", time.Now().UnixNano()), 1)
		os.WriteFile(p, []byte(b2), 0o644)
	})
	r := e.run(t, 20*time.Minute, "build", "--arch", "x86_64", "--root", root)
	if r.code != 3 {
		t.Errorf("exit %d, want 3", r.code)
	}
	for _, want := range []string{entryPatch, "kernel/entry/common.c", "FAILED", "does not apply"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error does not name %q:\n%s", want, r.stderr)
		}
	}
}

// TestConfigOptionThatDoesNotSurvive asks for an option that does not exist:
// the error names it.
func TestConfigOptionThatDoesNotSurvive(t *testing.T) {
	e := needEnv(t)
	root := fakeRoot(t, e, func(root string) {
		f, err := os.OpenFile(filepath.Join(root, "configs", "common.config"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("CONFIG_SELFPTRACE_VM_NO_SUCH_OPTION=y\n")
		f.Close()
	})
	r := e.run(t, 20*time.Minute, "build", "--arch", "s390x", "--root", root)
	if r.code != 3 {
		t.Errorf("exit %d, want 3", r.code)
	}
	if !strings.Contains(r.stderr, "CONFIG_SELFPTRACE_VM_NO_SUCH_OPTION=y") || !strings.Contains(r.stderr, "did not survive") {
		t.Errorf("error does not name the option:\n%s", r.stderr)
	}
}

// TestMissingHostTool hides QEMU (and, separately, the cross compiler) from
// PATH: the error names the Debian package to install.
func TestMissingHostTool(t *testing.T) {
	e := needEnv(t)
	for _, c := range []struct {
		hide, arch, pkg string
	}{
		{"qemu-system-s390x", "s390x", "qemu-system-misc"},
		{"s390x-linux-gnu-gcc", "s390x", "gcc-s390x-linux-gnu"},
	} {
		t.Run(c.hide, func(t *testing.T) {
			bin := t.TempDir()
			for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
				ents, _ := os.ReadDir(dir)
				for _, en := range ents {
					if en.Name() == c.hide {
						continue
					}
					os.Symlink(filepath.Join(dir, en.Name()), filepath.Join(bin, en.Name()))
				}
			}
			r := e.runWith(t, 10*time.Minute, []string{"PATH=" + bin}, "run", "--arch", c.arch, "--", "/bbin/true")
			if r.code != 3 {
				t.Errorf("exit %d, want 3\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.hide) || !strings.Contains(r.stderr, "apt-get install "+c.pkg) {
				t.Errorf("error does not name %s and its package %s:\n%s", c.hide, c.pkg, r.stderr)
			}
		})
	}
}

// TestBadUsage checks that bad flags, arches and commands exit 2 with usage
// (a mistyped flag: one line that names where the flags are listed).
func TestBadUsage(t *testing.T) {
	e := needEnv(t)
	for _, args := range [][]string{
		{"test", "--arch", "mips"},
		{"test", "--no-such-flag"},
		{"frobnicate"},
		{"run", "--arch", "all", "--", "/bbin/true"},
		{"run", "--arch", "x86_64"},
		{},
	} {
		r := e.run(t, time.Minute, args...)
		if r.code != 2 {
			t.Errorf("selfptrace-vm %v exited %d, want 2", args, r.code)
		}
		if !regexp.MustCompile(`usage|unknown architecture|no command|takes one architecture|help test' lists the flags`).MatchString(r.stderr) {
			t.Errorf("selfptrace-vm %v: no usage message:\n%s", args, r.stderr)
		}
	}
}

// TestCacheKey prints a stable key per arch (one line for each arch of
// "all"), different for --vanilla.
func TestCacheKey(t *testing.T) {
	e := needEnv(t)
	k1 := e.run(t, time.Minute, "cache-key", "--arch", "all")
	k2 := e.run(t, time.Minute, "cache-key", "--arch", "all")
	kv := e.run(t, time.Minute, "cache-key", "--arch", "all", "--vanilla")
	if k1.code != 0 || k1.stdout != k2.stdout || k1.stdout == kv.stdout || len(strings.Fields(k1.stdout)) != len(arch.Names()) {
		t.Errorf("cache keys: %q %q vanilla %q", k1.stdout, k2.stdout, kv.stdout)
	}
}
