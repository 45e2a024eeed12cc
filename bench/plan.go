package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	"github.com/selfptrace/selfptrace-vm/initramfs"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/rig"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// Plan is what the bench verb measures and how: the guest benchmark on
// the patched kernel, its baseline on alternate boots of the vanilla and
// the patched kernel, then the rig's own timings.
type Plan struct {
	// Options returns the rig options of a suite boot of a, from the
	// command line (kernel, timeouts, accelerator, output directory).
	Options func(a arch.Spec) rig.Options
	// Root is the checkout; CacheDir the rig's cache; OutDir the run's
	// artifacts (one directory per arch and boot below it).
	Root, CacheDir, OutDir string
	// TestTimeout is the per-test timeout inside the guest.
	TestTimeout time.Duration
	// Suite is the default test suite, for the warm test run.
	Suite []string
	// GuestEnv is the environment of every guest test.
	GuestEnv []string

	// Mechanisms is a comma-separated list, "all", or MechanismsNone.
	Mechanisms              string
	Samples, Warmup, Rounds int
	SampleTime              time.Duration
	Cold, NoRig             bool
	// Workloads, if not nil, also runs the selftrace workload benchmark:
	// Options must then give a userland.
	Workloads *WorkloadPlan
	Progress  progress.Reporter
	// Log gets one line per benchmark boot.
	Log io.Writer
	// Console, if not nil, gets the console of each boot (name is the
	// boot's name, e.g. "bench-all"); OnStart, if not nil, QEMU's argv.
	Console func(a arch.Spec, name string) io.Writer
	OnStart func(a arch.Spec) func(argv []string)
}

// MechanismsNone as Plan.Mechanisms measures no mechanism: no mechanism
// or baseline boot.
const MechanismsNone = "none"

// WorkloadPlan is the selftrace workload benchmark's part of a plan.
type WorkloadPlan struct {
	Workloads       []benchfmt.WorkloadSize
	Configs         []string
	Samples, Warmup int
	// Timeout bounds the guest test.
	Timeout time.Duration
}

// guestEnv is the guest's configuration of the workload benchmark, after
// base.
func (w *WorkloadPlan) guestEnv(base []string) []string {
	return append(slices.Clone(base),
		benchfmt.EnvWorkloads+"="+benchfmt.FormatWorkloads(w.Workloads),
		benchfmt.EnvWorkloadConfigs+"="+strings.Join(w.Configs, ","),
		fmt.Sprintf("%s=%d", benchfmt.EnvWorkloadSamples, w.Samples),
		fmt.Sprintf("%s=%d", benchfmt.EnvWorkloadWarmup, w.Warmup))
}

// Method describes the plan for the report.
func (w *WorkloadPlan) Method() *WorkloadMethod {
	return &WorkloadMethod{
		Workloads:   benchfmt.FormatWorkloads(w.Workloads),
		Configs:     slices.Clone(w.Configs),
		Samples:     w.Samples,
		Warmup:      w.Warmup,
		Timing:      "wall time of one run of the chrooted command, from just before its fork to the end of its wait (Go's time.Now in the guest test)",
		TraceOutput: "/dev/null",
	}
}

// Run measures every architecture of archs, one after the other (not in
// parallel like test: on a small host a second emulator would be the
// first one's noise), into r.Arches and r.Notes. The error is the first
// rig failure; what was measured is in r anyway. It stops at once when
// ctx is done.
func (p *Plan) Run(ctx context.Context, archs []arch.Spec, r *Report) error {
	var rigErr error
	for _, a := range archs {
		ar, err := p.Arch(ctx, a)
		r.Arches = append(r.Arches, ar)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			if rigErr == nil {
				rigErr = err
			}
		}
	}
	r.Notes = append(r.Notes, GuestNotes(r)...)
	return rigErr
}

// guestEnv is the guest's configuration of the benchmark, measuring mechs.
func (p *Plan) guestEnv(mechs string) []string {
	return append(slices.Clone(p.GuestEnv),
		benchfmt.EnvMechanisms+"="+mechs,
		fmt.Sprintf("%s=%d", benchfmt.EnvSamples, p.Samples),
		fmt.Sprintf("%s=%d", benchfmt.EnvWarmup, p.Warmup),
		benchfmt.EnvSampleTime+"="+p.SampleTime.String())
}

func (p *Plan) testPackages(pkgs []string) []initramfs.TestPackage {
	var out []initramfs.TestPackage
	for _, pkg := range pkgs {
		out = append(out, initramfs.TestPackage{Pkg: pkg, Name: filepath.Base(pkg), Timeout: p.TestTimeout})
	}
	return out
}

// Arch measures one architecture: the guest benchmark on the patched
// kernel, its baseline on the vanilla kernel, the selftrace workloads (if
// planned), then the rig's timings. The error is a rig failure; what was
// measured is returned anyway.
func (p *Plan) Arch(ctx context.Context, a arch.Spec) (Arch, error) {
	ar := Arch{Arch: a.Name, QEMU: vm.QEMUVersion(ctx, a), Runs: []RunRef{}}
	if p.Mechanisms != MechanismsNone {
		if err := p.mechanisms(ctx, a, &ar); err != nil {
			return ar, err
		}
	}
	if p.Workloads != nil {
		if err := p.workloads(ctx, a, &ar); err != nil {
			ar.Errors = append(ar.Errors, err.Error())
			return ar, err
		}
	}
	return p.rigTimings(ctx, a, ar)
}

// boot boots one kernel with the options edit makes (test packages,
// environment) as the boot called name, and records it in ar.Runs. The
// error is a rig failure.
func (p *Plan) boot(ctx context.Context, a arch.Spec, ar *Arch, name string, vanilla bool, edit func(*rig.Options)) (*rig.Result, error) {
	ro := p.Options(a)
	ro.Kernel.Vanilla = vanilla
	ro.Progress = p.Progress
	flavor := report.Flavor(!vanilla)
	ro.OutDir = filepath.Join(p.OutDir, a.Name, name)
	if p.Console != nil {
		ro.Console = p.Console(a, name)
	}
	if p.OnStart != nil {
		ro.OnStart = p.OnStart(a)
	}
	edit(&ro)
	res, err := rig.Run(ctx, ro)
	ref := RunRef{Name: name, Kernel: flavor}
	if res != nil {
		ref.Outcome, ref.ConsoleLog, ref.Error = string(res.Run.Outcome), res.Run.ConsoleLog, res.Run.Error
	}
	ar.Runs = append(ar.Runs, ref)
	if err != nil {
		return res, fmt.Errorf("%s %s benchmark boot %s: %w", a.Name, flavor, name, err)
	}
	if ar.Accel == "" {
		ar.Accel = res.Run.Accel
	}
	return res, nil
}

// mechanisms measures the mechanisms: the guest benchmark on the patched
// kernel, its baseline on alternate boots of both kernels. The boots
// leave the userland out: the mechanisms do not use it, and the rig's
// boot timings stay those of the plain image.
func (p *Plan) mechanisms(ctx context.Context, a arch.Spec, ar *Arch) error {
	boot := func(vanilla bool, mechs, name string) (*rig.Result, benchfmt.Parsed, error) {
		fmt.Fprintf(p.Log, "[%s] benchmark boot %s: %s kernel, mechanisms %s\n", a.Name, name, report.Flavor(!vanilla), mechs)
		res, err := p.boot(ctx, a, ar, name, vanilla, func(ro *rig.Options) {
			ro.Tests = p.testPackages([]string{GuestPackage})
			ro.GuestEnv = p.guestEnv(mechs)
			ro.Userland = nil
		})
		if err != nil {
			return res, benchfmt.Parsed{}, err
		}
		parsed, perr := ParseRun(res.Run)
		if perr != nil {
			ar.Errors = append(ar.Errors, fmt.Sprintf("%s kernel: %v (console: %s)", report.Flavor(!vanilla), perr, res.Run.ConsoleLog))
		}
		return res, parsed, nil
	}

	// The patched kernel measures everything; then the vanilla kernel and
	// the patched one alternate, measuring the baseline only, so that both
	// kernels' baselines come from boots that did nothing else.
	patched, pp, err := boot(false, p.Mechanisms, "bench-all")
	if err != nil {
		ar.Errors = append(ar.Errors, err.Error())
		return err
	}
	ar.Rig.Boot = Seconds(patched.Run.Timings.Boot, "")
	var baselines []BaselineBoot
	for i := 1; i <= p.Rounds; i++ {
		for _, vanilla := range []bool{true, false} {
			res, parsed, err := boot(vanilla, benchfmt.Baseline, fmt.Sprintf("baseline-%s-%d", report.Flavor(!vanilla), i))
			if err != nil {
				ar.Errors = append(ar.Errors, err.Error())
				ar.Results(pp, baselines)
				return err
			}
			if vanilla && i == 1 {
				ar.Rig.BootVanilla = Seconds(res.Run.Timings.Boot, "")
				ar.Rig.InitramfsWarm = Seconds(res.Run.Timings.Initramfs, "the second pack of the same image")
			}
			for _, r := range parsed.Results {
				if r.Mech == benchfmt.Baseline {
					bb := BaselineBoot{Vanilla: vanilla, Result: r}
					if parsed.Env != nil {
						bb.ClockSource = parsed.Env.ClockSource
					}
					baselines = append(baselines, bb)
				}
			}
		}
	}
	ar.Results(pp, baselines)
	return nil
}

// workloads runs the selftrace workload benchmark in one boot of the
// patched kernel with the userland. A guest failure (a configuration that
// broke) is recorded in ar; the error is a rig failure.
func (p *Plan) workloads(ctx context.Context, a arch.Spec, ar *Arch) error {
	w := p.Workloads
	const name = "workloads"
	fmt.Fprintf(p.Log, "[%s] benchmark boot %s: patched kernel, userland, workloads %s, configurations %s\n",
		a.Name, name, benchfmt.FormatWorkloads(w.Workloads), strings.Join(w.Configs, ","))
	res, err := p.boot(ctx, a, ar, name, false, func(ro *rig.Options) {
		ro.Tests = []initramfs.TestPackage{{Pkg: WorkloadPackage, Name: filepath.Base(WorkloadPackage), Timeout: w.Timeout}}
		ro.TestTimeout = w.Timeout
		ro.GuestEnv = w.guestEnv(p.GuestEnv)
		// The whole boot must outlast the test (scaled up under TCG).
		ro.Timeouts.Run = max(ro.Timeouts.Run, w.Timeout+10*time.Minute)
	})
	if err != nil {
		return err
	}
	parsed, perr := ParseWorkloadRun(res.Run)
	if perr != nil {
		ar.Errors = append(ar.Errors, fmt.Sprintf("workloads: %v (console: %s)", perr, res.Run.ConsoleLog))
	}
	ar.Workloads = NewWorkloadSet(parsed)
	if st := res.Run.Selftrace; st != nil {
		ar.Workloads.SelftraceKey = st.Key
	}
	return nil
}

// rigTimings times the rig itself on a, unless NoRig.
func (p *Plan) rigTimings(ctx context.Context, a arch.Spec, ar Arch) (Arch, error) {
	if p.NoRig {
		none := Missing("not measured (--no-rig)")
		ar.Rig.ColdBuild, ar.Rig.IncrementalBuild, ar.Rig.InitramfsTest, ar.Rig.WarmTest = none, none, none, none
		return ar, nil
	}
	var rigErr error
	step := func(name string, fn func() (Timing, error)) Timing {
		t, err := fn()
		if err != nil {
			ar.Errors = append(ar.Errors, fmt.Sprintf("%s: %v", name, err))
			if rigErr == nil {
				rigErr = fmt.Errorf("%s %s: %w", a.Name, name, err)
			}
			return Missing("failed: " + err.Error())
		}
		return t
	}
	ar.Rig.WarmTest = step("warm test run", func() (Timing, error) {
		ro := p.Options(a)
		ro.Tests = p.testPackages(p.Suite)
		ro.Userland = nil // the plain image, as the test verb without --userland
		ro.OutDir = filepath.Join(p.OutDir, a.Name, "test")
		ro.Progress = p.Progress
		res, err := rig.Run(ctx, ro)
		if err != nil {
			return Timing{}, err
		}
		return Seconds(res.Run.Timings.Total, fmt.Sprintf("%s, %d tests", res.Run.Outcome, len(res.Run.Tests))), nil
	})
	ar.Rig.InitramfsTest = step("initramfs with one test changed", func() (Timing, error) {
		return p.timeInitramfsChange(ctx, a)
	})
	ar.Rig.IncrementalBuild = step("incremental kernel rebuild", func() (Timing, error) {
		ko := p.Options(a).Kernel
		ko.Progress = p.Progress
		rb, err := kbuild.IncrementalRebuild(ctx, ko, kbuild.SelfPtraceSource)
		if err != nil {
			return Timing{}, err
		}
		return Seconds(rb.Kernel.Duration.Seconds(), rb.Note), nil
	})
	if p.Cold {
		ar.Rig.ColdBuild = step("cold kernel build", func() (Timing, error) {
			ko := p.Options(a).Kernel
			ko.Progress = p.Progress
			rb, err := kbuild.ColdBuild(ctx, ko)
			if err != nil {
				return Timing{}, err
			}
			return Seconds(rb.Kernel.Duration.Seconds(), rb.Note), nil
		})
	} else {
		ar.Rig.ColdBuild = Missing("not measured (use --cold)")
	}
	return ar, rigErr
}

// timeInitramfsChange packs the image of the default suite twice from a
// scratch checkout whose smoke tests are a copy: once to warm Go's build
// cache, then after a change to one test file, which Go recompiles and
// relinks. The second pack is timed.
func (p *Plan) timeInitramfsChange(ctx context.Context, a arch.Spec) (Timing, error) {
	dir, err := os.MkdirTemp("", "selfptrace-vm-bench-root-")
	if err != nil {
		return Timing{}, err
	}
	defer os.RemoveAll(dir)
	if err := ScratchRoot(p.Root, dir); err != nil {
		return Timing{}, err
	}
	pkg := filepath.Join(dir, "benchscratch", "smoke")
	if err := os.MkdirAll(filepath.Dir(pkg), 0o755); err != nil {
		return Timing{}, err
	}
	if err := CopyTree(filepath.Join(p.Root, "tests", "smoke"), pkg); err != nil {
		return Timing{}, err
	}
	rep := p.Progress
	opts := initramfs.Opts{
		Arch: a,
		Tests: []initramfs.TestPackage{
			{Pkg: "./benchscratch/smoke", Name: "smoke", Timeout: p.TestTimeout},
			{Pkg: "./tests/selfptrace", Name: "selfptrace", Timeout: p.TestTimeout},
		},
		Plan:      plan.Plan{Mode: plan.Suite, Env: p.GuestEnv},
		Output:    filepath.Join(dir, "initrd.cpio"),
		CacheDir:  filepath.Join(p.CacheDir, "initramfs"),
		ModuleDir: dir,
		Progress:  func(phase, msg string) { rep.Update(a.Name, phase+": "+msg) },
	}
	rep.Phase(a.Name, "time the initramfs pack after a test change")
	if _, err := initramfs.Build(ctx, opts); err != nil {
		rep.Done(a.Name, err)
		return Timing{}, fmt.Errorf("warm-up pack: %w", err)
	}
	test := filepath.Join(pkg, "smoke_test.go")
	f, err := os.OpenFile(test, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		rep.Done(a.Name, err)
		return Timing{}, err
	}
	_, err = fmt.Fprintf(f, "\n// Changed by selfptrace-vm bench at %d.\n", time.Now().UnixNano())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		rep.Done(a.Name, err)
		return Timing{}, err
	}
	res, err := initramfs.Build(ctx, opts)
	rep.Done(a.Name, err)
	if err != nil {
		return Timing{}, err
	}
	return Seconds(res.Timings.Total.Seconds(), "smoke and selfptrace suites, smoke_test.go changed"), nil
}

// GuestNotes are the caveats that depend on how the guests ran.
func GuestNotes(r *Report) []string {
	for _, a := range r.Arches {
		twoTasks := a.Mechanism(benchfmt.PtraceSyscall) != nil || a.Mechanism(benchfmt.PtraceSysemu) != nil ||
			a.Mechanism(benchfmt.SeccompNotif) != nil
		if a.GuestCPUs == 1 && twoTasks {
			return []string{"The guests have one vCPU: the tracer and the tracee, the notification supervisor and its target take turns on it, " +
				"so each intercepted call of those mechanisms includes two context switches."}
		}
	}
	return nil
}
