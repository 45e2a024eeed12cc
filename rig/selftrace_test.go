package rig

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
	"github.com/selfptrace/selfptrace-vm/internal/kernelsrc"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/selftrace"
	"github.com/selfptrace/selfptrace-vm/userland"
)

// TestSelftraceWithoutTheWorkTree: a kernel from the cache whose work
// tree is gone (CI restores only the kernels) still gets selftrace, with
// the system call table of --kernel-src, placed inside the userland.
func TestSelftraceWithoutTheWorkTree(t *testing.T) {
	a, err := arch.Lookup("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	if err := hosttools.Check(hosttools.Selftrace, a); err != nil {
		t.Skip(err)
	}
	tree, err := kernelsrc.Find(context.Background(), kbuild.DefaultSource, cacheentry.DefaultRoot())
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	module := t.TempDir()
	for name, content := range map[string]string{
		"tools/selftrace/libselftrace.c":    "#include \"syscalls.h\"\n__attribute__((visibility(\"default\"))) int selftrace_probe(void) { return 1; }\n",
		"tools/selftrace/selftrace.c":       "#include \"syscalls.h\"\nint main(void) { return 0; }\n",
		"tools/selftrace/testprogs/hello.c": "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
	} {
		p := filepath.Join(module, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache := t.TempDir()
	o := Options{Kernel: kbuild.Options{Arch: a, CacheDir: cache, Source: tree}, ModuleDir: module, Progress: progress.Discard{}}
	k := &kbuild.Kernel{Source: filepath.Join(cache, "work", "x86_64-patched", "src"), CacheHit: true}
	st, err := buildSelftrace(context.Background(), o, k)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(st.Dir) != filepath.Join(cache, "selftrace") {
		t.Errorf("entry %s, want one in %s", st.Dir, filepath.Join(cache, "selftrace"))
	}
	files := st.GuestFiles(userland.GuestRoot)
	for _, want := range []string{
		userland.GuestRoot + selftrace.GuestLauncher,
		userland.GuestRoot + selftrace.GuestLibrary,
		userland.GuestRoot + selftrace.GuestTestProgDir + "/hello",
		userland.GuestRoot + selftrace.GuestTestProgDir + "/static-hello",
	} {
		if !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, ":"+want) }) {
			t.Errorf("no file at %s: %q", want, files)
		}
	}
	for _, f := range files {
		host, _, _ := strings.Cut(f, ":")
		if info, err := os.Stat(host); err != nil || info.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v; want mode 0755 (the overlay keeps it)", host, info, err)
		}
	}
}
