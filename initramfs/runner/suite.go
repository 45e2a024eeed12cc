//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/ktap"
)

const (
	// listTimeout bounds "binary -test.list".
	listTimeout = 2 * time.Minute
	// defaultGrace is how long the runner waits past -test.timeout before
	// it kills a test: long enough for the testing package to print its own
	// timeout panic with the goroutine dump, which says far more.
	defaultGrace = 15 * time.Second
	// drainTimeout is how long output may keep coming after the test
	// process exited (from children that inherited its stdout).
	drainTimeout = 2 * time.Second
	// maxLineLen bounds one console line of test output.
	maxLineLen = 4096
)

// testCase is one entry of the top-level plan.
type testCase struct {
	bin  plan.Binary
	test string // "" for an entry that stands for the whole binary
	err  error  // listing failed
}

func (c testCase) name() string {
	if c.test == "" {
		return c.bin.Name
	}
	return c.bin.Name + "." + c.test
}

// suite runs the tests of a plan and writes KTAP.
type suite struct {
	plan *plan.Plan
	out  io.Writer // console
	w    *ktap.Writer
	env  []string // base environment
	// grace is added to the test timeout for the runner's own deadline;
	// defaultGrace if zero.
	grace time.Duration
}

func (s *suite) run(ctx context.Context) (ktap.Counts, error) {
	cases := s.list(ctx)
	s.w = ktap.NewWriter(s.out)
	if err := s.w.Header(len(cases)); err != nil {
		return ktap.Counts{}, err
	}
	for _, c := range cases {
		if err := s.runCase(ctx, c); err != nil {
			return s.w.Counts(), err
		}
	}
	err := s.w.Summary()
	return s.w.Counts(), err
}

// list asks every binary for its tests. A binary that cannot list its tests
// becomes one failing entry of the plan, and one with no tests one skipped
// entry, so that nothing disappears from the results.
func (s *suite) list(ctx context.Context) []testCase {
	filter := s.plan.Filter
	if filter == "" {
		filter = "."
	}
	var cases []testCase
	for _, b := range s.plan.Binaries {
		if b.Kind == plan.KindKselftest {
			cases = append(cases, testCase{bin: b})
			continue
		}
		names, err := listTests(ctx, b, filter, s.environ(b))
		if err != nil {
			cases = append(cases, testCase{bin: b, err: err})
			continue
		}
		if len(names) == 0 {
			cases = append(cases, testCase{bin: b})
			continue
		}
		for _, n := range names {
			cases = append(cases, testCase{bin: b, test: n})
		}
	}
	return cases
}

func (s *suite) environ(b plan.Binary) []string {
	env := append(append([]string{}, s.env...), s.plan.Env...)
	return append(env, b.Env...)
}

func workDir(b plan.Binary) string {
	if b.Dir != "" {
		return b.Dir
	}
	return "/"
}

// listTests runs "binary -test.list filter" and returns the tests, examples
// and fuzz targets it prints; benchmarks are not run by -test.run.
func listTests(ctx context.Context, b plan.Binary, filter string, env []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.Path, "-test.list", filter)
	cmd.Env = env
	cmd.Dir = workDir(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "..."
		}
		if msg != "" {
			return nil, fmt.Errorf("listing tests of %s: %w: %s", b.Path, err, msg)
		}
		return nil, fmt.Errorf("listing tests of %s: %w", b.Path, err)
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if isTestName(l) {
			names = append(names, l)
		}
	}
	return names, nil
}

func isTestName(s string) bool {
	if !strings.HasPrefix(s, "Test") && !strings.HasPrefix(s, "Example") && !strings.HasPrefix(s, "Fuzz") {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 0x7f) {
			return false
		}
	}
	return true
}

func (s *suite) runCase(ctx context.Context, c testCase) error {
	w := s.w
	if c.bin.Kind == plan.KindKselftest {
		return s.runKselftest(ctx, c)
	}
	switch {
	case c.err != nil:
		if err := w.Diag(c.err.Error()); err != nil {
			return err
		}
		return w.Result(ktap.Fail, c.name(), "ERROR listing tests failed")
	case c.test == "":
		return w.Result(ktap.Skip, c.name(), "no tests match")
	}
	if err := w.Announce(c.name()); err != nil {
		return err
	}
	timeout := s.plan.TestTimeout(c.bin)
	args := []string{
		"-test.run=^" + c.test + "$",
		"-test.v=test2json",
		"-test.timeout=" + timeout.String(),
		"-test.paniconexit0",
	}
	args = append(append(args, s.plan.Args...), c.bin.Args...)
	grace := s.grace
	if grace == 0 {
		grace = defaultGrace
	}
	conv := newConverter(c.test)
	started := time.Now()
	o, err := s.exec(ctx, c.bin, args, timeout+grace, func(line string) error {
		if l, keep := conv.Line(line); keep {
			return w.Diag(l)
		}
		return nil
	})
	if err != nil {
		// The runner itself failed (console gone, cannot start the
		// binary...): report it on the test, go on with the others.
		if w.Err() != nil {
			return w.Err()
		}
		if ctx.Err() != nil {
			// Stopped from outside: the tests not run stay missing.
			return err
		}
		if err := w.Diag(err.Error()); err != nil {
			return err
		}
		return w.Result(ktap.Fail, c.name(), "ERROR "+err.Error())
	}
	timedOut := o.killed || conv.timedOut != ""
	if t := conv.top(); t != nil {
		if err := emitSubtests(w, t, timedOut); err != nil {
			return err
		}
	}
	r, reason := conv.verdict(o)
	// The host reads the test's wall time from this diagnostic.
	if err := w.Diag(fmt.Sprintf("%s%.3fs", ktap.TimePrefix, time.Since(started).Seconds())); err != nil {
		return err
	}
	return w.Result(r, c.name(), reason)
}

// exec runs one test binary in its own process group, passes every line of
// its output to line as it comes, and kills the group at the deadline, when
// ctx ends, and after the test (so that nothing it started lingers).
func (s *suite) exec(ctx context.Context, b plan.Binary, args []string, limit time.Duration, line func(string) error) (outcome, error) {
	o := outcome{limit: limit.String()}
	pr, pw, err := os.Pipe()
	if err != nil {
		return o, fmt.Errorf("creating output pipe: %w", err)
	}
	defer pr.Close()
	cmd := exec.Command(b.Path, args...)
	cmd.Env = s.environ(b)
	cmd.Dir = workDir(b)
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return o, fmt.Errorf("starting %s: %w", b.Path, err)
	}
	pgid := cmd.Process.Pid
	killGroup := func() { _ = unix.Kill(-pgid, unix.SIGKILL) }

	lines := make(chan string, 64)
	go readLines(pr, lines)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	done := ctx.Done()
	var (
		waitErr error
		exited  bool
		drain   <-chan time.Time
		lineErr error
	)
	for lines != nil || !exited {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			if lineErr == nil {
				lineErr = line(l)
			}
		case waitErr = <-waited:
			exited, waited = true, nil
			killGroup()
			// Children that inherited the pipe may keep it open: give
			// them a moment, then stop reading.
			_ = pr.SetReadDeadline(time.Now().Add(drainTimeout))
			drain = time.After(drainTimeout + time.Second)
		case <-deadline.C:
			o.killed = true
			killGroup()
		case <-done:
			done = nil
			killGroup()
		case <-drain:
			drain = nil
			pr.Close()
		}
	}
	o.exit = describeExit(waitErr)
	if lineErr != nil {
		return o, lineErr
	}
	if err := ctx.Err(); err != nil {
		return o, fmt.Errorf("runner stopped: %w", err)
	}
	return o, nil
}

// readLines sends every line of r, without its newline, cut to maxLineLen.
// It closes lines when r ends or fails.
func readLines(r io.Reader, lines chan<- string) {
	defer close(lines)
	br := bufio.NewReaderSize(r, maxLineLen)
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf) < maxLineLen {
			n := min(len(chunk), maxLineLen-len(buf))
			buf = append(buf, chunk[:n]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(buf) > 0 {
			lines <- strings.TrimRight(string(buf), "\r\n")
			buf = buf[:0]
		}
		if err != nil {
			return
		}
	}
}

// describeExit says how a process ended: "" for success, else
// "exit status N" or "killed by signal SIGSYS".
func describeExit(err error) string {
	if err == nil {
		return ""
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by signal " + unix.SignalName(ws.Signal())
		}
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	return err.Error()
}

// exitOf converts a wait error into the exit marker's fields.
func exitOf(err error) ktap.Exit {
	if err == nil {
		return ktap.Exit{}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ktap.Exit{Status: 128 + int(ws.Signal()), Signal: unix.SignalName(ws.Signal())}
		}
		return ktap.Exit{Status: ee.ExitCode()}
	}
	return ktap.Exit{Status: 127}
}

// kselftestSkip is the exit status of a kselftest that skipped (KSFT_SKIP).
const kselftestSkip = 4

// runKselftest runs a program that prints TAP itself, passes its output
// through as the subtests of one test, and judges the test by its exit
// status: 0 passes, KSFT_SKIP skips, anything else fails.
func (s *suite) runKselftest(ctx context.Context, c testCase) error {
	w := s.w
	if err := w.Announce(c.name()); err != nil {
		return err
	}
	timeout := s.plan.TestTimeout(c.bin)
	sub := w.Sub()
	started := time.Now()
	o, err := s.exec(ctx, c.bin, c.bin.Args, timeout, func(line string) error {
		return sub.Raw(line)
	})
	if err != nil {
		if w.Err() != nil || ctx.Err() != nil {
			return errors.Join(w.Err(), err)
		}
		if err := w.Diag(err.Error()); err != nil {
			return err
		}
		return w.Result(ktap.Fail, c.name(), "ERROR "+err.Error())
	}
	if err := w.Diag(fmt.Sprintf("%s%.3fs", ktap.TimePrefix, time.Since(started).Seconds())); err != nil {
		return err
	}
	switch {
	case o.killed:
		return w.Result(ktap.Timeout, c.name(), "killed after "+o.limit)
	case o.exit == "":
		return w.Result(ktap.Pass, c.name(), "")
	case o.exit == fmt.Sprintf("exit status %d", kselftestSkip):
		return w.Result(ktap.Skip, c.name(), "exit status 4 (KSFT_SKIP)")
	default:
		return w.Result(ktap.Fail, c.name(), o.exit)
	}
}
