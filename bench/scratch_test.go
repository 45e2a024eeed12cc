package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const samplePatch = `diff --git a/kernel/other.c b/kernel/other.c
--- a/kernel/other.c
+++ b/kernel/other.c
@@ -1,3 +1,4 @@
 /*
+ * not this one
  */
diff --git a/kernel/entry/self_ptrace.c b/kernel/entry/self_ptrace.c
new file mode 100644
--- /dev/null
+++ b/kernel/entry/self_ptrace.c
@@ -0,0 +1,5 @@
+// SPDX-License-Identifier: GPL-2.0
+/*
+ *
+ * Self ptrace: a thread arms itself.
+ */
diff --git a/kernel/fork.c b/kernel/fork.c
`

func TestChangeCommentLine(t *testing.T) {
	out, err := ChangeCommentLine([]byte(samplePatch), "kernel/entry/self_ptrace.c", "stamp 1")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(samplePatch, "+ * Self ptrace: a thread arms itself.\n", "+ * Self ptrace: a thread arms itself. [stamp 1]\n", 1)
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := ChangeCommentLine([]byte(samplePatch), "kernel/missing.c", "x"); err == nil {
		t.Error("a file the patch does not touch was changed")
	}
	if _, err := ChangeCommentLine([]byte(samplePatch), "kernel/fork.c", "x"); err == nil {
		t.Error("a file without comment lines was changed")
	}
}

// TestChangeCommentLineOnTheSeries checks that the series still has what
// the bench verb's incremental rebuild edits: exactly one line changes in
// each patch that adds a comment to self_ptrace.c.
func TestChangeCommentLineOnTheSeries(t *testing.T) {
	patches, _ := filepath.Glob(filepath.Join("..", "patches", "linux-6.12", "*.patch"))
	found := 0
	for _, p := range patches {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ChangeCommentLine(data, "kernel/entry/self_ptrace.c", "bench")
		if err != nil {
			continue
		}
		found++
		a, b := bytes.Split(data, []byte("\n")), bytes.Split(out, []byte("\n"))
		if len(a) != len(b) {
			t.Fatalf("%s: the line count changed", p)
		}
		diff := 0
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				diff++
				if !bytes.HasPrefix(b[i], []byte("+ * ")) || !bytes.HasSuffix(b[i], []byte(" [bench]")) {
					t.Errorf("%s: changed line %q", p, b[i])
				}
			}
		}
		if diff != 1 {
			t.Errorf("%s: %d lines changed, want 1", p, diff)
		}
	}
	// The bench edits the first of them in series order (the patch that
	// adds the file); later patches may add comments to it too.
	if found == 0 {
		t.Error("no patch of the series adds a comment to kernel/entry/self_ptrace.c")
	}
}

func TestScratchRoot(t *testing.T) {
	root, dst := t.TempDir(), t.TempDir()
	for _, f := range []string{"go.mod", "patches/linux-6.12/series", "tests/smoke/smoke_test.go", ".git/HEAD", "out/x"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(root, f), []byte(f), 0o644)
	}
	if err := ScratchRoot(root, dst, "patches"); err != nil {
		t.Fatal(err)
	}
	for name, link := range map[string]bool{"go.mod": true, "tests": true, "patches": false} {
		fi, err := os.Lstat(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode()&os.ModeSymlink != 0; got != link {
			t.Errorf("%s: symlink %v, want %v", name, got, link)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dst, "patches/linux-6.12/series")); err != nil || string(b) != "patches/linux-6.12/series" {
		t.Errorf("copied series: %q %v", b, err)
	}
	for _, name := range []string{".git", "out"} {
		if _, err := os.Lstat(filepath.Join(dst, name)); err == nil {
			t.Errorf("%s was not left out", name)
		}
	}
	// The copy is independent of the original.
	os.WriteFile(filepath.Join(dst, "patches/linux-6.12/series"), []byte("changed"), 0o644)
	if b, _ := os.ReadFile(filepath.Join(root, "patches/linux-6.12/series")); string(b) != "patches/linux-6.12/series" {
		t.Error("changing the copy changed the original")
	}
}

func TestCPUModel(t *testing.T) {
	for in, want := range map[string]string{
		"processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nprocessor\t: 1\nmodel name\t: AMD EPYC\n": "AMD EPYC",
		"processor\t: 0\nHardware\t: BCM2835\n": "BCM2835",
		"vendor_id       : IBM/S390\n":          "IBM/S390",
		"":                                      "unknown CPU",
	} {
		if got := CPUModel(in); got != want {
			t.Errorf("CPUModel(%q) = %q, want %q", in, got, want)
		}
	}
}
