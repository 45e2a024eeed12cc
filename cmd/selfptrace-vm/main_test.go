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
	})
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

func TestStartedByGoRun(t *testing.T) {
	for exe, want := range map[string]bool{
		"/tmp/go-build2282923700/b001/exe/selfptrace-vm":     true,
		"/var/tmp/x/go-build12/b001/exe/selfptrace-vm":       true,
		"/usr/local/bin/selfptrace-vm":                       false,
		"/work/main/selfptrace-vm":                           false,
		"/tmp/exe/selfptrace-vm":                             false,
		"/root/.cache/go-build/ab/exe/selfptrace-vm":         false,
		"/tmp/go-build2282923700/b001/exe/sub/selfptrace-vm": false,
	} {
		if got := startedByGoRun(exe); got != want {
			t.Errorf("startedByGoRun(%q) = %v, want %v", exe, got, want)
		}
	}
}
