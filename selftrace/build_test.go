package selftrace

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
	"github.com/selfptrace/selfptrace-vm/internal/kernelsrc"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/selftrace/systable"
)

// fakeSources are a minimal tools/selftrace: a freestanding library that
// uses syscalls.h, a launcher, a threaded test program and hello.c (which
// also makes static-hello).
var fakeSources = map[string]string{
	"libselftrace.c": `#include "syscalls.h"
static long calls;
/* An atomic: on arm64 it needs -mno-outline-atomics without libc. */
__attribute__((visibility("default"))) long selftrace_probe(long x) { return __atomic_add_fetch(&calls, x, __ATOMIC_SEQ_CST); }
`,
	"selftrace.c": `#include <stdio.h>
#include "syscalls.h"
int main(void) { puts("selftrace"); return 0; }
`,
	"arch/x86_64.h":     "/* arch */\n",
	"DESIGN.md":         "# design\n",
	"testprogs/hello.c": "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
	"testprogs/threads.c": `#include <pthread.h>
static void *run(void *p) { return p; }
int main(void) { pthread_t t; pthread_create(&t, 0, run, 0); return pthread_join(t, 0); }
`,
}

// fakeSrcDir writes fakeSources, with files replaced or added, into a new
// directory.
func fakeSrcDir(t *testing.T, replace map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files := maps.Clone(fakeSources)
	maps.Copy(files, replace)
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func lookupArch(t *testing.T, name string) arch.Spec {
	t.Helper()
	a, err := arch.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// needCompiler skips the test without a's C compiler.
func needCompiler(t *testing.T, a arch.Spec) {
	t.Helper()
	if err := hosttools.Check(hosttools.Selftrace, a); err != nil {
		t.Skip(err)
	}
}

// fakeTable stands for systable.Generate in the tests that need no kernel
// tree.
func fakeTable(src, archName string, w io.Writer) error {
	_, err := fmt.Fprintf(w, "/* syscalls.h for %s from %s */\n#define SELFTRACE_NR_getpid 39\n", archName, src)
	return err
}

// kernelTree finds a kernel tree with the system call tables, or skips.
func kernelTree(t *testing.T) string {
	t.Helper()
	dir, err := kernelsrc.Find(context.Background(), kbuild.DefaultSource, cacheentry.DefaultRoot())
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// recorder runs commands for real and remembers them.
type recorder struct {
	mu   sync.Mutex
	runs [][]string
}

func (r *recorder) run(ctx context.Context, dir string, argv []string) ([]byte, error) {
	r.mu.Lock()
	r.runs = append(r.runs, slices.Clone(argv))
	r.mu.Unlock()
	return runCommand(ctx, dir, argv)
}

// compiled returns the commands that compiled something (had -o).
func (r *recorder) compiled() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]string
	for _, argv := range r.runs {
		if slices.Contains(argv, "-o") {
			out = append(out, argv)
		}
	}
	return out
}

// machines are the ELF machines the tests expect.
var machines = map[string]elf.Machine{"x86_64": elf.EM_X86_64, "s390x": elf.EM_S390, "arm64": elf.EM_AARCH64, "riscv64": elf.EM_RISCV}

func checkELF(t *testing.T, path string, want elf.Machine, interp bool) *elf.File {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("%s: mode %v, want 0755", path, st.Mode().Perm())
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	if f.Machine != want {
		t.Errorf("%s: machine %v, want %v", path, f.Machine, want)
	}
	has := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
	if has != interp {
		t.Errorf("%s: program interpreter %v, want %v", path, has, interp)
	}
	return f
}

// TestBuild builds the fake sources with the real compilers and the real
// system call table, then finds them in the cache without compiling.
func TestBuild(t *testing.T) {
	src := kernelTree(t)
	for _, name := range []string{"x86_64", "s390x", "arm64", "riscv64"} {
		t.Run(name, func(t *testing.T) {
			a := lookupArch(t, name)
			needCompiler(t, a)
			o := Options{Arch: a, KernelSrc: src, SrcDir: fakeSrcDir(t, nil), CacheDir: t.TempDir()}
			art, err := Build(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if art.CacheHit || len(art.Key) != 64 || filepath.Dir(art.Dir) != o.CacheDir || filepath.Base(art.Dir) != name+"-"+art.Key[:20] {
				t.Errorf("first build: %+v", art)
			}
			checkELF(t, art.Launcher, machines[name], true)
			lib := checkELF(t, art.Library, machines[name], false)
			if lib.Type != elf.ET_DYN {
				t.Errorf("library: ELF type %v", lib.Type)
			}
			if libs, err := lib.ImportedLibraries(); err != nil || len(libs) != 0 {
				t.Errorf("library needs %v (%v), want nothing: it is freestanding", libs, err)
			}
			var names []string
			for _, p := range art.TestProgs {
				names = append(names, filepath.Base(p))
				checkELF(t, p, machines[name], filepath.Base(p) != staticHello)
			}
			if want := []string{"hello", "static-hello", "threads"}; !slices.Equal(names, want) {
				t.Errorf("test programs %v, want %v", names, want)
			}

			rec := &recorder{}
			o.run = rec.run
			again, err := Build(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if !again.CacheHit || again.Key != art.Key || again.Launcher != art.Launcher {
				t.Errorf("second build: %+v, want a hit on %+v", again, art)
			}
			if c := rec.compiled(); len(c) > 0 {
				t.Errorf("a cache hit compiled: %q", c)
			}
		})
	}
}

// fakeCompiler writes the output of every compiling command (an ELF
// header's first bytes will do: nothing reads it) and answers the identity
// queries.
type fakeCompiler struct {
	recorder
	fail string // a source whose compilation fails
}

func (f *fakeCompiler) run(ctx context.Context, dir string, argv []string) ([]byte, error) {
	f.mu.Lock()
	f.runs = append(f.runs, slices.Clone(argv))
	f.mu.Unlock()
	switch {
	case slices.Contains(argv, "-dumpfullversion"):
		return []byte("12.2.0\n"), nil
	case slices.Contains(argv, "-dumpmachine"):
		return []byte("fake-linux-gnu\n"), nil
	case slices.ContainsFunc(argv, func(s string) bool { return strings.HasPrefix(s, "-print-file-name=") }):
		return []byte(os.Args[0] + "\n"), nil // any absolute file
	}
	i := slices.Index(argv, "-o")
	if i < 0 {
		return nil, fmt.Errorf("unexpected command %q", argv)
	}
	if f.fail != "" && slices.ContainsFunc(argv, func(a string) bool { return strings.HasSuffix(a, "/"+f.fail) }) {
		return nil, &cmdError{argv: argv, output: []byte(f.fail + ":1:1: error: expected declaration\n"), err: errors.New("exit status 1")}
	}
	return nil, os.WriteFile(argv[i+1], []byte("\x7fELF"), 0o700)
}

func fakeOptions(t *testing.T, fc *fakeCompiler, replace map[string]string) Options {
	t.Helper()
	return Options{
		Arch: lookupArch(t, "s390x"), KernelSrc: "/kernel", SrcDir: fakeSrcDir(t, replace), CacheDir: t.TempDir(),
		run: fc.run, generate: fakeTable, lookPath: func(name string) (string, error) { return "/usr/bin/" + name, nil },
	}
}

// TestCommands checks the compiler commands and the entry they make,
// without a compiler.
func TestCommands(t *testing.T) {
	fc := &fakeCompiler{}
	o := fakeOptions(t, fc, nil)
	art, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	byOut := map[string][]string{}
	for _, argv := range fc.compiled() {
		if argv[0] != "s390x-linux-gnu-gcc" {
			t.Errorf("compiler %s, want s390x-linux-gnu-gcc", argv[0])
		}
		byOut[filepath.Base(argv[slices.Index(argv, "-o")+1])] = argv
	}
	for out, want := range map[string][]string{
		"libselftrace.so": {"-shared", "-fPIC", "-nostdlib", "-ffreestanding", "-fno-stack-protector", "-fvisibility=hidden", "-lgcc", "-I" + o.SrcDir},
		"selftrace":       {"-O2", "-Wall", "-Wextra", "-I" + o.SrcDir, filepath.Join(o.SrcDir, "selftrace.c")},
		"hello":           {"-pthread", filepath.Join(o.SrcDir, "testprogs", "hello.c")},
		"static-hello":    {"-static", filepath.Join(o.SrcDir, "testprogs", "hello.c")},
		"threads":         {"-pthread", filepath.Join(o.SrcDir, "testprogs", "threads.c")},
	} {
		argv, ok := byOut[out]
		if !ok {
			t.Errorf("nothing made %s", out)
			continue
		}
		for _, w := range want {
			if !slices.Contains(argv, w) {
				t.Errorf("%s: %q lacks %s", out, argv, w)
			}
		}
		if out != "static-hello" && slices.Contains(argv, "-static") {
			t.Errorf("%s is linked statically: %q", out, argv)
		}
		// syscalls.h is in the build directory, which the library and
		// the launcher have on their include path.
		if out == "libselftrace.so" || out == "selftrace" {
			if !slices.ContainsFunc(argv, func(a string) bool { return strings.HasPrefix(a, "-I"+filepath.Join(o.CacheDir, ".tmp-build-")) }) {
				t.Errorf("%s: no -I of the build directory: %q", out, argv)
			}
		}
	}
	if len(byOut) != 5 {
		t.Errorf("%d compilations, want 5: %v", len(byOut), byOut)
	}
	for _, p := range append([]string{art.Launcher, art.Library}, art.TestProgs...) {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v; want mode 0755", p, st, err)
		}
	}
	ents, _ := os.ReadDir(o.CacheDir)
	if len(ents) != 1 || ents[0].Name() != filepath.Base(art.Dir) {
		t.Errorf("the cache holds %v, want only the entry (no temporary directories)", ents)
	}
}

// TestKey: the key follows the sources, the table and the compiler, and
// nothing else.
func TestKey(t *testing.T) {
	fc := &fakeCompiler{}
	o := fakeOptions(t, fc, nil)
	base, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// The same sources elsewhere and another kernel path with the same
	// table: the same key.
	same := o
	same.SrcDir = fakeSrcDir(t, nil)
	same.CacheDir = t.TempDir()
	if a, err := Build(context.Background(), same); err != nil || a.Key != base.Key {
		t.Errorf("the same sources elsewhere: %v, key %s, want %s", err, a.Key, base.Key)
	}
	for what, change := range map[string]func(o *Options){
		"a changed source": func(o *Options) {
			os.WriteFile(filepath.Join(o.SrcDir, "arch", "x86_64.h"), []byte("/* changed */\n"), 0o644)
		},
		"a changed document": func(o *Options) { os.WriteFile(filepath.Join(o.SrcDir, "DESIGN.md"), []byte("changed\n"), 0o644) },
		"a new test program": func(o *Options) {
			os.WriteFile(filepath.Join(o.SrcDir, "testprogs", "new.c"), []byte("int main(void){return 0;}\n"), 0o644)
		},
		"another architecture": func(o *Options) { o.Arch = lookupArch(t, "arm64") },
		"another table": func(o *Options) {
			o.generate = func(src, a string, w io.Writer) error { _, err := io.WriteString(w, "/* other */\n"); return err }
		},
		"another compiler": func(o *Options) {
			o.run = func(ctx context.Context, dir string, argv []string) ([]byte, error) {
				if slices.Contains(argv, "-dumpfullversion") {
					return []byte("13.1.0\n"), nil
				}
				return fc.run(ctx, dir, argv)
			}
		},
	} {
		c := o
		c.SrcDir = fakeSrcDir(t, nil)
		change(&c)
		a, err := Build(context.Background(), c)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		if a.Key == base.Key || a.CacheHit {
			t.Errorf("%s: key %s, hit %v: want a new entry", what, a.Key, a.CacheHit)
		}
	}
}

// TestCompileErrorLeavesNoEntry: a failed compilation says what failed,
// with the command and the compiler's output, and leaves nothing behind.
func TestCompileErrorLeavesNoEntry(t *testing.T) {
	broken := map[string]string{"libselftrace.c": "#include \"syscalls.h\"\nthis is not C\n"}
	check := func(t *testing.T, o Options, archName string) {
		_, err := Build(context.Background(), o)
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for _, want := range []string{"building selftrace for " + archName + ": compiling libselftrace.c: ", "--- command ---", "-nostdlib", "error:"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q:\n%s", want, msg)
			}
		}
		var ce *CompileError
		if !errors.As(err, &ce) || ce.What != "libselftrace.c" {
			t.Errorf("error %v is not a *CompileError for libselftrace.c", err)
		}
		ents, _ := os.ReadDir(o.CacheDir)
		if len(ents) != 0 {
			t.Errorf("a failed build left %v in the cache", ents)
		}
	}
	t.Run("fake", func(t *testing.T) {
		fc := &fakeCompiler{fail: "libselftrace.c"}
		check(t, fakeOptions(t, fc, broken), "s390x")
	})
	t.Run("gcc", func(t *testing.T) {
		a := lookupArch(t, "x86_64")
		needCompiler(t, a)
		o := Options{Arch: a, KernelSrc: "/kernel", SrcDir: fakeSrcDir(t, broken), CacheDir: t.TempDir(), generate: fakeTable}
		check(t, o, "x86_64")
	})
}

// TestMissingCompiler names the Debian package of the cross compiler.
func TestMissingCompiler(t *testing.T) {
	fc := &fakeCompiler{}
	o := fakeOptions(t, fc, nil)
	o.lookPath = func(name string) (string, error) { return "", exec.ErrNotFound }
	_, err := Build(context.Background(), o)
	var me *hosttools.MissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "s390x-linux-gnu-gcc") || !strings.Contains(err.Error(), "apt-get install gcc-s390x-linux-gnu") ||
		!strings.HasPrefix(err.Error(), "building selftrace for s390x: ") {
		t.Errorf("error %v, want a *hosttools.MissingError naming gcc-s390x-linux-gnu", err)
	}
	if len(fc.runs) != 0 {
		t.Errorf("ran %q without a compiler", fc.runs)
	}
}

func TestMissingCLibrary(t *testing.T) {
	fc := &fakeCompiler{}
	o := fakeOptions(t, fc, nil)
	o.run = func(ctx context.Context, dir string, argv []string) ([]byte, error) {
		if slices.Contains(argv, "-print-file-name=libc.a") {
			return []byte("libc.a\n"), nil // gcc's answer when it has none
		}
		return fc.run(ctx, dir, argv)
	}
	_, err := Build(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "libc6-dev-s390x-cross") {
		t.Errorf("error %v, want one naming libc6-dev-s390x-cross", err)
	}
}

func TestBadOptions(t *testing.T) {
	_, err := Build(context.Background(), Options{})
	for _, want := range []string{"no architecture", "no kernel source", "no cache directory", "no source directory"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	fc := &fakeCompiler{}
	o := fakeOptions(t, fc, nil)
	o.SrcDir = t.TempDir()
	if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "not the selftrace source directory") {
		t.Errorf("an empty source directory: %v", err)
	}
	o = fakeOptions(t, fc, map[string]string{"testprogs/static-hello.c": "int main(void){return 0;}\n"})
	if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "static-hello") {
		t.Errorf("a test program called static-hello: %v", err)
	}
	o = fakeOptions(t, fc, nil)
	o.generate = func(string, string, io.Writer) error { return errors.New("no table") }
	if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "generating syscalls.h from /kernel: no table") {
		t.Errorf("a failing generator: %v", err)
	}
}

// TestConcurrentBuilds: builds of one key at once all succeed and leave
// one sound entry.
func TestConcurrentBuilds(t *testing.T) {
	fc := &fakeCompiler{}
	o := fakeOptions(t, fc, nil)
	const n = 4
	arts := make([]*Artifacts, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { arts[i], errs[i] = Build(context.Background(), o) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if arts[i].Dir != arts[0].Dir || arts[i].Key != arts[0].Key {
			t.Errorf("build %d: %+v, build 0: %+v", i, arts[i], arts[0])
		}
	}
	ents, _ := os.ReadDir(o.CacheDir)
	if len(ents) != 1 {
		t.Errorf("the cache holds %v, want one entry", ents)
	}
	again, err := Build(context.Background(), o)
	if err != nil || !again.CacheHit {
		t.Errorf("after the race: %+v, %v; want a hit", again, err)
	}
}

// TestDamagedEntryIsRebuilt: an entry whose file no longer matches its
// checksum is not used.
func TestDamagedEntryIsRebuilt(t *testing.T) {
	fc := &fakeCompiler{}
	o := fakeOptions(t, fc, nil)
	art, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(art.Library, []byte("truncated"), 0o755); err != nil {
		t.Fatal(err)
	}
	again, err := Build(context.Background(), o)
	if err != nil || again.CacheHit {
		t.Fatalf("after damage: %+v, %v; want a rebuild", again, err)
	}
	if data, _ := os.ReadFile(again.Library); string(data) != "\x7fELF" {
		t.Errorf("library not rebuilt: %q", data)
	}
}

func TestGuestFiles(t *testing.T) {
	a := &Artifacts{Launcher: "/c/e/selftrace", Library: "/c/e/libselftrace.so", TestProgs: []string{"/c/e/testprogs/hello", "/c/e/testprogs/static-hello"}}
	got := a.GuestFiles("/debian")
	want := []string{
		"/c/e/selftrace:/debian/usr/local/bin/selftrace",
		"/c/e/libselftrace.so:/debian/usr/local/lib/selftrace/libselftrace.so",
		"/c/e/testprogs/hello:/debian/usr/local/libexec/selftrace/hello",
		"/c/e/testprogs/static-hello:/debian/usr/local/libexec/selftrace/static-hello",
	}
	if !slices.Equal(got, want) {
		t.Errorf("GuestFiles = %q, want %q", got, want)
	}
}

// TestTablePatternsSuffice: the members kernelsrc extracts from a tarball
// (when a cached kernel comes without its work tree) give the same
// syscalls.h as the whole tree.
func TestTablePatternsSuffice(t *testing.T) {
	if testing.Short() {
		t.Skip("extracts a fifth of the kernel tarball")
	}
	full, err := kernelsrc.Locate(cacheentry.DefaultRoot())
	if err != nil || full == "" {
		t.Skipf("no unpacked kernel tree (%v)", err)
	}
	if _, err := os.Stat(kbuild.DefaultSource); err != nil {
		t.Skip(err)
	}
	part, err := kernelsrc.Tables(context.Background(), kbuild.DefaultSource, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(part) != filepath.Base(full) {
		t.Skipf("%s is not the tree of %s", full, kbuild.DefaultSource)
	}
	for _, a := range arch.All() {
		var want, got strings.Builder
		if err := systable.Generate(full, a.Name, &want); err != nil {
			t.Fatalf("%s, whole tree: %v", a.Name, err)
		}
		if err := systable.Generate(part, a.Name, &got); err != nil {
			t.Fatalf("%s, extracted members: %v", a.Name, err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: syscalls.h from the extracted members differs from the whole tree's", a.Name)
		}
	}
}

func TestStaleTemporaryDirectoriesGo(t *testing.T) {
	fc := &fakeCompiler{}
	o := fakeOptions(t, fc, nil)
	old := filepath.Join(o.CacheDir, ".tmp-build-123")
	young := filepath.Join(o.CacheDir, ".tmp-s390x-abc-456")
	for _, d := range []string{old, young} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * staleAge)
	os.Chtimes(old, long, long)
	if _, err := Build(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); err == nil {
		t.Error("a day-old temporary directory is still there")
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a running build's directory was removed: %v", err)
	}
}
