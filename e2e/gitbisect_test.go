//go:build gitbisect

// The git bisect test makes a kernel git tree (Debian's linux-source-6.12
// plus one commit per patch of the broken series) and runs `git bisect run
// selfptrace-vm bisect --step`. Every step builds a kernel from a new source
// tree, from scratch, so it has its own target: `make e2e-gitbisect`.

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.org",
		"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, tailOf(string(out), 20))
	}
	return string(out)
}

// TestGitBisectRunStep: git bisect run with the bisect verb as its step
// names the commit of the broken patch.
func TestGitBisectRunStep(t *testing.T) {
	e := needEnv(t)
	broken := brokenCheckout(t, e)
	dir := t.TempDir()
	tree := filepath.Join(dir, "linux")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	tarball := "/usr/src/linux-source-6.12.tar.xz"
	if out, err := exec.Command("tar", "-xf", tarball, "-C", tree, "--strip-components=1").CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v\n%s", tarball, err, out)
	}
	git(t, tree, "init", "-q")
	git(t, tree, "add", "-A")
	git(t, tree, "commit", "-q", "-m", "linux-source-6.12")
	series := filepath.Join(broken, "patches", "linux-6.12")
	list, err := os.ReadFile(filepath.Join(series, "series"))
	if err != nil {
		t.Fatal(err)
	}
	var commits []string
	for _, name := range strings.Fields(string(list)) {
		git(t, tree, "apply", "--index", filepath.Join(series, name))
		git(t, tree, "commit", "-q", "-m", name)
		commits = append(commits, strings.TrimSpace(git(t, tree, "rev-parse", "HEAD")))
	}
	// Good: patches 1-3; bad: the whole series. Candidates: the broken
	// patch (4) and patch 5.
	git(t, tree, "bisect", "start", commits[len(commits)-1], commits[2])
	cache := filepath.Join(dir, "cache") // a cold cache: these trees must not disturb the shared one
	start := time.Now()
	cmd := exec.Command("git", "-C", tree, "bisect", "run", e.bin, "bisect", "--step", "--arch", "x86_64",
		"--kernel-src", tree, "--root", e.root, "--cache-dir", cache, "--tests", "./tests/selfptrace",
		"--run", "^TestDelivery$", "--out", filepath.Join(dir, "out"))
	cmd.Dir = e.root
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("git bisect run: %v\n%s", err, tailOf(string(out), 60))
	}
	want := commits[3]
	if !strings.Contains(string(out), want+" is the first bad commit") {
		t.Fatalf("git bisect run did not name %s (%s):\n%s", want, brokenPatch, tailOf(string(out), 60))
	}
	steps := strings.Count(string(out), "running  ") + strings.Count(string(out), "running '")
	t.Logf("git bisect run named the broken patch's commit %s in %s (%d steps)", want[:12], took.Round(time.Second), steps)
	fmt.Println(tailOf(string(out), 15))
}
