package kernelsrc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// tarball writes a fake kernel tarball with the given files under
// linux-x/.
func tarball(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, "linux-x", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "linux.tar.gz")
	if b, err := exec.Command("tar", "-czf", out, "-C", dir, "linux-x").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, b)
	}
	return out
}

func TestTablesExtractsWhatSystableReads(t *testing.T) {
	tb := tarball(t, "Makefile", "arch/x86/entry/syscalls/syscall_64.tbl", "arch/s390/kernel/syscalls/syscall.tbl",
		"include/uapi/asm-generic/errno-base.h", "include/linux/syscalls.h", "kernel/fork.c", "drivers/char/random.c",
		"drivers/gpu/drm/drm_drv.c", "arch/mips/kernel/syscall.c", "Documentation/index.rst", "scripts/syscall.tbl", "scripts/kconfig/conf.c")
	root := t.TempDir()
	dir, err := Tables(context.Background(), tb, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Makefile", "arch/x86/entry/syscalls/syscall_64.tbl", "arch/s390/kernel/syscalls/syscall.tbl",
		"include/uapi/asm-generic/errno-base.h", "include/linux/syscalls.h", "kernel/fork.c", "drivers/char/random.c", "scripts/syscall.tbl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not extracted: %v", f, err)
		}
	}
	for _, f := range []string{"drivers/gpu/drm/drm_drv.c", "arch/mips/kernel/syscall.c", "Documentation/index.rst", "scripts/kconfig/conf.c"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s extracted", f)
		}
	}
	// The second call finds the extraction, even without the tarball's
	// members being read again.
	again, err := Tables(context.Background(), tb, root)
	if err != nil || again != dir {
		t.Errorf("second Tables = %q, %v; want %q", again, err, dir)
	}
	ents, _ := os.ReadDir(filepath.Dir(dir))
	if len(ents) != 1 {
		t.Errorf("kernel-tables holds %d entries, want 1 (no temporary directory left)", len(ents))
	}
}

func TestTablesOfATreeIsTheTree(t *testing.T) {
	dir := t.TempDir()
	if _, err := Tables(context.Background(), dir, t.TempDir()); err == nil {
		t.Error("a directory without a Makefile was taken for a tree")
	}
	os.WriteFile(filepath.Join(dir, "Makefile"), nil, 0o644)
	got, err := Tables(context.Background(), dir, t.TempDir())
	if err != nil || got != dir {
		t.Errorf("Tables(tree) = %q, %v", got, err)
	}
}

func TestExtractWithoutAKernelTree(t *testing.T) {
	tb := tarball(t, "README")
	if _, err := Tables(context.Background(), tb, t.TempDir()); err == nil {
		t.Error("a tarball without a kernel tree: no error")
	}
}

func TestLocate(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvTree, "")
	if d, err := Locate(root); d != "" || err != nil {
		t.Errorf("empty cache: %q, %v", d, err)
	}
	for i, name := range []string{"old", "new", "partial"} {
		dir := filepath.Join(root, "src", name)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "Makefile"), nil, 0o644)
		if name != "partial" {
			m := filepath.Join(dir, complete)
			os.WriteFile(m, nil, 0o644)
			ts := time.Now().Add(time.Duration(i-5) * time.Hour)
			os.Chtimes(m, ts, ts)
		}
	}
	if d, err := Locate(root); d != filepath.Join(root, "src", "new") || err != nil {
		t.Errorf("Locate = %q, %v; want the newest complete tree", d, err)
	}
	t.Setenv(EnvTree, filepath.Join(root, "src", "old"))
	if d, err := Locate(root); d != filepath.Join(root, "src", "old") || err != nil {
		t.Errorf("Locate with $%s = %q, %v", EnvTree, d, err)
	}
	t.Setenv(EnvTree, root)
	if _, err := Locate(root); err == nil {
		t.Errorf("$%s naming no tree: no error", EnvTree)
	}
}
