// Package rig runs the pipeline for one architecture: build the kernel,
// pack the image, boot it, collect the console, and turn it into a
// report.Run. Data flows one way; each step is another package.
package rig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/selfptrace/selfptrace-vm/initramfs"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/internal/shellquote"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/kselftest"
	"github.com/selfptrace/selfptrace-vm/ktap"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// Options describes one run on one architecture.
type Options struct {
	// Kernel says which kernel to build; Kernel.Arch is the architecture.
	Kernel kbuild.Options
	// ModuleDir is the selfptrace-vm checkout (go commands run there).
	ModuleDir string
	// OutDir receives this run's artifacts: initrd, console log, register dump.
	OutDir string
	// Mode is what the guest runner does.
	Mode plan.Mode
	// Tests are the guest test packages of suite mode.
	Tests []initramfs.TestPackage
	// Kselftests adds the upstream kselftests of the neighbours of the
	// change (seccomp, syscall user dispatch, ptrace), built from the
	// kernel's own source tree, to suite mode, their TAP passed through.
	Kselftests bool
	// Files are extra HOST[:GUEST] files for the image.
	Files []string
	// Command is run mode's argv.
	Command []string
	// Filter selects top-level tests by regular expression.
	Filter string
	// GuestEnv is added to every guest test's environment.
	GuestEnv []string
	// TestTimeout bounds each guest test (suite) or the command (run).
	TestTimeout time.Duration
	// Timeouts bound the boot, silence and the whole run (scaled under TCG).
	Timeouts vm.Timeouts
	// Accel is auto, tcg or kvm.
	Accel vm.Accel
	// KernelArgs are appended to the kernel command line.
	KernelArgs []string
	// QEMUOptions are extra vm options (gdb stub, console mode).
	QEMUOptions []vm.Option
	// Console, if set, receives the console lines as they come.
	Console io.Writer
	// Stdin, if set, is connected to the guest console (shell).
	Stdin *os.File
	// Progress receives the phases.
	Progress progress.Reporter
	// OnStart is called with the QEMU argv once it is known.
	OnStart func(argv []string)
}

// BootMarker is the start of every line the guest runner prints for the
// host; the first one means user space is up.
const BootMarker = "# " + ktap.MarkerPrefix

// Result is a finished run: the report entry and, for run mode, the
// command's exit status.
type Result struct {
	Run        report.Run
	ExitStatus int // run mode: the guest command's status; -1 if unknown
	Kernel     *kbuild.Kernel
	Initrd     string
}

// Run executes the pipeline. The error is non-nil only when the rig
// itself failed (build, pack, QEMU could not run); a kernel that
// misbehaves is a Result with that outcome.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	a := o.Kernel.Arch
	if o.Progress == nil {
		o.Progress = progress.Discard{}
	}
	res := &Result{ExitStatus: -1, Run: report.Run{Arch: a.Name, Outcome: report.OutcomeRigError, Tests: []report.Test{}}}
	fail := func(err error) (*Result, error) {
		res.Run.Error = err.Error()
		res.Run.Timings.Total = report.Seconds(time.Since(start))
		return res, err
	}
	if err := hosttools.Check(hosttools.Boot, a); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return fail(fmt.Errorf("creating output directory: %w", err))
	}

	// 1. Kernel.
	o.Kernel.Progress = o.Progress
	k, err := kbuild.Build(ctx, o.Kernel)
	if err != nil {
		return fail(err)
	}
	res.Kernel = k
	res.Run.Kernel = report.Kernel{Version: k.Release, Patched: k.Patched, Image: k.Image, CacheHit: k.CacheHit}
	res.Run.Timings.KernelBuild = report.Seconds(k.Duration)

	// 2. Image.
	choice, err := vm.ChooseAccel(a, o.Accel, runtime.GOARCH, func() error { return vm.CheckKVM(ctx, a) })
	if err != nil {
		return fail(err)
	}
	res.Run.Accel = string(choice.Accel)
	var extraBins []plan.Binary
	if o.Kselftests && o.Mode == plan.Suite {
		o.Progress.Phase(a.Name, "kselftests")
		bins, err := kselftest.Build(ctx, kselftest.Options{Arch: a, SourceDir: k.Source, CacheDir: o.Kernel.CacheDir, Progress: o.Progress})
		o.Progress.Done(a.Name, err)
		if err != nil {
			return fail(err)
		}
		for _, b := range bins {
			guest := "/selfptrace-vm/kselftest/" + b.Name
			o.Files = append(o.Files, b.Path+":"+guest)
			extraBins = append(extraBins, plan.Binary{
				Name:    "kselftest." + b.Name,
				Path:    guest,
				Dir:     "/tmp",
				Kind:    plan.KindKselftest,
				Timeout: plan.Duration(choice.Accel.Scale(b.Timeout)),
			})
		}
	}
	o.Progress.Phase(a.Name, "pack")
	initrd := filepath.Join(o.OutDir, "initrd.cpio")
	p := plan.Plan{
		Version: plan.FormatVersion,
		Mode:    o.Mode,
		Timeout: plan.Duration(o.TestTimeout),
		Env:     o.GuestEnv,
		Filter:  o.Filter,
		Command: o.Command,
	}
	p.Binaries = extraBins
	tests := o.Tests
	if o.Mode != plan.Suite {
		tests = nil
	}
	img, err := initramfs.Build(ctx, initramfs.Opts{
		Arch:      a,
		Tests:     tests,
		Files:     o.Files,
		Plan:      p,
		Output:    initrd,
		CacheDir:  filepath.Join(o.Kernel.CacheDir, "initramfs"),
		ModuleDir: o.ModuleDir,
		Progress:  func(phase, msg string) { o.Progress.Update(a.Name, phase+": "+msg) },
	})
	o.Progress.Done(a.Name, err)
	if err != nil {
		return fail(err)
	}
	res.Initrd = initrd
	res.Run.Timings.Initramfs = report.Seconds(img.Timings.Total)

	// 3. Boot.
	logPath := filepath.Join(o.OutDir, "console.log")
	opts := append([]vm.Option{vm.WithKernelArgs(kernelArgs(o)...)}, o.QEMUOptions...)
	argv, err := vm.Cmdline(a, k.Image, initrd, append([]vm.Option{vm.WithAccel(choice.Accel)}, opts...)...)
	if err != nil {
		return fail(err)
	}
	res.Run.QEMU = argv
	res.Run.ConsoleLog = logPath
	res.Run.Rerun = shellquote.Join(RerunArgv(argv))
	if o.OnStart != nil {
		o.OnStart(argv)
	}
	o.Progress.Phase(a.Name, "boot and test ("+string(choice.Accel)+")")
	vr, err := vm.Run(ctx, vm.Config{
		Spec:     a,
		Kernel:   k.Image,
		Initrd:   initrd,
		Accel:    choice,
		Options:  opts,
		LogPath:  logPath,
		Output:   o.Console,
		Stdin:    o.Stdin,
		Detect:   vm.DetectConfig{BootMarker: BootMarker},
		Timeouts: o.Timeouts,
	})
	o.Progress.Done(a.Name, err)
	res.Run.Timings.Boot = report.Seconds(vr.BootTime)
	if vr.Duration > vr.BootTime {
		res.Run.Timings.Tests = report.Seconds(vr.Duration - vr.BootTime)
	}
	res.Run.RegDump = vr.RegistersPath
	if err != nil {
		var ce *vm.CanceledError
		if errors.As(err, &ce) || ctx.Err() != nil {
			return fail(err)
		}
		var ie *vm.InfraError
		if errors.As(err, &ie) {
			res.Run.Outcome = report.OutcomeQEMUError
			return fail(err)
		}
	}

	// 4. Collect and judge.
	judge(res, vr, logPath, o.Mode)
	res.Run.Timings.Total = report.Seconds(time.Since(start))
	return res, nil
}

func kernelArgs(o Options) []string {
	args := append([]string{"printk.time=1"}, o.Kernel.Arch.KernelArgs...)
	if o.Mode != plan.Suite {
		args = append(args, "quiet")
	}
	return append(args, o.KernelArgs...)
}

// RerunArgv turns a run's QEMU argv into one that boots the same kernel
// and image to an interactive shell on the console: the runner reads
// selfptrace.mode=shell from the kernel command line; the run's QMP socket
// is gone, so its option is dropped.
func RerunArgv(argv []string) []string {
	var out []string
	for i := 0; i < len(argv); i++ {
		switch argv[i] {
		case "-qmp":
			i++
			continue
		case "-serial":
			if i+1 < len(argv) && argv[i+1] == "stdio" {
				out = append(out, "-serial", "mon:stdio")
				i++
				continue
			}
		case "-append":
			if i+1 < len(argv) {
				out = append(out, "-append", argv[i+1]+" "+plan.ParamMode+"="+string(plan.Shell))
				i++
				continue
			}
		}
		out = append(out, argv[i])
	}
	return out
}

// judge turns the VM verdict and the console's KTAP into the run's outcome
// and tests. A run that completed passes only when the guest accounted for
// every planned test and all of them passed.
func judge(res *Result, vr vm.Result, logPath string, mode plan.Mode) {
	r := &res.Run
	r.Outcome = string(vr.Outcome)
	r.Excerpt = strings.Join(vr.Excerpt, "\n")
	rep, perr := parseLog(logPath)
	if rep != nil {
		r.Tests = testsOf(rep)
		if rep.Exit != nil {
			res.ExitStatus = rep.Exit.Status
		}
	}
	if !vr.Outcome.Completed() {
		if vr.Reason != "" {
			r.Error = vr.Reason
		}
		return
	}
	var problems []string
	if vr.Outcome == vm.OutcomeFail {
		// The guest completed, but the kernel logged a warning.
		problems = append(problems, vr.Reason)
	}
	switch {
	case perr != nil:
		problems = append(problems, "reading console log: "+perr.Error())
	case mode == plan.Suite:
		if err := rep.Check(); err != nil {
			problems = append(problems, err.Error())
		}
		if len(r.Tests) == 0 {
			problems = append(problems, "no test ran")
		}
	case mode == plan.Run:
		if rep.Exit == nil {
			problems = append(problems, "the guest command's exit marker is missing")
		}
	}
	failed := len(problems) > 0
	for _, t := range r.Tests {
		if t.Status == report.Fail || t.Status == report.Timeout {
			failed = true
		}
	}
	if mode == plan.Run && res.ExitStatus != 0 {
		failed = true
	}
	if failed {
		r.Outcome = report.OutcomeFail
		r.Error = strings.Join(problems, "; ")
	} else {
		r.Outcome = report.OutcomePass
		r.Excerpt = ""
	}
}

func parseLog(path string) (*ktap.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ktap.Parse(f)
}

// testsOf flattens the KTAP tree: one entry per test and subtest, named by
// its path ("selfptrace.TestArgs/rdi").
func testsOf(rep *ktap.Report) []report.Test {
	out := []report.Test{}
	rep.Walk(func(path string, t *ktap.Test) {
		rt := report.Test{Name: path, Status: statusOf(t)}
		rt.Duration, _ = t.Duration()
		var lines []string
		for _, d := range t.Diagnostics {
			if !strings.HasPrefix(strings.TrimSpace(d), ktap.TimePrefix) {
				lines = append(lines, d)
			}
		}
		lines = append(lines, t.Log...)
		if t.Result == ktap.Missing {
			lines = append(lines, "no result line: the test never reported (crash, hang or lost output)")
		} else if t.Reason != "" && rt.Status != report.Pass {
			lines = append(lines, t.Reason)
		}
		rt.Output = strings.Join(lines, "\n")
		out = append(out, rt)
	})
	return out
}

func statusOf(t *ktap.Test) string {
	switch t.Result {
	case ktap.Pass:
		return report.Pass
	case ktap.Skip:
		return report.Skip
	case ktap.Timeout:
		return report.Timeout
	default:
		return report.Fail
	}
}
