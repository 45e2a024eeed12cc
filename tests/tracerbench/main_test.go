// Package tracerbench_test runs the workloads of the selftrace benchmark
// (see doc.go and bench/benchfmt) chrooted into the Debian root named by
// SELFPTRACE_VM_USERLAND.
//
// For each workload: the files it needs are made; every configuration
// first makes one checked run that writes its trace to a file (the trace
// must hold the calls the workload makes, or only the filtered call), and
// strace -f -c counts the workload's system calls; then the rounds run,
// warm-up rounds first, the configurations taking turns within a round
// (the first one rotating), each run timed from the start of the chrooted
// command to its end and its output checked (dd's byte count, sqlite3's
// final count, the archive's listing). A configuration whose run fails or
// prints a wrong result is an error: it produces no number, and the test
// fails. A configuration that cannot exist here is not applicable, with
// the reason: `--backend sud` on arm64 (no Syscall User Dispatch in 6.12;
// selftrace exits 2) and on s390x (selftrace exits 3: Syscall User
// Dispatch loses the first argument there), and selftrace's default
// backend on a kernel without self-ptrace (exit 3).
package tracerbench_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

const (
	// Where selftrace and strace are inside the root.
	selftraceBin = "/usr/local/bin/selftrace"
	selftraceLib = "/usr/local/lib/selftrace/libselftrace.so"
	straceBin    = "/usr/bin/strace"

	// runTimeout bounds one run. Guests run under software emulation,
	// where a run of the syscall-bound workloads under strace takes
	// tens of seconds.
	runTimeout = 20 * time.Minute
)

// settings is the benchmark's configuration, from the environment.
type settings struct {
	workloads       []benchfmt.WorkloadSize
	configs         []string
	samples, warmup int
}

func loadSettings() (settings, error) {
	s := settings{samples: benchfmt.DefaultWorkloadSamples, warmup: benchfmt.DefaultWorkloadWarmup}
	var err error
	if s.workloads, err = benchfmt.ParseWorkloads(os.Getenv(benchfmt.EnvWorkloads)); err != nil {
		return s, fmt.Errorf("%s: %w", benchfmt.EnvWorkloads, err)
	}
	if len(s.workloads) == 0 {
		return s, fmt.Errorf("%s=%q selects no workload", benchfmt.EnvWorkloads, os.Getenv(benchfmt.EnvWorkloads))
	}
	if s.configs, err = benchfmt.ParseConfigs(os.Getenv(benchfmt.EnvWorkloadConfigs)); err != nil {
		return s, fmt.Errorf("%s: %w", benchfmt.EnvWorkloadConfigs, err)
	}
	if s.samples, err = benchfmt.EnvInt(benchfmt.EnvWorkloadSamples, s.samples, 1); err != nil {
		return s, err
	}
	if s.warmup, err = benchfmt.EnvInt(benchfmt.EnvWorkloadWarmup, s.warmup, 0); err != nil {
		return s, err
	}
	return s, nil
}

// TestWorkloads runs every selected workload under every selected
// configuration and prints one WORKLOAD line for each, after a
// WORKLOADENV line.
func TestWorkloads(t *testing.T) {
	u := requireUserland(t)
	s, err := loadSettings()
	if err != nil {
		t.Fatal(err)
	}
	probeErr := sp.Probe()
	if probeErr != nil && !sp.IsUnsupported(probeErr) {
		t.Fatalf("probing self-ptrace: %v", probeErr)
	}
	env := benchfmt.WorkloadEnv{
		GOARCH:     runtime.GOARCH,
		CPUs:       runtime.NumCPU(),
		Kernel:     kernelVersion(),
		SelfPtrace: probeErr == nil,
		Samples:    s.samples,
		Warmup:     s.warmup,
		Strace:     u.straceVersion(),
		Debian:     u.debianVersion(),
		FilterCall: benchfmt.FilterCall,
		Rotated:    true,
	}
	emit(t, env)
	t.Logf("workloads %s, configurations %s, %d warm-up + %d rounds; self-ptrace: %v",
		benchfmt.FormatWorkloads(s.workloads), strings.Join(s.configs, ","), s.warmup, s.samples, probeErr == nil)

	// Whether each configuration applies on this machine: it runs `true`.
	na := map[string]string{}
	broken := map[string]string{}
	for _, c := range s.configs {
		why, err := u.applies(c, probeErr == nil)
		switch {
		case err != nil:
			broken[c] = err.Error()
		case why != "":
			na[c] = why
			t.Logf("%s: not applicable: %s", c, why)
		}
	}
	for _, ws := range s.workloads {
		for _, r := range u.measure(t, ws, s, na, broken) {
			emit(t, r)
			if r.Error != "" {
				t.Errorf("%s under %s: %s", r.Workload, r.Config, r.Error)
			}
		}
	}
}

// userland is the Debian root filesystem, by its path on the test's side.
type userland struct{ guest.Root }

// requireUserland fails the test unless SELFPTRACE_VM_USERLAND names a
// Debian root with strace and selftrace.
func requireUserland(t *testing.T) userland {
	t.Helper()
	return userland{guest.RequireRoot(t, runTimeout, "strace and selftrace", straceBin, selftraceBin, selftraceLib)}
}

func (u userland) straceVersion() string {
	o, err := u.run([]string{straceBin, "-V"}, "", "")
	if err != nil || !o.Exited(0) {
		return "unknown"
	}
	first, _, _ := strings.Cut(o.Stdout, "\n")
	return strings.TrimSpace(first)
}

func (u userland) debianVersion() string {
	b, err := os.ReadFile(filepath.Join(u.Dir, "etc/debian_version"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// workdir creates a fresh work directory for the workload name, removed
// at the end of the test.
func (u userland) workdir(t *testing.T, name string) guest.Workdir {
	t.Helper()
	return u.Workdir(t, "tracerbench-"+name+"-")
}

// outcome is how a command ended and how long it took.
type outcome struct {
	argv []string
	guest.Outcome
	took time.Duration
}

func (o outcome) String() string {
	return fmt.Sprintf("%q %s\nstdout:\n%s\nstderr:\n%s", o.argv, guest.DescribeStatus(o.Status), clip(o.Stdout), clip(o.Stderr))
}

// clip shortens s for a message.
func clip(s string) string { return guest.ClipTo(s, 2000) }

// run runs argv (argv[0] a path inside the root) chrooted into the root,
// in its own process group, with stdin from the file stdin (a test-side
// path; /dev/null if empty), and returns how it ended and its wall time:
// from just before the fork to the end of the wait. Its output goes to
// files in dir (a test-side directory; the root's /tmp if empty), so that
// no goroutine of the test copies it while it runs. The error says why the
// command could not be run or waited for.
func (u userland) run(argv []string, stdin, dir string) (outcome, error) {
	o := outcome{argv: argv}
	if dir == "" {
		dir = filepath.Join(u.Dir, "tmp")
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := u.Command(ctx, argv)
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	stdout, err := os.CreateTemp(dir, ".stdout-")
	if err != nil {
		return o, fmt.Errorf("creating a file for the standard output: %w", err)
	}
	files = append(files, stdout)
	stderr, err := os.CreateTemp(dir, ".stderr-")
	if err != nil {
		return o, fmt.Errorf("creating a file for the standard error: %w", err)
	}
	files = append(files, stderr)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return o, fmt.Errorf("opening the standard input: %w", err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return o, fmt.Errorf("starting %q: %w", argv, err)
	}
	werr := cmd.Wait()
	o.took = time.Since(start)
	if b, err := os.ReadFile(stdout.Name()); err == nil {
		o.Stdout = string(b)
	}
	if b, err := os.ReadFile(stderr.Name()); err == nil {
		o.Stderr = string(b)
	}
	if cmd.ProcessState != nil {
		o.Status = cmd.ProcessState.Sys().(syscall.WaitStatus)
	}
	var ee *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return o, fmt.Errorf("%q did not end within %v: %s", argv, runTimeout, o)
	case werr != nil && !errors.As(werr, &ee):
		return o, fmt.Errorf("waiting for %q: %w", argv, werr)
	}
	return o, nil
}

// tracerArgv is config's tracer command line, its trace going to out (a
// path inside the root).
func tracerArgv(config, out string) []string {
	argv, err := benchfmt.TracerArgv(config, selftraceBin, straceBin, out)
	if err != nil {
		panic(err) // the configurations come from benchfmt.ParseConfigs
	}
	return argv
}

// applies runs `true` under config: the reason the configuration does not
// apply on this machine ("" when it does), or an error when it fails
// where it should work.
func (u userland) applies(config string, selfPtrace bool) (string, error) {
	if config == benchfmt.ConfigNative {
		return "", nil
	}
	truePath, err := u.FindProgram("true")
	if err != nil {
		return "", err
	}
	o, err := u.run(append(tracerArgv(config, "/dev/null"), truePath), "", "")
	if err != nil {
		return "", err
	}
	// selftrace's message says why, in its own words.
	msg := strings.TrimPrefix(strings.TrimSpace(o.Stderr), "selftrace: ")
	why := func(code int) string {
		return fmt.Sprintf("selftrace exits %d: %s", code, msg)
	}
	selftrace := strings.HasPrefix(config, "selftrace")
	switch {
	case o.Exited(0) && o.Stderr == "":
		return "", nil
	case config == benchfmt.ConfigSelftraceSUD && runtime.GOARCH == "arm64" && o.Exited(2):
		// Linux 6.12 has no Syscall User Dispatch on arm64.
		return why(2), nil
	case config == benchfmt.ConfigSelftraceSUD && runtime.GOARCH == "s390x" && o.Exited(3):
		// Syscall User Dispatch on s390x stores -ENOSYS over the first
		// argument of an intercepted call.
		return why(3), nil
	case selftrace && config != benchfmt.ConfigSelftraceSUD && !selfPtrace && o.Exited(3):
		return why(3), nil
	}
	return "", fmt.Errorf("the configuration does not work here: `true` under it: %s", o)
}

// traceCall matches a call line of strace's and selftrace's output with
// -f -o FILE (a pid, spaces, the call) and captures the call's name.
var traceCall = regexp.MustCompile(`^(?:\[pid\s+\d+\]\s+|\d+\s+)?([a-z_][a-z0-9_]*)\(`)

// traceCounts counts the calls of a trace by name.
func traceCounts(trace string) map[string]int {
	n := map[string]int{}
	for _, line := range strings.Split(trace, "\n") {
		if m := traceCall.FindStringSubmatch(line); m != nil {
			n[m[1]]++
		}
	}
	return n
}

// checkTrace checks the trace of one run of w under config: a filtered
// trace holds the filtered call and nothing else; a full one holds the
// calls the workload makes at least size times each run, and the execve.
func checkTrace(config string, w *workload, trace string) error {
	n := traceCounts(trace)
	if n[benchfmt.FilterCall] == 0 {
		return fmt.Errorf("the trace has no %s line:\n%s", benchfmt.FilterCall, clip(trace))
	}
	if config == benchfmt.ConfigSelftraceFiltered || config == benchfmt.ConfigStraceSeccomp {
		for _, name := range sortedKeys(n) {
			if name != benchfmt.FilterCall {
				return fmt.Errorf("the trace filtered to %s has %d %s lines:\n%s", benchfmt.FilterCall, n[name], name, clip(trace))
			}
		}
		return nil
	}
	for _, set := range w.marks {
		sum := 0
		for _, name := range set {
			sum += n[name]
		}
		if sum < w.size {
			return fmt.Errorf("the trace has %d %s lines, want at least %d:\n%s", sum, strings.Join(set, " or "), w.size, clip(trace))
		}
	}
	return nil
}

// syscalls runs w once under strace -f -c and returns the number of
// system calls it made, every process counted.
func (u userland) syscalls(w *workload) (int, error) {
	count := "syscall-count"
	if err := w.reset(); err != nil {
		return 0, err
	}
	o, err := u.run(append([]string{straceBin, "-f", "-c", "-o", w.dir.Inside(count), "--"}, w.argv...), w.stdin, w.dir.Host)
	if err == nil {
		err = w.check(o)
	}
	if err != nil {
		return 0, fmt.Errorf("under strace -f -c: %w", err)
	}
	b, err := os.ReadFile(w.dir.At(count))
	if err != nil {
		return 0, err
	}
	os.Remove(w.dir.At(count))
	// "100.00    0.123456           1     60012         3 total"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[len(f)-1] == "total" {
			n, err := strconv.Atoi(f[3])
			if err != nil {
				break
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("no total line in strace -c's output:\n%s", clip(string(b)))
}

// measure runs one workload under every configuration of s: the checked
// runs with a trace file, the count of system calls, then the rounds.
func (u userland) measure(t *testing.T, ws benchfmt.WorkloadSize, s settings, na, broken map[string]string) []benchfmt.WorkloadResult {
	t.Helper()
	start := time.Now()
	dir := u.workdir(t, ws.Name)
	rs := make([]benchfmt.WorkloadResult, len(s.configs))
	for i, c := range s.configs {
		rs[i] = benchfmt.WorkloadResult{Workload: ws.Name, Size: ws.Size, Config: c, Warmup: s.warmup,
			Argv: append(tracerArgv(c, "/dev/null"), "..."), NA: na[c], Error: broken[c]}
	}
	w, err := newWorkload(u, ws, dir)
	if err != nil {
		for i := range rs {
			if rs[i].NA == "" {
				rs[i].Error = "setting the workload up: " + err.Error()
			}
		}
		return rs
	}
	calls, err := u.syscalls(w)
	if err != nil {
		t.Logf("%s: the system calls were not counted: %v", ws.Name, err)
	} else {
		t.Logf("%s=%d: %d system calls per native run (strace -f -c)", ws.Name, ws.Size, calls)
	}
	for i, c := range s.configs {
		r := &rs[i]
		r.Argv = append(tracerArgv(c, "/dev/null"), w.argv...)
		r.Syscalls = calls
		if r.NA != "" || r.Error != "" {
			continue
		}
		// The checked run: the same, with the trace in a file.
		trace := "trace-" + c
		if err := w.reset(); err != nil {
			r.Error = err.Error()
			continue
		}
		o, err := u.run(append(tracerArgv(c, dir.Inside(trace)), w.argv...), w.stdin, dir.Host)
		if err == nil {
			err = w.check(o)
		}
		if err == nil && c != benchfmt.ConfigNative {
			b, rerr := os.ReadFile(dir.At(trace))
			err = rerr
			if err == nil {
				err = checkTrace(c, w, string(b))
			}
			os.Remove(dir.At(trace))
		}
		if err != nil {
			r.Error = "the checked run with a trace file: " + err.Error()
			continue
		}
		t.Logf("%s=%d %s: checked run with a trace file passed (%.2fs)", ws.Name, ws.Size, c, o.took.Seconds())
	}
	for round := range s.warmup + s.samples {
		var took []string
		for k := range s.configs {
			i := (k + round) % len(s.configs)
			r := &rs[i]
			if r.NA != "" || r.Error != "" {
				continue
			}
			if err := w.reset(); err != nil {
				r.Error = err.Error()
				continue
			}
			o, err := u.run(r.Argv, w.stdin, dir.Host)
			if err == nil {
				err = w.check(o)
			}
			if err != nil {
				r.Error = fmt.Sprintf("round %d: %v", round+1, err)
				continue
			}
			took = append(took, fmt.Sprintf("%s %.2fs", r.Config, o.took.Seconds()))
			if round >= s.warmup {
				r.Seconds = append(r.Seconds, o.took.Seconds())
			}
		}
		kind := "round"
		if round < s.warmup {
			kind = "warm-up round"
		}
		t.Logf("%s=%d %s %d: %s", ws.Name, ws.Size, kind, round+1, strings.Join(took, ", "))
	}
	for i := range rs {
		if rs[i].Error != "" {
			rs[i].Seconds = nil
		}
	}
	t.Logf("%s=%d: done in %v", ws.Name, ws.Size, time.Since(start).Round(time.Second))
	return rs
}

// emit prints one benchmark line on its own (not through t.Log, which
// prefixes it with the file and line).
func emit(t *testing.T, v any) {
	t.Helper()
	line, err := benchfmt.Format(v)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(line)
}

func kernelVersion() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown: " + err.Error()
	}
	return unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:])
}

// sortedKeys is for stable messages.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
