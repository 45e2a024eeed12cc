// Package initramfs packs the guest image: u-root's init and tools, the
// guest runner as uinit, the test binaries and the runner's plan.
//
// The image is two concatenated cpio archives, which Linux unpacks one after
// the other:
//
//   - the base, made by mkuimage from u-root's commands (about half a minute
//     to build), cached in Opts.CacheDir under the hash of everything it
//     depends on: u-root's version, the Go version, GOARCH, the command list;
//   - the overlay, written here on every build: the runner, the test
//     binaries compiled with go test -c, the plan, extra files.
//
// So changing a test, the runner or the plan never rebuilds u-root. Test
// binaries and the runner are rebuilt every time; Go's build cache makes
// that cheap.
package initramfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

// RunnerPackage is the import path of the guest runner.
const RunnerPackage = "github.com/selfptrace/selfptrace-vm/initramfs/runner"

// Progress receives one message per step of a build; phase names the step
// ("go", "base", "tests", "runner", "overlay", "image"). It may be called
// from several goroutines at once.
type Progress func(phase, msg string)

func (p Progress) report(phase, msg string) {
	if p != nil {
		p(phase, msg)
	}
}

// TestPackage is a Go package whose tests go into the image.
type TestPackage struct {
	// Pkg is the package as go test takes it: an import path or a
	// directory relative to Opts.ModuleDir ("./tests/smoke").
	Pkg string
	// Name prefixes its tests in the results (NAME.TestX) and names the
	// binary; the last element of the import path if empty.
	Name string
	// Timeout, Args and Env go to the plan's entry for this binary.
	Timeout time.Duration
	Args    []string
	Env     []string
}

// Opts describes one image.
type Opts struct {
	// Arch is the guest architecture.
	Arch arch.Spec
	// Tests are compiled with go test -c and listed in the plan, in order.
	Tests []TestPackage
	// Files are extra host files or directories, as "HOST" (at the same
	// path in the guest) or "HOST:GUEST".
	Files []string
	// Plan is the runner's plan: mode, timeout, environment, arguments,
	// filter, command. Build appends an entry for each of Tests to its
	// Binaries; entries already there must name files added with Files.
	Plan plan.Plan
	// Output is the initrd to write.
	Output string
	// CacheDir keeps base images and temporary files; it must be on one
	// file system (files are renamed into place).
	CacheDir string
	// ModuleDir is where go commands run: the module holding the test
	// packages and the runner. The current directory if empty.
	ModuleDir string
	// Archives are prebuilt cpio archives (the Debian userland) that go
	// between the base and the overlay, so that files of the overlay
	// (--file) can replace theirs.
	Archives []string
	// Commands are u-root commands to add to DefaultCommands: import paths
	// inside github.com/u-root/u-root, or names under its cmds/core.
	Commands []string
	// GoCmd is the go command; "go" from PATH if empty.
	GoCmd    string
	Progress Progress
}

// Result tells what Build made.
type Result struct {
	// Initrd is Opts.Output.
	Initrd string
	// Base is the cached base image and BaseCached whether it was there
	// already.
	Base       string
	BaseCached bool
	// Plan is the plan written into the image.
	Plan    plan.Plan
	Timings Timings
}

// Timings are the durations of the steps of a build. Base and Tests run at
// the same time.
type Timings struct {
	Base    time.Duration // finding or building the base image
	Tests   time.Duration // compiling the runner and the tests
	Overlay time.Duration // writing the overlay
	Total   time.Duration // the whole build, the image included
}

// validate reports everything wrong with o that can be known without
// running anything.
func (o *Opts) validate() error {
	var errs []error
	if o.Arch.GOARCH == "" {
		errs = append(errs, errors.New("no architecture: set Opts.Arch from arch.Lookup"))
	}
	if o.Output == "" {
		errs = append(errs, errors.New("no output path: set Opts.Output"))
	}
	if o.CacheDir == "" {
		errs = append(errs, errors.New("no cache directory: set Opts.CacheDir"))
	}
	for _, t := range o.Tests {
		if t.Pkg == "" || strings.HasPrefix(t.Pkg, "-") {
			errs = append(errs, fmt.Errorf("test package %q: want an import path or a directory", t.Pkg))
		}
	}
	for _, f := range o.Files {
		if _, _, err := splitFile(f); err != nil {
			errs = append(errs, err)
		}
	}
	if o.Plan.Mode == plan.Suite && len(o.Tests) == 0 && len(o.Plan.Binaries) == 0 {
		errs = append(errs, errors.New("suite mode without tests: add Opts.Tests or choose run or shell mode"))
	}
	return errors.Join(errs...)
}

// splitFile parses "HOST[:GUEST]".
func splitFile(spec string) (host, guest string, err error) {
	host, guest, ok := strings.Cut(spec, ":")
	if host == "" || (ok && guest == "") {
		return "", "", fmt.Errorf("extra file %q: want HOST or HOST:GUEST", spec)
	}
	if !ok {
		guest = host
		if !filepath.IsAbs(host) {
			abs, err := filepath.Abs(host)
			if err != nil {
				return "", "", fmt.Errorf("extra file %q: %w", spec, err)
			}
			guest = abs
		}
	}
	if _, err := cleanName(guest); err != nil {
		return "", "", fmt.Errorf("extra file %q: %w", spec, err)
	}
	return host, filepath.ToSlash(guest), nil
}

// compiled is a test binary ready for the overlay.
type compiled struct {
	name    string
	binary  string // host path
	testdir string // host testdata directory, "" if none
	pkg     TestPackage
}

// Build makes the image described by o.
func Build(ctx context.Context, o Opts) (*Result, error) {
	res, err := build(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("packing %s initramfs: %w", o.Arch.Name, err)
	}
	return res, nil
}

func build(ctx context.Context, o Opts) (*Result, error) {
	start := time.Now()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Plan.Version == 0 {
		o.Plan.Version = plan.FormatVersion
	}
	if o.Plan.Mode == "" {
		o.Plan.Mode = plan.Suite
	}
	goCmd := o.GoCmd
	if goCmd == "" {
		goCmd = "go"
	}
	g := goTool{path: goCmd, dir: o.ModuleDir, goarch: o.Arch.GOARCH}

	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the cache directory: %w", err)
	}
	removeStale(o.CacheDir, o.Progress)
	work, err := os.MkdirTemp(o.CacheDir, "tmp-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	o.Progress.report("go", "looking up the Go toolchain and u-root")
	env, err := g.goEnv(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking go for its environment: %w", err)
	}
	uroot, err := g.module(ctx, URootModule)
	if err != nil {
		return nil, fmt.Errorf("locating u-root: %w", err)
	}
	pkgs, err := resolveTests(ctx, g, o.Tests)
	if err != nil {
		return nil, err
	}

	res := &Result{Initrd: o.Output}
	bb := baseBuild{
		inputs:   newBaseInputs(o.Arch.GOARCH, env.GOVERSION, uroot, o.Commands),
		urootDir: uroot.Dir,
		goroot:   env.GOROOT,
		goCmd:    goCmd,
		cacheDir: o.CacheDir,
		progress: o.Progress,
	}
	var tests []compiled
	runner := filepath.Join(work, "selfptrace-runner")
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		t0 := time.Now()
		p, cached, err := bb.ensure(ectx)
		if err != nil {
			return fmt.Errorf("building the base image: %w", err)
		}
		res.Base, res.BaseCached, res.Timings.Base = p, cached, time.Since(t0)
		return nil
	})
	eg.Go(func() error {
		t0 := time.Now()
		o.Progress.report("runner", "compiling "+RunnerPackage)
		if _, err := g.run(ectx, "build", "-trimpath", "-ldflags=-s -w", "-o", runner, RunnerPackage); err != nil {
			return fmt.Errorf("compiling the runner: %w", err)
		}
		var err error
		tests, err = compileTests(ectx, g, pkgs, work, o.Progress)
		res.Timings.Tests = time.Since(t0)
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}

	t0 := time.Now()
	p := o.Plan
	p.Binaries = append([]plan.Binary(nil), o.Plan.Binaries...)
	for _, t := range tests {
		p.Binaries = append(p.Binaries, plan.Binary{
			Name:    t.name,
			Path:    path.Join(plan.TestDir, t.name+".test"),
			Dir:     path.Join(plan.TestDir, t.name),
			Timeout: plan.Duration(t.pkg.Timeout),
			Args:    t.pkg.Args,
			Env:     t.pkg.Env,
		})
	}
	planJSON, err := p.Encode()
	if err != nil {
		return nil, err
	}
	o.Progress.report("overlay", fmt.Sprintf("writing %d test binaries, the runner and the plan", len(tests)))
	overlayPath := filepath.Join(work, "overlay.cpio")
	err = fsutil.WriteAtomic(overlayPath, 0o644, func(f io.Writer) error {
		ov := newOverlay(f)
		if err := ov.file(plan.RunnerPath, runner); err != nil {
			return err
		}
		if err := ov.bytes(plan.Path, planJSON, 0o644); err != nil {
			return err
		}
		for _, t := range tests {
			if err := ov.file(path.Join(plan.TestDir, t.name+".test"), t.binary); err != nil {
				return err
			}
			dir := path.Join(plan.TestDir, t.name)
			if err := ov.dir(dir); err != nil {
				return err
			}
			if t.testdir != "" {
				if err := ov.tree(path.Join(dir, "testdata"), t.testdir); err != nil {
					return fmt.Errorf("adding the testdata of %s: %w", t.pkg.Pkg, err)
				}
			}
		}
		for _, spec := range o.Files {
			host, guest, _ := splitFile(spec)
			if err := ov.tree(guest, host); err != nil {
				return fmt.Errorf("adding %s: %w", spec, err)
			}
		}
		return ov.finish()
	})
	if err != nil {
		return nil, fmt.Errorf("writing the overlay: %w", err)
	}
	res.Timings.Overlay = time.Since(t0)

	o.Progress.report("image", "writing "+o.Output)
	if err := os.MkdirAll(filepath.Dir(o.Output), 0o755); err != nil {
		return nil, err
	}
	err = fsutil.WriteAtomic(o.Output, 0o644, func(f io.Writer) error {
		return concat(f, append(append([]string{res.Base}, o.Archives...), overlayPath)...)
	})
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", o.Output, err)
	}
	res.Plan = p
	res.Timings.Total = time.Since(start)
	return res, nil
}

// staleAge is the age after which a temporary directory in the cache is
// taken to be left over by a build that crashed.
const staleAge = 24 * time.Hour

// removeStale removes temporary directories that builds which crashed left
// in the cache. Running builds' directories are younger than staleAge.
func removeStale(dir string, progress Progress) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "tmp-") {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleAge {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err == nil {
			progress.report("go", "removed stale "+e.Name())
		}
	}
}

// resolveTests lists the test packages for the target and checks that they
// exist, have tests, and have distinct names.
func resolveTests(ctx context.Context, g goTool, tests []TestPackage) ([]compiled, error) {
	if len(tests) == 0 {
		return nil, nil
	}
	var patterns []string
	for _, t := range tests {
		patterns = append(patterns, t.Pkg)
	}
	listed, err := g.list(ctx, patterns...)
	if err != nil {
		return nil, fmt.Errorf("listing test packages: %w", err)
	}
	if len(listed) != len(tests) {
		return nil, fmt.Errorf("listing test packages: %d patterns gave %d packages; name each package, not a pattern with ...", len(tests), len(listed))
	}
	var out []compiled
	var errs []error
	seen := map[string]string{}
	for i, p := range listed {
		t := tests[i]
		if p.Error != nil {
			errs = append(errs, fmt.Errorf("test package %s: %s", t.Pkg, p.Error.Err))
			continue
		}
		if len(p.TestGoFiles)+len(p.XTestGoFiles) == 0 {
			errs = append(errs, fmt.Errorf("test package %s: no test files", t.Pkg))
			continue
		}
		name := t.Name
		if name == "" {
			name = path.Base(p.ImportPath)
		}
		if other, dup := seen[name]; dup {
			errs = append(errs, fmt.Errorf("test packages %s and %s are both named %q: set TestPackage.Name", other, t.Pkg, name))
			continue
		}
		seen[name] = t.Pkg
		c := compiled{name: name, pkg: t}
		c.pkg.Pkg = p.ImportPath
		if st, err := os.Stat(filepath.Join(p.Dir, "testdata")); err == nil && st.IsDir() {
			c.testdir = filepath.Join(p.Dir, "testdata")
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

// compileTests runs go test -c for each package, two at a time.
func compileTests(ctx context.Context, g goTool, pkgs []compiled, dir string, progress Progress) ([]compiled, error) {
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(2)
	out := make([]compiled, len(pkgs))
	for i, c := range pkgs {
		eg.Go(func() error {
			c.binary = filepath.Join(dir, c.name+".test")
			progress.report("tests", "compiling "+c.pkg.Pkg)
			if _, err := g.run(ctx, "test", "-c", "-o", c.binary, c.pkg.Pkg); err != nil {
				return fmt.Errorf("compiling %s: %w", c.pkg.Pkg, err)
			}
			out[i] = c
			return nil
		})
	}
	return out, eg.Wait()
}
