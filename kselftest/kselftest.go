// Package kselftest builds the upstream kernel selftests that neighbour
// self-ptrace — seccomp/seccomp_bpf, syscall_user_dispatch/sud_test and
// every ptrace/ program — and the series' own self_ptrace/self_ptrace_test
// from a kernel source tree, statically linked for the guest architecture,
// so that they run in an initramfs without a C library. Running the
// neighbours on the patched and on the vanilla kernel guards against
// regressions: their results must be the same on both. self_ptrace_test
// passes on the patched kernel and skips on the vanilla one; the vanilla
// tree does not have it, so it is built there from the series
// (Options.Series, see series.go).
//
// Build is a straight line, each step's error carrying its name:
//
//  1. headers: make headers_install of the tree's uapi headers, with
//     ARCH=Spec.KernelArch, in an object directory of our own
//     (CacheDir/kselftest/work/<arch>-<tree>/hdr-obj), never the tree's;
//  2. series: a suite that the series adds and the tree lacks is taken
//     from the series (seriesSelftests);
//  3. key: the compiler (version, target, static libc), the installed
//     headers, and per program its compiler command, its sources and
//     local headers (gcc -MM) and its suite's settings file;
//  4. build: each program with "<CROSS_COMPILE>gcc -static" and the flags
//     of its Makefile (see recipes), checked with CheckStatic, into a
//     temporary directory renamed to CacheDir/kselftest/<arch>-<key>.
//
// Steps run under a per-arch, per-tree flock; an entry whose files do not
// match the checksums of its meta.json is rebuilt.
//
// seccomp_bpf links libcap (-lcap) for five calls. Debian has no libcap
// for the s390x cross toolchain, so both architectures compile
// capshim/capshim.c in its place: the same capget(2)/capset(2) calls that
// libcap makes, with libcap's argument checks (see capshim/sys/capability.h).
package kselftest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
	"github.com/selfptrace/selfptrace-vm/internal/logtail"
	"github.com/selfptrace/selfptrace-vm/internal/procgroup"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/internal/shellquote"
	"github.com/selfptrace/selfptrace-vm/kbuild"
)

//go:embed capshim
var capshimFS embed.FS

// Options describes one build.
type Options struct {
	// Arch is the guest architecture.
	Arch arch.Spec
	// SourceDir is the root of an unpacked kernel tree (patched or
	// vanilla), e.g. CacheDir/work/<arch>-patched/src. It is only read.
	SourceDir string
	// CacheDir is the root of the rig's cache.
	CacheDir string
	// Benchmarks also builds seccomp_benchmark and sud_benchmark.
	Benchmarks bool
	// Series is the self-ptrace series. A suite that it adds (a recipe
	// marked Series) and that SourceDir lacks, as the vanilla tree lacks
	// self_ptrace/, is built from it; nil leaves such a program out.
	Series []kbuild.Patch
	// Jobs is how many programs are compiled at once; the number of CPUs
	// if 0.
	Jobs int
	// Progress receives phases and updates; may be nil.
	Progress progress.Reporter
}

// Binary is one built selftest program.
type Binary struct {
	// Name is the program, e.g. "seccomp_bpf".
	Name string `json:"name"`
	// Suite is its directory under tools/testing/selftests, e.g. "seccomp".
	Suite string `json:"suite"`
	// Path is the static executable on the host, inside the cache entry.
	Path string `json:"-"`
	// SHA256 is the executable's checksum.
	SHA256 string `json:"sha256"`
	// Timeout is the suite's timeout for one run of the program (its
	// settings file, or the kselftest runner's 45s default), before any
	// scaling for emulation.
	Timeout time.Duration `json:"timeout"`
	// Benchmark is set for a program that measures rather than checks.
	Benchmark bool `json:"benchmark,omitempty"`
}

// meta is kselftest's part of an entry's meta.json (cacheentry.Meta.Info);
// the binaries' checksums are cacheentry's.
type meta struct {
	Arch      string   `json:"arch"`
	Source    string   `json:"source"`
	Compiler  string   `json:"compiler"`
	Headers   string   `json:"headers_sha256"`
	Binaries  []Binary `json:"binaries"`
	BuildTime string   `json:"build_time"`
}

// Error is a failed step of a build, with the tail of the command's output.
type Error struct {
	Arch    string
	Program string // empty for a step that is not about one program
	Step    string // headers, series, key, build, check, install
	Command string // the command that failed, shell-quoted, if any
	Tail    string // last lines of its output
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Program != "" {
		fmt.Fprintf(&b, "building %s kselftest %s: %s: %v", e.Arch, e.Program, e.Step, e.Err)
	} else {
		fmt.Fprintf(&b, "building %s kselftests: %s: %v", e.Arch, e.Step, e.Err)
	}
	if e.Command != "" {
		fmt.Fprintf(&b, "\n--- command ---\n%s", e.Command)
	}
	if e.Tail != "" {
		fmt.Fprintf(&b, "\n--- last lines of output ---\n%s", strings.TrimRight(e.Tail, "\n"))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func (o *Options) fill() {
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	if o.Progress == nil {
		o.Progress = progress.Discard{}
	}
}

func (o *Options) validate() error {
	if o.Arch.Name == "" {
		return errors.New("no architecture")
	}
	if o.CacheDir == "" {
		return errors.New("no cache directory")
	}
	if o.SourceDir == "" {
		return errors.New("no kernel source directory")
	}
	for _, f := range []string{"Makefile", "tools/testing/selftests/lib.mk"} {
		if _, err := os.Stat(filepath.Join(o.SourceDir, f)); err != nil {
			return fmt.Errorf("%s is not an unpacked kernel tree with selftests: %w", o.SourceDir, err)
		}
	}
	return hosttools.Check(hosttools.Kselftest, o.Arch)
}

// selected returns the recipes o asks for, in table order.
func (o *Options) selected() []recipe {
	var rs []recipe
	for _, r := range recipes {
		if !r.Benchmark || o.Benchmarks {
			rs = append(rs, r)
		}
	}
	return rs
}

// builder holds what Build derives from Options.
type builder struct {
	opts    Options
	cc      string
	src     string // absolute SourceDir
	work    string // per arch and tree: hdr-obj, hdr, capshim
	paths   buildPaths
	recipes []recipe
	// roots maps a suite taken from the series to the selftests directory
	// it was written to; every other suite is under paths.Selftests.
	roots map[string]string
}

// pathsFor returns the directories r is built with.
func (b *builder) pathsFor(r recipe) buildPaths {
	p := b.paths
	if root := b.roots[r.Suite]; root != "" {
		p.Selftests = root
	}
	return p
}

func (b *builder) fail(program, step string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Arch: b.opts.Arch.Name, Program: program, Step: step, Err: err}
}

// Build returns the static selftest binaries of o.Arch built from
// o.SourceDir, from the cache or built now.
func Build(ctx context.Context, o Options) ([]Binary, error) {
	o.fill()
	if err := o.validate(); err != nil {
		return nil, &Error{Arch: o.Arch.Name, Step: "check", Err: err}
	}
	src, err := filepath.Abs(o.SourceDir)
	if err != nil {
		return nil, err
	}
	tree := sha256.Sum256([]byte(src))
	id := o.Arch.Name + "-" + hex.EncodeToString(tree[:])[:12]
	b := &builder{
		opts:    o,
		cc:      o.Arch.CrossCompile + "gcc",
		src:     src,
		work:    filepath.Join(o.CacheDir, "kselftest", "work", id),
		recipes: o.selected(),
	}
	b.paths = buildPaths{
		Selftests: filepath.Join(src, "tools", "testing", "selftests"),
		Headers:   filepath.Join(b.work, "hdr"),
		Shim:      filepath.Join(b.work, "capshim"),
	}
	lock, err := fsutil.Acquire(ctx, filepath.Join(o.CacheDir, "locks", "kselftest-"+id+".lock"), func() {
		o.Progress.Phase(o.Arch.Name, "waiting for another kselftest build of this tree")
	})
	if err != nil {
		return nil, b.fail("", "lock", err)
	}
	defer lock.Unlock()
	return b.run(ctx)
}

func (b *builder) run(ctx context.Context) ([]Binary, error) {
	a := b.opts.Arch.Name
	rep := b.opts.Progress
	rep.Phase(a, "kselftest headers")
	err := b.installHeaders(ctx)
	rep.Done(a, err)
	if err != nil {
		return nil, b.fail("", "headers", err)
	}
	if err := b.unpackShim(); err != nil {
		return nil, b.fail("", "key", err)
	}
	if err := b.resolveSuites(ctx); err != nil {
		return nil, b.fail("", "series", err)
	}
	in, err := b.keyInputs(ctx)
	if err != nil {
		return nil, err
	}
	k := key(in)
	entry := filepath.Join(b.opts.CacheDir, "kselftest", a+"-"+k[:20])
	if bins, ok := b.cached(entry, k); ok {
		return bins, nil
	}
	rep.Phase(a, "kselftest build")
	bins, err := b.build(ctx, entry, k, in)
	rep.Done(a, err)
	return bins, err
}

// makeEnv is the environment of make and the compiler: ours, without the
// variables that would change a build behind the key's back (a parent
// make's jobserver and flags, gcc's search paths).
func makeEnv() []string {
	drop := map[string]bool{
		"MAKEFLAGS": true, "MFLAGS": true, "MAKELEVEL": true, "MAKEOVERRIDES": true, "GNUMAKEFLAGS": true,
		"CPATH": true, "C_INCLUDE_PATH": true, "LIBRARY_PATH": true, "GCC_EXEC_PREFIX": true, "COMPILER_PATH": true,
		"DEPENDENCIES_OUTPUT": true, "SUNPRO_DEPENDENCIES": true, "KBUILD_OUTPUT": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] && k != "LC_ALL" {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// command runs in its own process group, killed whole on cancellation.
func command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = makeEnv()
	procgroup.Own(cmd, syscall.SIGKILL)
	return cmd
}

// exec runs cmd; a failure carries the command line and its output's tail.
func (b *builder) exec(ctx context.Context, program, step string, cmd *exec.Cmd) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		out := append(stdout.Bytes(), stderr.Bytes()...)
		return nil, &Error{Arch: b.opts.Arch.Name, Program: program, Step: step, Command: shellquote.Join(cmd.Args), Tail: logtail.String(out, 30), Err: err}
	}
	return stdout.Bytes(), nil
}

// installHeaders runs headers_install into a fresh directory, from an
// object directory of our own (kept, so that the next run is incremental),
// and puts the result at paths.Headers. A fresh directory matters:
// headers_install copies with rsync and never deletes a header that the
// tree no longer has.
func (b *builder) installHeaders(ctx context.Context) error {
	if err := os.MkdirAll(b.work, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(b.work, "hdr.tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	a := b.opts.Arch
	args := []string{"-s", "-C", b.src, "O=" + filepath.Join(b.work, "hdr-obj"), "ARCH=" + a.KernelArch}
	if a.CrossCompile != "" {
		args = append(args, "CROSS_COMPILE="+a.CrossCompile)
	}
	args = append(args, "headers_install", "INSTALL_HDR_PATH="+tmp)
	if _, err := b.exec(ctx, "", "headers", command(ctx, b.work, "make", args...)); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(tmp, "include", "linux", "ptrace.h")); err != nil {
		return fmt.Errorf("headers_install left no include/linux/ptrace.h: %w", err)
	}
	if err := os.RemoveAll(b.paths.Headers); err != nil {
		return err
	}
	return os.Rename(tmp, b.paths.Headers)
}

// unpackShim writes the embedded capshim directory to paths.Shim.
func (b *builder) unpackShim() error {
	if err := os.RemoveAll(b.paths.Shim); err != nil {
		return err
	}
	return fs.WalkDir(capshimFS, "capshim", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := capshimFS.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("capshim", filepath.FromSlash(path))
		return fsutil.WriteFileAtomic(filepath.Join(b.paths.Shim, rel), data, 0o644)
	})
}

// compilerID identifies the compiler and the static C library it links.
func (b *builder) compilerID(ctx context.Context) (string, error) {
	ver, err := b.exec(ctx, "", "key", command(ctx, b.work, b.cc, "--version"))
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(ver), "\n")
	machine, err := b.exec(ctx, "", "key", command(ctx, b.work, b.cc, "-dumpmachine"))
	if err != nil {
		return "", err
	}
	libc, err := b.exec(ctx, "", "key", command(ctx, b.work, b.cc, "-print-file-name=libc.a"))
	if err != nil {
		return "", err
	}
	libcPath := strings.TrimSpace(string(libc))
	if !filepath.IsAbs(libcPath) {
		return "", fmt.Errorf("%s has no static C library libc.a (Debian: libc6-dev, or libc6-dev-<arch>-cross for a cross compiler)", b.cc)
	}
	sum, err := fsutil.HashFile(libcPath)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", libcPath, err)
	}
	return fmt.Sprintf("%s; %s; libc.a %s", strings.TrimSpace(first), strings.TrimSpace(string(machine)), sum), nil
}

func (b *builder) keyInputs(ctx context.Context) (keyInputs, error) {
	in := keyInputs{Arch: b.opts.Arch.Name}
	var err error
	if in.Compiler, err = b.compilerID(ctx); err != nil {
		return in, b.fail("", "key", err)
	}
	if in.Headers, err = hashTree(filepath.Join(b.paths.Headers, "include")); err != nil {
		return in, b.fail("", "key", fmt.Errorf("hashing the installed headers: %w", err))
	}
	for _, r := range b.recipes {
		pi, err := b.programInputs(ctx, r)
		if err != nil {
			return in, b.fail(r.Name, "key", err)
		}
		in.Programs = append(in.Programs, pi)
	}
	return in, nil
}

func (b *builder) programInputs(ctx context.Context, r recipe) (programInputs, error) {
	pi := programInputs{Suite: r.Suite, Name: r.Name, Args: r.compileArgs(keyPaths, r.Name)}
	p := b.pathsFor(r)
	if _, err := os.Stat(r.source(p)); err != nil {
		return pi, fmt.Errorf("the tree has no %s/%s.c: %w", r.Suite, r.Name, err)
	}
	out, err := b.exec(ctx, r.Name, "key", command(ctx, filepath.Join(p.Selftests, r.Suite), b.cc, r.depArgs(p)...))
	if err != nil {
		return pi, err
	}
	deps, err := parseDeps(out)
	if err != nil {
		return pi, err
	}
	for _, d := range deps {
		name, ok := depName(p, d)
		if !ok {
			continue
		}
		sum, err := fsutil.HashFile(d)
		if err != nil {
			return pi, err
		}
		pi.Deps = append(pi.Deps, fileSum{Name: name, SHA256: sum})
	}
	if data, err := os.ReadFile(filepath.Join(p.Selftests, r.Suite, "settings")); err == nil {
		s := sha256.Sum256(data)
		pi.Settings = hex.EncodeToString(s[:])
	} else if !errors.Is(err, fs.ErrNotExist) {
		return pi, err
	}
	return pi, nil
}

func (b *builder) timeout(r recipe) (time.Duration, error) {
	data, err := os.ReadFile(filepath.Join(b.pathsFor(r).Selftests, r.Suite, "settings"))
	if errors.Is(err, fs.ErrNotExist) {
		return defaultTimeout, nil
	}
	if err != nil {
		return 0, err
	}
	d, err := parseSettings(data)
	if err != nil {
		return 0, fmt.Errorf("%s/settings: %w", r.Suite, err)
	}
	return d, nil
}

// cached returns the binaries of entry if its meta.json has key k and
// every binary matches its checksum. A damaged entry is removed.
func (b *builder) cached(entry, k string) ([]Binary, bool) {
	var m meta
	names := make([]string, len(b.recipes))
	for i, r := range b.recipes {
		names[i] = r.Name
	}
	e, err := cacheentry.Open(entry, k, &m, names...)
	if err != nil {
		var de *cacheentry.DamagedError
		if errors.As(err, &de) {
			b.opts.Progress.Update(b.opts.Arch.Name, "kselftest "+de.Error()+", rebuilding")
		}
		return nil, false
	}
	if len(m.Binaries) != len(b.recipes) {
		os.RemoveAll(entry)
		return nil, false
	}
	for i := range m.Binaries {
		bin := &m.Binaries[i]
		bin.Path = e.Path(bin.Name)
		bin.SHA256 = e.Meta.Files[bin.Name]
	}
	return m.Binaries, true
}

// build compiles every recipe into a staged entry and publishes it.
func (b *builder) build(ctx context.Context, entry, k string, in keyInputs) ([]Binary, error) {
	a := b.opts.Arch
	st, err := cacheentry.Stage(entry)
	if err != nil {
		return nil, b.fail("", "install", err)
	}
	defer st.Discard()
	bins := make([]Binary, len(b.recipes))
	var done atomic.Int32
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.opts.Jobs)
	for i, r := range b.recipes {
		g.Go(func() error {
			out := st.Path(r.Name)
			p := b.pathsFor(r)
			cmd := command(gctx, filepath.Join(p.Selftests, r.Suite), b.cc, r.compileArgs(p, out)...)
			if _, err := b.exec(gctx, r.Name, "build", cmd); err != nil {
				return err
			}
			if err := CheckStatic(out, a); err != nil {
				return b.fail(r.Name, "check", err)
			}
			d, err := b.timeout(r)
			if err != nil {
				return b.fail(r.Name, "build", err)
			}
			bins[i] = Binary{Name: r.Name, Suite: r.Suite, Timeout: d, Benchmark: r.Benchmark}
			n := done.Add(1)
			b.opts.Progress.Update(a.Name, fmt.Sprintf("%d/%d, built %s", n, len(b.recipes), r.Name))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := range bins {
		if bins[i].SHA256, err = st.Add(bins[i].Name); err != nil {
			return nil, b.fail(bins[i].Name, "install", err)
		}
	}
	m := meta{Arch: a.Name, Source: b.src, Compiler: in.Compiler, Headers: in.Headers, Binaries: bins, BuildTime: time.Now().UTC().Format(time.RFC3339)}
	// Another tree with the same content may have built the same entry
	// meanwhile (the lock is per tree): Publish keeps it if it is sound.
	if err := st.Publish(k, m); err != nil {
		return nil, b.fail("", "install", err)
	}
	got, ok := b.cached(entry, k)
	if !ok {
		return nil, b.fail("", "install", fmt.Errorf("the published entry %s does not verify", entry))
	}
	return got, nil
}
