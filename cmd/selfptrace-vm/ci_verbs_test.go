package main

import (
	"testing"
)

// TestCIVerbUsage covers the command lines of compare, bisect and lava-job
// that must be refused before any kernel is built.
func TestCIVerbUsage(t *testing.T) {
	t.Chdir("../..")
	checkExits(t, []exitCase{
		{[]string{"compare", "--root", "."}, exitUsage, "--root is given twice or not at all"},
		{[]string{"compare", "--root", ".", "--root", "/nonexistent"}, exitUsage, "not a selfptrace-vm checkout"},
		{[]string{"compare", "--suite", "ltp"}, exitUsage, "--suite"},
		{[]string{"compare", "--vanilla"}, exitUsage, "--vanilla"},
		{[]string{"compare", "--reruns", "0"}, exitUsage, "--reruns"},
		{[]string{"bisect", "--arch", "x86_64"}, exitUsage, "--run is required"},
		{[]string{"bisect", "--arch", "all", "--run", "X"}, exitUsage, "one architecture"},
		{[]string{"bisect", "--arch", "x86_64", "--run", "X", "--good", "5", "--bad", "2"}, exitUsage, "--good"},
		// As a git bisect run step, a usage error must not read as "bad" (1..127): 128 aborts.
		{[]string{"bisect", "--step", "--arch", "x86_64"}, exitAbort, "--run is required"},
		{[]string{"bisect", "--step", "--no-such"}, exitAbort, "not defined"},
		{[]string{"lava-job", "--arch", "s390x"}, exitUsage, "--out is required"},
		{[]string{"lava-job", "--arch", "s390x", "--out", "x", "--profile", "fast"}, exitUsage, `unknown profile "fast"`},
		{[]string{"lava-job", "--arch", "s390x", "--out", "x", "--kernel-url", "bzImage"}, exitUsage, "not a URL"},
		{[]string{"test", "-h"}, exitOK, ""},
	})
}

func TestTopLevelFilter(t *testing.T) {
	got := topLevelFilter([]string{"selfptrace.TestArgs/rdi", "selfptrace.TestArgs/rsi", "smoke.TestMachine", "kselftest.seccomp_bpf/global.kcmp"}, "")
	if got != "^(TestArgs|TestMachine)$" {
		t.Errorf("filter %q", got)
	}
	if got := topLevelFilter([]string{"kselftest.ptrace/x"}, "user"); got != "user" {
		t.Errorf("kselftests only: %q, want the user's filter", got)
	}
}
