package e2e

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// arches are the architectures the e2e tests cover: every row of the arch
// table, or the list in $SELFPTRACE_VM_E2E_ARCH (set once by TestMain, read
// only afterwards).
var arches []string

// archFlag is the --arch value that covers arches.
func archFlag() string { return strings.Join(arches, ",") }

// runJSON runs a `run` command with --json and returns the single run.
// Its artifacts go to a directory of the test's own, so that noQEMULeft can
// tell its QEMU from others.
func (e *env) runJSON(t *testing.T, timeout time.Duration, args ...string) (result, report.Run) {
	t.Helper()
	out := t.TempDir()
	js := filepath.Join(out, "run.json")
	r := e.run(t, timeout, append([]string{"run", "--json", js, "--out", out}, args...)...)
	rs := readResults(t, js)
	if len(rs.Runs) != 1 {
		t.Fatalf("%d runs in the JSON, want 1", len(rs.Runs))
	}
	noQEMULeft(t, out)
	return r, rs.Runs[0]
}

// TestKernelPanicIsClassified panics the guest kernel mid-run through
// /proc/sysrq-trigger: outcome panic, with the panic in the excerpt.
func TestKernelPanicIsClassified(t *testing.T) {
	e := needEnv(t)
	for _, a := range arches {
		t.Run(a, func(t *testing.T) {
			r, run := e.runJSON(t, 10*time.Minute, "--arch", a, "--", "/bbin/gosh", "-c", "echo c > /proc/sysrq-trigger")
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if run.Outcome != vm.OutcomePanic {
				t.Fatalf("outcome %s, want panic (%s)", run.Outcome, run.Error)
			}
			if !strings.Contains(run.Excerpt, "Kernel panic") || !strings.Contains(run.Excerpt, "sysrq") {
				t.Errorf("excerpt does not show the panic:\n%s", run.Excerpt)
			}
			if run.ConsoleLog == "" {
				t.Error("no console log kept")
			}
		})
	}
}

// TestHungGuestTimesOut runs a command that never ends and prints nothing:
// the no-output timer fires, the outcome is timeout, and a QMP register
// dump is saved with the run.
func TestHungGuestTimesOut(t *testing.T) {
	e := needEnv(t)
	for _, a := range arches {
		t.Run(a, func(t *testing.T) {
			r, run := e.runJSON(t, 10*time.Minute, "--arch", a, "--idle-timeout", "2s", "--", "/bbin/sleep", "100000")
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if run.Outcome != vm.OutcomeTimeout {
				t.Fatalf("outcome %s, want timeout (%s)", run.Outcome, run.Error)
			}
			if run.RegDump == "" {
				t.Fatal("no register dump path in the results")
			}
			dump := string(mustRead(t, run.RegDump))
			if !regexp.MustCompile(`(?i)(PSW|RIP|RAX|R0[0-9]?|\bPC\b|X0[0-9]?)`).MatchString(dump) {
				t.Errorf("register dump does not look like registers:\n%s", tailOf(dump, 10))
			}
		})
	}
}

// TestHangingGuestTestTimesOut puts a test that hangs into a suite: the
// per-test timeout fires, that test is timeout, the others still report.
func TestHangingGuestTestTimesOut(t *testing.T) {
	e := needEnv(t)
	js := filepath.Join(t.TempDir(), "hang.json")
	r := e.run(t, 15*time.Minute, "test", "--arch", archFlag(), "--tests", "./tests/faults,./tests/smoke",
		"--timeout", "5s", "--json", js)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, run := range readResults(t, js).Runs {
		got := map[string]string{}
		for _, tc := range run.Tests {
			got[tc.Name] = tc.Status
		}
		if got["faults.TestHang"] != report.Timeout {
			t.Errorf("%s: faults.TestHang is %q, want timeout (all: %v)", run.Arch, got["faults.TestHang"], got)
		}
		if got["faults.TestAfterHang"] != report.Pass || got["smoke.TestForkExec"] != report.Pass {
			t.Errorf("%s: the tests after the hang did not report: %v", run.Arch, got)
		}
		if run.Outcome != vm.OutcomeFail {
			t.Errorf("%s: outcome %s, want fail", run.Arch, run.Outcome)
		}
	}
}

// TestBrokenCommandLineIsBootFail boots with an init that does not exist:
// the kernel never reaches user space, outcome boot_fail, well before the
// whole-run timeout.
func TestBrokenCommandLineIsBootFail(t *testing.T) {
	e := needEnv(t)
	for _, a := range arches {
		t.Run(a, func(t *testing.T) {
			r, run := e.runJSON(t, 10*time.Minute, "--arch", a, "--append", "rdinit=/does/not/exist init=/does/not/exist", "--", "/bbin/true")
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if run.Outcome != vm.OutcomeBootFail {
				t.Fatalf("outcome %s, want boot_fail (%s)\n%s", run.Outcome, run.Error, run.Excerpt)
			}
			t.Logf("boot_fail after %s: %s", r.took.Round(time.Millisecond), run.Error)
		})
	}
}

// startCLI starts selfptrace-vm in the background and returns the command
// and a channel of its stderr lines.
func (e *env) startCLI(t *testing.T, extraEnv []string, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Dir = e.root
	cmd.Env = append(append(os.Environ(), "SELFPTRACE_VM_CACHE="+e.cache), extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, lines
}

// waitLine waits for a stderr line containing s.
func waitLine(t *testing.T, lines <-chan string, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("selfptrace-vm ended before printing %q", s)
			}
			if strings.Contains(l, s) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %s", s, timeout)
		}
	}
}

func exitCodeOf(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(2 * time.Minute):
		t.Fatal("selfptrace-vm did not exit within 2 minutes of the signal")
		return -1
	}
}

// qemuPids returns the QEMU processes whose command line contains s.
func qemuPids(s string) []int {
	out, _ := exec.Command("pgrep", "-f", "qemu-system.*"+regexp.QuoteMeta(s)).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		var p int
		for _, c := range f {
			p = p*10 + int(c-'0')
		}
		pids = append(pids, p)
	}
	return pids
}

// TestQEMUKilledFromOutside kills QEMU mid-run: qemu_error, a clear message,
// exit code 3 (the rig, not the kernel).
func TestQEMUKilledFromOutside(t *testing.T) {
	e := needEnv(t)
	for _, a := range arches {
		t.Run(a, func(t *testing.T) {
			out := t.TempDir()
			js := filepath.Join(out, "r.json")
			cmd, lines := e.startCLI(t, nil, "run", "--arch", a, "--out", out, "--json", js, "--", "/bbin/sleep", "100000")
			waitLine(t, lines, "boot and test", 10*time.Minute)
			var pids []int
			for i := 0; i < 100 && len(pids) == 0; i++ {
				time.Sleep(100 * time.Millisecond)
				pids = qemuPids(out)
			}
			if len(pids) == 0 {
				t.Fatal("QEMU process not found")
			}
			time.Sleep(2 * time.Second)
			for _, p := range pids {
				syscall.Kill(p, syscall.SIGKILL)
			}
			if code := exitCodeOf(t, cmd); code != 3 {
				t.Errorf("exit %d, want 3", code)
			}
			run := readResults(t, js).Runs[0]
			if run.Outcome != vm.OutcomeQEMUError {
				t.Errorf("outcome %s, want qemu_error", run.Outcome)
			}
			if !strings.Contains(run.Error, "kill") {
				t.Errorf("error does not say QEMU was killed: %q", run.Error)
			}
		})
	}
}

// TestSignalDuringBoot interrupts a run while the guest is up: exit 130
// for SIGINT and 143 for SIGTERM, and no QEMU left behind.
func TestSignalDuringBoot(t *testing.T) {
	e := needEnv(t)
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		for _, a := range arches {
			t.Run(a+"/"+c.sig.String(), func(t *testing.T) {
				out := t.TempDir()
				cmd, lines := e.startCLI(t, nil, "run", "--arch", a, "--out", out, "--", "/bbin/sleep", "100000")
				waitLine(t, lines, "boot and test", 10*time.Minute)
				time.Sleep(2 * time.Second)
				cmd.Process.Signal(c.sig)
				if code := exitCodeOf(t, cmd); code != c.code {
					t.Errorf("exit %d, want %d", code, c.code)
				}
				time.Sleep(time.Second)
				if p := qemuPids(out); len(p) != 0 {
					t.Errorf("QEMU still running: %v", p)
				}
			})
		}
	}
}

// TestSignalDuringBuild interrupts a kernel build: exit 130, no make or
// compiler left, no cache entry written.
func TestSignalDuringBuild(t *testing.T) {
	e := needEnv(t)
	cache := t.TempDir()
	cmd, lines := e.startCLI(t, []string{"SELFPTRACE_VM_CACHE=" + cache}, "build", "--arch", "s390x")
	waitLine(t, lines, "[s390x] build", 10*time.Minute)
	time.Sleep(3 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCodeOf(t, cmd); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	time.Sleep(2 * time.Second)
	if out, _ := exec.Command("pgrep", "-af", "make.*"+regexp.QuoteMeta(cache)).Output(); len(out) > 0 {
		t.Errorf("make still running:\n%s", out)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "kernels", "*"))
	for _, en := range entries {
		t.Errorf("cache entry left after an interrupted build: %s", en)
	}
}
