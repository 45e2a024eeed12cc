//go:build lava

// The LAVA end-to-end test runs the generated jobs with a real LAVA
// dispatcher (Debian's lava-run, offline, with the generated qemu device
// description). It needs lava-dispatcher, so it has its own target:
// `make e2e-lava` installs the package and runs it with -tags lava.

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/lava"
	"github.com/selfptrace/selfptrace-vm/report"
)

// lavaVerdict is the LAVA result word for a rig status.
func lavaVerdict(status string) string {
	switch status {
	case report.Pass:
		return "pass"
	case report.Skip:
		return "skip"
	}
	return "fail" // fail, timeout
}

// TestLavaJobOnEveryArch generates the job of every arch in the table,
// runs it with lava-run, and checks that LAVA's results list every guest
// test with the verdict that `test` gives on the same kernel.
func TestLavaJobOnEveryArch(t *testing.T) {
	e := needEnv(t)
	if _, err := os.Stat("/usr/bin/lava-run"); err != nil {
		t.Fatalf("lava-run is missing: apt-get install lava-dispatcher (make e2e-lava does)")
	}
	for i, name := range arches {
		a, err := arch.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(a.Name, func(t *testing.T) {
			dir := t.TempDir()
			jobDir := filepath.Join(dir, "job")
			r := e.run(t, 60*time.Minute, "lava-job", "--arch", a.Name, "--out", jobDir)
			if r.code != 0 {
				t.Fatalf("lava-job exited %d\n%s", r.code, tailOf(r.stderr, 30))
			}
			js := filepath.Join(dir, "test.json")
			r = e.run(t, 30*time.Minute, "test", "--arch", a.Name, "--json", js, "--out", filepath.Join(dir, "out"))
			if r.code != 0 && r.code != 1 {
				t.Fatalf("test exited %d\n%s", r.code, tailOf(r.stderr, 30))
			}
			rs := readResults(t, js)

			lavaOut := filepath.Join(dir, "lava")
			ctxTimeout := 30 * time.Minute
			cmd := exec.Command("/usr/bin/lava-run", "--job-id", fmt.Sprint(1000+i), "--output-dir", lavaOut,
				"--device", filepath.Join(jobDir, "device.yaml"), filepath.Join(jobDir, "job.yaml"))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(ctxTimeout):
				cmd.Process.Kill()
				t.Fatalf("lava-run did not finish in %s\n%s", ctxTimeout, tailOf(out.String(), 40))
			}
			took := time.Since(start)
			logPath := filepath.Join(dir, "lava-run.log")
			os.WriteFile(logPath, out.Bytes(), 0o644)
			if err != nil {
				t.Errorf("lava-run: %v\n%s", err, tailOf(out.String(), 40))
			}
			results, perr := lava.ParseLog(bytes.NewReader(out.Bytes()))
			if perr != nil {
				t.Fatal(perr)
			}
			got := map[string]string{}
			for _, res := range results {
				got[res.Case] = res.Result
			}
			var top, agree int
			counts := map[string]int{}
			for _, tc := range rs.Runs[0].Tests {
				if strings.Contains(tc.Name, "/") {
					continue // subtests: LAVA sees the top-level results
				}
				top++
				want := lavaVerdict(tc.Status)
				id := lava.CaseID(tc.Name)
				if got[id] != want {
					t.Errorf("%s: LAVA says %q, test says %s", tc.Name, got[id], tc.Status)
					continue
				}
				agree++
				counts[want]++
			}
			if len(results) != top {
				t.Errorf("LAVA reported %d test cases, the run has %d top-level tests", len(results), top)
			}
			if !strings.Contains(out.String(), "ok: end string found") {
				t.Errorf("the monitor never saw the end of the run")
			}
			if top < 10 {
				t.Errorf("only %d top-level tests", top)
			}
			t.Logf("%s: lava-run took %s; LAVA results %d (pass=%d fail=%d skip=%d), all %d agree with test (outcome %s)",
				a.Name, took.Round(time.Second), len(results), counts["pass"], counts["fail"], counts["skip"], agree, rs.Runs[0].Outcome)
		})
	}
}
