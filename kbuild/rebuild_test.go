package kbuild

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
// the bench verb's incremental rebuild edits: exactly one line changes.
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

func TestRemoveEntry(t *testing.T) {
	cache := t.TempDir()
	entry := filepath.Join(cache, "kernels", "x86_64-0123")
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := RemoveEntry(cache, filepath.Join(cache, "work", "bzImage")); err == nil {
		t.Error("removed something that is not a cache entry")
	}
	if err := RemoveEntry(cache, filepath.Join(entry, "bzImage")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Errorf("entry still there: %v", err)
	}
}
