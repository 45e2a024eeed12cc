package initramfs

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

func sampleInputs() baseInputs {
	return baseInputs{
		GOARCH:    "s390x",
		GoVersion: "go1.26.8",
		URoot:     "v0.16.0 h1:wY40O83MBVks97+Is0WlFlOPSwKQMIrWP9R1IsrExg8=",
		Mkuimage:  "v0.0.0-20250905073043-9a40452f5d3b h1:ja/A01alYDScunNPtpH4aIN3cYTvFgeFtCk8nwEloEg=",
		Gobusybox: "v0.0.0-20250101170133-2e884e4509c7 h1:x",
		Commands:  []string{coreCmds + "ls", coreCmds + "init"},
		Init:      "init",
		Uinit:     plan.RunnerPath,
		Shell:     "gosh",
	}
}

func TestBaseKeyStable(t *testing.T) {
	// The key names cache entries: it must not change by accident. Change
	// baseFormat (and this value) when the base is built differently.
	const want = "373774cc5b0989c65ad180bf026ba24003b422b7f77e5cca302bb20c3c9ee959"
	got := sampleInputs().key()
	if got != want {
		t.Errorf("key() = %s, want %s (if the change is deliberate, update baseFormat and this test)", got, want)
	}
	reordered := sampleInputs()
	reordered.Commands = []string{coreCmds + "init", coreCmds + "ls"}
	if reordered.key() != got {
		t.Error("the key depends on the order of the commands")
	}
}

func TestBaseKeyInputs(t *testing.T) {
	base := sampleInputs().key()
	for name, mod := range map[string]func(*baseInputs){
		"goarch":    func(b *baseInputs) { b.GOARCH = "amd64" },
		"go":        func(b *baseInputs) { b.GoVersion = "go1.26.9" },
		"u-root":    func(b *baseInputs) { b.URoot = "v0.16.1 h1:y" },
		"mkuimage":  func(b *baseInputs) { b.Mkuimage = "v0.0.1 h1:z" },
		"gobusybox": func(b *baseInputs) { b.Gobusybox = "v0.0.1 h1:z" },
		"commands":  func(b *baseInputs) { b.Commands = append(b.Commands, coreCmds+"cat") },
		"init":      func(b *baseInputs) { b.Init = "other" },
		"uinit":     func(b *baseInputs) { b.Uinit = "/bin/other" },
		"shell":     func(b *baseInputs) { b.Shell = "other" },
	} {
		b := sampleInputs()
		mod(&b)
		if b.key() == base {
			t.Errorf("changing %s does not change the key", name)
		}
	}
}

func TestNewBaseInputs(t *testing.T) {
	in := newBaseInputs("amd64", "go1.26.8", module{Version: "v0.16.0", Sum: "h1:x"}, []string{"ip", coreCmds + "ls", URootModule + "/cmds/exp/rush"})
	has := map[string]bool{}
	for _, c := range in.Commands {
		if has[c] {
			t.Errorf("command %s twice", c)
		}
		has[c] = true
	}
	for _, c := range []string{coreCmds + "init", coreCmds + "gosh", coreCmds + "ip", URootModule + "/cmds/exp/rush"} {
		if !has[c] {
			t.Errorf("command %s missing from %v", c, in.Commands)
		}
	}
	if in.Uinit != plan.RunnerPath {
		t.Errorf("uinit = %q", in.Uinit)
	}
}

func TestSplitFile(t *testing.T) {
	for _, tc := range []struct {
		spec, host, guest string
		bad               bool
	}{
		{spec: "/etc/hosts", host: "/etc/hosts", guest: "/etc/hosts"},
		{spec: "/a/b:c/d", host: "/a/b", guest: "c/d"},
		{spec: "x:/opt/x", host: "x", guest: "/opt/x"},
		{spec: "", bad: true},
		{spec: ":g", bad: true},
		{spec: "h:", bad: true},
		{spec: "h:/", bad: true},
	} {
		host, guest, err := splitFile(tc.spec)
		if tc.bad {
			if err == nil {
				t.Errorf("splitFile(%q): no error", tc.spec)
			}
			continue
		}
		if err != nil || host != tc.host || guest != tc.guest {
			t.Errorf("splitFile(%q) = %q, %q, %v; want %q, %q", tc.spec, host, guest, err, tc.host, tc.guest)
		}
	}
}

func TestValidate(t *testing.T) {
	err := (&Opts{Tests: []TestPackage{{Pkg: "-x"}}, Files: []string{"a:"}, Plan: plan.Plan{Mode: plan.Suite}}).validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"no architecture", "no output path", "no cache directory", `test package "-x"`, `extra file "a:"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validate() = %v\nwant it to mention %q", err, want)
		}
	}
	x86, _ := arch.Lookup("x86_64")
	err = (&Opts{Arch: x86, Output: "x", CacheDir: "c", Plan: plan.Plan{Mode: plan.Suite}}).validate()
	if err == nil || !strings.Contains(err.Error(), "suite mode without tests") {
		t.Errorf("suite without tests: %v", err)
	}
}

func TestOverlay(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "f.txt"), []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/f.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "exe")
	if err := os.WriteFile(exe, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ov := newOverlay(&buf)
	steps := []error{
		ov.bytes("/etc/selfptrace-vm/plan.json", []byte("{}"), 0o644),
		ov.file("bin/runner", exe),
		ov.tree("/opt/tree", src),
		ov.dir("/etc"),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := ov.bytes("bin/runner", nil, 0o644); err == nil {
		t.Error("a second file at bin/runner: no error")
	}
	if err := ov.dir("bin/runner"); err == nil {
		t.Error("a directory over a file: no error")
	}
	if err := ov.bytes("/", nil, 0o644); err == nil {
		t.Error("a file at the root: no error")
	}
	if err := ov.finish(); err != nil {
		t.Fatal(err)
	}
	got, n := readNewc(t, buf.Bytes())
	if n != 1 {
		t.Errorf("%d archives", n)
	}
	for name, check := range map[string]func(entry) bool{
		"etc":                          entry.isDir,
		"etc/selfptrace-vm":            entry.isDir,
		"etc/selfptrace-vm/plan.json":  func(e entry) bool { return e.isRegular() && string(e.data) == "{}" && e.mode&0o777 == 0o644 },
		"bin":                          entry.isDir,
		"bin/runner":                   func(e entry) bool { return e.isRegular() && e.mode&0o777 == 0o755 },
		"opt/tree":                     entry.isDir,
		"opt/tree/sub/f.txt":           func(e entry) bool { return string(e.data) == "data" && e.mode&0o777 == 0o600 },
		"opt/tree/link":                func(e entry) bool { return e.isLink() && string(e.data) == "sub/f.txt" },
		"opt":                          entry.isDir,
		"opt/tree/sub":                 entry.isDir,
		"etc/selfptrace-vm/plan.json2": nil,
	} {
		e, ok := got[name]
		if check == nil {
			if ok {
				t.Errorf("%s in the archive", name)
			}
			continue
		}
		if !ok {
			t.Errorf("%s missing from the archive", name)
			continue
		}
		if !check(e) {
			t.Errorf("%s: %v", name, e)
		}
	}
}

func TestConcat(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, records func(*overlay) error) string {
		var buf bytes.Buffer
		ov := newOverlay(&buf)
		if err := records(ov); err != nil {
			t.Fatal(err)
		}
		if err := ov.finish(); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base", func(o *overlay) error { return o.bytes("etc/a", []byte("base"), 0o644) })
	top := write("top", func(o *overlay) error { return o.bytes("etc/a", []byte("overlay"), 0o644) })
	var out bytes.Buffer
	if err := concat(&out, base, top); err != nil {
		t.Fatal(err)
	}
	got, n := readNewc(t, out.Bytes())
	if n != 2 {
		t.Errorf("%d archives, want 2", n)
	}
	if string(got["etc/a"].data) != "overlay" {
		t.Errorf("etc/a = %q: the overlay does not win", got["etc/a"].data)
	}
}

func TestWriteAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := fsutil.WriteAtomic(p, 0o644, func(f io.Writer) error {
		io.WriteString(f, "partial")
		return os.ErrClosed
	})
	if err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("a failed write replaced the file: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestLockFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := lockFile(context.Background(), p)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			if n > maxInside.Load() {
				maxInside.Store(n)
			}
			time.Sleep(20 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Errorf("%d holders at once", maxInside.Load())
	}
	unlock, err := lockFile(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := lockFile(ctx, p); err == nil {
		t.Error("second lock while held: no error")
	}
}

func TestBaseEnsure(t *testing.T) {
	dir := t.TempDir()
	var builds atomic.Int32
	b := baseBuild{
		inputs:   sampleInputs(),
		cacheDir: dir,
		build: func(tmpDir, out string) error {
			builds.Add(1)
			time.Sleep(50 * time.Millisecond)
			return os.WriteFile(out, []byte("base image"), 0o644)
		},
	}
	ctx := context.Background()

	// Concurrent builds of one entry: one builds, the others wait for it.
	var wg sync.WaitGroup
	var cold atomic.Int32
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, cached, err := b.ensure(ctx)
			if err != nil {
				t.Error(err)
			}
			if !cached {
				cold.Add(1)
			}
		}()
	}
	wg.Wait()
	if builds.Load() != 1 || cold.Load() != 1 {
		t.Errorf("%d builds, %d uncached results; want 1 and 1", builds.Load(), cold.Load())
	}

	// A truncated entry is rebuilt.
	if err := os.Truncate(b.path(), 3); err != nil {
		t.Fatal(err)
	}
	p, cached, err := b.ensure(ctx)
	if err != nil || cached || builds.Load() != 2 {
		t.Errorf("after truncation: cached=%v builds=%d err=%v", cached, builds.Load(), err)
	}
	if got, _ := os.ReadFile(p); string(got) != "base image" {
		t.Errorf("entry = %q", got)
	}

	// A failed build leaves no entry and no temporary files.
	other := b
	other.inputs.GOARCH = "amd64"
	other.build = func(tmpDir, out string) error { return os.ErrPermission }
	if _, _, err := other.ensure(ctx); err == nil {
		t.Error("failing build: no error")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "tmp-") || strings.Contains(e.Name(), "amd64") && !strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("left behind: %s", e.Name())
		}
	}

	// A cancelled context stops the wait for the lock.
	unlock, err := lockFile(ctx, b.entry()+".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := b.ensure(cctx); err == nil {
		t.Error("ensure while another build holds the lock and ctx ends: no error")
	}
}

func TestBuildErrors(t *testing.T) {
	x86, _ := arch.Lookup("x86_64")
	opts := Opts{
		Arch:     x86,
		Output:   filepath.Join(t.TempDir(), "out.cpio"),
		CacheDir: t.TempDir(),
		Plan:     plan.Plan{Mode: plan.Suite},
	}
	for _, tc := range []struct {
		pkgs []TestPackage
		want string
	}{
		{[]TestPackage{{Pkg: "./testdata/nope"}}, "packing x86_64 initramfs: test package ./testdata/nope:"},
		{[]TestPackage{{Pkg: "./testdata/notests"}}, "packing x86_64 initramfs: test package ./testdata/notests: no test files"},
		{[]TestPackage{{Pkg: "./testdata/guestsmoke"}, {Pkg: "./testdata/broken", Name: "guestsmoke"}}, `both named "guestsmoke": set TestPackage.Name`},
	} {
		o := opts
		o.Tests = tc.pkgs
		_, err := Build(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%v) = %v\nwant an error with %q", tc.pkgs, err, tc.want)
		}
	}
	if _, err := os.Stat(opts.Output); !os.IsNotExist(err) {
		t.Errorf("a failed build left its output: %v", err)
	}
	ents, _ := os.ReadDir(opts.CacheDir)
	if len(ents) != 0 {
		t.Errorf("a failed build left files in the cache: %v", ents)
	}
}

func TestCompileError(t *testing.T) {
	g := goTool{path: "go", goarch: "s390x"}
	pkgs, err := resolveTests(context.Background(), g, []TestPackage{{Pkg: "./testdata/broken"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = compileTests(context.Background(), g, pkgs, t.TempDir(), nil)
	for _, want := range []string{"compiling github.com/selfptrace/selfptrace-vm/initramfs/testdata/broken", "broken_test.go:8"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("compile error = %v\nwant it to mention %q", err, want)
		}
	}
}
