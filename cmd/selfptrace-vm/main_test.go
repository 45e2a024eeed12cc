package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
