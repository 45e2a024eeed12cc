package guest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// RootEnv names the Debian root filesystem that the guest runner unpacked.
const RootEnv = "SELFPTRACE_VM_USERLAND"

// ChrootEnv is the whole environment of a chrooted program.
var ChrootEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LC_ALL=C",
}

// SearchDirs are where LookPath looks for a bare program name, in order.
var SearchDirs = []string{"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"}

// Root is the Debian root filesystem, by its path on the test's side
// (Dir). Timeout bounds every command that Start and Run run.
type Root struct {
	Dir     string
	Timeout time.Duration
}

// RequireRoot fails the test unless RootEnv names a directory holding
// every one of files (paths inside the root); what says what such a root
// has, for the message ("strace and selftrace").
func RequireRoot(t testing.TB, timeout time.Duration, what string, files ...string) Root {
	t.Helper()
	dir := os.Getenv(RootEnv)
	if dir == "" {
		t.Fatalf("%s is not set: it must name the Debian root filesystem that the guest runner unpacked", RootEnv)
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s=%s is not a Debian root with %s: %v", RootEnv, dir, what, err)
		}
	}
	return Root{Dir: dir, Timeout: timeout}
}

// FindProgram returns the path inside the root of the program name, a
// bare name looked up in SearchDirs (exec.LookPath would search the
// test's side). The last element of the path is not followed: a symbolic
// link is found even when its target is relative to its directory or
// absolute inside the root.
func (r Root) FindProgram(name string) (string, error) {
	for _, dir := range SearchDirs {
		p := path.Join(dir, name)
		if fi, err := os.Lstat(filepath.Join(r.Dir, p)); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no program %q in %v of %s", name, SearchDirs, r.Dir)
}

// LookPath returns the path inside the root of the program name, kept as
// it is when it has a slash (see FindProgram); the test fails if there is
// none.
func (r Root) LookPath(t testing.TB, name string) string {
	t.Helper()
	if strings.Contains(name, "/") {
		return name
	}
	p, err := r.FindProgram(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Workdir is a directory under the root's /tmp: Host is its path on the
// test's side, In its path inside the root.
type Workdir struct{ Host, In string }

// Workdir creates a fresh work directory, its name starting with prefix,
// removed at the end of the test.
func (r Root) Workdir(t testing.TB, prefix string) Workdir {
	t.Helper()
	host, err := os.MkdirTemp(filepath.Join(r.Dir, "tmp"), prefix)
	if err != nil {
		t.Fatalf("creating a work directory in the root's /tmp: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(host) })
	return Workdir{Host: host, In: "/tmp/" + filepath.Base(host)}
}

// At returns the test-side path of rel in w.
func (w Workdir) At(rel string) string { return filepath.Join(w.Host, rel) }

// Inside returns the path inside the root of rel in w.
func (w Workdir) Inside(rel string) string { return path.Join(w.In, rel) }

// Token stands for a work directory (its path inside the root) in the
// argv, stdin and expected output of a case: Expand replaces it, and
// Collapse puts it back in the output, so that runs in different
// directories compare equal.
const Token = "{w}"

// Expand replaces Token in s with w's path inside the root.
func (w Workdir) Expand(s string) string { return strings.ReplaceAll(s, Token, w.In) }

// Collapse replaces w's path inside the root in s with Token.
func (w Workdir) Collapse(s string) string { return strings.ReplaceAll(s, w.In, Token) }

// Outcome is how a command ended.
type Outcome struct {
	Stdout, Stderr string
	Status         syscall.WaitStatus
}

func (o Outcome) String() string {
	return fmt.Sprintf("%s\nstdout:\n%s\nstderr:\n%s", DescribeStatus(o.Status), Clip(o.Stdout), Clip(o.Stderr))
}

// Exited tells whether the command exited with status code.
func (o Outcome) Exited(code int) bool { return o.Status.Exited() && o.Status.ExitStatus() == code }

// Clip shortens s to about 4000 bytes for a failure message.
func Clip(s string) string { return ClipTo(s, 4000) }

// ClipTo shortens s for a message: its first and last max/2 bytes when it
// is longer than max.
func ClipTo(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max/2] + fmt.Sprintf("\n[... %d bytes ...]\n", len(s)-max) + s[len(s)-max/2:]
}

// chroot makes cmd run chrooted into the root, from its /, in the
// environment ChrootEnv, in a process group of its own.
func (r Root) chroot(cmd *exec.Cmd) {
	cmd.Env = ChrootEnv
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: r.Dir, Setpgid: true}
}

// Command prepares argv (argv[0] a path inside the root, as it is)
// chrooted into the root (see chroot), its process group killed when ctx
// is done.
func (r Root) Command(ctx context.Context, argv []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	r.chroot(cmd)
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// Proc is a started command whose output is collected.
type Proc struct {
	Cmd            *exec.Cmd
	Stdout, Stderr SyncBuffer
	timeout        time.Duration
	ctx            context.Context
	cancel         context.CancelFunc
	done           chan struct{} // closed when the command has ended
	err            error         // from Cmd.Wait
}

// NewProc prepares a command whose output is collected, killed (with its
// process group, if it has one of its own) after timeout.
func NewProc(timeout time.Duration, name string, args ...string) *Proc {
	p := &Proc{timeout: timeout, done: make(chan struct{})}
	p.ctx, p.cancel = context.WithTimeout(context.Background(), timeout)
	p.Cmd = exec.CommandContext(p.ctx, name, args...)
	p.Cmd.Stdout = &p.Stdout
	p.Cmd.Stderr = &p.Stderr
	p.Cmd.WaitDelay = 10 * time.Second
	p.Cmd.Cancel = func() error {
		if a := p.Cmd.SysProcAttr; a != nil && a.Setpgid {
			return unix.Kill(-p.Cmd.Process.Pid, unix.SIGKILL)
		}
		return p.Cmd.Process.Kill()
	}
	return p
}

// Begin starts the command; it is killed at the end of the test if still
// running.
func (p *Proc) Begin(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Start(); err != nil {
		p.cancel()
		t.Fatalf("starting %q: %v", p.Cmd.Args, err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cancel(); <-p.done })
}

// Done is closed when the command has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Start starts argv chrooted into the root (argv[0] resolved by LookPath,
// which also becomes the program's argv[0]), in its own process group,
// with stdin (nil: /dev/null).
func (r Root) Start(t testing.TB, argv []string, stdin io.Reader) *Proc {
	t.Helper()
	p := NewProc(r.Timeout, r.LookPath(t, argv[0]), argv[1:]...)
	r.chroot(p.Cmd)
	p.Cmd.Stdin = stdin
	p.Begin(t)
	return p
}

// Run runs argv chrooted to its end (see Start).
func (r Root) Run(t testing.TB, argv []string, stdin io.Reader) Outcome {
	t.Helper()
	return r.Start(t, argv, stdin).Wait(t)
}

// Wait waits for the command and fails the test if it timed out or could
// not be waited for.
func (p *Proc) Wait(t testing.TB) Outcome {
	t.Helper()
	<-p.done
	o := Outcome{Stdout: p.Stdout.String(), Stderr: p.Stderr.String()}
	if p.Cmd.ProcessState != nil {
		o.Status = p.Cmd.ProcessState.Sys().(syscall.WaitStatus)
	}
	var ee *exec.ExitError
	switch {
	case errors.Is(p.ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("%q did not end within %v: %s", p.Cmd.Args, p.timeout, o)
	case p.err != nil && !errors.As(p.err, &ee):
		t.Fatalf("waiting for %q: %v: %s", p.Cmd.Args, p.err, o)
	}
	return o
}

// WaitFor polls until cond holds, and fails the test if p ends first or
// after its timeout.
func (p *Proc) WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(p.timeout)
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("%q ended before %s: %s", p.Cmd.Args, what, p.Wait(t))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
