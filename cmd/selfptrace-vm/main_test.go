package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/report"
)

func TestUsageErrors(t *testing.T) {
	t.Chdir("../..")
	checkExits(t, []exitCase{
		{nil, exitUsage, "usage: selfptrace-vm"},
		{[]string{"bogus"}, exitUsage, "unknown command"},
		{[]string{"test", "--arch", "mips"}, exitUsage, "unknown architecture"},
		{[]string{"test", "--no-such"}, exitUsage, "flag provided but not defined"},
		{[]string{"test", "--arch", "x86_64", "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"run", "--arch", "all", "--", "true"}, exitUsage, "one architecture"},
		{[]string{"run", "--arch", "s390x"}, exitUsage, "no command"},
		{[]string{"test", "--arch", "amd64", "--timeout", "-1s"}, exitUsage, "must be positive"},
		{[]string{"test", "--run", "("}, exitUsage, "--run"},
		{[]string{"test", "--accel", "hvf"}, exitUsage, "--accel"},
		{[]string{"run", "--arch", "s390x", "--file", "/does/not/exist", "--", "x"}, exitUsage, "--file"},
		{[]string{"help"}, exitOK, ""},
		{[]string{"test", "-h"}, exitOK, ""},
		// An unset $ARCH in a script is not "every architecture".
		{[]string{"build", "--arch", ""}, exitUsage, "empty architecture"},
		{[]string{"run", "--arch", "", "--", "true"}, exitUsage, "empty architecture"},
		{[]string{"test", "--arch", ""}, exitUsage, "empty architecture"},
		{[]string{"userland", "--arch", ""}, exitUsage, "empty architecture"},
		{[]string{"help", "bisect"}, exitOK, ""},
		{[]string{"help", "bogus"}, exitUsage, "unknown command"},
		{[]string{"--version"}, exitOK, ""},
		// Flags that cannot apply are refused, never ignored.
		{[]string{"compare", "--arch", "x86_64", "--run", "TestX"}, exitUsage, "--run does not apply with --suite kselftest"},
		{[]string{"test", "--arch", "x86_64", "--kselftest", "--tests", "./tests/smoke"}, exitUsage, "--tests does not apply with --kselftest"},
		{[]string{"test", "--arch", "x86_64", "--kselftest", "--run", "vmaccess"}, exitUsage, "--run does not apply with --kselftest"},
		{[]string{"shell", "--arch", "x86_64", "--idle-timeout", "5s"}, exitUsage, "--idle-timeout does not apply to shell"},
		{[]string{"shell", "--arch", "x86_64", "--gdb-wait"}, exitUsage, "--gdb-wait does not apply without --gdb"},
		{[]string{"lava-job", "--arch", "x86_64", "--out", "x", "--accel", "tcg"}, exitUsage, "--accel does not apply to lava-job"},
		{[]string{"lava-job", "--arch", "x86_64", "--out", "x", "--job-minutes", "-5"}, exitUsage, "--job-minutes"},
		{[]string{"lava-job", "--arch", "x86_64", "--out", "x", "--profile", "debug"}, exitUsage, "default profile only"},
		{[]string{"build", "--arch", "x86_64", "-v"}, exitUsage, "--v does not apply to build"},
		// In --step mode every error aborts git bisect (128).
		{[]string{"bisect", "--arch", "x86_64", "--step", "--run", "X", "--good", "2"}, exitAbort, "--good does not apply with --step"},
		{[]string{"doctor", "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"cache-key", "--arch", "x86_64", "extra", "args"}, exitUsage, "unexpected arguments"},
	})
}

// TestHelpVerb: "help VERB" prints the verb's flags on standard output,
// as "VERB -h" does; --version names the program and the Go version.
func TestHelpVerb(t *testing.T) {
	t.Chdir("../..")
	var a, b, errb bytes.Buffer
	if code := run(context.Background(), &a, &errb, []string{"help", "bisect"}); code != exitOK {
		t.Fatalf("help bisect: exit %d: %s", code, errb.String())
	}
	run(context.Background(), &b, &b, []string{"bisect", "-h"})
	if !strings.Contains(a.String(), "-good") || a.String() != b.String() {
		t.Errorf("help bisect printed:\n%s\nbisect -h printed:\n%s", a.String(), b.String())
	}
	var v bytes.Buffer
	run(context.Background(), &v, &v, []string{"--version"})
	if !strings.HasPrefix(v.String(), "selfptrace-vm ") || !strings.Contains(v.String(), "go1.") {
		t.Errorf("--version printed %q", v.String())
	}
}

func TestGuestOutputFilter(t *testing.T) {
	var b bytes.Buffer
	g := &guestOutput{w: &b}
	for _, chunk := range []string{"Linux version 6.12\nWelcome to u-root!\n# selfptrace-vm: info run /bin/x\nhel", "lo\n[    1.234567] random: crng\nworld\n# selfptrace-vm: exit status=0\n"} {
		g.Write([]byte(chunk))
	}
	if got := b.String(); got != "hello\nworld\n" {
		t.Errorf("guest output %q", got)
	}
}

func TestAmd64Alias(t *testing.T) {
	var c common
	c.archFlag = "amd64"
	c.root = "."
	c.jobs = 1
	if err := c.finish(false); err != nil || c.archs[0].Name != "x86_64" {
		t.Errorf("amd64: %v %v", c.archs, err)
	}
}

// exitCase is a command line, the exit code it must give and a phrase its
// standard error must hold (none if empty).
type exitCase struct {
	args []string
	code int
	msg  string
}

// checkExits runs each command line through run and checks its exit code
// and message.
func checkExits(t *testing.T, cases []exitCase) {
	t.Helper()
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(context.Background(), &out, &errb, c.args)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, code, c.code, errb.String())
		}
		if c.msg != "" && !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: stderr lacks %q:\n%s", c.args, c.msg, errb.String())
		}
	}
}

func TestIsGoRun(t *testing.T) {
	for cmd, want := range map[string]bool{
		"go run ./cmd/selfptrace-vm test --arch s390x": true,
		"/usr/local/go/bin/go run ./cmd/selfptrace-vm": true,
		"go -C /work/main run ./cmd/selfptrace-vm":     true,
		"go test ./e2e/ -run TestRun":                  false,
		"go build -o x ./cmd/selfptrace-vm":            false,
		"bash -c go run x":                             false,
		"/usr/bin/make run":                            false,
		"go":                                           false,
		"gorun run":                                    false,
	} {
		if got := isGoRun(strings.Fields(cmd)); got != want {
			t.Errorf("isGoRun(%q) = %v, want %v", cmd, got, want)
		}
	}
}

// TestFailedRunSaysWhatWasAsked: a run that fails before its kernel is
// built (a kernel source that does not exist) still reports the kernel it
// was to boot (patched), the accelerator and vCPUs asked for, and says
// "not built".
func TestFailedRunSaysWhatWasAsked(t *testing.T) {
	t.Chdir("../..")
	js := t.TempDir() + "/r.json"
	var out, errb bytes.Buffer
	code := run(context.Background(), &out, &errb, []string{"test", "--arch", "x86_64", "--accel", "tcg", "--smp", "3",
		"--kernel-src", "/nonexistent-selfptrace-src", "--json", js, "--out", t.TempDir()})
	if code != exitRig {
		t.Fatalf("exit %d, want %d\n%s", code, exitRig, errb.String())
	}
	if s := out.String(); !strings.Contains(s, "kernel not built (patched)") || !strings.Contains(s, "accel=tcg smp=3") {
		t.Errorf("summary:\n%s", s)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rs report.Results
	if err := json.Unmarshal(b, &rs); err != nil || len(rs.Runs) != 1 {
		t.Fatalf("%v: %s", err, b)
	}
	if k := rs.Runs[0].Kernel; !k.Patched || k.Image != "" || rs.Runs[0].Accel != "tcg" || rs.Runs[0].SMP != 3 {
		t.Errorf("JSON run: %+v", rs.Runs[0])
	}
}

// TestOutputPaths: every output path is checked before any work, "-" is
// standard output (then the summary goes to standard error), and nothing
// creates a missing directory.
func TestOutputPaths(t *testing.T) {
	t.Chdir("../..")
	dir := t.TempDir()
	checkExits(t, []exitCase{
		{[]string{"test", "--arch", "x86_64", "--json", "/nonexistent-selfptrace-dir/r.json"}, exitUsage, "does not exist"},
		{[]string{"test", "--arch", "x86_64", "--junit", dir}, exitUsage, "is a directory"},
		{[]string{"test", "--arch", "x86_64", "--json", "-", "--ktap", "-"}, exitUsage, "only one output"},
		{[]string{"run", "--arch", "x86_64", "--json", "-", "--", "true"}, exitUsage, "name a file"},
		{[]string{"compare", "--arch", "x86_64", "--json", "/nonexistent-selfptrace-dir/c.json"}, exitUsage, "does not exist"},
		{[]string{"bisect", "--arch", "x86_64", "--run", "X", "--json", "/nonexistent-selfptrace-dir/b.json"}, exitUsage, "does not exist"},
		{[]string{"bench", "--arch", "x86_64", "--markdown", "/nonexistent-selfptrace-dir/b.md"}, exitUsage, "does not exist"},
	})
	if _, err := os.Stat("/nonexistent-selfptrace-dir"); err == nil {
		t.Error("a rejected output path created its directory")
	}
	// "-": the JSON on standard output, the summary on standard error.
	var out, errb bytes.Buffer
	run(context.Background(), &out, &errb, []string{"test", "--arch", "x86_64", "--accel", "tcg",
		"--kernel-src", "/nonexistent-selfptrace-src", "--json", "-", "--out", t.TempDir()})
	var rs report.Results
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil || len(rs.Runs) != 1 {
		t.Errorf("--json -: standard output is not the JSON: %v\n%s", err, out.String())
	}
	if !strings.Contains(errb.String(), "kernel not built") {
		t.Errorf("--json -: the summary is not on standard error:\n%s", errb.String())
	}
}

// TestExitCodesOnTheTable: doctor with a missing tool exits 3 (the rig
// cannot work), as the exit-code table says; bisect --series naming no
// series is a usage error naming the flag; a mistyped flag is one line.
func TestExitCodesOnTheTable(t *testing.T) {
	t.Chdir("../..")
	t.Setenv("PATH", t.TempDir()) // no tool at all
	checkExits(t, []exitCase{
		{[]string{"doctor", "--cache-dir", t.TempDir()}, exitRig, "host dependencies missing"},
	})
}

func TestUsageErrorsNameTheFlag(t *testing.T) {
	t.Chdir("../..")
	checkExits(t, []exitCase{
		{[]string{"bisect", "--arch", "x86_64", "--run", "X", "--series", "/nonexistent-selfptrace-series"}, exitUsage, "--series /nonexistent-selfptrace-series"},
	})
	var out, errb bytes.Buffer
	if code := run(context.Background(), &out, &errb, []string{"test", "--no-such-flag"}); code != exitUsage {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(strings.TrimSpace(errb.String()), "\n") + 1; n != 1 || !strings.Contains(errb.String(), "help test") {
		t.Errorf("a mistyped flag printed %d lines (want one, naming help test):\n%s", n, errb.String())
	}
}

func TestPrefixOrder(t *testing.T) {
	if got := prefixOrder(2, 5, false); !slices.Equal(got, []int{2, 3, 4, 5}) {
		t.Errorf("ascending: %v", got)
	}
	if got := prefixOrder(0, 3, true); !slices.Equal(got, []int{3, 2, 1, 0}) {
		t.Errorf("descending: %v", got)
	}
	if got := prefixOrder(4, 4, true); !slices.Equal(got, []int{4}) {
		t.Errorf("one prefix: %v", got)
	}
}
