// Package userland_test runs real Debian programs, chrooted into the root
// filesystem named by SELFPTRACE_VM_USERLAND, natively and under the real
// strace, and checks their output, exit status and files.
//
// Every test fails, never skips, when SELFPTRACE_VM_USERLAND is unset or
// names a directory without /usr/bin/strace. TestStraceArmedThread also
// fails on a kernel without self-ptrace; all the others pass on any kernel.
//
// TestStraceArmedThread runs part of itself in a child process: the test
// binary re-executes itself (not chrooted) with SELFPTRACE_USERLAND_HELPER
// naming a helper mode, which TestMain runs instead of the tests.
package userland_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
)

const (
	rootEnv   = "SELFPTRACE_VM_USERLAND"
	helperEnv = "SELFPTRACE_USERLAND_HELPER"

	// cmdTimeout bounds every command. Guests run under software
	// emulation: no test asserts a duration.
	cmdTimeout = 120 * time.Second
)

// chrootEnv is the whole environment of a chrooted program.
var chrootEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LC_ALL=C",
}

// searchDirs are where lookPath looks for a bare program name, in order.
var searchDirs = []string{"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"}

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// userland is the Debian root filesystem, by its path on the test's side.
type userland struct{ root string }

// requireUserland fails the test unless SELFPTRACE_VM_USERLAND names a
// Debian root with strace.
func requireUserland(t *testing.T) userland {
	t.Helper()
	root := os.Getenv(rootEnv)
	if root == "" {
		t.Fatalf("%s is not set: it must name the Debian root filesystem that the guest runner unpacked", rootEnv)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin/strace")); err != nil {
		t.Fatalf("%s=%s is not a Debian root with strace: %v", rootEnv, root, err)
	}
	return userland{root}
}

// lookPath returns the path inside the root of the program name (kept as
// it is when it has a slash). exec.LookPath would search the test's side.
func (u userland) lookPath(t *testing.T, name string) string {
	t.Helper()
	if strings.Contains(name, "/") {
		return name
	}
	for _, dir := range searchDirs {
		p := path.Join(dir, name)
		if fi, err := os.Lstat(filepath.Join(u.root, p)); err == nil && !fi.IsDir() {
			return p
		}
	}
	t.Fatalf("no program %q in %v of %s", name, searchDirs, u.root)
	return ""
}

// workdir is a directory under the root's /tmp: host is its path on the
// test's side, in its path inside the root.
type workdir struct{ host, in string }

// workdir creates a fresh work directory, removed at the end of the test.
func (u userland) workdir(t *testing.T) workdir {
	t.Helper()
	host, err := os.MkdirTemp(filepath.Join(u.root, "tmp"), "userland-")
	if err != nil {
		t.Fatalf("creating a work directory in the root's /tmp: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(host) })
	return workdir{host: host, in: "/tmp/" + filepath.Base(host)}
}

// at returns the test-side path of rel in w.
func (w workdir) at(rel string) string { return filepath.Join(w.host, rel) }

// outcome is how a command ended.
type outcome struct {
	stdout, stderr string
	ws             syscall.WaitStatus
}

// exited tells whether the command exited with status code.
func (o outcome) exited(code int) bool { return o.ws.Exited() && o.ws.ExitStatus() == code }

func (o outcome) String() string {
	return fmt.Sprintf("%s\nstdout:\n%s\nstderr:\n%s", guest.DescribeStatus(o.ws), clip(o.stdout), clip(o.stderr))
}

// clip shortens s for a failure message.
func clip(s string) string {
	const max = 4000
	if len(s) <= max {
		return s
	}
	return s[:max/2] + fmt.Sprintf("\n[... %d bytes ...]\n", len(s)-max) + s[len(s)-max/2:]
}

// proc is a started command whose output is collected.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr guest.SyncBuffer
	ctx            context.Context
	cancel         context.CancelFunc
	done           chan struct{} // closed when the command has ended
	err            error         // from cmd.Wait
}

// newProc prepares a command whose output is collected, killed (with its
// process group, if it has one of its own) after cmdTimeout.
func newProc(name string, args ...string) *proc {
	p := &proc{done: make(chan struct{})}
	p.ctx, p.cancel = context.WithTimeout(context.Background(), cmdTimeout)
	p.cmd = exec.CommandContext(p.ctx, name, args...)
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	p.cmd.WaitDelay = 10 * time.Second
	p.cmd.Cancel = func() error {
		if a := p.cmd.SysProcAttr; a != nil && a.Setpgid {
			return unix.Kill(-p.cmd.Process.Pid, unix.SIGKILL)
		}
		return p.cmd.Process.Kill()
	}
	return p
}

// begin starts the command; it is killed at the end of the test if still
// running.
func (p *proc) begin(t *testing.T) {
	t.Helper()
	if err := p.cmd.Start(); err != nil {
		p.cancel()
		t.Fatalf("starting %q: %v", p.cmd.Args, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cancel(); <-p.done })
}

// start starts argv chrooted into the root (argv[0] resolved by lookPath,
// which also becomes the program's argv[0]), in its own process group.
func (u userland) start(t *testing.T, argv []string, stdin string) *proc {
	t.Helper()
	p := newProc(u.lookPath(t, argv[0]), argv[1:]...)
	p.cmd.Env = chrootEnv
	p.cmd.Dir = "/"
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: u.root, Setpgid: true}
	if stdin != "" {
		p.cmd.Stdin = strings.NewReader(stdin)
	}
	p.begin(t)
	return p
}

// run runs argv chrooted to its end (see start).
func (u userland) run(t *testing.T, argv []string, stdin string) outcome {
	t.Helper()
	return u.start(t, argv, stdin).wait(t)
}

// wait waits for the command and fails the test if it timed out or could
// not be waited for.
func (p *proc) wait(t *testing.T) outcome {
	t.Helper()
	<-p.done
	o := outcome{stdout: p.stdout.String(), stderr: p.stderr.String()}
	if p.cmd.ProcessState != nil {
		o.ws = p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	}
	var ee *exec.ExitError
	switch {
	case errors.Is(p.ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("%q did not end within %v: %s", p.cmd.Args, cmdTimeout, o)
	case p.err != nil && !errors.As(p.err, &ee):
		t.Fatalf("waiting for %q: %v: %s", p.cmd.Args, p.err, o)
	}
	return o
}

// waitFor polls until cond holds, and fails the test if p ends first or
// after cmdTimeout.
func (p *proc) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(cmdTimeout)
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("%q ended before %s: %s", p.cmd.Args, what, p.wait(t))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
