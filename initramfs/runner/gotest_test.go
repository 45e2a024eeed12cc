//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/ktap"
)

// feed gives the converter lines where "^V" stands for the framing byte.
func feed(c *converter, text string) []string {
	var kept []string
	for _, l := range strings.Split(strings.TrimPrefix(text, "\n"), "\n") {
		l = strings.ReplaceAll(l, "^V", string(framing))
		if out, keep := c.Line(l); keep {
			kept = append(kept, out)
		}
	}
	return kept
}

func TestConverterFraming(t *testing.T) {
	c := newConverter("TestX")
	kept := feed(c, `
^V=== RUN   TestX
--- PASS: TestX (0.00s)
=== RUN   TestX/fake
^V=== RUN   TestX/a
    x_test.go:3: in a
^V--- FAIL: TestX/a (0.00s)
^V=== NAME  TestX
    x_test.go:9: in X
^V--- FAIL: TestX (0.00s)
^V=== NAME  
^VFAIL`)
	top := c.top()
	if top == nil || top.state != failed {
		t.Fatalf("top = %+v", top)
	}
	if len(top.children) != 1 || top.children[0].short != "a" {
		t.Fatalf("children = %+v: a test's own output must not start subtests", top.children)
	}
	if got := strings.Join(top.output, "|"); got != "--- PASS: TestX (0.00s)|=== RUN   TestX/fake|    x_test.go:9: in X" {
		t.Errorf("output of TestX = %q", got)
	}
	if got := strings.Join(top.children[0].output, "|"); got != "    x_test.go:3: in a" {
		t.Errorf("output of TestX/a = %q", got)
	}
	if r, reason := c.verdict(outcome{exit: "exit status 1"}); r != ktap.Fail || reason != "--- PASS: TestX (0.00s)" {
		t.Errorf("verdict = %v %q", r, reason)
	}
	for _, l := range kept {
		if l == "FAIL" || strings.TrimSpace(l) == "=== NAME" {
			t.Errorf("kept %q", l)
		}
		if strings.ContainsRune(l, framing) {
			t.Errorf("framing byte kept in %q", l)
		}
	}
}

func TestConverterVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lines  string
		o      outcome
		result ktap.Result
		reason string
	}{
		{"pass", "^V=== RUN   TestX\n^V--- PASS: TestX (0.00s)", outcome{}, ktap.Pass, ""},
		{"pass but exit 1", "^V=== RUN   TestX\n^V--- PASS: TestX (0.00s)", outcome{exit: "exit status 1"}, ktap.Fail, "passed, but the test binary ended with exit status 1"},
		{"skip", "^V=== RUN   TestX\n    x_test.go:1: no root\n^V--- SKIP: TestX (0.00s)", outcome{}, ktap.Skip, "x_test.go:1: no root"},
		{"killed", "^V=== RUN   TestX", outcome{killed: true, limit: "15s"}, ktap.Timeout, "killed after 15s"},
		{"go timeout", "^V=== RUN   TestX\npanic: test timed out after 1s\n\trunning tests:", outcome{exit: "exit status 2"}, ktap.Timeout, "panic: test timed out after 1s"},
		{"crash", "^V=== RUN   TestX\nSIGSYS: bad system call", outcome{exit: "exit status 2"}, ktap.Fail, "no result line from the test binary: exit status 2"},
		{"signal", "^V=== RUN   TestX", outcome{exit: "killed by signal SIGSYS"}, ktap.Fail, "no result line from the test binary: killed by signal SIGSYS"},
		{"not run", "testing: warning: no tests to run\n^VPASS", outcome{}, ktap.Fail, "the test binary ran no test of that name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConverter("TestX")
			feed(c, tc.lines)
			r, reason := c.verdict(tc.o)
			if r != tc.result || reason != tc.reason {
				t.Errorf("verdict = %v %q, want %v %q", r, reason, tc.result, tc.reason)
			}
		})
	}
}

func TestIsTestName(t *testing.T) {
	for s, want := range map[string]bool{
		"TestX": true, "Example_hello": true, "FuzzSeeds": true, "BenchmarkX": false,
		"ok": false, "Test X": false, "": false, "TestÄ": true,
	} {
		if got := isTestName(s); got != want {
			t.Errorf("isTestName(%q) = %v", s, got)
		}
	}
}
