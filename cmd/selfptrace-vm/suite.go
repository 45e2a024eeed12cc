package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/initramfs"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/internal/shellquote"
	"github.com/selfptrace/selfptrace-vm/rig"
	"github.com/selfptrace/selfptrace-vm/userland"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// defaultSuite is what `test` runs: the smoke tests, then the conformance suite.
var defaultSuite = []string{"./tests/smoke", "./tests/selfptrace"}

// guestEnv keeps the Go runtime's own signals out of armed windows.
var guestEnv = []string{"GODEBUG=asyncpreemptoff=1"}

// bootFlags are the flags of every verb that boots a guest.
type bootFlags struct {
	common
	outDir      string
	accel       string
	testTimeout time.Duration
	bootTimeout time.Duration
	idle        time.Duration
	runTimeout  time.Duration
	appendArgs  string
	files       multiFlag
	smp         int
	// userlandFlag is --userland, on the verbs that register it;
	// userland is its parsed value (nil: no userland).
	userlandFlag string
	userland     *userland.Spec
}

// userlandPkg is the guest test packages that test adds with --userland
// (comma-separated, as --tests): the userland tests and selftrace's.
const userlandPkg = "./tests/userland,./tests/tracer"

// registerUserland adds --userland (test, run, shell and bench).
func (b *bootFlags) registerUserland(fs *flag.FlagSet) {
	fs.StringVar(&b.userlandFlag, "userland", "", "add a Debian root made from Debian's packages: debian, or debian:PKG,PKG... for extra packages (run and shell then run in it; test adds "+userlandPkg+")")
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (b *bootFlags) register(fs *flag.FlagSet, multiArch bool) {
	b.registerSMP(fs, multiArch, vm.DefaultSMP, "number of virtual CPUs of the guest")
}

// registerSMP registers the boot flags with a verb's own --smp default.
func (b *bootFlags) registerSMP(fs *flag.FlagSet, multiArch bool, smp int, smpHelp string) {
	b.common.register(fs, multiArch)
	fs.IntVar(&b.smp, "smp", smp, smpHelp)
	fs.StringVar(&b.outDir, "out", "", "directory for the run's artifacts: console logs, images, register dumps (default out/run-TIME-PID in the checkout)")
	fs.StringVar(&b.accel, "accel", "auto", "accelerator: auto (KVM when usable for a same-arch guest, else TCG), kvm or tcg")
	fs.DurationVar(&b.testTimeout, "timeout", 3*time.Minute, "per-test timeout inside the guest (4 times that for ./tests/tracer, twice for ./tests/userland: their tests each run a corpus of programs under strace)")
	fs.DurationVar(&b.bootTimeout, "boot-timeout", 12*time.Second, "time for the kernel to reach the guest runner (multiplied by 5 under TCG)")
	fs.DurationVar(&b.idle, "idle-timeout", 60*time.Second, "time without console output before the guest counts as hung (multiplied by 5 under TCG)")
	fs.DurationVar(&b.runTimeout, "run-timeout", 6*time.Minute, "limit for a whole boot (multiplied by 5 under TCG)")
	fs.StringVar(&b.appendArgs, "append", "", "extra kernel command line arguments (space separated)")
	fs.Var(&b.files, "file", "HOST[:GUEST] file or directory to add to the image (repeatable)")
}

func (b *bootFlags) finish(multiArch bool) error {
	if err := b.common.finish(multiArch); err != nil {
		return err
	}
	if _, err := vm.ParseAccel(b.accel); err != nil {
		return usagef("--accel: %v", err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"timeout", b.testTimeout}, {"boot-timeout", b.bootTimeout}, {"run-timeout", b.runTimeout}} {
		if d.v <= 0 {
			return usagef("--%s must be positive", d.name)
		}
	}
	if b.idle < 0 {
		return usagef("--idle-timeout must not be negative")
	}
	if b.userlandFlag != "" {
		spec, err := userland.Parse(b.userlandFlag)
		if err != nil {
			return usagef("--userland: %v", err)
		}
		b.userland = &spec
	}
	if b.smp < 1 || b.smp > vm.MaxSMP {
		return usagef("--smp %d: want 1 to %d virtual CPUs", b.smp, vm.MaxSMP)
	}
	for _, f := range b.files {
		host, _, _ := strings.Cut(f, ":")
		if _, err := os.Stat(host); err != nil {
			return usagef("--file %s: %v", f, err)
		}
	}
	if b.outDir == "" {
		b.outDir = filepath.Join(b.root, "out", fmt.Sprintf("run-%s-%d", time.Now().Format("20060102-150405"), os.Getpid()))
	}
	return nil
}

// options turns the flags into one architecture's rig options.
func (b *bootFlags) options(a arch.Spec, mode plan.Mode) rig.Options {
	accel, _ := vm.ParseAccel(b.accel)
	var kargs []string
	if b.appendArgs != "" {
		kargs = strings.Fields(b.appendArgs)
	}
	return rig.Options{
		Kernel:      b.kbuildOptions(a),
		ModuleDir:   b.root,
		OutDir:      filepath.Join(b.outDir, a.Name),
		Mode:        mode,
		Files:       b.files,
		GuestEnv:    guestEnv,
		TestTimeout: b.testTimeout,
		Timeouts:    vm.Timeouts{Boot: b.bootTimeout, NoOutput: b.idle, Run: b.runTimeout},
		Accel:       accel,
		SMP:         b.smp,
		KernelArgs:  kargs,
		Userland:    b.userland,
	}
}

// timeoutFactor multiplies --timeout for the guest packages whose
// top-level tests each run a corpus of programs under strace: tests/tracer
// runs 32 programs under strace and selftrace in one test, tests/userland
// its cases under strace -f; on s390x under TCG, with other guests
// sharing the host's two cores, that takes minutes.
var timeoutFactor = map[string]time.Duration{"./tests/tracer": 4, "./tests/userland": 2}

func testPackages(pkgs []string, timeout time.Duration) []initramfs.TestPackage {
	var out []initramfs.TestPackage
	for _, p := range pkgs {
		t := timeout
		if f, ok := timeoutFactor[p]; ok {
			t *= f
		}
		out = append(out, initramfs.TestPackage{Pkg: p, Name: filepath.Base(p), Timeout: t})
	}
	return out
}

// prefixWriter prefixes every line with the architecture, so that the
// consoles of parallel runs stay readable.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    bytes.Buffer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadBytes('\n')
		if err != nil {
			p.buf.Write(line)
			break
		}
		fmt.Fprintf(p.w, "%s%s", p.prefix, line)
	}
	return len(b), nil
}

func newReporter(w io.Writer) progress.Reporter { return &progress.Text{W: w} }

// printArgv prints the QEMU command line, ready to paste.
func printArgv(w io.Writer, a arch.Spec, argv []string) {
	fmt.Fprintf(w, "[%s] qemu: %s\n", a.Name, shellquote.Join(argv))
}

// runAll runs fn for every architecture, in parallel, and returns the
// first rig error after all have finished.
func runAll(ctx context.Context, archs []arch.Spec, fn func(context.Context, int, arch.Spec) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(archs))
	for i, a := range archs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(ctx, i, a)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
