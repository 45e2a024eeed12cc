// Package e2e runs the selfptrace-vm command end to end: real kernels built
// from source, real u-root images, real QEMU, on every architecture. The
// tests share one cache directory, so each kernel is built once per run.
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/logtail"
	"github.com/selfptrace/selfptrace-vm/report"
)

// env is what every test needs: the built command, the checkout and the cache.
type env struct {
	bin   string
	root  string
	cache string
}

var theEnv *env // set once by TestMain, read only afterwards

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || os.Getenv("SELFPTRACE_VM_E2E") == "0" {
		fmt.Println("e2e: skipped in -short mode (set by make unit); make e2e runs them")
		os.Exit(m.Run())
	}
	root, err := filepath.Abs("..")
	if err != nil {
		panic(err)
	}
	tmp, err := os.MkdirTemp("", "selfptrace-vm-e2e-")
	if err != nil {
		panic(err)
	}
	bin := filepath.Join(tmp, "selfptrace-vm")
	build := exec.Command("go", "build", "-o", bin, "./cmd/selfptrace-vm")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building selfptrace-vm:", err)
		os.Exit(1)
	}
	sel := os.Getenv("SELFPTRACE_VM_E2E_ARCH")
	if sel == "" {
		sel = "all" // unset: every row of the table (the rig itself refuses an empty --arch)
	}
	specs, err := arch.Parse(sel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: SELFPTRACE_VM_E2E_ARCH:", err)
		os.Exit(2)
	}
	for _, s := range specs {
		arches = append(arches, s.Name)
	}
	fmt.Printf("e2e: architectures %s (SELFPTRACE_VM_E2E_ARCH=%q; empty or all: every row of the table)\n", archFlag(), sel)
	theEnv = &env{bin: bin, root: root, cache: cacheentry.DefaultRoot()}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func needEnv(t *testing.T) *env {
	t.Helper()
	if theEnv == nil {
		t.Skip("end-to-end tests need a full run (not -short)")
	}
	return theEnv
}

// result is one finished command.
type result struct {
	code   int
	stdout string
	stderr string
	took   time.Duration
}

// run runs selfptrace-vm with args and a deadline, from the checkout.
func (e *env) run(t *testing.T, timeout time.Duration, args ...string) result {
	t.Helper()
	return e.runWith(t, timeout, nil, args...)
}

func (e *env) runWith(t *testing.T, timeout time.Duration, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Dir = e.root
	cmd.Env = append(append(os.Environ(), "SELFPTRACE_VM_CACHE="+e.cache), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	start := time.Now()
	t.Logf("$ selfptrace-vm %s", strings.Join(args, " "))
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("selfptrace-vm %s did not finish within %s\nstderr:\n%s", strings.Join(args, " "), timeout, tailOf(r.stderr, 40))
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running selfptrace-vm: %v", err)
	}
	t.Logf("exit %d after %s", r.code, r.took.Round(time.Millisecond))
	if r.code != 0 && r.stdout != "" {
		// The summary (which tests failed, and how) is on standard
		// output; a failing test usually prints only standard error's
		// progress lines, so keep the verdict in the log.
		t.Logf("stdout:\n%s", tailOf(r.stdout, 60))
	}
	return r
}

// readEveryArch reads a results file that must hold one run per arch of
// the e2e selection, and fails the test at once when it does not.
func readEveryArch(t *testing.T, path string) report.Results {
	t.Helper()
	rs := readResults(t, path)
	if len(rs.Runs) != len(arches) {
		t.Fatalf("%d runs in %s, want %d (%v)", len(rs.Runs), path, len(arches), arches)
	}
	return rs
}

func readResults(t *testing.T, path string) report.Results {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading results: %v", err)
	}
	defer f.Close()
	rs, err := report.ReadJSON(f)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return rs
}

// tailOf is the last n lines of s, for failure messages.
func tailOf(s string, n int) string { return strings.Join(logtail.Lines(s, n), "\n") }

// noQEMULeft fails if a QEMU process whose command line mentions dir (the
// run's output directory) is still running.
func noQEMULeft(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-af", "qemu-system").Output()
		var mine []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, dir) {
				mine = append(mine, l)
			}
		}
		if len(mine) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("QEMU left running:\n%s", strings.Join(mine, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
