package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/bench"
	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/rig"
)

// benchTestTimeout is the bench verb's default per-test timeout.
const benchTestTimeout = 10 * time.Minute

// benchFlags are the bench verb's own flags.
type benchFlags struct {
	jsonOut, pngOut, mdOut string
	cold, noRig            bool
	mechs                  string
	samples, warmup        int
	rounds                 int
	sampleTime             time.Duration

	// The selftrace workloads (with --userland).
	workloadPNG                     string
	workloads, workloadConfigs      string
	workloadSamples, workloadWarmup int
	workloadTimeout                 time.Duration
	// workloadPlan is the parsed selection; nil: no workloads.
	workloadPlan *bench.WorkloadPlan
}

// benchWorkloadTimeout is the default limit of the workload test in the
// guest.
const benchWorkloadTimeout = 60 * time.Minute

// benchSMP is bench's own --smp default.
const benchSMP = 1

func runBench(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var o benchFlags
	fs := newFlagSet("bench", e.stderr, "--arch "+arch.Usage(true)+" [flags]")
	// One vCPU by default: the mechanisms are measured on one thread, and
	// on a small host a second TCG vCPU only adds noise to the samples.
	b.registerSMP(fs, true, benchSMP, "number of virtual CPUs of the guest (bench measures on one thread; default 1 keeps the samples quiet on a small host)")
	b.registerUserland(fs)
	// One guest test measures every mechanism, under TCG.
	b.testTimeout = benchTestTimeout
	fs.Lookup("timeout").DefValue = benchTestTimeout.String()
	fs.Lookup("vanilla").Usage = "not for bench, which boots the patched kernel and the vanilla one"
	fs.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file (default out/bench/bench.json in the checkout)")
	fs.StringVar(&o.pngOut, "png", "", "write the chart to this PNG file (default bench.png next to the JSON)")
	fs.StringVar(&o.mdOut, "markdown", "", "also write a markdown snippet for the README to this file (it links the chart by its path relative to the checkout)")
	fs.BoolVar(&o.cold, "cold", false, "also time a kernel build from scratch, in a temporary cache (minutes per arch)")
	fs.BoolVar(&o.noRig, "no-rig", false, "measure the mechanisms only, not the rig's own timings")
	fs.StringVar(&o.mechs, "mechanisms", "all", "comma-separated mechanisms to measure: "+strings.Join(benchfmt.Mechanisms(), ", ")+"; or none (no mechanism or baseline boot: with --userland, the workloads only)")
	fs.IntVar(&o.samples, "samples", benchfmt.DefaultSamples, "samples per mechanism: measured rounds, in which the mechanisms take turns")
	fs.IntVar(&o.warmup, "warmup", benchfmt.DefaultWarmup, "warm-up rounds, discarded")
	fs.IntVar(&o.rounds, "rounds", 5, "boots of each kernel that measure only the baseline, alternated, for the not-armed comparison of the patched and vanilla getpid")
	fs.StringVar(&o.workloadPNG, "workload-png", "", "with --userland: write the workload chart to this PNG file (default workloads.png next to the JSON)")
	fs.StringVar(&o.workloads, "workloads", "all", "with --userland: the selftrace workloads and their sizes: all, none, or NAME[=SIZE],... of "+
		workloadsHelp()+" (tests/tracerbench)")
	fs.StringVar(&o.workloadConfigs, "workload-configs", "all", "with --userland: comma-separated configurations of the workloads: "+strings.Join(benchfmt.Configs(), ", "))
	fs.IntVar(&o.workloadSamples, "workload-samples", benchfmt.DefaultWorkloadSamples, "with --userland: measured rounds of each workload, in which the configurations take turns")
	fs.IntVar(&o.workloadWarmup, "workload-warmup", benchfmt.DefaultWorkloadWarmup, "with --userland: warm-up rounds of each workload, discarded")
	fs.DurationVar(&o.workloadTimeout, "workload-timeout", benchWorkloadTimeout, "with --userland: limit of the workload test in the guest")
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
	if err := notWith(fs, true, "to bench: it boots the patched kernel, then the vanilla one", "as-is"); err != nil {
		return err
	}
	if err := b.finish(true); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	if err := o.validateWorkloads(fs, b.userland != nil); err != nil {
		return err
	}
	// The paths given; the defaults' directory is made when they are written.
	for _, p := range []string{o.jsonOut, o.pngOut, o.workloadPNG, o.mdOut} {
		if p == stdoutPath {
			return usagef("bench writes its outputs to files (standard output has the tables): name a file instead of -")
		}
	}
	if err := checkOutputs(outputFile{"json", o.jsonOut}, outputFile{"png", o.pngOut},
		outputFile{"workload-png", o.workloadPNG}, outputFile{"markdown", o.mdOut}); err != nil {
		return err
	}
	if o.jsonOut == "" {
		o.jsonOut = filepath.Join(b.root, "out", "bench", "bench.json")
	}
	o.jsonOut = absPath(o.jsonOut)
	if o.pngOut == "" {
		o.pngOut = filepathJoinDir(o.jsonOut, "bench.png")
	}
	if o.workloadPNG == "" {
		o.workloadPNG = filepathJoinDir(o.jsonOut, "workloads.png")
	}
	o.pngOut, o.mdOut, o.workloadPNG = absPath(o.pngOut), absPath(o.mdOut), absPath(o.workloadPNG)

	r := &bench.Report{
		Generated: time.Now().UTC(),
		Command:   benchCommand(fs),
		Host:      bench.HostInfo(),
		Method: bench.Method{
			Samples:    o.samples,
			SampleTime: o.sampleTime.String(),
			Warmup:     o.warmup,
			Clock:      "CLOCK_MONOTONIC (Go's time.Now, through the vDSO)",
			Call:       "getpid(2), back to back from assembly; intercepted calls are performed for real (PTRACE_SYSEMU: emulated)",
		},
	}
	if o.workloadPlan != nil {
		r.WorkloadMethod = o.workloadPlan.Method()
	}
	rigErr := o.plan(&b, e).Run(ctx, b.archs, r)
	if rigErr != nil && ctx.Err() != nil {
		return rigErr
	}

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
	if o.workloadPNG != "" {
		fmt.Fprintf(e.stdout, "workload chart: %s\n", o.workloadPNG)
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
	if o.mechs == bench.MechanismsNone {
		return nil
	}
	for _, m := range strings.Split(o.mechs, ",") {
		if !slices.Contains(benchfmt.Mechanisms(), strings.TrimSpace(m)) {
			return usagef("--mechanisms: unknown mechanism %q (known: %s)", m, strings.Join(benchfmt.Mechanisms(), ", "))
		}
	}
	return nil
}

// workloadsHelp lists the workloads and their default sizes.
func workloadsHelp() string {
	var parts []string
	for _, w := range benchfmt.Workloads() {
		parts = append(parts, fmt.Sprintf("%s (default size %d)", w, benchfmt.DefaultWorkloadSize(w)))
	}
	return strings.Join(parts, ", ")
}

// validateWorkloads parses the workload flags into o.workloadPlan: the
// workloads run with a userland only; asking for them without one is a
// usage error, and so is a run that would measure nothing.
func (o *benchFlags) validateWorkloads(fs *flag.FlagSet, userland bool) error {
	ws, err := benchfmt.ParseWorkloads(o.workloads)
	if err != nil {
		return usagef("--workloads: %v", err)
	}
	configs, err := benchfmt.ParseConfigs(o.workloadConfigs)
	if err != nil {
		return usagef("--workload-configs: %v", err)
	}
	if o.workloadSamples < 1 {
		return usagef("--workload-samples must be at least 1")
	}
	if o.workloadWarmup < 0 {
		return usagef("--workload-warmup must not be negative")
	}
	if o.workloadTimeout <= 0 {
		return usagef("--workload-timeout must be positive")
	}
	if !userland {
		for _, name := range []string{"workloads", "workload-configs", "workload-samples", "workload-warmup", "workload-timeout", "workload-png"} {
			if flagSet(fs, name) && !(name == "workloads" && len(ws) == 0) {
				return usagef("--%s: the selftrace workloads run in the Debian userland: add --userland debian", name)
			}
		}
	}
	if userland && len(ws) > 0 {
		o.workloadPlan = &bench.WorkloadPlan{Workloads: ws, Configs: configs, Samples: o.workloadSamples,
			Warmup: o.workloadWarmup, Timeout: o.workloadTimeout}
	}
	if o.mechs == bench.MechanismsNone && o.workloadPlan == nil && o.noRig {
		return usagef("--mechanisms none --no-rig without workloads (--userland debian) measures nothing")
	}
	return nil
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
	if o.mechs == bench.MechanismsNone {
		o.pngOut = ""
	} else if png, err := r.ChartPNG(); err != nil {
		fmt.Fprintf(e.stderr, "selfptrace-vm bench: no chart: %v\n", err)
		o.pngOut = ""
	} else if err := fsutil.WriteFileAtomic(o.pngOut, png, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", o.pngOut, err)
	}
	if o.workloadPlan == nil {
		o.workloadPNG = ""
	} else if png, err := r.WorkloadChartPNG(); err != nil {
		fmt.Fprintf(e.stderr, "selfptrace-vm bench: no workload chart: %v\n", err)
		o.workloadPNG = ""
	} else if err := fsutil.WriteFileAtomic(o.workloadPNG, png, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", o.workloadPNG, err)
	}
	if o.mdOut == "" {
		return nil
	}
	link := func(path string) string {
		if path == "" {
			return ""
		}
		if rel, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
		return path
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md, bench.MarkdownOptions{Chart: link(o.pngOut), WorkloadChart: link(o.workloadPNG)}); err != nil {
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
	outputs := map[string]bool{"json": true, "png": true, "workload-png": true, "markdown": true, "out": true, "v": true, "root": true, "cache-dir": true}
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

// plan turns the flags into the benchmark's plan.
func (o *benchFlags) plan(b *bootFlags, e *env) *bench.Plan {
	p := &bench.Plan{
		Options:     func(a arch.Spec) rig.Options { return b.options(a, plan.Suite) },
		Root:        b.root,
		CacheDir:    b.cacheDir,
		OutDir:      b.outDir,
		TestTimeout: b.testTimeout,
		Suite:       defaultSuite,
		GuestEnv:    guestEnv,
		Mechanisms:  o.mechs,
		Samples:     o.samples,
		Warmup:      o.warmup,
		Rounds:      o.rounds,
		SampleTime:  o.sampleTime,
		Cold:        o.cold,
		NoRig:       o.noRig,
		Workloads:   o.workloadPlan,
		Progress:    newReporter(e.stderr),
		Log:         e.stderr,
	}
	if b.verbose {
		var mu sync.Mutex
		p.Console = func(a arch.Spec, name string) io.Writer {
			return &prefixWriter{mu: &mu, w: e.stderr, prefix: "[" + a.Name + " " + name + "] "}
		}
		p.OnStart = func(a arch.Spec) func([]string) {
			return func(argv []string) { printArgv(e.stderr, a, argv) }
		}
	}
	return p
}
