// Command selfptrace-vm builds a kernel with the self-ptrace patch series,
// packs a u-root initramfs of Go test binaries, boots it under QEMU for
// x86_64, s390x, arm64 and riscv64, and reports which guest tests passed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exit codes; the README lists them.
const (
	exitOK        = 0
	exitFail      = 1 // a test failed, or the kernel misbehaved (panic, timeout, boot failure)
	exitUsage     = 2 // bad flags or arguments
	exitRig       = 3 // the rig itself failed: missing tool, build error, QEMU error
	exitInterrupt = 130
	exitTerm      = 143
)

func main() {
	ctx, stop := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	dieWithParent()
	var got os.Signal
	go func() {
		s := <-sigs
		got = s
		fmt.Fprintf(os.Stderr, "selfptrace-vm: %v received, stopping (QEMU and make are killed, partial outputs removed)\n", s)
		stop(errInterrupted{s})
		<-sigs
		fmt.Fprintln(os.Stderr, "selfptrace-vm: second signal, exiting now")
		os.Exit(exitInterrupt)
	}()
	code := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	if ctx.Err() != nil {
		var ei errInterrupted
		if errors.As(context.Cause(ctx), &ei) {
			if ei.sig == syscall.SIGTERM {
				code = exitTerm
			} else {
				code = exitInterrupt
			}
		}
	}
	_ = got
	os.Exit(code)
}

type errInterrupted struct{ sig os.Signal }

func (e errInterrupted) Error() string { return "interrupted by " + e.sig.String() }

// usageError marks errors caused by the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one verb.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
	// examples and exits are shown by help VERB; exits replaces the
	// common exit codes.
	examples []string
	exits    []string
}

// env carries what every verb gets: its outputs and the rig's defaults.
type env struct {
	stdout, stderr io.Writer
}

func commands() []command {
	return []command{
		{name: "test", summary: "build, boot and run the guest test suite on one or more architectures", run: runTest, examples: []string{
			"selfptrace-vm test --arch s390x                       # the suite on s390x (kernel built or cached)",
			"selfptrace-vm test --arch all --json r.json --junit r.xml",
			"selfptrace-vm test --arch x86_64 --vanilla             # the negative control: feature tests must fail",
			"selfptrace-vm test --arch x86_64 --run 'TestRestart'   # some top-level tests",
			"selfptrace-vm test --arch riscv64 --kselftest           # the upstream neighbours' and the series' kselftests",
			"selfptrace-vm test --arch x86_64 --userland debian      # also Debian programs under strace and selftrace",
		}},
		{name: "build", summary: "build (or find in the cache) the kernel and print its path", run: runBuild, examples: []string{
			"selfptrace-vm build --arch arm64",
			"selfptrace-vm build --arch all --vanilla",
			"selfptrace-vm build --arch x86_64 --profile debug",
		}},
		{name: "run", summary: "boot and run one command in the guest, streaming its output", run: runRun, examples: []string{
			"selfptrace-vm run --arch s390x -- /bbin/uname -a",
			"selfptrace-vm run --arch x86_64 --userland debian -- strace -f busybox true",
			"selfptrace-vm run --arch arm64 --file ./prog:/prog -- /prog",
		}, exits: []string{
			"N   the guest command's exit status (0 to 255): a status of 1, 2 or 3 from the guest looks like the rig's own;",
			"    --json tells them apart (outcome pass or fail, with the status, for the guest's)",
			"1   also: the kernel misbehaved (timeout, panic, boot_fail)",
			"2   usage error",
			"3   the rig failed (missing tool, build or patch error, QEMU error)",
			"130 interrupted (SIGINT); 143 terminated (SIGTERM)",
		}},
		{name: "shell", summary: "boot to an interactive shell on the serial console", run: runShell, examples: []string{
			"selfptrace-vm shell --arch riscv64",
			"selfptrace-vm shell --arch x86_64 --userland debian     # bash in the Debian userland",
			"selfptrace-vm shell --arch arm64 --gdb --gdb-wait        # prints the gdb-multiarch command line",
		}},
		{name: "bench", summary: "measure self-ptrace against its rivals, and the rig itself", run: runBench, examples: []string{
			"selfptrace-vm bench --arch all",
			"selfptrace-vm bench --arch x86_64 --userland debian --mechanisms none --no-rig   # selftrace against strace",
		}},
		{name: "doctor", summary: "check the host tools and name the Debian packages that provide them", run: runDoctor, examples: []string{
			"selfptrace-vm doctor",
		}, exits: []string{
			"0   every host tool and the kernel source are there",
			"2   usage error",
			"3   something is missing (each missing tool is named with its Debian package)",
		}},
		{name: "compare", summary: "run the same tests on two kernels and classify each result (a CI gate: exit 1 on a regression)", run: runCompare, examples: []string{
			"selfptrace-vm compare --arch x86_64                        # kselftests: vanilla against patched",
			"selfptrace-vm compare --arch all --root ../main --root . --suite go --run 'TestDelivery'",
		}, exits: []string{
			"0   no regression",
			"1   a regression (a result worse on the second kernel, confirmed by a rerun)",
			"2   usage error",
			"3   the rig failed",
			"130 interrupted (SIGINT); 143 terminated (SIGTERM)",
		}},
		{name: "bisect", summary: "find the first patch of the series under which a test fails (or one git bisect run step)", run: runBisect, examples: []string{
			"selfptrace-vm bisect --arch x86_64 --run '^TestDelivery$'        # good end: the arch's feature patch",
			"selfptrace-vm bisect --arch s390x --run '^TestSmoke' --good 0 --series /tmp/series",
			"git bisect run selfptrace-vm bisect --step --arch x86_64 --kernel-src \"$PWD\" --run '^TestDelivery$'",
		}, exits: []string{
			"0   the first bad patch was found (or, with --step: good)",
			"1   the test does not pass at the good end or fail at the bad end (or, with --step: bad)",
			"2   usage error",
			"3   the rig failed",
			"125 with --step: this kernel cannot be built or booted (git bisect skips it)",
			"128 with --step: the rig failed or a usage error (git bisect stops)",
		}},
		{name: "prefixes", summary: "build every prefix of the series on each arch and check it: vanilla behaviour before the arch's feature patch, everything passing from it", run: runPrefixes, examples: []string{
			"selfptrace-vm prefixes --arch x86_64                 # 0 to all patches, one incremental build each",
			"selfptrace-vm prefixes --arch all --json matrix.json",
			"selfptrace-vm prefixes --arch s390x --from 4 --to 8",
			"selfptrace-vm prefixes --arch arm64 --descending    # from the whole series down: one big rebuild fewer",
		}, exits: []string{
			"0   every prefix behaves as it must on every arch",
			"1   some kernel does not (the matrix names it)",
			"2   usage error",
			"3   the rig failed",
			"130 interrupted (SIGINT); 143 terminated (SIGTERM)",
		}},
		{name: "lava-job", summary: "write a LAVA job (qemu, tmpfs, test monitor), its device description, kernel and initramfs", run: runLavaJob, examples: []string{
			"selfptrace-vm lava-job --arch s390x --out job/",
			"selfptrace-vm lava-job --arch x86_64 --out job/ --kernel-url https://lab/bzImage --initrd-url https://lab/initrd.cpio",
		}},
		{name: "userland", summary: "make (or find in the cache) the Debian userland of --userland and print its path", run: runUserland, examples: []string{
			"selfptrace-vm userland --arch s390x",
			"selfptrace-vm userland --arch riscv64 --userland debian:gdb",
		}},
		{name: "cache-key", summary: "print the kernel cache key of an architecture (for CI caches)", run: runCacheKey, examples: []string{
			"selfptrace-vm cache-key --arch all",
		}},
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: selfptrace-vm <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'selfptrace-vm help <command>' for the flags, examples and exit codes of a command;")
	fmt.Fprintln(w, "'selfptrace-vm --version' for the build.")
}

// versionLine names the build: the module version or VCS revision the
// binary was built from (with "+dirty" for uncommitted changes) and Go's.
func versionLine() string {
	version := "(devel)"
	info, ok := debug.ReadBuildInfo()
	if ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		var rev, dirty string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			version += " " + rev[:min(12, len(rev))] + dirty
		}
	}
	return fmt.Sprintf("selfptrace-vm %s %s %s/%s", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// run is the whole program without process-wide effects, for tests.
func run(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		if args[0] == "help" && len(args) > 1 {
			// help VERB: the verb's usage on standard output.
			for _, c := range commands() {
				if c.name == args[1] {
					return run(ctx, stdout, stdout, []string{args[1], "-h"})
				}
			}
			return run(ctx, stdout, stderr, args[1:2])
		}
		printUsage(stdout)
		return exitOK
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}
	e := &env{stdout: stdout, stderr: stderr}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		return exitCode(stderr, c.name, err)
	}
	fmt.Fprintf(stderr, "selfptrace-vm: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitUsage
}

// failure is returned by a verb whose work completed but whose verdict is
// negative (a test failed, the kernel panicked): exit 1 without an extra message.
type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func exitCode(stderr io.Writer, verb string, err error) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	var f failure
	var es exitStatus
	switch {
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "selfptrace-vm %s: %v\n", verb, err)
		return exitUsage
	case errors.As(err, &es):
		return es.code
	case errors.As(err, &f):
		if f.msg != "" {
			fmt.Fprintf(stderr, "selfptrace-vm %s: %s\n", verb, f.msg)
		}
		return exitFail
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "selfptrace-vm %s: interrupted\n", verb)
		return exitInterrupt
	default:
		fmt.Fprintf(stderr, "selfptrace-vm %s: %v\n", verb, err)
		return exitRig
	}
}

// dieWithParent asks the kernel for SIGTERM when the parent process dies,
// if that parent is `go run` (the README's form): killed with SIGKILL, by a
// CI runner or kill -9, it cannot pass a signal on, and its child, the rig,
// would go on running QEMU. With the request, the rig stops in order (QEMU
// and make killed, no partial cache entry). A parent that died before the
// request leaves us adopted (by init or a subreaper): then stop at once.
// A rig started otherwise (a built binary under nohup) outlives its parent.
func dieWithParent() {
	parent := os.Getppid()
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", parent))
	if err != nil || !isGoRun(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")) {
		return
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		return
	}
	if os.Getppid() != parent {
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}

// isGoRun reports whether argv is the go command's run verb ("go run ...",
// "go -C dir run ..."). The binary it runs is in a temporary directory or,
// since Go 1.24, in the build cache, so the parent is what tells.
func isGoRun(argv []string) bool {
	if len(argv) < 2 || filepath.Base(argv[0]) != "go" {
		return false
	}
	for i := 1; i < len(argv); i++ {
		switch a := argv[i]; {
		case a == "run":
			return true
		case a == "-C":
			i++ // its directory
		case strings.HasPrefix(a, "-"):
		default:
			return false // another verb
		}
	}
	return false
}
