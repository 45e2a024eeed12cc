package ktap

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Indent is the indentation of one level of nested subtests.
const Indent = "    "

// Writer writes KTAP version 1. Every line goes to the underlying writer in
// a single Write call, so that a console shared with kernel messages gets
// whole lines. A Writer is not safe for concurrent use; a Writer and the
// sub-writers made by Sub share one sticky error.
type Writer struct {
	out    io.Writer
	indent string
	plan   int // -1: no plan line
	header bool
	n      int // results written
	counts Counts
	err    *error
}

// NewWriter returns a Writer for the top level. It writes nothing until
// Header is called.
func NewWriter(out io.Writer) *Writer {
	return &Writer{out: out, plan: -1, err: new(error)}
}

// Sub returns a Writer for the subtests of the test whose result w writes
// next, one indentation level deeper. Call its Header, its results, and then
// w.Result for the parent.
func (w *Writer) Sub() *Writer {
	return &Writer{out: w.out, indent: w.indent + Indent, plan: -1, err: w.err}
}

// Err returns the first error that any write returned.
func (w *Writer) Err() error { return *w.err }

func (w *Writer) line(s string) error {
	if *w.err != nil {
		return *w.err
	}
	if _, err := io.WriteString(w.out, w.indent+s+"\n"); err != nil {
		*w.err = fmt.Errorf("writing KTAP: %w", err)
	}
	return *w.err
}

// Raw writes a line as it is, at this writer's indentation: it passes the
// KTAP (or TAP) output of another producer, such as a kselftest, through as
// a nested block.
func (w *Writer) Raw(line string) error { return w.line(line) }

// Header writes the version line and, if plan >= 0, the plan line "1..plan".
// KTAP allows omitting the plan only when the number of tests is not known.
func (w *Writer) Header(plan int) error {
	if w.header {
		return errors.New("ktap: Header called twice")
	}
	w.header = true
	w.plan = plan
	if err := w.line("KTAP version 1"); err != nil {
		return err
	}
	if plan >= 0 {
		return w.line(fmt.Sprintf("1..%d", plan))
	}
	return nil
}

// Diag writes text as diagnostic lines, one "# " line per line of text.
func (w *Writer) Diag(text string) error {
	text = strings.TrimSuffix(text, "\n")
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			if err := w.line("#"); err != nil {
				return err
			}
			continue
		}
		if err := w.line("# " + l); err != nil {
			return err
		}
	}
	return nil
}

// Diagf is Diag with formatting.
func (w *Writer) Diagf(format string, args ...any) error {
	return w.Diag(fmt.Sprintf(format, args...))
}

// Announce writes the start marker for the next test (see StartMarker).
func (w *Writer) Announce(name string) error {
	return w.line(StartMarker(w.n+1, name))
}

// Next returns the number that the next result will get.
func (w *Writer) Next() int { return w.n + 1 }

// Result writes the result line of the next test, numbered from 1. Skip is
// written as "ok N name # SKIP reason" and Timeout as
// "not ok N name # TIMEOUT reason"; for Pass and Fail a non-empty reason is
// written as diagnostic data after "#" (a failure's reason may start with
// the ERROR directive). The name is escaped with EscapeName.
func (w *Writer) Result(r Result, name, reason string) error {
	if !w.header {
		return errors.New("ktap: Result before Header")
	}
	if w.plan >= 0 && w.n >= w.plan {
		return fmt.Errorf("ktap: result %d for %q exceeds the plan 1..%d", w.n+1, name, w.plan)
	}
	reason = oneLine(reason)
	var status, tail string
	switch r {
	case Pass, Fail:
		status = "ok"
		if r == Fail {
			status = "not ok"
		}
		if reason != "" {
			// A reason that starts with a directive keyword would be read
			// back as that directive.
			// (ERROR is kept on a failure: it is the KTAP directive for a
			// test that could not run, and it still reads as a failure.)
			if first, _, _ := strings.Cut(reason, " "); first != "" {
				if d, ok := lookupDirective(first); ok && !(r == Fail && d == DirError) {
					reason = "- " + reason
				}
			}
			tail = " # " + reason
		}
	case Skip:
		status, tail = "ok", " # SKIP"
	case Timeout:
		status, tail = "not ok", " # TIMEOUT"
	default:
		return fmt.Errorf("ktap: cannot write result %v for %q", r, name)
	}
	if (r == Skip || r == Timeout) && reason != "" {
		tail += " " + reason
	}
	w.n++
	w.counts.Add(r)
	line := fmt.Sprintf("%s %d", status, w.n)
	if name = strings.TrimSpace(EscapeName(name)); name != "" {
		line += " " + name
	}
	return w.line(line + tail)
}

// Counts returns the results written so far at this level. Tests of the
// plan that have no result yet count as missing.
func (w *Writer) Counts() Counts {
	c := w.counts
	if w.plan > w.n {
		c.Missing += w.plan - w.n
		c.Total += w.plan - w.n
	}
	return c
}

// Summary writes the summary marker with w.Counts().
func (w *Writer) Summary() error {
	return w.line(w.Counts().Marker())
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
