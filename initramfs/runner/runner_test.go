//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/ktap"
)

var (
	sampleOnce sync.Once
	samplePath string
	sampleErr  error
)

// sampleBinary compiles testdata/sample once per test process.
func sampleBinary(t *testing.T) string {
	t.Helper()
	sampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "runner-sample-")
		if err != nil {
			sampleErr = err
			return
		}
		samplePath = filepath.Join(dir, "sample.test")
		cmd := exec.Command("go", "test", "-c", "-o", samplePath, "./testdata/sample")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			sampleErr = err
			samplePath = string(out)
		}
	})
	if sampleErr != nil {
		t.Fatalf("compiling testdata/sample: %v\n%s", sampleErr, samplePath)
	}
	return samplePath
}

// results flattens a report into path -> "result[: reason]".
func results(rep *ktap.Report) map[string]string {
	m := map[string]string{}
	rep.Walk(func(path string, t *ktap.Test) {
		s := t.Result.String()
		if t.Reason != "" {
			s += ": " + t.Reason
		}
		m[path] = s
	})
	return m
}

func TestSuite(t *testing.T) {
	bin := sampleBinary(t)
	p := &plan.Plan{
		Version: plan.FormatVersion,
		Mode:    plan.Suite,
		Timeout: plan.Duration(20 * time.Second),
		Env:     []string{"GODEBUG=asyncpreemptoff=1"},
		Binaries: []plan.Binary{
			{Name: "ok", Path: bin, Env: []string{"SAMPLE_BINARY_ENV=yes"}},
			{Name: "bad", Path: bin, Timeout: plan.Duration(3 * time.Second),
				Env: []string{"SAMPLE_BINARY_ENV=yes", "SAMPLE_MISBEHAVE=1", "PATH=" + os.Getenv("PATH")}},
			// -test.timeout=1h overrides the runner's, so only the runner's
			// own deadline (1s + grace 1s) stops TestHang.
			{Name: "killed", Path: bin, Timeout: plan.Duration(time.Second), Args: []string{"-test.timeout=1h"},
				Env: []string{"SAMPLE_MISBEHAVE=1"}},
			{Name: "gone", Path: "/nonexistent/gone.test"},
		},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := &suite{plan: p, out: &out, env: os.Environ(), grace: time.Second}
	counts, err := s.run(context.Background())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("console:\n%s", out.String())

	rep, err := ktap.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if got := rep.Counts(); got != counts {
		t.Errorf("parsed counts %v, runner counts %v", got, counts)
	}
	got := results(rep)
	// Line numbers of the sample are not part of the contract.
	lineNo := regexp.MustCompile(`sample_test\.go:\d+:`)
	for k, v := range got {
		got[k] = lineNo.ReplaceAllString(v, "sample_test.go:N:")
	}
	want := map[string]string{
		"ok.TestPass":                  "pass",
		"ok.TestFail":                  "fail: sample_test.go:N: got 1, want 2",
		"ok.TestSkip":                  "skip: sample_test.go:N: needs CONFIG_SECCOMP",
		"ok.TestSub":                   "fail: sample_test.go:N: sub failure",
		"ok.TestSub/pass":              "pass",
		"ok.TestSub/fail":              "fail: sample_test.go:N: sub failure",
		"ok.TestSub/skip":              "skip: sample_test.go:N: not here",
		"ok.TestSub/nested":            "pass",
		"ok.TestSub/nested/deep_pass":  "pass",
		"ok.TestSub/nested/deep/slash": "pass",
		"ok.TestSub/nested/dup":        "pass",
		"ok.TestSub/nested/dup#01":     "pass",
		"ok.TestParallel":              "fail: sample_test.go:N: parallel 2",
		"ok.TestParallel/p2":           "fail: sample_test.go:N: parallel 2",
		"ok.TestEnv":                   "pass",
		"ok.TestPanic":                 "skip: sample_test.go:N: set SAMPLE_MISBEHAVE=1",
		"ok.FuzzSeeds":                 "pass",
		"ok.FuzzSeeds/seed#0":          "pass",
		"ok.FuzzSeeds/seed#1":          "pass",
		"ok.Example_hello":             "pass",
		"bad.TestEnv":                  "pass",
		"bad.TestPanic":                "fail: panic: boom [recovered, repanicked]",
		"bad.TestPanic/inner":          "fail",
		"bad.TestExit":                 "fail: no result line from the test binary: exit status 3",
		"bad.TestSignal":               "fail: no result line from the test binary: killed by signal SIGKILL",
		"bad.TestHang":                 "timeout: panic: test timed out after 3s",
		"bad.TestHang/spin":            "timeout: no result before the test binary was stopped",
		"bad.TestLeak":                 "pass",
		"killed.TestHang":              "timeout: killed after 2s",
		"killed.TestHang/spin":         "timeout: no result before the test binary was stopped",
		"killed.TestEnv":               "fail: sample_test.go:N: SAMPLE_BINARY_ENV = \"\"",
		"gone":                         "fail: listing tests failed",
		"ok.TestParallel/p0":           "pass",
		"ok.TestParallel/p1":           "pass",
		"ok.TestParallel/p3":           "pass",
		"ok.TestSignal":                "skip: sample_test.go:N: set SAMPLE_MISBEHAVE=1",
		"bad.TestPass":                 "pass",
		"bad.FuzzSeeds":                "pass",
		"killed.TestPass":              "pass",
		"killed.TestSignal":            "fail: no result line from the test binary: killed by signal SIGKILL",
		"killed.TestExit":              "fail: no result line from the test binary: exit status 3",
		"killed.FuzzSeeds/seed#1":      "pass",
	}
	for path, w := range want {
		g, ok := got[path]
		if !ok {
			t.Errorf("%s: not in the report", path)
			continue
		}
		if g != w {
			t.Errorf("%s = %q, want %q", path, g, w)
		}
	}
	for _, b := range []string{"ok", "bad", "killed"} {
		if _, ok := got[b+".BenchmarkNothing"]; ok {
			t.Errorf("%s.BenchmarkNothing was run", b)
		}
	}
	// Every planned test is there: 13 tests and examples in each of the
	// three binaries, and one entry for the binary that cannot list.
	if c := rep.Counts(); c.Total != 3*13+1 || rep.Plan != c.Total {
		t.Errorf("plan %d, counts %v", rep.Plan, c)
	}
	// The failure output of a subtest is repeated before its result.
	if d := findTest(rep, "ok.TestSub", "fail").Diagnostics; len(d) != 1 || !strings.Contains(d[0], "sub failure") {
		t.Errorf("diagnostics of ok.TestSub/fail = %q", d)
	}
}

func findTest(rep *ktap.Report, path ...string) *ktap.Test {
	ts := rep.Tests
	var found *ktap.Test
	for _, name := range path {
		found = nil
		for _, t := range ts {
			if t.Name == name {
				found = t
				break
			}
		}
		if found == nil {
			return &ktap.Test{}
		}
		ts = found.Subtests
	}
	return found
}

func writePlan(t *testing.T, p *plan.Plan) string {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunCmdlineOverride(t *testing.T) {
	bin := sampleBinary(t)
	path := writePlan(t, &plan.Plan{
		Version:  plan.FormatVersion,
		Mode:     plan.Suite,
		Binaries: []plan.Binary{{Name: "s", Path: bin}},
	})
	cmdline := filepath.Join(t.TempDir(), "cmdline")
	if err := os.WriteFile(cmdline, []byte("console=ttyS0 selfptrace.run=^Test(Pass|Skip)$ selfptrace.timeout=30s quiet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), &out, []string{"-plan", path, "-cmdline", cmdline, "-setup=false", "-poweroff=false"})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	rep, err := ktap.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Check(); err != nil {
		t.Errorf("Check: %v\n%s", err, out.String())
	}
	if got := results(rep); len(got) != 2 || got["s.TestPass"] != "pass" || !strings.HasPrefix(got["s.TestSkip"], "skip") {
		t.Errorf("results = %v", got)
	}
	if !strings.Contains(out.String(), "overrides: selfptrace.run=^Test(Pass|Skip)$ selfptrace.timeout=30s") {
		t.Errorf("overrides not reported:\n%s", out.String())
	}
}

func TestRunCommand(t *testing.T) {
	path := writePlan(t, &plan.Plan{
		Version: plan.FormatVersion,
		Mode:    plan.Run,
		Env:     []string{"SELFPTRACE_X=42"},
		Command: []string{"/bin/sh", "-c", "echo x=$SELFPTRACE_X; exit 7"},
	})
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-plan", path, "-cmdline", "", "-setup=false", "-poweroff=false"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "x=42\n") {
		t.Errorf("command output missing:\n%s", out.String())
	}
	rep, err := ktap.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Exit == nil || *rep.Exit != (ktap.Exit{Status: 7}) {
		t.Errorf("exit = %+v\n%s", rep.Exit, out.String())
	}
}

func TestRunCommandTimeout(t *testing.T) {
	path := writePlan(t, &plan.Plan{
		Version: plan.FormatVersion,
		Mode:    plan.Run,
		Timeout: plan.Duration(200 * time.Millisecond),
		Command: []string{"/bin/sh", "-c", "sleep 60"},
	})
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-plan", path, "-cmdline", "", "-setup=false", "-poweroff=false"}); err != nil {
		t.Fatal(err)
	}
	rep, err := ktap.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if want := (ktap.Exit{Status: 137, Signal: "SIGKILL", Timeout: true}); rep.Exit == nil || *rep.Exit != want {
		t.Errorf("exit = %+v, want %+v\n%s", rep.Exit, want, out.String())
	}
}

func TestRunBrokenPlan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, []byte(`{"version": 1, "mode": "suite", "bogus": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-plan", path, "-cmdline", "", "-setup=false", "-poweroff=false"}); err != nil {
		t.Fatal(err)
	}
	rep, err := ktap.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Counts(); c.Fail != 1 || c.Total != 1 || rep.Summary == nil {
		t.Errorf("a broken plan must be reported as one failure; got %v\n%s", c, out.String())
	}
	if !strings.Contains(out.String(), "bogus") {
		t.Errorf("the error does not name the bad field:\n%s", out.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-nope"}); err == nil {
		t.Error("unknown flag: no error")
	}
	if err := run(context.Background(), &out, []string{"extra"}); err == nil {
		t.Error("extra argument: no error")
	}
}

func TestSuiteCancelled(t *testing.T) {
	bin := sampleBinary(t)
	p := &plan.Plan{
		Version:  plan.FormatVersion,
		Mode:     plan.Suite,
		Binaries: []plan.Binary{{Name: "s", Path: bin, Env: []string{"SAMPLE_MISBEHAVE=1"}}},
		Filter:   "^Test(Pass|Hang|Fail)$",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	s := &suite{plan: p, out: &out, env: os.Environ()}
	go func() {
		for !strings.Contains(out.String(), "=== RUN   TestHang") {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	if _, err := s.run(ctx); err == nil {
		t.Error("cancelled suite: no error")
	}
	rep, err := ktap.Parse(strings.NewReader(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if got := results(rep); got["s.TestPass"] != "pass" || !strings.HasPrefix(got["s.TestFail"], "fail") || got["s.TestHang"] != "missing" || !findTest(rep, "s.TestHang").Started {
		t.Errorf("results = %v\n%s", got, out.String())
	}
}

// syncBuffer is a bytes.Buffer that a test can read while the suite writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUserlandCommand: in a userland, run mode's command is looked up in
// the userland's PATH (not the image's), runs chrooted with Debian's
// environment, and a name that is not there is an error naming it.
func TestUserlandCommand(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/bin", "bin", "usr/sbin"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "usr/bin/strace"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(root, "bin/notexec"), []byte("data"), 0o644)
	p := &plan.Plan{Userland: root, Command: []string{"strace", "-f", "true"}, Env: []string{"A=B"}}
	cmd, err := command(p)
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Path != "/usr/bin/strace" || strings.Join(cmd.Args, " ") != "strace -f true" {
		t.Errorf("path %q args %q, want /usr/bin/strace inside the userland", cmd.Path, cmd.Args)
	}
	env := strings.Join(cmd.Env, " ")
	for _, want := range []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "A=B"} {
		if !strings.Contains(env, want) {
			t.Errorf("environment %q lacks %s", env, want)
		}
	}
	for _, name := range []string{"notexec", "nosuch"} {
		p.Command = []string{name}
		if _, err := command(p); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("command %s: %v, want an error naming it", name, err)
		}
	}
	// An absolute path is taken as the userland's own.
	p.Command = []string{"/bin/bash"}
	if cmd, err := command(p); err != nil || cmd.Path != "/bin/bash" {
		t.Errorf("/bin/bash: %v %v", cmd, err)
	}
	// Without a userland, exec's own lookup in the image.
	p = &plan.Plan{Command: []string{"sh", "-c", "true"}}
	if cmd, err := command(p); err != nil || !strings.HasSuffix(cmd.Path, "/sh") {
		t.Errorf("no userland: %v %v", cmd, err)
	}
}
