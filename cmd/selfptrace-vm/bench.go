package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/bench"
	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	"github.com/selfptrace/selfptrace-vm/initramfs"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/rig"
)

// benchTestTimeout is the bench verb's default per-test timeout.
const benchTestTimeout = 10 * time.Minute

// selfPtraceSource is the file whose patch the incremental rebuild edits.
const selfPtraceSource = "kernel/entry/self_ptrace.c"

// benchFlags are the bench verb's own flags.
type benchFlags struct {
	jsonOut, pngOut, mdOut string
	cold, noRig            bool
	mechs                  string
	samples, warmup        int
	rounds                 int
	sampleTime             time.Duration
}

func runBench(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var o benchFlags
	fs := newFlagSet("bench", e.stderr, "--arch x86_64|s390x|arm64|riscv64|all [flags]")
	b.register(fs, true)
	// One guest test measures every mechanism, under TCG.
	b.testTimeout = benchTestTimeout
	fs.Lookup("timeout").DefValue = benchTestTimeout.String()
	fs.Lookup("vanilla").Usage = "not for bench, which boots the patched kernel and the vanilla one"
	fs.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file (default out/bench/bench.json in the checkout)")
	fs.StringVar(&o.pngOut, "png", "", "write the chart to this PNG file (default bench.png next to the JSON)")
	fs.StringVar(&o.mdOut, "markdown", "", "also write a markdown snippet for the README to this file (it links the chart by its path relative to the checkout)")
	fs.BoolVar(&o.cold, "cold", false, "also time a kernel build from scratch, in a temporary cache (minutes per arch)")
	fs.BoolVar(&o.noRig, "no-rig", false, "measure the mechanisms only, not the rig's own timings")
	fs.StringVar(&o.mechs, "mechanisms", "all", "comma-separated mechanisms to measure: "+strings.Join(benchfmt.Mechanisms(), ", "))
	fs.IntVar(&o.samples, "samples", benchfmt.DefaultSamples, "samples per mechanism: measured rounds, in which the mechanisms take turns")
	fs.IntVar(&o.warmup, "warmup", benchfmt.DefaultWarmup, "warm-up rounds, discarded")
	fs.IntVar(&o.rounds, "rounds", 5, "boots of each kernel that measure only the baseline, alternated, for the not-armed comparison of the patched and vanilla getpid")
	defSample, _ := time.ParseDuration(benchfmt.DefaultSampleTime)
	fs.DurationVar(&o.sampleTime, "sample-time", defSample, "minimum duration of one sample (the guest calibrates the calls per sample)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if b.vanilla {
		return usagef("--vanilla does not apply: bench boots the patched kernel, then the vanilla one for the baseline")
	}
	if err := b.finish(true); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	if o.jsonOut == "" {
		o.jsonOut = filepath.Join(b.root, "out", "bench", "bench.json")
	}
	o.jsonOut = absPath(o.jsonOut)
	if o.pngOut == "" {
		o.pngOut = filepathJoinDir(o.jsonOut, "bench.png")
	}
	o.pngOut, o.mdOut = absPath(o.pngOut), absPath(o.mdOut)

	rep := newReporter(e.stderr)
	r := &bench.Report{
		Generated: time.Now().UTC(),
		Command:   benchCommand(fs),
		Host:      hostInfo(),
		Method: bench.Method{
			Samples:    o.samples,
			SampleTime: o.sampleTime.String(),
			Warmup:     o.warmup,
			Clock:      "CLOCK_MONOTONIC (Go's time.Now, through the vDSO)",
			Call:       "getpid(2), back to back from assembly; intercepted calls are performed for real (PTRACE_SYSEMU: emulated)",
		},
	}
	// The architectures run one after the other, not in parallel like
	// test: on a small host a second emulator would be the first one's
	// noise.
	var rigErr error
	var consoleMu sync.Mutex
	for _, a := range b.archs {
		ar, err := benchArch(ctx, &b, &o, a, rep, e, &consoleMu)
		r.Arches = append(r.Arches, ar)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			rigErr = firstErr(rigErr, err)
		}
	}
	r.Notes = append(r.Notes, guestNotes(r)...)

	if err := writeBenchOutputs(r, &o, b.root, e); err != nil {
		return err
	}
	if err := r.WriteTable(e.stdout); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nresults: %s\n", o.jsonOut)
	if o.pngOut != "" {
		fmt.Fprintf(e.stdout, "chart:   %s\n", o.pngOut)
	}
	if o.mdOut != "" {
		fmt.Fprintf(e.stdout, "snippet: %s\n", o.mdOut)
	}
	if rigErr != nil {
		return rigErr
	}
	var failed []string
	for _, a := range r.Arches {
		if a.Failed() {
			failed = append(failed, a.Arch)
		}
	}
	if len(failed) > 0 {
		return failure{"benchmark incomplete on " + strings.Join(failed, ", ") + " (see the errors above)"}
	}
	return nil
}

func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func (o *benchFlags) validate() error {
	if o.samples < 1 {
		return usagef("--samples must be at least 1")
	}
	if o.warmup < 0 {
		return usagef("--warmup must not be negative")
	}
	if o.rounds < 1 {
		return usagef("--rounds must be at least 1")
	}
	if o.sampleTime <= 0 {
		return usagef("--sample-time must be positive")
	}
	if o.mechs == "" || o.mechs == "all" {
		o.mechs = "all"
		return nil
	}
	for _, m := range strings.Split(o.mechs, ",") {
		if !slices.Contains(benchfmt.Mechanisms(), strings.TrimSpace(m)) {
			return usagef("--mechanisms: unknown mechanism %q (known: %s)", m, strings.Join(benchfmt.Mechanisms(), ", "))
		}
	}
	return nil
}

// guestEnv is the benchmark's configuration for the guest; mechs replaces
// the requested mechanisms.
func (o *benchFlags) guestEnv(mechs string) []string {
	return append(slices.Clone(guestEnv),
		benchfmt.EnvMechanisms+"="+mechs,
		fmt.Sprintf("%s=%d", benchfmt.EnvSamples, o.samples),
		fmt.Sprintf("%s=%d", benchfmt.EnvWarmup, o.warmup),
		benchfmt.EnvSampleTime+"="+o.sampleTime.String())
}

// benchArch measures one architecture: the guest benchmark on the patched
// kernel, its baseline on the vanilla kernel, then the rig's timings. The
// error is a rig failure; what was measured is returned anyway.
func benchArch(ctx context.Context, b *bootFlags, o *benchFlags, a arch.Spec, rep progress.Reporter, e *env, consoleMu *sync.Mutex) (bench.Arch, error) {
	ar := bench.Arch{Arch: a.Name, QEMU: qemuVersion(ctx, a), Runs: []bench.RunRef{}}
	boot := func(vanilla bool, mechs, name string) (*rig.Result, benchfmt.Parsed, error) {
		ro := b.options(a, plan.Suite)
		ro.Kernel.Vanilla = vanilla
		ro.Tests = testPackages([]string{bench.GuestPackage}, b.testTimeout)
		ro.GuestEnv = o.guestEnv(mechs)
		ro.Progress = rep
		flavor := patchedWord(!vanilla)
		ro.OutDir = filepath.Join(b.outDir, a.Name, name)
		if b.verbose {
			ro.Console = &prefixWriter{mu: consoleMu, w: e.stderr, prefix: "[" + a.Name + " " + name + "] "}
			ro.OnStart = func(argv []string) { printArgv(e.stderr, a, argv) }
		}
		fmt.Fprintf(e.stderr, "[%s] benchmark boot %s: %s kernel, mechanisms %s\n", a.Name, name, flavor, mechs)
		res, err := rig.Run(ctx, ro)
		ref := bench.RunRef{Kernel: flavor}
		if res != nil {
			ref.Outcome, ref.ConsoleLog, ref.Error = res.Run.Outcome, res.Run.ConsoleLog, res.Run.Error
		}
		ar.Runs = append(ar.Runs, ref)
		if err != nil {
			return res, benchfmt.Parsed{}, fmt.Errorf("%s %s benchmark boot: %w", a.Name, flavor, err)
		}
		if ar.Accel == "" {
			ar.Accel = res.Run.Accel
		}
		p, perr := bench.ParseRun(res.Run)
		if perr != nil {
			ar.Errors = append(ar.Errors, fmt.Sprintf("%s kernel: %v (console: %s)", flavor, perr, res.Run.ConsoleLog))
		}
		return res, p, nil
	}

	// The patched kernel measures everything; then the vanilla kernel and
	// the patched one alternate, measuring the baseline only, so that both
	// kernels' baselines come from boots that did nothing else.
	patched, pp, err := boot(false, o.mechs, "bench-all")
	if err != nil {
		ar.Errors = append(ar.Errors, err.Error())
		return ar, err
	}
	ar.Rig.Boot = bench.Seconds(patched.Run.Timings.Boot, "")
	var baselines []bench.BaselineBoot
	for i := 1; i <= o.rounds; i++ {
		for _, vanilla := range []bool{true, false} {
			res, p, err := boot(vanilla, benchfmt.Baseline, fmt.Sprintf("baseline-%s-%d", patchedWord(!vanilla), i))
			if err != nil {
				ar.Errors = append(ar.Errors, err.Error())
				ar.Results(pp, baselines)
				return ar, err
			}
			if vanilla && i == 1 {
				ar.Rig.BootVanilla = bench.Seconds(res.Run.Timings.Boot, "")
				ar.Rig.InitramfsWarm = bench.Seconds(res.Run.Timings.Initramfs, "the second pack of the same image")
			}
			for _, r := range p.Results {
				if r.Mech == benchfmt.Baseline {
					bb := bench.BaselineBoot{Vanilla: vanilla, Result: r}
					if p.Env != nil {
						bb.ClockSource = p.Env.ClockSource
					}
					baselines = append(baselines, bb)
				}
			}
		}
	}
	ar.Results(pp, baselines)

	if o.noRig {
		none := bench.Missing("not measured (--no-rig)")
		ar.Rig.ColdBuild, ar.Rig.IncrementalBuild, ar.Rig.InitramfsTest, ar.Rig.WarmTest = none, none, none, none
		return ar, nil
	}
	var rigErr error
	step := func(name string, fn func() (bench.Timing, error)) bench.Timing {
		t, err := fn()
		if err != nil {
			ar.Errors = append(ar.Errors, fmt.Sprintf("%s: %v", name, err))
			rigErr = firstErr(rigErr, fmt.Errorf("%s %s: %w", a.Name, name, err))
			return bench.Missing("failed: " + err.Error())
		}
		return t
	}
	ar.Rig.WarmTest = step("warm test run", func() (bench.Timing, error) {
		ro := b.options(a, plan.Suite)
		ro.Tests = testPackages(defaultSuite, b.testTimeout)
		ro.OutDir = filepath.Join(b.outDir, a.Name, "test")
		ro.Progress = rep
		res, err := rig.Run(ctx, ro)
		if err != nil {
			return bench.Timing{}, err
		}
		return bench.Seconds(res.Run.Timings.Total, fmt.Sprintf("%s, %d tests", res.Run.Outcome, len(res.Run.Tests))), nil
	})
	ar.Rig.InitramfsTest = step("initramfs with one test changed", func() (bench.Timing, error) {
		return timeInitramfsChange(ctx, b, a, rep)
	})
	ar.Rig.IncrementalBuild = step("incremental kernel rebuild", func() (bench.Timing, error) {
		return timeIncrementalBuild(ctx, b, a, rep)
	})
	if o.cold {
		ar.Rig.ColdBuild = step("cold kernel build", func() (bench.Timing, error) {
			return timeColdBuild(ctx, b, a, rep)
		})
	} else {
		ar.Rig.ColdBuild = bench.Missing("not measured (use --cold)")
	}
	return ar, rigErr
}

// timeInitramfsChange packs the image of the default suite twice from a
// scratch checkout whose smoke tests are a copy: once to warm Go's build
// cache, then after a change to one test file, which Go recompiles and
// relinks. The second pack is timed.
func timeInitramfsChange(ctx context.Context, b *bootFlags, a arch.Spec, rep progress.Reporter) (bench.Timing, error) {
	dir, err := os.MkdirTemp("", "selfptrace-vm-bench-root-")
	if err != nil {
		return bench.Timing{}, err
	}
	defer os.RemoveAll(dir)
	if err := bench.ScratchRoot(b.root, dir); err != nil {
		return bench.Timing{}, err
	}
	pkg := filepath.Join(dir, "benchscratch", "smoke")
	if err := os.MkdirAll(filepath.Dir(pkg), 0o755); err != nil {
		return bench.Timing{}, err
	}
	if err := bench.CopyTree(filepath.Join(b.root, "tests", "smoke"), pkg); err != nil {
		return bench.Timing{}, err
	}
	opts := initramfs.Opts{
		Arch: a,
		Tests: []initramfs.TestPackage{
			{Pkg: "./benchscratch/smoke", Name: "smoke", Timeout: b.testTimeout},
			{Pkg: "./tests/selfptrace", Name: "selfptrace", Timeout: b.testTimeout},
		},
		Plan:      plan.Plan{Mode: plan.Suite, Env: guestEnv},
		Output:    filepath.Join(dir, "initrd.cpio"),
		CacheDir:  filepath.Join(b.cacheDir, "initramfs"),
		ModuleDir: dir,
		Progress:  func(phase, msg string) { rep.Update(a.Name, phase+": "+msg) },
	}
	rep.Phase(a.Name, "time the initramfs pack after a test change")
	if _, err := initramfs.Build(ctx, opts); err != nil {
		rep.Done(a.Name, err)
		return bench.Timing{}, fmt.Errorf("warm-up pack: %w", err)
	}
	test := filepath.Join(pkg, "smoke_test.go")
	f, err := os.OpenFile(test, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		rep.Done(a.Name, err)
		return bench.Timing{}, err
	}
	_, err = fmt.Fprintf(f, "\n// Changed by selfptrace-vm bench at %d.\n", time.Now().UnixNano())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		rep.Done(a.Name, err)
		return bench.Timing{}, err
	}
	res, err := initramfs.Build(ctx, opts)
	rep.Done(a.Name, err)
	if err != nil {
		return bench.Timing{}, err
	}
	return bench.Seconds(res.Timings.Total.Seconds(), "smoke and selfptrace suites, smoke_test.go changed"), nil
}

// timeIncrementalBuild builds the kernel from a copy of the series in
// which one comment line of self_ptrace.c's hunk changed, in the real
// cache: the per-arch work tree rewrites that one file and make rebuilds
// its object and relinks. The new cache entry is removed afterwards; the
// work tree keeps the changed line until the next build that misses the
// cache switches it back (also incrementally).
func timeIncrementalBuild(ctx context.Context, b *bootFlags, a arch.Spec, rep progress.Reporter) (bench.Timing, error) {
	dir, err := os.MkdirTemp("", "selfptrace-vm-bench-series-")
	if err != nil {
		return bench.Timing{}, err
	}
	defer os.RemoveAll(dir)
	series := filepath.Join(dir, "linux-6.12")
	if err := bench.CopyTree(filepath.Join(b.root, "patches", "linux-6.12"), series); err != nil {
		return bench.Timing{}, err
	}
	patches, err := filepath.Glob(filepath.Join(series, "*.patch"))
	if err != nil {
		return bench.Timing{}, err
	}
	edited := ""
	for _, p := range patches {
		data, err := os.ReadFile(p)
		if err != nil {
			return bench.Timing{}, err
		}
		out, err := bench.ChangeCommentLine(data, selfPtraceSource, fmt.Sprintf("selfptrace-vm bench %d", time.Now().UnixNano()))
		if err != nil {
			continue // not the patch that adds the file
		}
		if err := os.WriteFile(p, out, 0o644); err != nil {
			return bench.Timing{}, err
		}
		edited = filepath.Base(p)
		break
	}
	if edited == "" {
		return bench.Timing{}, fmt.Errorf("no patch of the series adds a comment to %s", selfPtraceSource)
	}
	ko := b.kbuildOptions(a)
	ko.SeriesDir = series
	ko.Progress = rep
	k, err := kbuild.Build(ctx, ko)
	if err != nil {
		return bench.Timing{}, err
	}
	if k.CacheHit {
		return bench.Timing{}, errors.New("the edited series hit the cache: nothing was rebuilt")
	}
	if err := removeCacheEntry(b.cacheDir, k.Image); err != nil {
		return bench.Timing{}, err
	}
	return bench.Seconds(k.Duration.Seconds(), "one comment line of "+selfPtraceSource+" in "+edited+"; same work tree as normal builds"), nil
}

// removeCacheEntry removes the kernel cache entry that holds image, after
// checking that it is one.
func removeCacheEntry(cacheDir, image string) error {
	entry := filepath.Dir(image)
	if filepath.Dir(entry) != filepath.Join(cacheDir, "kernels") {
		return fmt.Errorf("refusing to remove %s: not a kernel cache entry under %s", entry, cacheDir)
	}
	return os.RemoveAll(entry)
}

// timeColdBuild builds the kernel from scratch in a temporary cache:
// extraction of the source, patches, config, the whole build.
func timeColdBuild(ctx context.Context, b *bootFlags, a arch.Spec, rep progress.Reporter) (bench.Timing, error) {
	if err := os.MkdirAll(b.cacheDir, 0o755); err != nil {
		return bench.Timing{}, err
	}
	dir, err := os.MkdirTemp(b.cacheDir, "bench-cold-")
	if err != nil {
		return bench.Timing{}, err
	}
	defer os.RemoveAll(dir)
	ko := b.kbuildOptions(a)
	ko.CacheDir = dir
	ko.Progress = rep
	k, err := kbuild.Build(ctx, ko)
	if err != nil {
		return bench.Timing{}, err
	}
	return bench.Seconds(k.Duration.Seconds(), fmt.Sprintf("temporary cache, make -j%d", ko.Jobs)), nil
}

// writeBenchOutputs writes the JSON, the chart and, if asked, the
// markdown snippet, each atomically. A report with nothing to draw (every
// mechanism failed) gets no chart: that is said, and o.pngOut cleared.
func writeBenchOutputs(r *bench.Report, o *benchFlags, root string, e *env) error {
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(o.jsonOut, js.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", o.jsonOut, err)
	}
	png, err := r.ChartPNG()
	if err != nil {
		fmt.Fprintf(e.stderr, "selfptrace-vm bench: no chart: %v\n", err)
		o.pngOut = ""
	} else if err := fsutil.WriteFileAtomic(o.pngOut, png, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", o.pngOut, err)
	}
	if o.mdOut == "" {
		return nil
	}
	link := ""
	if o.pngOut != "" {
		link = o.pngOut
		if rel, err := filepath.Rel(root, o.pngOut); err == nil && !strings.HasPrefix(rel, "..") {
			link = filepath.ToSlash(rel)
		}
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md, bench.MarkdownOptions{Chart: link}); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(o.mdOut, md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", o.mdOut, err)
	}
	return nil
}

// benchCommand is the command line that reproduces the measurement: the
// flags that change it, not those that only name outputs.
func benchCommand(fs *flag.FlagSet) string {
	argv := []string{"go", "run", "./cmd/selfptrace-vm", "bench"}
	outputs := map[string]bool{"json": true, "png": true, "markdown": true, "out": true, "v": true, "root": true, "cache-dir": true}
	hasArch := false
	fs.Visit(func(f *flag.Flag) {
		if outputs[f.Name] {
			return
		}
		if f.Name == "arch" {
			hasArch = true
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			argv = append(argv, "--"+f.Name)
			return
		}
		argv = append(argv, "--"+f.Name, f.Value.String())
	})
	if !hasArch {
		argv = append(argv, "--arch", runtimeArch())
	}
	return strings.Join(argv, " ")
}

// hostInfo describes the machine the emulators run on.
func hostInfo() bench.Host {
	h := bench.Host{NProc: runtime.NumCPU(), GoVersion: runtime.Version(), CPUModel: "unknown CPU"}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		h.CPUModel = bench.CPUModel(string(data))
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return h
}

// qemuVersion returns "QEMU 8.2.2" from the emulator's --version, or "".
func qemuVersion(ctx context.Context, a arch.Spec) string {
	out, err := exec.CommandContext(ctx, a.QEMU, "--version").Output()
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if _, v, ok := strings.Cut(first, "version "); ok {
		return "QEMU " + strings.Fields(v)[0]
	}
	return strings.TrimSpace(first)
}

// guestNotes are the caveats that depend on how the guests ran.
func guestNotes(r *bench.Report) []string {
	var notes []string
	for _, a := range r.Arches {
		twoTasks := a.Mechanism(benchfmt.PtraceSyscall) != nil || a.Mechanism(benchfmt.PtraceSysemu) != nil ||
			a.Mechanism(benchfmt.SeccompNotif) != nil
		if a.GuestCPUs == 1 && twoTasks {
			notes = append(notes, "The guests have one vCPU: the tracer and the tracee, the notification supervisor and its target take turns on it, "+
				"so each intercepted call of those mechanisms includes two context switches.")
			break
		}
	}
	return notes
}
