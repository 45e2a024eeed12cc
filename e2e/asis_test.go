//go:build asis

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/kcidb"
)

// TestAsIsTree is a kernel developer's first step: a kernel git tree with
// the series committed in it (Debian's source, one commit, then git am of
// every patch), run as it is with --as-is. Every report format says
// as-is, the tree and its commit, and not dirty; the suite passes. It has
// its own target (make e2e-asis): each arch builds the tree cold.
func TestAsIsTree(t *testing.T) {
	e := needEnv(t)
	tree := kernelGitTree(t, e)
	head := strings.TrimSpace(gitOut(t, tree, "rev-parse", "HEAD"))
	dir := t.TempDir()
	js, ju, kt, kc := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.ktap"), filepath.Join(dir, "kcidb.json")
	r := e.run(t, 80*time.Minute, "test", "--arch", archFlag(), "--as-is", "--kernel-src", tree,
		"--json", js, "--junit", ju, "--ktap", kt, "--kcidb", kc, "--out", filepath.Join(dir, "out"))
	t.Logf("summary:\n%s", r.stdout)
	if r.code != 0 {
		t.Fatalf("test --as-is exited %d\n%s", r.code, tailOf(r.stderr, 30))
	}
	// The verdict survives a write error: a report that could not be
	// written is said on standard error.
	if strings.Contains(r.stderr, "selfptrace-vm test: ") {
		t.Errorf("a report was not written:\n%s", tailOf(r.stderr, 10))
	}
	for _, run := range readEveryArch(t, js).Runs {
		k := run.Kernel
		if k.Flavor != "as-is" || k.Patched || k.Tree == nil || k.Tree.Commit != head || k.Tree.Dirty || k.Tree.Path != tree {
			t.Errorf("%s: JSON kernel %+v (tree %+v), want as-is from %s at %s, clean", run.Arch, k, k.Tree, tree, head)
		}
		checkSuitePassed(t, run)
		if !strings.Contains(r.stdout, "kernel tree "+tree+" at "+head) {
			t.Errorf("%s: the summary does not name the tree and its commit", run.Arch)
		}
	}
	if s := string(mustRead(t, ju)); !strings.Contains(s, `name="kernel.flavor" value="as-is"`) || !strings.Contains(s, `value="`+head+`"`) {
		t.Errorf("JUnit lacks the as-is labels:\n%s", tailOf(s, 10))
	}
	if s := string(mustRead(t, kt)); !strings.Contains(s, "as-is from "+tree+" at "+head) {
		t.Errorf("KTAP lacks the kernel line")
	}
	var doc kcidb.Report
	if err := json.Unmarshal(mustRead(t, kc), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Checkouts) != 1 || doc.Checkouts[0].GitCommitHash != head || doc.Checkouts[0].PatchsetHash != "" {
		t.Errorf("KCIDB checkouts: %+v, want one at %s without a patchset", doc.Checkouts, head)
	}
	out, err := exec.Command("/usr/bin/python3", filepath.Join(e.root, "kcidb", "testdata", "validate.py"),
		filepath.Join(e.root, "kcidb", "testdata", "kcidb-io.schema.v5.3.json"), kc).CombinedOutput()
	if err != nil {
		t.Errorf("the as-is KCIDB report does not validate: %v\n%s", err, out)
	}
}

// kernelGitTree makes a kernel git tree from Debian's source with the
// series committed on top, as a developer's tree would have it.
func kernelGitTree(t *testing.T, e *env) string {
	t.Helper()
	tree := filepath.Join(t.TempDir(), "linux")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-xJf", kbuild.DefaultSource, "-C", tree, "--strip-components=1").CombinedOutput(); err != nil {
		t.Fatalf("unpacking %s: %v\n%s", kbuild.DefaultSource, err, out)
	}
	// Debian's source package ignores everything at the top level of its
	// .gitignore (its packaging stanza); a kernel git tree has upstream's.
	gi := filepath.Join(tree, ".gitignore")
	data, err := os.ReadFile(gi)
	if err != nil {
		t.Fatal(err)
	}
	upstream, _, found := strings.Cut(string(data), "#\n# Debian packaging")
	if !found {
		t.Logf("%s has no Debian packaging stanza", gi)
	}
	if err := os.WriteFile(gi, []byte(upstream), 0o644); err != nil {
		t.Fatal(err)
	}
	gitOut(t, tree, "init", "-q")
	gitOut(t, tree, "add", "-A")
	gitOut(t, tree, "commit", "-q", "-m", "Linux 6.12 (Debian's linux-source-6.12)")
	series, err := kbuild.ReadSeries(filepath.Join(e.root, "patches", "linux-6.12"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range series {
		gitOut(t, tree, "am", "-q", filepath.Join(e.root, "patches", "linux-6.12", p.Name))
	}
	t.Logf("kernel git tree %s: Debian's source and %d patches committed", tree, len(series))
	return tree
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=selfptrace-vm developers", "-c", "user.email=selfptrace-vm@example.org"}, args...)...)
	// Fixed dates make the commits, so the tree's identity and its cached
	// kernel, the same from one run to the next.
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-12-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-12-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}
