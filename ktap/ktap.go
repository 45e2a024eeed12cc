// Package ktap writes and parses KTAP version 1, the format in which the
// guest runner reports test results on the console and the host reads them
// back (Documentation/dev-tools/ktap.rst in the kernel tree).
//
// The runner prints the version line and the plan "1..N" before it runs
// anything, one result line per planned test, nested subtests indented four
// spaces with their own version and plan lines, diagnostics as "# " lines,
// and a final summary marker (see [Counts.Marker]). The parser reads a whole
// console log, kernel messages and all, and accounts for every planned test:
// a test that has no result line is reported as [Missing], never dropped.
//
// Lines that start with "# selfptrace-vm: " are markers exchanged between
// the runner and the host: "start" announces the test about to run, "summary"
// closes a suite run with its counts, "exit" reports the exit status of the
// command in run mode, "error:" reports a failure of the runner itself, and
// "info" lines are for people.
package ktap

import (
	"fmt"
	"strconv"
	"strings"
)

// Result is the outcome of one test.
type Result int

// Results. The zero value is Missing: a test that is known from a plan but
// whose result line was never seen.
const (
	Missing Result = iota
	Pass
	Fail
	Skip
	Timeout
)

var resultNames = [...]string{
	Missing: "missing",
	Pass:    "pass",
	Fail:    "fail",
	Skip:    "skip",
	Timeout: "timeout",
}

// String returns the lower-case name of r ("pass", "fail", ...).
func (r Result) String() string {
	if r < 0 || int(r) >= len(resultNames) {
		return "Result(" + strconv.Itoa(int(r)) + ")"
	}
	return resultNames[r]
}

// MarshalText implements encoding.TextMarshaler.
func (r Result) MarshalText() ([]byte, error) {
	if r < 0 || int(r) >= len(resultNames) {
		return nil, fmt.Errorf("invalid ktap.Result %d", int(r))
	}
	return []byte(resultNames[r]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Result) UnmarshalText(b []byte) error {
	for i, n := range resultNames {
		if n == string(b) {
			*r = Result(i)
			return nil
		}
	}
	return fmt.Errorf("unknown test result %q", b)
}

// Failed reports whether r counts as a failure: failed, timed out, or
// missing.
func (r Result) Failed() bool {
	return r == Fail || r == Timeout || r == Missing
}

// Directive is the keyword after "#" on a result line.
type Directive string

// Directives defined by KTAP version 1.
const (
	NoDirective Directive = ""
	DirSkip     Directive = "SKIP"
	DirTimeout  Directive = "TIMEOUT"
	DirError    Directive = "ERROR"
	DirXFail    Directive = "XFAIL"
	DirTodo     Directive = "TODO"
)

func lookupDirective(word string) (Directive, bool) {
	switch strings.ToUpper(word) {
	case "SKIP":
		return DirSkip, true
	case "TIMEOUT":
		return DirTimeout, true
	case "ERROR":
		return DirError, true
	case "XFAIL":
		return DirXFail, true
	case "TODO":
		return DirTodo, true
	}
	return NoDirective, false
}

// Counts are the numbers of tests by result.
type Counts struct {
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Skip    int `json:"skip"`
	Timeout int `json:"timeout"`
	Missing int `json:"missing"`
	Total   int `json:"total"`
}

// Add counts one more test with result r.
func (c *Counts) Add(r Result) {
	switch r {
	case Pass:
		c.Pass++
	case Fail:
		c.Fail++
	case Skip:
		c.Skip++
	case Timeout:
		c.Timeout++
	default:
		c.Missing++
	}
	c.Total++
}

// Failed reports whether any test failed, timed out or is missing.
func (c Counts) Failed() bool {
	return c.Fail+c.Timeout+c.Missing > 0
}

// String formats the counts as "pass=1 fail=0 ...", the body of the summary
// marker. missing is printed only when it is not zero.
func (c Counts) String() string {
	s := fmt.Sprintf("pass=%d fail=%d skip=%d timeout=%d total=%d", c.Pass, c.Fail, c.Skip, c.Timeout, c.Total)
	if c.Missing != 0 {
		s += fmt.Sprintf(" missing=%d", c.Missing)
	}
	return s
}

// TimePrefix starts the diagnostic line, just before a top-level result,
// that gives the test's wall time in seconds ("time: 0.123s").
const TimePrefix = "time: "

// MarkerPrefix starts every marker line that the runner prints for the host,
// after the "# " of a diagnostic line.
const MarkerPrefix = "selfptrace-vm: "

// Marker keywords, the word after MarkerPrefix.
const (
	markerStart   = "start"
	markerSummary = "summary"
	markerExit    = "exit"
	markerError   = "error:"
)

// ErrorMarker returns the line with which the runner reports a failure of
// its own (not of a test); the parser records it as a Problem.
func ErrorMarker(err error) string {
	return "# " + MarkerPrefix + markerError + " " + oneLine(err.Error())
}

// Marker returns the summary marker line for c, without indentation or
// newline: "# selfptrace-vm: summary pass=N fail=N skip=N timeout=N total=N".
func (c Counts) Marker() string {
	return "# " + MarkerPrefix + markerSummary + " " + c.String()
}

// StartMarker returns the line that announces that test number n, called
// name, is about to run. The parser uses it to name a test that never
// reported a result (the guest crashed or hung while running it).
func StartMarker(n int, name string) string {
	return fmt.Sprintf("# %s%s %d %s", MarkerPrefix, markerStart, n, EscapeName(name))
}

// Exit is the outcome of the command in run mode.
type Exit struct {
	// Status is the exit code, or 128+signal number if a signal killed the
	// command (as a shell reports it).
	Status int `json:"status"`
	// Signal names the signal that killed the command ("SIGSYS"), if any.
	Signal string `json:"signal,omitempty"`
	// Timeout is true when the runner killed the command at its deadline.
	Timeout bool `json:"timeout,omitempty"`
}

// Marker returns the exit marker line for e:
// "# selfptrace-vm: exit status=N [signal=NAME] [timeout=true]".
func (e Exit) Marker() string {
	s := fmt.Sprintf("# %s%s status=%d", MarkerPrefix, markerExit, e.Status)
	if e.Signal != "" {
		s += " signal=" + e.Signal
	}
	if e.Timeout {
		s += " timeout=true"
	}
	return s
}

// parseKV splits "a=1 b=x" into a map. Words without "=" are ignored.
func parseKV(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

// parseCounts parses the body of a summary marker. Every one of pass, fail,
// skip, timeout and total must be there; missing is optional.
func parseCounts(s string) (Counts, error) {
	kv := parseKV(s)
	var c Counts
	fields := []struct {
		key      string
		dst      *int
		optional bool
	}{
		{"pass", &c.Pass, false},
		{"fail", &c.Fail, false},
		{"skip", &c.Skip, false},
		{"timeout", &c.Timeout, false},
		{"total", &c.Total, false},
		{"missing", &c.Missing, true},
	}
	for _, f := range fields {
		v, ok := kv[f.key]
		if !ok {
			if f.optional {
				continue
			}
			return Counts{}, fmt.Errorf("summary marker has no %s=", f.key)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Counts{}, fmt.Errorf("summary marker: bad %s=%q", f.key, v)
		}
		*f.dst = n
	}
	return c, nil
}

func parseExit(s string) (Exit, error) {
	kv := parseKV(s)
	v, ok := kv["status"]
	if !ok {
		return Exit{}, fmt.Errorf("exit marker has no status=")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return Exit{}, fmt.Errorf("exit marker: bad status=%q", v)
	}
	return Exit{Status: n, Signal: kv["signal"], Timeout: kv["timeout"] == "true"}, nil
}

// EscapeName makes s usable as the description of a result line: a KTAP
// description cannot contain "#", so "#", "%" and control characters are
// percent-encoded ("TestX/seed#0" becomes "TestX/seed%230"). UnescapeName
// reverses it; the parser applies it to every name it reads.
func EscapeName(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func needsEscape(c byte) bool {
	return c == '#' || c == '%' || c < 0x20 || c == 0x7f
}

// UnescapeName reverses EscapeName. Malformed escapes are left as they are.
func UnescapeName(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Duration returns the wall time a test's TimePrefix diagnostic gives, and
// false if it has none.
func (t *Test) Duration() (float64, bool) {
	for i := len(t.Diagnostics) - 1; i >= 0; i-- {
		d := strings.TrimSpace(t.Diagnostics[i])
		if v, ok := strings.CutPrefix(d, TimePrefix); ok {
			f, err := strconv.ParseFloat(strings.TrimSuffix(v, "s"), 64)
			if err == nil {
				return f, true
			}
		}
	}
	return 0, false
}
