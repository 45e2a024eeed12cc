// Package kbuild builds a guest kernel for one architecture: extract the
// source, apply the patch series, make the config from tinyconfig and the
// fragments, verify it, build, and store the image in a content-addressed
// cache. Each step's error carries the step's name.
package kbuild

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
	"github.com/selfptrace/selfptrace-vm/internal/logtail"
	"github.com/selfptrace/selfptrace-vm/internal/procgroup"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/report"
)

// keyVersion changes whenever the cache layout or the build recipe changes,
// so old entries are never mistaken for new ones.
const keyVersion = "selfptrace-vm kbuild v2"

// Options describes one kernel build.
type Options struct {
	Arch arch.Spec
	// Source is a tarball, an unpacked tree or a git checkout; DefaultSource if empty.
	Source string
	// SeriesDir holds the quilt "series" file and the patches.
	SeriesDir string
	// Vanilla builds without the series.
	Vanilla bool
	// AsIs builds Source exactly as it is, without the series, and labels
	// the kernel as-is (not vanilla): a developer's own tree, whatever it
	// holds. It has its own work tree.
	AsIs bool
	// ConfigDir holds common.config and the per-arch fragment named by Arch.Config.
	ConfigDir string
	// Profile adds its fragment after the arch's; the zero value is the
	// default profile.
	Profile Profile
	// CacheDir is the root of the build cache.
	CacheDir string
	// Jobs is make's -j; the number of CPUs if 0.
	Jobs int
	// Progress receives phases and updates; may be nil.
	Progress progress.Reporter
}

// Kernel is a built (or cached) kernel.
type Kernel struct {
	Arch    string `json:"arch"`
	Key     string `json:"key"`
	Release string `json:"release"`
	Patched bool   `json:"patched"`
	// Flavor is report.FlavorPatched, FlavorVanilla or FlavorAsIs.
	Flavor string `json:"flavor"`
	// Tree is the git tree built, when the source is one.
	Tree     *report.Tree `json:"tree,omitempty"`
	Profile  string       `json:"profile"`
	Image    string       `json:"image"`
	Vmlinux  string       `json:"vmlinux"`
	Config   string       `json:"config"`
	BuildLog string       `json:"build_log,omitempty"`
	// Source is the patched (or vanilla) source tree the kernel was built
	// from, kept in the cache for incremental builds and for kselftests.
	Source   string        `json:"source,omitempty"`
	CacheHit bool          `json:"cache_hit"`
	Duration time.Duration `json:"-"`
}

// meta is kbuild's part of an entry's meta.json (cacheentry.Meta.Info);
// the checksums of the image, vmlinux and config are cacheentry's.
type meta struct {
	Arch    string `json:"arch"`
	Release string `json:"release"`
	Patched bool   `json:"patched"`
	Source  string `json:"source"`
	Series  string `json:"series,omitempty"`
}

// StepError is a failed build step with the tail of its log.
type StepError struct {
	Arch string
	Step string // extract, patch, config, build, install
	Log  string // path of the full log, if any
	Tail string // last lines of output
	Err  error
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "building %s kernel: %s: %v", e.Arch, e.Step, e.Err)
	if e.Tail != "" {
		fmt.Fprintf(&b, "\n--- last lines of output ---\n%s", strings.TrimRight(e.Tail, "\n"))
	}
	if e.Log != "" {
		fmt.Fprintf(&b, "\n--- full log: %s", e.Log)
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// plan is everything Build derives from Options before doing any work.
type plan struct {
	opts      Options
	src       source
	series    []Patch
	fragments []byte
	compiler  string
	key       string
	flavor    string
	entry     string
	work      string
}

func (o *Options) fill() {
	if o.Source == "" {
		o.Source = DefaultSource
	}
	if o.Jobs <= 0 {
		o.Jobs = numCPU()
	}
	if o.Progress == nil {
		o.Progress = progress.Discard{}
	}
}

// Key computes the cache key of a build without building: the same value
// Build uses. CI uses it as its cache key.
func Key(ctx context.Context, o Options) (string, error) {
	o.fill()
	p, err := newPlan(ctx, o)
	if err != nil {
		return "", err
	}
	return p.key, nil
}

func newPlan(ctx context.Context, o Options) (*plan, error) {
	if o.Vanilla && o.AsIs {
		return nil, errors.New("kbuild: a kernel is vanilla or as-is, not both")
	}
	p := &plan{opts: o, flavor: o.Flavor()}
	if o.CacheDir == "" {
		return nil, errors.New("kbuild: no cache directory")
	}
	if err := hosttools.Check(hosttools.KernelBuild, o.Arch); err != nil {
		return nil, err
	}
	src, err := resolveSource(ctx, o.Arch, o.Source)
	if err != nil {
		return nil, err
	}
	p.src = src
	if p.patched() {
		if p.series, err = ReadSeries(o.SeriesDir); err != nil {
			return nil, err
		}
	}
	if p.fragments, err = readFragments(o.ConfigDir, o.Arch, o.Profile); err != nil {
		return nil, err
	}
	if p.compiler, err = compilerVersion(ctx, o.Arch); err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\narch=%s\nsource=%s\nflavor=%s\ncompiler=%s\n", keyVersion, o.Arch.Name, src.id, p.flavor, p.compiler)
	for _, pt := range p.series {
		fmt.Fprintf(h, "patch=%s %d\n", pt.Name, len(pt.Content))
		h.Write(pt.Content)
	}
	if !o.Profile.IsDefault() {
		fmt.Fprintf(h, "profile=%s\n", o.Profile.Name)
	}
	fmt.Fprintf(h, "fragments %d\n", len(p.fragments))
	h.Write(p.fragments)
	p.key = hex.EncodeToString(h.Sum(nil))
	p.entry = filepath.Join(o.CacheDir, "kernels", o.Arch.Name+"-"+p.key[:20])
	p.work = filepath.Join(o.CacheDir, "work", o.Arch.Name+"-"+p.flavor+o.Profile.suffix())
	return p, nil
}

// Flavor is the flavor of the kernel o asks for: report.FlavorPatched,
// FlavorVanilla or FlavorAsIs.
func (o Options) Flavor() string {
	switch {
	case o.AsIs:
		return report.FlavorAsIs
	case o.Vanilla:
		return report.FlavorVanilla
	}
	return report.FlavorPatched
}

// patched reports whether the plan applies the series.
func (p *plan) patched() bool { return !p.opts.Vanilla && !p.opts.AsIs }

// label fills in what a kernel of this plan is: its flavor and its tree.
func (p *plan) label(k *Kernel) *Kernel {
	k.Patched, k.Flavor = p.patched(), p.flavor
	if p.src.kind == sourceGit {
		k.Tree = &report.Tree{Path: p.src.path, Commit: p.src.commit, Dirty: p.src.dirty}
	}
	return k
}

// Build returns the kernel for o, from the cache or built now.
func Build(ctx context.Context, o Options) (*Kernel, error) {
	start := time.Now()
	o.fill()
	p, err := newPlan(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("building %s kernel: %w", o.Arch.Name, err)
	}
	if k, ok := p.cached(); ok && p.treeHolds() {
		k.Duration = time.Since(start)
		return k, nil
	}
	lock, err := fsutil.Acquire(ctx, filepath.Join(o.CacheDir, "locks", o.Arch.Name+"-"+p.flavor+o.Profile.suffix()+".lock"), func() {
		o.Progress.Phase(o.Arch.Name, "waiting for another build of this kernel")
	})
	if err != nil {
		return nil, fmt.Errorf("building %s kernel: %w", o.Arch.Name, err)
	}
	defer lock.Unlock()
	if k, ok := p.cached(); ok { // built by whoever held the lock
		// The work tree may hold another series since (a prefix, a
		// bisect step): kselftests are built from k.Source, so make it
		// this kernel's source again, without building.
		if !p.treeHolds() {
			if err := p.syncTree(ctx); err != nil {
				return nil, fmt.Errorf("building %s kernel: restoring its source tree: %w", o.Arch.Name, err)
			}
		}
		k.Duration = time.Since(start)
		return k, nil
	}
	k, err := p.build(ctx)
	if err != nil {
		return nil, err
	}
	k.Duration = time.Since(start)
	return k, nil
}

// cached returns the entry for p if it exists and every file matches its
// checksum. A damaged entry is removed so that it is rebuilt.
func (p *plan) cached() (*Kernel, bool) {
	var m meta
	img := filepath.Base(p.opts.Arch.KernelImage)
	e, err := cacheentry.Open(p.entry, p.key, &m, img, "vmlinux", "config")
	if err != nil {
		var de *cacheentry.DamagedError
		if errors.As(err, &de) {
			p.opts.Progress.Update(p.opts.Arch.Name, de.Error()+", rebuilding")
		}
		return nil, false
	}
	return p.label(&Kernel{
		Arch:     p.opts.Arch.Name,
		Key:      p.key,
		Release:  m.Release,
		Profile:  p.opts.Profile.name(),
		Image:    e.Path(img),
		Vmlinux:  e.Path("vmlinux"),
		Config:   e.Path("config"),
		BuildLog: filepath.Join(p.work, "build.log"),
		Source:   p.srcDir(),
		CacheHit: true,
	}), true
}

func (p *plan) build(ctx context.Context) (*Kernel, error) {
	a := p.opts.Arch.Name
	rep := p.opts.Progress
	step := func(name string, fn func() error) error {
		rep.Phase(a, name)
		err := fn()
		rep.Done(a, err)
		if err != nil {
			var se *StepError
			if errors.As(err, &se) {
				return se
			}
			return &StepError{Arch: a, Step: name, Err: err}
		}
		return nil
	}
	if err := os.MkdirAll(p.work, 0o755); err != nil {
		return nil, fmt.Errorf("building %s kernel: %w", a, err)
	}
	pristine := p.src.path
	if p.src.kind == sourceTarball {
		if err := step("extract", func() error {
			var err error
			pristine, err = p.pristine(ctx)
			return err
		}); err != nil {
			return nil, err
		}
	}
	if err := step("patch", func() error { return p.prepareTree(ctx, pristine) }); err != nil {
		return nil, err
	}
	if err := step("config", func() error { return p.configure(ctx) }); err != nil {
		return nil, err
	}
	logPath := filepath.Join(p.work, "build.log")
	if err := step("build", func() error { return p.make(ctx, logPath) }); err != nil {
		return nil, err
	}
	var k *Kernel
	if err := step("install", func() error {
		var err error
		k, err = p.install(logPath)
		return err
	}); err != nil {
		return nil, err
	}
	return k, nil
}

func (p *plan) srcDir() string { return filepath.Join(p.work, "src") }
func (p *plan) objDir() string { return filepath.Join(p.work, "obj") }
func (p *plan) cfgDir() string { return filepath.Join(p.work, "cfg") }

// pristine returns the unpatched source tree: the extracted tarball (from
// the cache after the first time) or the tree or git checkout itself.
func (p *plan) pristine(ctx context.Context) (string, error) {
	if p.src.kind != sourceTarball {
		return p.src.path, nil
	}
	return extract(ctx, p.opts.CacheDir, p.src)
}

// treeHolds says whether the work tree holds the source of p's kernel.
func (p *plan) treeHolds() bool {
	return p.readTreeState().Key == p.key
}

func (p *plan) statePath() string { return filepath.Join(p.work, "tree.json") }

// readTreeState returns what the work tree records holding: the zero
// treeState when there is no readable record.
func (p *plan) readTreeState() treeState {
	var st treeState
	if data, err := os.ReadFile(p.statePath()); err == nil {
		json.Unmarshal(data, &st)
	}
	return st
}

// syncTree makes the work tree hold p's source (a cached kernel's), as a
// build would, without configuring or building.
func (p *plan) syncTree(ctx context.Context) error {
	if err := os.MkdirAll(p.work, 0o755); err != nil {
		return err
	}
	pristine, err := p.pristine(ctx)
	if err != nil {
		return err
	}
	p.opts.Progress.Update(p.opts.Arch.Name, "the work tree holds another series: restoring this kernel's source")
	return p.prepareTree(ctx, pristine)
}

// treeState records what the work tree holds, so that the next build only
// rewrites the files whose content changes and make rebuilds incrementally.
type treeState struct {
	Source  string   `json:"source"`
	Touched []string `json:"touched"`
	// Key is the cache key of the kernel whose source the tree holds.
	Key string `json:"key,omitempty"`
}

// prepareTree makes the work tree equal to pristine plus the series. The
// series is applied in a scratch directory that holds only the files it
// touches, then every touched file whose content differs is written into
// the work tree: untouched files keep their times, so make only rebuilds
// what an edited patch changes.
func (p *plan) prepareTree(ctx context.Context, pristine string) error {
	statePath := p.statePath()
	st := p.readTreeState()
	if st.Source != p.src.id {
		p.opts.Progress.Update(p.opts.Arch.Name, "copying the source tree")
		os.Remove(statePath)
		if err := os.RemoveAll(p.srcDir()); err != nil {
			return err
		}
		tmp := p.srcDir() + ".tmp"
		os.RemoveAll(tmp)
		cmd := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", pristine, tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("copying %s: %v: %s", pristine, err, out)
		}
		os.RemoveAll(filepath.Join(tmp, ".git"))
		if err := os.Rename(tmp, p.srcDir()); err != nil {
			return err
		}
		st = treeState{Source: p.src.id}
		// A new tree means the object tree's dependencies are stale.
		os.RemoveAll(p.objDir())
	}
	touched := map[string]bool{}
	for _, f := range st.Touched {
		touched[f] = true
	}
	for _, pt := range p.series {
		for _, f := range patchFiles(pt.Content) {
			touched[f] = true
		}
	}
	scratch, err := os.MkdirTemp(p.work, "patch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	for f := range touched {
		if _, err := os.Stat(filepath.Join(pristine, f)); err == nil {
			if _, err := fsutil.CopyFile(filepath.Join(scratch, f), filepath.Join(pristine, f), 0o644); err != nil {
				return err
			}
		}
	}
	for _, pt := range p.series {
		if err := applyPatch(ctx, scratch, pt); err != nil {
			return err
		}
	}
	var list []string
	for f := range touched {
		list = append(list, f)
		want, werr := os.ReadFile(filepath.Join(scratch, f))
		have, herr := os.ReadFile(filepath.Join(p.srcDir(), f))
		switch {
		case werr != nil && herr != nil:
			// absent in both
		case werr != nil:
			if err := os.Remove(filepath.Join(p.srcDir(), f)); err != nil {
				return err
			}
		case herr != nil || !bytes.Equal(want, have):
			if err := fsutil.WriteFileAtomic(filepath.Join(p.srcDir(), f), want, 0o644); err != nil {
				return err
			}
		}
	}
	sortStrings(list)
	st.Touched = list
	st.Key = p.key
	data, _ := json.MarshalIndent(st, "", "  ")
	return fsutil.WriteFileAtomic(statePath, data, 0o644)
}

// applyPatch applies one patch with GNU patch; a failure names the patch and
// the hunks that did not apply.
func applyPatch(ctx context.Context, dir string, pt Patch) error {
	cmd := exec.CommandContext(ctx, "patch", "-p1", "--fuzz=0", "--forward", "--batch", "--no-backup-if-mismatch", "-r", "-", "-d", dir)
	cmd.Stdin = bytes.NewReader(pt.Content)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	var failed []string
	var file string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "patching file ") {
			file = strings.Trim(strings.TrimPrefix(line, "patching file "), "'")
		}
		if strings.Contains(line, "FAILED") || strings.Contains(line, "can't find file") || strings.Contains(line, "malformed") || strings.Contains(line, "Reversed") {
			failed = append(failed, fmt.Sprintf("%s: %s", file, strings.TrimSpace(line)))
		}
	}
	if len(failed) == 0 {
		failed = append(failed, strings.TrimSpace(string(out)))
	}
	return fmt.Errorf("patch %s does not apply:\n  %s", pt.Name, strings.Join(failed, "\n  "))
}

func readFragments(dir string, a arch.Spec, prof Profile) ([]byte, error) {
	var buf bytes.Buffer
	names := []string{"common.config", a.Config}
	if prof.Fragment != "" {
		names = append(names, prof.Fragment)
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading config fragment: %w", err)
		}
		fmt.Fprintf(&buf, "# from %s\n", name)
		buf.Write(data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes(), nil
}

// configure makes the config in a directory of its own (tinyconfig, the
// fragments, olddefconfig), verifies it, and copies it into the object tree
// only if it differs, so an unchanged config causes no rebuild.
func (p *plan) configure(ctx context.Context) error {
	cfg := p.cfgDir()
	if err := os.MkdirAll(cfg, 0o755); err != nil {
		return err
	}
	if out, err := p.makeCmd(ctx, cfg, "-s", "tinyconfig").CombinedOutput(); err != nil {
		return fmt.Errorf("make tinyconfig: %v\n%s", err, logtail.String(out, 20))
	}
	base, err := os.ReadFile(filepath.Join(cfg, ".config"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg, ".config"), append(base, p.fragments...), 0o644); err != nil {
		return err
	}
	if out, err := p.makeCmd(ctx, cfg, "-s", "olddefconfig").CombinedOutput(); err != nil {
		return fmt.Errorf("make olddefconfig: %v\n%s", err, logtail.String(out, 20))
	}
	final, err := os.ReadFile(filepath.Join(cfg, ".config"))
	if err != nil {
		return err
	}
	if missing := VerifyConfig(p.fragments, final); len(missing) > 0 {
		return fmt.Errorf("config options did not survive olddefconfig (a dependency is missing or the option does not exist on %s):\n  %s",
			p.opts.Arch.Name, strings.Join(missing, "\n  "))
	}
	if err := os.MkdirAll(p.objDir(), 0o755); err != nil {
		return err
	}
	have, _ := os.ReadFile(filepath.Join(p.objDir(), ".config"))
	if !bytes.Equal(have, final) {
		return fsutil.WriteFileAtomic(filepath.Join(p.objDir(), ".config"), final, 0o644)
	}
	return nil
}

// VerifyConfig returns, for every option a fragment sets, a description of
// how the final config disagrees with it. "# CONFIG_X is not set" in a
// fragment requires X to be unset or n. When fragments disagree, the last
// setting is the one required.
func VerifyConfig(fragments, final []byte) []string {
	got := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(final))
	for sc.Scan() {
		name, val, ok := parseConfigLine(sc.Text())
		if ok {
			got[name] = val
		}
	}
	// As in merge_config.sh, a later fragment overrides an earlier one
	// (an arch fragment can unset what common.config sets).
	wanted := map[string]string{}
	var order []string
	sc = bufio.NewScanner(bytes.NewReader(fragments))
	for sc.Scan() {
		name, want, ok := parseConfigLine(sc.Text())
		if !ok {
			continue
		}
		if _, dup := wanted[name]; !dup {
			order = append(order, name)
		}
		wanted[name] = want
	}
	var missing []string
	for _, name := range order {
		want := wanted[name]
		have, present := got[name]
		switch {
		case want == "n" && (!present || have == "n"):
		case present && have == want:
		case !present:
			missing = append(missing, fmt.Sprintf("%s=%s (not in the final config)", name, want))
		default:
			missing = append(missing, fmt.Sprintf("%s=%s (final config has %s)", name, want, have))
		}
	}
	return missing
}

// parseConfigLine understands "CONFIG_X=v" and "# CONFIG_X is not set" (as "n").
func parseConfigLine(line string) (name, val string, ok bool) {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "# CONFIG_") && strings.HasSuffix(line, " is not set") {
		return strings.TrimSuffix(strings.TrimPrefix(line, "# "), " is not set"), "n", true
	}
	if !strings.HasPrefix(line, "CONFIG_") {
		return "", "", false
	}
	name, val, ok = strings.Cut(line, "=")
	return name, val, ok
}

func (p *plan) makeCmd(ctx context.Context, objDir string, args ...string) *exec.Cmd {
	a := p.opts.Arch
	full := []string{"-C", p.srcDir(), "O=" + objDir, "ARCH=" + a.KernelArch}
	if a.CrossCompile != "" {
		full = append(full, "CROSS_COMPILE="+a.CrossCompile)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, "make", full...)
	cmd.Env = append(os.Environ(),
		"KBUILD_BUILD_USER=selfptrace-vm",
		"KBUILD_BUILD_HOST=selfptrace-vm",
		"KBUILD_BUILD_TIMESTAMP=Thu Jan  1 00:00:00 UTC 2026",
		"KBUILD_BUILD_VERSION=1",
		"LC_ALL=C",
	)
	// make and its compilers form a process group that dies with us: on
	// cancellation the whole group gets SIGTERM, then SIGKILL.
	procgroup.Own(cmd, syscall.SIGTERM)
	return cmd
}

// buildTailLines is how much of make's output a failed build shows.
const buildTailLines = 40

// make runs the build, logging to logPath and reporting progress.
func (p *plan) make(ctx context.Context, logPath string) error {
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	target := filepath.Base(p.opts.Arch.KernelImage)
	cmd := p.makeCmd(ctx, p.objDir(), "-j"+strconv.Itoa(p.opts.Jobs), target)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	ring := logtail.NewRing(buildTailLines)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n := 0
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			ring.Push(line)
			if f := strings.Fields(line); len(f) >= 2 && len(f[0]) <= 8 && strings.ToUpper(f[0]) == f[0] {
				n++
				p.opts.Progress.Update(p.opts.Arch.Name, fmt.Sprintf("%d steps, %s", n, strings.TrimSpace(line)))
			}
		}
		io.Copy(io.Discard, pr)
	}()
	err = cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		if ctx.Err() != nil {
			return &StepError{Arch: p.opts.Arch.Name, Step: "build", Log: logPath, Err: ctx.Err()}
		}
		return &StepError{Arch: p.opts.Arch.Name, Step: "build", Log: logPath, Tail: ring.String(), Err: fmt.Errorf("make %s: %w", target, err)}
	}
	return nil
}

// install copies the results into a new cache entry, staged in a
// temporary directory and renamed into place.
func (p *plan) install(logPath string) (*Kernel, error) {
	a := p.opts.Arch
	rel, err := os.ReadFile(filepath.Join(p.objDir(), "include/config/kernel.release"))
	if err != nil {
		return nil, fmt.Errorf("reading kernel release: %w", err)
	}
	st, err := cacheentry.Stage(p.entry)
	if err != nil {
		return nil, err
	}
	defer st.Discard()
	m := meta{Arch: a.Name, Release: strings.TrimSpace(string(rel)), Patched: p.patched(), Source: p.src.path}
	for _, pt := range p.series {
		m.Series += pt.Name + "\n"
	}
	imgName := filepath.Base(a.KernelImage)
	for name, src := range map[string]string{
		imgName:   filepath.Join(p.objDir(), a.KernelImage),
		"vmlinux": filepath.Join(p.objDir(), "vmlinux"),
		"config":  filepath.Join(p.objDir(), ".config"),
	} {
		if err := st.CopyIn(name, src, 0o644); err != nil {
			return nil, err
		}
	}
	if err := st.Publish(p.key, m); err != nil {
		return nil, err
	}
	return p.label(&Kernel{
		Arch:     a.Name,
		Key:      p.key,
		Release:  m.Release,
		Profile:  p.opts.Profile.name(),
		Image:    filepath.Join(p.entry, imgName),
		Vmlinux:  filepath.Join(p.entry, "vmlinux"),
		Config:   filepath.Join(p.entry, "config"),
		BuildLog: logPath,
		Source:   p.srcDir(),
	}), nil
}
