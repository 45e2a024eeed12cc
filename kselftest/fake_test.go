package kselftest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// fakeTree writes a kernel tree with just enough for Build: a Makefile
// whose headers_install writes one header, and a trivial program for each
// recipe.
func fakeTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Makefile", "headers_install:\n\tmkdir -p $(INSTALL_HDR_PATH)/include/linux\n\techo '#define FAKE_ARCH \"$(ARCH)\"' > $(INSTALL_HDR_PATH)/include/linux/ptrace.h\n")
	st := "tools/testing/selftests/"
	write(st+"lib.mk", "")
	write(st+"kselftest.h", "#include <stdio.h>\n")
	write(st+"seccomp/settings", "timeout=180\n")
	for _, r := range recipes {
		body := "#include \"../kselftest.h\"\n#include <linux/ptrace.h>\nint main(void) { puts(FAKE_ARCH); return 0; }\n"
		if len(r.shims()) > 0 {
			body = "#include \"../kselftest.h\"\n#include <linux/ptrace.h>\n#include <sys/capability.h>\n" +
				"int main(void) { cap_t c = cap_get_proc(); puts(FAKE_ARCH); return cap_free(c); }\n"
		}
		write(st+r.Suite+"/"+r.Name+".c", body)
	}
	return src
}

// TestBuildFakeTree runs Build end to end on a fake tree with the host
// compiler: a cold build, a cache hit, a rebuild after a source change,
// and a compiler error.
func TestBuildFakeTree(t *testing.T) {
	for _, tool := range []string{"make", "gcc", "rsync"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("no", tool)
		}
	}
	x86, _ := arch.Lookup("x86_64")
	if _, err := exec.Command("gcc", "-print-file-name=libc.a").Output(); err != nil {
		t.Skip("no static libc")
	}
	src := fakeTree(t)
	o := Options{Arch: x86, SourceDir: src, CacheDir: t.TempDir()}
	ctx := context.Background()
	bins, err := Build(ctx, o)
	if err != nil {
		if strings.Contains(err.Error(), "no static C library") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if len(bins) != len(o.selected()) {
		t.Fatalf("%d binaries, want %d", len(bins), len(o.selected()))
	}
	for _, b := range bins {
		if err := CheckStatic(b.Path, x86); err != nil {
			t.Error(err)
		}
		wantTimeout := defaultTimeout
		if b.Suite == "seccomp" {
			wantTimeout = 180e9
		}
		if b.Timeout != wantTimeout {
			t.Errorf("%s: timeout %v, want %v", b.Name, b.Timeout, wantTimeout)
		}
	}
	out, err := exec.Command(bins[0].Path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "x86_64" {
		t.Errorf("%s: %q, %v", bins[0].Name, out, err)
	}

	again, err := Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Path != bins[0].Path {
		t.Errorf("cache miss: %s, then %s", bins[0].Path, again[0].Path)
	}

	// A change to a shared header makes a new entry.
	hdr := filepath.Join(src, "tools/testing/selftests/kselftest.h")
	if err := os.WriteFile(hdr, []byte("#include <stdio.h>\n/* changed */\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if changed[0].Path == bins[0].Path {
		t.Error("header change did not change the key")
	}

	// A compiler error names the arch, the program and the step, and
	// carries the command and the compiler's message.
	bad := filepath.Join(src, "tools/testing/selftests/ptrace/vmaccess.c")
	if err := os.WriteFile(bad, []byte("int main(void) { return undefined_thing; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Build(ctx, o)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	msg := err.Error()
	for _, want := range []string{"building x86_64 kselftest vmaccess: build: ", "undefined_thing", "--- command ---", "-static"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(o.CacheDir, "kselftest", ".tmp-*")); len(entries) != 0 {
		t.Errorf("failed build left %v", entries)
	}
}
