//go:build linux

package main

import (
	"fmt"
	"strings"

	"github.com/selfptrace/selfptrace-vm/ktap"
)

// framing is the byte that -test.v=test2json puts before every line that the
// testing package itself prints (=== RUN, --- PASS, ...), so that a test's
// own output can never be mistaken for them.
const framing = '\x16'

// maxFailLines bounds the output lines repeated as diagnostics before the
// result line of a failed subtest (the whole output was already streamed).
const maxFailLines = 20

type state int

const (
	running state = iota
	passed
	failed
	skipped
)

// goTest is one test or subtest seen in the output of a test binary.
type goTest struct {
	name     string // full name: TestX/sub/subsub
	short    string // name relative to the parent
	state    state
	output   []string // lines attributed to this test, not to its subtests
	children []*goTest
}

// converter follows the output of one test binary run with
// -test.run=^Name$ -test.v=test2json and builds the tree of its tests.
type converter struct {
	root     string
	tests    map[string]*goTest
	order    []*goTest // top-level tests in order (normally just root)
	cur      string    // test that owns the next output line
	timedOut string    // the "panic: test timed out" line, if any
	panicked string    // first "panic:" line, if any
	noTests  bool
	// crashed is set from the first "panic:" line on: what follows is the
	// dying process's stack dump, not the output of any one test.
	crashed bool
}

func newConverter(root string) *converter {
	return &converter{root: root, tests: map[string]*goTest{}}
}

// Line consumes one line of output (without its newline) and returns it
// without the framing byte, for the console. keep is false for framing
// lines that say nothing the KTAP result does not: the closing PASS or FAIL
// and "=== NAME" without a name.
func (c *converter) Line(line string) (out string, keep bool) {
	if line == "" || line[0] != framing {
		c.output(line)
		return line, true
	}
	line = line[1:]
	body := strings.TrimLeft(line, " ")
	switch {
	case strings.HasPrefix(body, "=== RUN "):
		c.run(strings.TrimSpace(body[len("=== RUN "):]))
	case strings.HasPrefix(body, "=== PAUSE "),
		strings.HasPrefix(body, "=== CONT "),
		strings.HasPrefix(body, "=== NAME"):
		_, name, _ := strings.Cut(body[4:], " ")
		c.cur = strings.TrimSpace(name)
		if c.cur == "" {
			return line, false
		}
	case body == "PASS" || body == "FAIL":
		return line, false
	case strings.HasPrefix(body, "--- PASS: "):
		c.done(body[len("--- PASS: "):], passed)
	case strings.HasPrefix(body, "--- FAIL: "):
		c.done(body[len("--- FAIL: "):], failed)
	case strings.HasPrefix(body, "--- SKIP: "):
		c.done(body[len("--- SKIP: "):], skipped)
	default:
		// === ATTR, === ARTIFACTS and future framing: not output of any
		// test.
	}
	return line, true
}

func (c *converter) output(line string) {
	switch {
	case strings.HasPrefix(line, "panic: test timed out after "):
		if c.timedOut == "" {
			c.timedOut = line
		}
		c.crashed = true
	case strings.HasPrefix(line, "panic: "):
		if c.panicked == "" {
			c.panicked = line
		}
		c.crashed = true
	case strings.HasPrefix(line, "testing: warning: no tests to run"):
		c.noTests = true
	}
	if c.crashed {
		return
	}
	if t := c.tests[c.cur]; t != nil {
		t.output = append(t.output, line)
	} else if t := c.tests[c.root]; t != nil {
		t.output = append(t.output, line)
	}
}

// parent finds the test that name is a subtest of: the longest known name
// that is a prefix of it followed by "/". (A subtest's own name may contain
// "/".)
func (c *converter) parent(name string) *goTest {
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '/' {
			if p := c.tests[name[:i]]; p != nil {
				return p
			}
		}
	}
	return nil
}

func (c *converter) run(name string) {
	c.cur = name
	if c.tests[name] != nil {
		return
	}
	t := &goTest{name: name, short: name}
	c.tests[name] = t
	if p := c.parent(name); p != nil {
		t.short = name[len(p.name)+1:]
		p.children = append(p.children, t)
		return
	}
	c.order = append(c.order, t)
}

func (c *converter) done(rest string, s state) {
	// "Name (0.00s)"
	name := rest
	if i := strings.LastIndex(rest, " ("); i >= 0 {
		name = rest[:i]
	}
	c.cur = name
	t := c.tests[name]
	if t == nil {
		c.run(name)
		t = c.tests[name]
	}
	t.state = s
}

// top is the test the binary was asked to run.
func (c *converter) top() *goTest { return c.tests[c.root] }

// firstLine returns the first non-empty output line of t or, failing that,
// of the first of its subtests that failed.
func firstLine(t *goTest) string {
	for _, l := range t.output {
		if s := strings.TrimSpace(l); s != "" {
			return s
		}
	}
	for _, ch := range t.children {
		if ch.state == failed || ch.state == running {
			if s := firstLine(ch); s != "" {
				return s
			}
		}
	}
	return ""
}

// lastLine returns the last non-empty output line of t (a skip message).
func lastLine(t *goTest) string {
	for i := len(t.output) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(t.output[i]); s != "" {
			return s
		}
	}
	return ""
}

// outcome is how the process of one top-level test ended.
type outcome struct {
	killed bool   // the runner killed it at its deadline
	limit  string // the deadline, for the reason ("25s")
	exit   string // "" for exit status 0, else "exit status 1", "killed by signal SIGSYS"
}

// verdict is the result of the top-level test.
func (c *converter) verdict(o outcome) (ktap.Result, string) {
	t := c.top()
	switch {
	case o.killed:
		return ktap.Timeout, "killed after " + o.limit
	case c.timedOut != "":
		return ktap.Timeout, c.timedOut
	case t == nil || t.state == running:
		why := "no result line from the test binary"
		if c.noTests {
			why = "the test binary ran no test of that name"
		}
		if o.exit != "" {
			why += ": " + o.exit
		}
		if c.panicked != "" {
			why += ": " + c.panicked
		}
		return ktap.Fail, why
	case t.state == passed:
		if o.exit != "" {
			return ktap.Fail, "passed, but the test binary ended with " + o.exit
		}
		return ktap.Pass, ""
	case t.state == skipped:
		return ktap.Skip, lastLine(t)
	default:
		for _, s := range []string{firstLine(t), c.panicked, o.exit} {
			if s != "" {
				return ktap.Fail, s
			}
		}
		return ktap.Fail, ""
	}
}

// subVerdict is the result of a subtest.
func subVerdict(t *goTest, timedOut bool) (ktap.Result, string) {
	switch t.state {
	case passed:
		return ktap.Pass, ""
	case skipped:
		return ktap.Skip, lastLine(t)
	case failed:
		return ktap.Fail, firstLine(t)
	}
	if timedOut {
		return ktap.Timeout, "no result before the test binary was stopped"
	}
	return ktap.Fail, "no result line: the test binary ended first"
}

// emitSubtests writes the nested block of t's subtests, recursively. The
// output of a failed subtest is repeated, up to maxFailLines lines, as
// diagnostics before its result line.
func emitSubtests(w *ktap.Writer, t *goTest, timedOut bool) error {
	if len(t.children) == 0 {
		return nil
	}
	sub := w.Sub()
	if err := sub.Header(len(t.children)); err != nil {
		return err
	}
	for _, ch := range t.children {
		if err := emitSubtests(sub, ch, timedOut); err != nil {
			return err
		}
		r, reason := subVerdict(ch, timedOut)
		if r == ktap.Fail || r == ktap.Timeout {
			lines := ch.output
			if len(lines) > maxFailLines {
				lines = append(lines[:maxFailLines:maxFailLines], fmt.Sprintf("... %d more lines", len(ch.output)-maxFailLines))
			}
			for _, l := range lines {
				if err := sub.Diag(strings.TrimSpace(l)); err != nil {
					return err
				}
			}
		}
		if err := sub.Result(r, ch.short, reason); err != nil {
			return err
		}
	}
	return nil
}
