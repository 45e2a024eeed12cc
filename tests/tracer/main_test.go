// Package tracer_test runs selftrace (tools/selftrace) on real Debian
// programs and on its hazard test programs, chrooted into the root
// filesystem named by SELFPTRACE_VM_USERLAND, and compares it with the
// programs' native runs and with the real strace.
package tracer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/selftrace/tracecmp"
	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

const (
	rootEnv = "SELFPTRACE_VM_USERLAND"

	// Where selftrace is inside the root (package selftrace: GuestLauncher,
	// GuestLibrary, GuestTestProgDir).
	selftraceBin = "/usr/local/bin/selftrace"
	selftraceLib = "/usr/local/lib/selftrace/libselftrace.so"
	testProgDir  = "/usr/local/libexec/selftrace"
	straceBin    = "/usr/bin/strace"

	// cmdTimeout bounds every command. Guests run under software
	// emulation, and a program under strace and selftrace at once is
	// slow: no test asserts a duration.
	cmdTimeout = 300 * time.Second
)

// chrootEnv is the whole environment of a chrooted program.
var chrootEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LC_ALL=C",
}

// searchDirs are where lookPath looks for a bare program name, in order.
var searchDirs = []string{"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"}

// userland is the Debian root filesystem, by its path on the test's side.
type userland struct{ root string }

// requireUserland fails the test unless SELFPTRACE_VM_USERLAND names a
// Debian root with strace and selftrace.
func requireUserland(t *testing.T) userland {
	t.Helper()
	root := os.Getenv(rootEnv)
	if root == "" {
		t.Fatalf("%s is not set: it must name the Debian root filesystem that the guest runner unpacked", rootEnv)
	}
	for _, f := range []string{straceBin, selftraceBin, selftraceLib, testProgDir + "/hello", testProgDir + "/static-hello"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Fatalf("%s=%s is not a Debian root with strace and selftrace: %v", rootEnv, root, err)
		}
	}
	return userland{root}
}

// requireFeature fails the test, naming PTRACE_SELF_ON, when the kernel
// lacks self-ptrace.
func requireFeature(t *testing.T) { t.Helper(); sp.Require(t) }

// lookPath returns the path inside the root of the program name (kept as
// it is when it has a slash).
func (u userland) lookPath(t *testing.T, name string) string {
	t.Helper()
	if strings.Contains(name, "/") {
		return name
	}
	for _, dir := range searchDirs {
		p := path.Join(dir, name)
		if fi, err := os.Stat(filepath.Join(u.root, p)); err == nil && !fi.IsDir() {
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
	host, err := os.MkdirTemp(filepath.Join(u.root, "tmp"), "tracer-")
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

func (o outcome) String() string {
	return fmt.Sprintf("%s\nstdout:\n%s\nstderr:\n%s", guest.DescribeStatus(o.ws), clip(o.stdout), clip(o.stderr))
}

// exited tells whether the command exited with status code.
func (o outcome) exited(code int) bool { return o.ws.Exited() && o.ws.ExitStatus() == code }

// clip shortens s for a failure message.
func clip(s string) string {
	const max = 4000
	if len(s) <= max {
		return s
	}
	return s[:max/2] + fmt.Sprintf("\n[... %d bytes ...]\n", len(s)-max) + s[len(s)-max/2:]
}

// run runs argv chrooted into the root (argv[0] resolved by lookPath) in
// its own process group, with stdin, to its end; the test fails if it
// cannot start or outlives cmdTimeout.
func (u userland) run(t *testing.T, argv []string, stdin string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.lookPath(t, argv[0]), argv[1:]...)
	var stdout, stderr guest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = chrootEnv
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: u.root, Setpgid: true}
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 10 * time.Second
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	err := cmd.Run()
	o := outcome{stdout: stdout.String(), stderr: stderr.String()}
	if cmd.ProcessState != nil {
		o.ws = cmd.ProcessState.Sys().(syscall.WaitStatus)
	}
	var ee *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("%q did not end within %v: %s", argv, cmdTimeout, o)
	case err != nil && !errors.As(err, &ee):
		t.Fatalf("running %q: %v: %s", argv, err, o)
	}
	return o
}

// readFile reads a file of the root by its test-side path.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return string(b)
}

// wantNoComplaint fails the test if strace wrote a message of its own.
func wantNoComplaint(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "strace: ") {
			t.Errorf("strace complained: %s", line)
		}
	}
}

// wantParsed fails the test unless every line of selftrace's trace is a
// call, a signal, an exit or a notice in strace's format, and the trace
// has at least one call.
func wantParsed(t *testing.T, trace string) []tracecmp.Record {
	t.Helper()
	recs := tracecmp.ParseSelftrace(trace)
	for i, r := range tracecmp.Unparsed(recs) {
		if i == 10 {
			t.Errorf("... and more unparsed lines")
			break
		}
		t.Errorf("selftrace's trace, line %d is not in strace's format: %q", r.Line, r.Text)
	}
	if !slices.ContainsFunc(recs, func(r tracecmp.Record) bool { return r.Kind == tracecmp.Call }) {
		t.Errorf("selftrace's trace has no call:\n%s", clip(trace))
	}
	return recs
}
