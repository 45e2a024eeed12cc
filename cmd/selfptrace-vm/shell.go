package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/rig"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// shellSMP is shell's own --smp default.
const shellSMP = 1

func runShell(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var gdb bool
	var gdbPort int
	var gdbWait bool
	fs := newFlagSet("shell", e.stderr, "--arch "+arch.Usage(false)+" [--gdb]")
	// One vCPU by default: with two, the s390x console under TCG stalled
	// after a command in 3 of 3 scripted sessions of e2e TestShell (the
	// shell took the line, then no output came); the suite runs on two.
	b.registerSMP(fs, false, shellSMP, "number of virtual CPUs of the guest (default 1 for the interactive shell; see the README)")
	b.registerUserland(fs)
	fs.BoolVar(&gdb, "gdb", false, "add QEMU's gdb stub and print the gdb command line")
	fs.IntVar(&gdbPort, "gdb-port", 0, "gdb stub port (default: a free port)")
	fs.BoolVar(&gdbWait, "gdb-wait", false, "with --gdb: stop the CPU until gdb continues it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := notWith(fs, true, "to shell: an interactive session has no per-test, idle or whole-run limit", "timeout", "idle-timeout", "run-timeout"); err != nil {
		return err
	}
	if err := notWith(fs, !gdb, "without --gdb", "gdb-port", "gdb-wait"); err != nil {
		return err
	}
	if err := b.finish(false); err != nil {
		return err
	}
	a := b.archs[0]
	o := b.options(a, plan.Shell)
	o.Progress = newReporter(e.stderr)
	o.Stdin = os.Stdin
	o.Console = e.stdout
	o.Timeouts.NoOutput = 0 // an idle prompt is not a hang
	o.Timeouts.Run = 24 * 60 * 60 * 1e9
	o.QEMUOptions = append(o.QEMUOptions, vm.WithConsole(vm.ConsoleInteractive))
	if gdb {
		if gdbPort == 0 {
			p, err := freePort()
			if err != nil {
				return fmt.Errorf("finding a port for the gdb stub: %w", err)
			}
			gdbPort = p
		}
		o.QEMUOptions = append(o.QEMUOptions, vm.WithGDB(gdbPort, gdbWait))
	}
	o.OnStart = func(argv []string) {
		if b.verbose {
			printArgv(e.stderr, a, argv)
		}
		if gdb {
			fmt.Fprintf(e.stderr, "[%s] gdb stub on port %d; connect with:\n  %s\n", a.Name, gdbPort, gdbCommand(a, vmlinuxOf(argv), gdbPort))
		}
		fmt.Fprintf(e.stderr, "[%s] console attached; type exit in the guest shell to power off\n", a.Name)
	}
	if isTerminal(os.Stdin) {
		restore, err := vm.MakeRaw(os.Stdin)
		if err == nil {
			defer restore()
		}
	}
	res, err := rig.Run(ctx, o)
	if err != nil {
		return err
	}
	if res.Run.Outcome != vm.OutcomePass && res.Run.Outcome != vm.OutcomeFail {
		report.Results{Runs: []report.Run{res.Run}}.WriteSummary(e.stderr)
		return failure{fmt.Sprintf("%s shell ended with outcome %s", a.Name, res.Run.Outcome)}
	}
	return nil
}

// gdbCommand is the gdb-multiarch line that attaches to the stub.
func gdbCommand(a arch.Spec, vmlinux string, port int) string {
	return fmt.Sprintf("gdb-multiarch -q -ex 'set architecture %s' -ex 'target remote localhost:%d' %s", a.GDBArch, port, vmlinux)
}

// vmlinuxOf finds the vmlinux next to the kernel image in QEMU's argv.
func vmlinuxOf(argv []string) string {
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == "-kernel" {
			return filepathJoinDir(argv[i+1], "vmlinux")
		}
	}
	return "vmlinux"
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
