package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/selfptrace/selfptrace-vm/initramfs"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/lava"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

func runLavaJob(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var kernelURL, initrdURL, filter, pkgs string
	var jobMinutes, testMinutes int
	fs := newFlagSet("lava-job", e.stderr, "--arch A --out DIR [--profile default] [--kernel-url URL] [--initrd-url URL]")
	b.register(fs, false)
	fs.StringVar(&kernelURL, "kernel-url", "", "where the lab serves the kernel image (default: file:// of the copy in --out)")
	fs.StringVar(&initrdURL, "initrd-url", "", "where the lab serves the initramfs (default: file:// of the copy in --out)")
	fs.StringVar(&filter, "run", "", "only run top-level guest tests matching this regular expression")
	fs.StringVar(&pkgs, "tests", strings.Join(defaultSuite, ","), "comma-separated guest test packages")
	fs.IntVar(&jobMinutes, "job-minutes", 30, "the job's timeout in minutes")
	fs.IntVar(&testMinutes, "test-minutes", 20, "the test action's timeout in minutes")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := notWith(fs, true, "to lava-job: the lab's device chooses the accelerator, and the job's limits are --job-minutes and --test-minutes",
		"accel", "boot-timeout", "idle-timeout", "run-timeout"); err != nil {
		return err
	}
	if jobMinutes < 1 || testMinutes < 1 || testMinutes > jobMinutes {
		return usagef("need 1 <= --test-minutes <= --job-minutes (got %d and %d)", testMinutes, jobMinutes)
	}
	if fs.Lookup("out").Value.String() == "" {
		return usagef("--out is required: the directory for the job, the device description, the kernel and the initramfs")
	}
	if err := b.finish(false); err != nil {
		return err
	}
	if !b.prof.IsDefault() {
		return usagef("--profile %s: lava-job makes jobs of the default profile only", b.profile)
	}
	if filter != "" {
		if _, err := regexp.Compile(filter); err != nil {
			return usagef("--run: %v", err)
		}
	}
	for _, u := range []string{kernelURL, initrdURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Scheme == "" {
			return usagef("%q is not a URL (file://, http://, https://)", u)
		}
	}
	var packages []string
	for _, p := range strings.Split(pkgs, ",") {
		if p = strings.TrimSpace(p); p != "" {
			packages = append(packages, p)
		}
	}
	if len(packages) == 0 {
		return usagef("--tests names no package")
	}
	a := b.archs[0]
	out, err := filepath.Abs(b.outDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", out, err)
	}
	rep := &progress.Text{W: e.stderr}
	ko := b.kbuildOptions(a)
	ko.Progress = rep
	k, err := kbuild.Build(ctx, ko)
	if err != nil {
		return err
	}
	kernel := filepath.Join(out, filepath.Base(a.KernelImage))
	if _, err := fsutil.CopyFile(kernel, k.Image, 0o644); err != nil {
		return fmt.Errorf("copying the kernel: %w", err)
	}
	initrd := filepath.Join(out, "initrd.cpio")
	rep.Phase(a.Name, "pack")
	_, err = initramfs.Build(ctx, initramfs.Opts{
		Arch:  a,
		Tests: testPackages(packages, b.testTimeout),
		Files: b.files,
		Plan: plan.Plan{
			Version: plan.FormatVersion,
			Mode:    plan.Suite,
			Timeout: plan.Duration(b.testTimeout),
			Env:     guestEnv,
			Filter:  filter,
		},
		Output:    initrd,
		CacheDir:  filepath.Join(b.cacheDir, "initramfs"),
		ModuleDir: b.root,
		Progress:  func(phase, msg string) { rep.Update(a.Name, phase+": "+msg) },
	})
	rep.Done(a.Name, err)
	if err != nil {
		return err
	}
	if kernelURL == "" {
		kernelURL = fileURL(kernel)
	}
	if initrdURL == "" {
		initrdURL = fileURL(initrd)
	}
	kargs := append(append([]string{"printk.time=1"}, a.KernelArgs...), b.prof.KernelArgs...)
	if b.appendArgs != "" {
		kargs = append(kargs, strings.Fields(b.appendArgs)...)
	}
	job, err := lava.Marshal(lava.NewJob(lava.Params{
		Arch: a, KernelURL: kernelURL, RamdiskURL: initrdURL, KernelArgs: kargs,
		JobMinutes: jobMinutes, TestMinutes: testMinutes,
	}))
	if err != nil {
		return err
	}
	dev, err := lava.Marshal(lava.Device(a, vm.DefaultMemory, b.smp))
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# LAVA job: selfptrace-vm guest suite on %s, kernel %s (%s, profile %s).\n# Run it offline: lava-run --job-id 1 --output-dir DIR --device device.yaml job.yaml\n", a.Name, k.Release, report.Flavor(k.Patched), k.Profile)
	if err := fsutil.WriteFileAtomic(filepath.Join(out, "job.yaml"), append([]byte(header), job...), 0o644); err != nil {
		return err
	}
	devHeader := fmt.Sprintf("# A rendered qemu device description for lava-run, from the arch table (%s).\n", a.Name)
	if err := fsutil.WriteFileAtomic(filepath.Join(out, "device.yaml"), append([]byte(devHeader), dev...), 0o644); err != nil {
		return err
	}
	for _, f := range []string{"job.yaml", "device.yaml", filepath.Base(kernel), filepath.Base(initrd)} {
		fmt.Fprintln(e.stdout, filepath.Join(out, f))
	}
	return nil
}

func fileURL(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }
