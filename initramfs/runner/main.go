//go:build linux

// Command selfptrace-runner is the guest side of selfptrace-vm. u-root's init
// starts it as uinit; it mounts what tests need, reads the plan that the
// packer put in the image (/etc/selfptrace-vm/plan.json), applies overrides
// from the kernel command line (selfptrace.mode=, selfptrace.timeout=,
// selfptrace.run=, selfptrace.poweroff=), and then:
//
//   - suite: lists the tests of every binary, prints the KTAP plan, runs each
//     top-level test in its own process with a timeout, prints its result
//     with the subtests nested, prints the summary marker, syncs and powers
//     the machine off;
//   - run: runs one command on the console and prints an exit marker;
//   - shell: replaces itself with a shell.
//
// Everything goes to the console (stdout), one whole line per write.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/ktap"
)

func main() {
	out := console()
	ctx, stop := signal.NotifyContext(context.Background(), unix.SIGTERM, unix.SIGINT)
	err := run(ctx, out, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(out, ktap.ErrorMarker(err))
		os.Exit(1)
	}
}

// console returns where the runner writes. As u-root's uinit, its stdout is
// a pipe that init copies to every console= device; init's copy can lag
// behind, and whatever is still in the pipe when the runner powers the
// machine off is lost. So the uinit writes to /dev/console itself. On a
// terminal, every write waits until the terminal has sent it (see
// ttyWriter).
func console() io.Writer {
	f := os.Stdout
	if !isTerminal(f) && os.Getppid() == 1 {
		if c, err := os.OpenFile("/dev/console", os.O_WRONLY|unix.O_NOCTTY, 0); err == nil {
			f = c
		}
	}
	if isTerminal(f) {
		return ttyWriter{f}
	}
	return f
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// ttyWriter waits after each write until the terminal driver has sent the
// data (tcdrain). The runner writes whole lines, so a line that was written
// is out before whatever comes next: a kernel panic, or the power-off.
type ttyWriter struct{ f *os.File }

func (t ttyWriter) Write(p []byte) (int, error) {
	n, err := t.f.Write(p)
	if err == nil {
		_ = unix.IoctlSetInt(int(t.f.Fd()), unix.TCSBRK, 1)
	}
	return n, err
}

// File returns the terminal, for a command that should write to it itself.
func (t ttyWriter) File() *os.File { return t.f }

type options struct {
	planPath    string
	cmdlinePath string
	setup       bool
	powerOff    bool
}

func run(ctx context.Context, out io.Writer, args []string) error {
	var o options
	fs := flag.NewFlagSet("selfptrace-runner", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.planPath, "plan", plan.Path, "plan file")
	fs.StringVar(&o.cmdlinePath, "cmdline", "/proc/cmdline", "kernel command line with overrides (empty: none)")
	fs.BoolVar(&o.setup, "setup", true, "mount /proc, /sys, /dev and /tmp if they are not mounted")
	fs.BoolVar(&o.powerOff, "poweroff", true, "power the machine off when done")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	info(out, "runner arch=%s kernel=%s go=%s", runtime.GOARCH, kernelRelease(), runtime.Version())
	if o.setup {
		for _, m := range setupMounts() {
			info(out, "%s", m)
		}
	}

	info(out, "memory: %s", memInfo())
	p, err := loadPlan(o, out)
	if err == nil && p.Userland != "" {
		for _, m := range mountUnder(p.Userland) {
			info(out, "userland: %s", m)
		}
		// What the userland's /etc/hostname says, for prompts.
		if err := unix.Sethostname([]byte(userlandHostname)); err != nil {
			info(out, "userland: warning: setting the host name: %v", err)
		}
	}
	if err != nil && wantsShell(o.cmdlinePath) {
		// A shell is most useful when something is broken.
		fmt.Fprintln(out, ktap.ErrorMarker(err))
		return execShell(out, &plan.Plan{})
	}
	if err != nil {
		// The host must see a failure, not silence: report the broken plan
		// as the one test of this run.
		w := ktap.NewWriter(out)
		werr := errors.Join(w.Header(1), w.Diag(err.Error()),
			w.Result(ktap.Fail, "selfptrace-vm.plan", "ERROR cannot read the plan"), w.Summary())
		if werr != nil {
			return errors.Join(err, werr)
		}
		return finish(out, o.powerOff)
	}

	switch p.Mode {
	case plan.Shell:
		// The shell runs as a child on the console, so that leaving it
		// ("exit") powers the machine off and QEMU ends.
		sh, err := findShell(p)
		if err != nil {
			fmt.Fprintln(out, ktap.ErrorMarker(err))
			break
		}
		info(out, "shell %s: type exit to power off", sh)
		shp := *p
		shp.Command = []string{sh}
		shp.Timeout = 0
		if err := runCommand(ctx, out, &shp); err != nil {
			fmt.Fprintln(out, ktap.ErrorMarker(fmt.Errorf("shell: %w", err)))
		}
	case plan.Run:
		if err := runCommand(ctx, out, p); err != nil {
			fmt.Fprintln(out, ktap.ErrorMarker(fmt.Errorf("run: %w", err)))
		}
	case plan.Suite:
		env := os.Environ()
		if p.Userland != "" {
			env = append(env, plan.UserlandEnv+"="+p.Userland)
		}
		s := &suite{plan: p, out: out, env: env}
		if _, err := s.run(ctx); err != nil {
			// Still power off: a guest left running only makes the host
			// wait for its timeout.
			fmt.Fprintln(out, ktap.ErrorMarker(fmt.Errorf("suite: %w", err)))
		}
	}
	return finish(out, o.powerOff && !p.NoPowerOff)
}

// info prints an informational marker line.
func info(out io.Writer, format string, args ...any) {
	fmt.Fprintf(out, "# %sinfo %s\n", ktap.MarkerPrefix, fmt.Sprintf(format, args...))
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// wantsShell reports whether the kernel command line asks for shell mode.
func wantsShell(cmdlinePath string) bool {
	if cmdlinePath == "" {
		return false
	}
	b, err := os.ReadFile(cmdlinePath)
	if err != nil {
		return false
	}
	for _, param := range plan.SplitCmdline(string(b)) {
		if param == plan.ParamMode+"="+string(plan.Shell) {
			return true
		}
	}
	return false
}

func loadPlan(o options, out io.Writer) (*plan.Plan, error) {
	p, err := plan.Read(o.planPath)
	if err != nil {
		return nil, err
	}
	if o.cmdlinePath == "" {
		return p, nil
	}
	b, err := os.ReadFile(o.cmdlinePath)
	if err != nil {
		return nil, fmt.Errorf("reading kernel command line: %w", err)
	}
	applied, err := p.ApplyCmdline(string(b))
	if err != nil {
		return nil, err
	}
	if len(applied) > 0 {
		info(out, "kernel command line overrides: %s", strings.Join(applied, " "))
	}
	return p, nil
}

// finish syncs and, if asked, powers the machine off. It returns only if
// power-off is not asked for or failed.
func finish(out io.Writer, powerOff bool) error {
	unix.Sync()
	if !powerOff {
		return nil
	}
	return shutdown(out)
}

// runCommand runs the plan's command on the console and prints the exit
// marker.
func runCommand(ctx context.Context, out io.Writer, p *plan.Plan) error {
	info(out, "run %s", strings.Join(p.Command, " "))
	cmd, err := command(p)
	if err != nil {
		fmt.Fprintln(out, ktap.Exit{Status: 127}.Marker())
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, out, out
	if t, ok := out.(interface{ File() *os.File }); ok {
		// Give the command the terminal itself, not a pipe.
		cmd.Stdout, cmd.Stderr = t.File(), t.File()
	} else if f, ok := out.(*os.File); ok {
		cmd.Stdout, cmd.Stderr = f, f
	}
	cmd.Dir = "/"
	attr := &syscall.SysProcAttr{Setpgid: true, Chroot: p.Userland}
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		// Make the command's group the terminal's foreground group so that
		// it can read the console.
		attr.Foreground, attr.Ctty = true, 0
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(out, ktap.Exit{Status: 127}.Marker())
		return fmt.Errorf("starting %s: %w", p.Command[0], err)
	}
	pgid := cmd.Process.Pid
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var limit <-chan time.Time
	if p.Timeout > 0 {
		t := time.NewTimer(time.Duration(p.Timeout))
		defer t.Stop()
		limit = t.C
	}
	killed := false
	select {
	case err = <-waited:
	case <-limit:
		killed = true
		_ = unix.Kill(-pgid, unix.SIGKILL)
		err = <-waited
	case <-ctx.Done():
		_ = unix.Kill(-pgid, unix.SIGKILL)
		err = <-waited
	}
	_ = unix.Kill(-pgid, unix.SIGKILL)
	if attr.Foreground {
		// Take the terminal back.
		signal.Ignore(unix.SIGTTOU)
		_ = unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, unix.Getpgrp())
	}
	e := exitOf(err)
	e.Timeout = killed
	_, werr := fmt.Fprintln(out, e.Marker())
	return werr
}

// findShell returns the first shell of the image (or of its userland:
// bash, then sh) that exists, as a path inside the userland.
func findShell(p *plan.Plan) (string, error) {
	candidates := []string{"/bin/defaultsh", "/bin/sh", "/bbin/gosh"}
	if p.Userland != "" {
		candidates = []string{"/bin/bash", "/usr/bin/bash", "/bin/sh", "/usr/bin/sh"}
	}
	if p.Shell != "" {
		candidates = []string{p.Shell}
	}
	var errs []error
	for _, sh := range candidates {
		if _, err := os.Stat(p.Userland + sh); err != nil {
			errs = append(errs, err)
			continue
		}
		return sh, nil
	}
	return "", fmt.Errorf("no shell: %w", errors.Join(errs...))
}

// execShell replaces the runner with a shell.
func execShell(out io.Writer, p *plan.Plan) error {
	candidates := []string{"/bin/defaultsh", "/bin/sh", "/bbin/gosh"}
	if p.Shell != "" {
		candidates = []string{p.Shell}
	}
	env := append(os.Environ(), p.Env...)
	var errs []error
	for _, sh := range candidates {
		if _, err := os.Stat(sh); err != nil {
			errs = append(errs, err)
			continue
		}
		info(out, "shell %s", sh)
		err := unix.Exec(sh, []string{sh}, env)
		errs = append(errs, fmt.Errorf("exec %s: %w", sh, err))
	}
	return fmt.Errorf("no shell: %w", errors.Join(errs...))
}

// userlandHostname is the guest's name when it has a userland (the
// userland package writes it into etc/hostname).
const userlandHostname = "selfptrace-vm"

// userlandPath is the PATH of commands run in a userland (Debian's
// default for root).
const userlandPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// command makes the command of run or shell mode. In a userland it runs
// chrooted, its name is looked up in the userland's PATH (exec.Command
// would look in the image's) and its environment is the userland's.
func command(p *plan.Plan) (*exec.Cmd, error) {
	if p.Userland == "" {
		cmd := exec.Command(p.Command[0], p.Command[1:]...)
		cmd.Env = append(os.Environ(), p.Env...)
		return cmd, nil
	}
	name := p.Command[0]
	if !strings.Contains(name, "/") {
		found := ""
		for _, dir := range strings.Split(userlandPath, ":") {
			if st, err := os.Stat(p.Userland + dir + "/" + name); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				found = dir + "/" + name
				break
			}
		}
		if found == "" {
			return nil, fmt.Errorf("%s: not found in the userland's PATH (%s)", name, userlandPath)
		}
		name = found
	}
	env := []string{"PATH=" + userlandPath, "HOME=/root", "TERM=" + cmp.Or(os.Getenv("TERM"), "linux"), "LC_ALL=C.UTF-8"}
	cmd := &exec.Cmd{Path: name, Args: p.Command, Env: append(env, p.Env...)}
	return cmd, nil
}
