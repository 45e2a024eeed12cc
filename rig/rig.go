// Package rig runs the pipeline for one architecture: build the kernel,
// pack the image, boot it, collect the console, and turn it into a
// report.Run. Data flows one way; each step is another package.
package rig

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/selfptrace/selfptrace-vm/initramfs"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
	"github.com/selfptrace/selfptrace-vm/internal/kernelsrc"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/internal/shellquote"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/kselftest"
	"github.com/selfptrace/selfptrace-vm/ktap"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/selftrace"
	"github.com/selfptrace/selfptrace-vm/userland"
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
	// change (seccomp, syscall user dispatch, ptrace) and the series' own
	// self_ptrace kselftest, built from the kernel's own source tree (for a
	// tree without self_ptrace/, the vanilla one, from the series), to
	// suite mode, their TAP passed through.
	Kselftests bool
	// Userland, if set, adds the Debian userland to the image: the guest
	// runs run mode's command and the shell chrooted into it, and tells
	// suite tests where it is. selftrace, built for the kernel, comes
	// with it (selftrace.GuestLauncher and the rest, inside the userland).
	Userland *userland.Spec
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
	// SMP is the number of virtual CPUs (vm.DefaultSMP when zero).
	SMP int
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
	// OnStart is called with the QEMU argv just before it runs: exactly
	// the command that runs (vm.Config.OnStart).
	OnStart func(argv []string)
}

// kselftestSeries is the series the kselftests take the suites it adds
// from when the kernel's tree lacks them (self_ptrace/ on the vanilla
// tree): the checkout's series even for a vanilla kernel, which is built
// without it. None without a series directory.
func kselftestSeries(k kbuild.Options) ([]kbuild.Patch, error) {
	if k.SeriesDir == "" {
		return nil, nil
	}
	series, err := kbuild.ReadSeries(k.SeriesDir)
	if err != nil {
		return nil, fmt.Errorf("reading the series for the self_ptrace kselftest: %w", err)
	}
	return series, nil
}

// BootMarker is the start of every line the guest runner prints for the
// host; the first one means user space is up.
const BootMarker = "# " + ktap.MarkerPrefix

// Result is a finished run: the report entry and, for run mode, the
// command's exit status.
type Result struct {
	Run report.Run
	// Err is the VM's own typed error (vm.Result.Err): nil when the guest
	// ran to completion without a kernel problem, else *vm.KernelError,
	// *vm.InfraError or *vm.CanceledError. Run.Outcome also counts the
	// tests; Err says who is to blame for a run that did not complete.
	Err        error
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
	// An instrumented kernel (the debug profile) runs several times slower.
	slow := time.Duration(max(o.Kernel.Profile.Slowdown, 1))
	o.TestTimeout *= slow
	o.Timeouts = o.Timeouts.Times(int(slow))
	// What was asked, before anything runs: a run that fails before its
	// kernel is built still says which kernel it was to boot, and how.
	res := &Result{ExitStatus: -1, Run: report.Run{
		Arch: a.Name, Outcome: vm.OutcomeRigError, Tests: []report.Test{},
		Kernel: report.Kernel{Patched: !o.Kernel.Vanilla && !o.Kernel.AsIs, Flavor: o.Kernel.Flavor(), Profile: o.Kernel.Profile.Label()},
		Accel:  cmp.Or(string(o.Accel), "auto"),
		SMP:    cmp.Or(o.SMP, vm.DefaultSMP),
	}}
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

	// 1. Accelerator: KVM only where a guest has been seen running under
	// it (a probe of the firmware, cached per host boot and QEMU binary).
	// First, so that --accel kvm on a host where KVM does not run guests
	// fails before a kernel build.
	o.Progress.Phase(a.Name, "accelerator")
	choice, err := vm.SelectAccel(ctx, a, o.Accel, o.Kernel.CacheDir)
	o.Progress.Done(a.Name, err)
	if err != nil {
		return fail(err)
	}
	res.Run.Accel, res.Run.AccelReason = string(choice.Accel), choice.Reason
	res.Run.SMP = cmp.Or(o.SMP, vm.DefaultSMP)

	// 2. Kernel.
	o.Kernel.Progress = o.Progress
	k, err := kbuild.Build(ctx, o.Kernel)
	if err != nil {
		return fail(err)
	}
	res.Kernel = k
	res.Run.Kernel = report.Kernel{Version: k.Release, Patched: k.Patched, Flavor: k.Flavor, Tree: k.Tree, Profile: k.Profile, Image: k.Image, CacheHit: k.CacheHit}
	res.Run.Timings.KernelBuild = report.Seconds(k.Duration)

	// 3. Image: the userland, the kselftests, the runner and the tests.
	var archives []string
	var userlandRoot string
	if o.Userland != nil {
		if err := hosttools.Check(hosttools.Userland, a); err != nil {
			return fail(err)
		}
		if err := hosttools.Check(hosttools.Selftrace, a); err != nil {
			return fail(err)
		}
		o.Progress.Phase(a.Name, "userland")
		ul, err := userland.Ensure(ctx, userland.Options{
			Arch:     a,
			Spec:     *o.Userland,
			CacheDir: filepath.Join(o.Kernel.CacheDir, "userland"),
			Progress: func(msg string) { o.Progress.Update(a.Name, msg) },
		})
		o.Progress.Done(a.Name, err)
		if err != nil {
			return fail(err)
		}
		if ul.Damaged != "" {
			o.Progress.Update(a.Name, ul.Damaged+": made it again")
		}
		archives, userlandRoot = []string{ul.Archive}, userland.GuestRoot
		res.Run.Userland = &report.Userland{
			Spec: o.Userland.String(), Suite: ul.Info.Suite, DebianArch: ul.Info.DebianArch, Key: ul.Key,
			Bytes: ul.Info.ArchiveBytes, Packages: len(ul.Info.Versions), CacheHit: ul.CacheHit,
		}
		res.Run.Timings.Userland = report.Seconds(ul.Duration)

		// selftrace goes wherever the userland goes: its launcher,
		// library and test programs, inside the userland (GuestFiles).
		o.Progress.Phase(a.Name, "selftrace")
		t0 := time.Now()
		st, err := buildSelftrace(ctx, o, k)
		o.Progress.Done(a.Name, err)
		if err != nil {
			return fail(err)
		}
		o.Files = append(o.Files, st.GuestFiles(userland.GuestRoot)...)
		res.Run.Selftrace = &report.Selftrace{Key: st.Key, CacheHit: st.CacheHit}
		res.Run.Timings.Selftrace = report.Seconds(time.Since(t0))
	}
	var extraBins []plan.Binary
	if o.Kselftests && o.Mode == plan.Suite {
		o.Progress.Phase(a.Name, "kselftests")
		series, err := kselftestSeries(o.Kernel)
		if err != nil {
			o.Progress.Done(a.Name, err)
			return fail(err)
		}
		bins, err := kselftest.Build(ctx, kselftest.Options{Arch: a, SourceDir: k.Source, CacheDir: o.Kernel.CacheDir, Series: series, Progress: o.Progress})
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
				Timeout: plan.Duration(choice.Accel.Scale(b.Timeout) * slow),
			})
		}
	}
	o.Progress.Phase(a.Name, "pack")
	initrd := filepath.Join(o.OutDir, "initrd.cpio")
	p := plan.Plan{
		Version:  plan.FormatVersion,
		Mode:     o.Mode,
		Timeout:  plan.Duration(o.TestTimeout),
		Env:      append(append([]string(nil), o.GuestEnv...), fmt.Sprintf("%s=%d", plan.SMPEnv, res.Run.SMP)),
		Filter:   o.Filter,
		Command:  o.Command,
		Userland: userlandRoot,
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
		Archives:  archives,
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

	// 4. Boot.
	logPath := filepath.Join(o.OutDir, "console.log")
	res.Run.ConsoleLog = logPath
	o.Progress.Phase(a.Name, "boot and test under "+choice.String())
	vr, err := vm.Run(ctx, vm.Config{
		Spec:    a,
		Kernel:  k.Image,
		Initrd:  initrd,
		Accel:   choice,
		Options: append([]vm.Option{vm.WithKernelArgs(kernelArgs(o)...), vm.WithSMP(res.Run.SMP)}, o.QEMUOptions...),
		LogPath: logPath,
		Output:  o.Console,
		Stdin:   o.Stdin,
		// The shell's first prompt: input typed ahead of it can be lost.
		HoldInputUntil: holdInputUntil(o),
		Detect:         vm.DetectConfig{BootMarker: BootMarker},
		Timeouts:       o.Timeouts,
		OnStart:        o.OnStart,
	})
	o.Progress.Done(a.Name, err)
	res.Err = err
	// The argv that ran: -v printed it (OnStart), the JSON keeps it, and
	// the rerun line is derived from it.
	res.Run.QEMU = vr.Argv
	if len(vr.Argv) > 0 {
		res.Run.Rerun = shellquote.Join(RerunArgv(vr.Argv))
	}
	res.Run.Timings.Boot = report.Seconds(vr.BootTime)
	if vr.Duration > vr.BootTime {
		res.Run.Timings.Tests = report.Seconds(vr.Duration - vr.BootTime)
	}
	res.Run.RegDump = vr.RegistersPath
	if vr.Outcome == "" {
		// Rejected before QEMU ran (bad command line).
		return fail(err)
	}
	var ce *vm.CanceledError
	var ie *vm.InfraError
	if err != nil && (errors.As(err, &ce) || errors.As(err, &ie) || ctx.Err() != nil) {
		res.Run.Outcome = vr.Outcome
		res.Run.Excerpt = strings.Join(vr.Excerpt, "\n")
		return fail(err)
	}

	// 5. Collect and judge.
	judge(res, vr, logPath, o.Mode)
	res.Run.Timings.Total = report.Seconds(time.Since(start))
	return res, nil
}

// buildSelftrace builds selftrace for the kernel k with the system call
// table of its source tree. A kernel from the cache may come without its
// work tree (CI caches only the kernels): then the table comes from the
// source it was built from (--kernel-src), whose tables the series leaves
// as they are.
func buildSelftrace(ctx context.Context, o Options, k *kbuild.Kernel) (*selftrace.Artifacts, error) {
	a := o.Kernel.Arch
	progress := func(msg string) { o.Progress.Update(a.Name, msg) }
	src := k.Source
	if !kernelsrc.IsTree(src) {
		from := cmp.Or(o.Kernel.Source, kbuild.DefaultSource)
		progress("the kernel's work tree is gone: the system call tables come from " + from)
		var err error
		if src, err = kernelsrc.Tables(ctx, from, o.Kernel.CacheDir); err != nil {
			return nil, fmt.Errorf("building selftrace for %s: finding the system call tables: %w", a.Name, err)
		}
	}
	return selftrace.Build(ctx, selftrace.Options{
		Arch:      a,
		KernelSrc: src,
		SrcDir:    filepath.Join(o.ModuleDir, "tools", "selftrace"),
		CacheDir:  filepath.Join(o.Kernel.CacheDir, "selftrace"),
		Progress:  progress,
	})
}

// holdInputUntil is the console text after which an interactive shell
// takes input: the runner's line that starts it.
func holdInputUntil(o Options) string {
	if o.Stdin == nil || o.Mode != plan.Shell {
		return ""
	}
	return BootMarker + "info run "
}

func kernelArgs(o Options) []string {
	args := append([]string{"printk.time=1"}, o.Kernel.Arch.KernelArgs...)
	args = append(args, o.Kernel.Profile.KernelArgs...)
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
// and tests: vm.Worse of the VM's outcome and the tests' (pass only when
// the guest accounted for every planned test and all of them passed).
func judge(res *Result, vr vm.Result, logPath string, mode plan.Mode) {
	r := &res.Run
	rep, perr := parseLog(logPath)
	if rep != nil {
		r.Tests = testsOf(rep)
		if rep.Exit != nil {
			res.ExitStatus = rep.Exit.Status
		}
	}
	tests, problems := testsVerdict(rep, perr, r.Tests, mode, res.ExitStatus)
	r.Outcome = vm.Worse(vr.Outcome, tests)
	r.Excerpt = strings.Join(vr.Excerpt, "\n")
	switch {
	case r.Outcome == vm.OutcomePass:
		r.Excerpt = ""
	case vr.Outcome != vm.OutcomePass:
		// The VM's verdict decided (or joins the tests' failure).
		r.Error = strings.Join(append([]string{vr.Reason}, problems...), "; ")
		if !vr.Outcome.Completed() {
			r.Error = vr.Reason
		}
	default:
		r.Error = strings.Join(problems, "; ")
	}
}

// testsVerdict is the tests' side of a run: OutcomePass when the guest
// reported every planned test (or, in run mode, the command's exit status
// 0) and nothing failed, OutcomeFail with the problems otherwise.
func testsVerdict(rep *ktap.Report, perr error, tests []report.Test, mode plan.Mode, exitStatus int) (vm.Outcome, []string) {
	var problems []string
	switch {
	case perr != nil:
		problems = append(problems, "reading console log: "+perr.Error())
	case mode == plan.Suite:
		if err := rep.Check(); err != nil {
			problems = append(problems, err.Error())
		}
		if len(tests) == 0 {
			problems = append(problems, "no test ran")
		}
	case mode == plan.Run:
		if rep.Exit == nil {
			problems = append(problems, "the guest command's exit marker is missing")
		}
	}
	failed := len(problems) > 0
	for _, t := range tests {
		if t.Status == report.Fail || t.Status == report.Timeout {
			failed = true
		}
	}
	if mode == plan.Run && exitStatus != 0 {
		failed = true
	}
	if failed {
		return vm.OutcomeFail, problems
	}
	return vm.OutcomePass, nil
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
