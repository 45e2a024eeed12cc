package tracecmp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Mismatch is the first difference in one pid's calls.
type Mismatch struct {
	Pid int
	// Index is the position of the call in the pid's calls (0-based).
	Index int
	Why   string
	// Derived is the call derived from strace's trace (nil when
	// selftrace's trace has more calls); Selftrace selftrace's record (nil
	// when strace's run has more).
	Derived   *Derived
	Selftrace *Record
	// Context renders both traces around the difference.
	Context string
}

// Comparison is the result of Compare.
type Comparison struct {
	Derivation *Derivation
	// Compared counts the calls found equal.
	Compared   int
	Mismatches []Mismatch
}

// Equivalent tells whether the traces agree: no mismatch and no problem
// in strace's trace.
func (c *Comparison) Equivalent() bool {
	return len(c.Mismatches) == 0 && len(c.Derivation.Problems) == 0
}

// maxProblems bounds the problems String lists.
const maxProblems = 20

// String is the readable diff: each pid's first mismatch with both traces
// around it, then strace's records that the rules cannot place.
func (c *Comparison) String() string {
	var b strings.Builder
	d := c.Derivation
	fmt.Fprintf(&b, "%d calls of %d pids equal (launcher pid %d, selftrace's descriptors %v)", c.Compared, len(d.Pids), d.Launcher, d.LibraryFDs)
	if c.Equivalent() {
		return b.String()
	}
	fmt.Fprintf(&b, "; %d pids differ, %d records of strace's trace that selftrace cannot have reported\n", len(c.Mismatches), len(d.Problems))
	for _, m := range c.Mismatches {
		fmt.Fprintf(&b, "\npid %d, call #%d: %s\n%s", m.Pid, m.Index+1, m.Why, m.Context)
	}
	if len(d.Problems) > 0 {
		b.WriteString("\nstrace's records that selftrace cannot have reported:\n")
		for i, p := range d.Problems {
			if i == maxProblems {
				fmt.Fprintf(&b, "  ... and %d more\n", len(d.Problems)-maxProblems)
				break
			}
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	return b.String()
}

// Compare derives the program's calls from strace's trace (Derive) and
// compares them, pid by pid and in order, with selftrace's trace of the
// same run: the same call names (up to SameCall exceptions); for a call
// selftrace marks INJECTED or that an exception says it emulates, no
// performed call; for every other call a performed one with the same
// result (SameResult).
func Compare(strace, selftrace []Record, opts Options) *Comparison {
	if opts.Exceptions == nil {
		opts.Exceptions = DefaultExceptions
	}
	d := Derive(strace, opts)
	c := &Comparison{Derivation: d}
	dv := &deriver{opts: opts, d: d}

	self := map[int][]*Record{}
	var pids []int
	for i := range selftrace {
		r := &selftrace[i]
		if r.Kind != Call {
			continue
		}
		if _, seen := self[r.Pid]; !seen {
			pids = append(pids, r.Pid)
		}
		self[r.Pid] = append(self[r.Pid], r)
	}
	for _, pid := range d.Pids {
		if _, seen := self[pid]; !seen {
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		want, got := d.Calls[pid], self[pid]
		for i := 0; i < max(len(want), len(got)); i++ {
			var why string
			switch {
			case i >= len(want):
				why = "selftrace's trace has more calls of this pid than strace saw the program make"
				if len(want) == 0 {
					why = "a pid of selftrace's trace whose program strace never saw armed"
				}
			case i >= len(got):
				why = "strace saw the program make more calls than selftrace's trace has for this pid"
				if len(got) == 0 {
					why = "a pid strace saw armed and making calls, absent from selftrace's trace"
				}
			default:
				why = dv.mismatch(&want[i], got[i])
			}
			if why == "" {
				c.Compared++
				continue
			}
			m := Mismatch{Pid: pid, Index: i, Why: why}
			if i < len(want) {
				m.Derived = &want[i]
			}
			if i < len(got) {
				m.Selftrace = got[i]
			}
			m.Context = context(want, got, i)
			c.Mismatches = append(c.Mismatches, m)
			break
		}
	}
	return c
}

// mismatch returns why a derived call and selftrace's record differ, or "".
func (dv *deriver) mismatch(want *Derived, got *Record) string {
	if !dv.sameCall(got.Name, want.Name) {
		return fmt.Sprintf("different calls: selftrace reports %s, strace saw %s", got.Name, want.Name)
	}
	if got.Injected {
		if want.Performed {
			return "selftrace marks the call INJECTED, but strace saw it performed"
		}
		return ""
	}
	if e := dv.emulated(got); e != nil {
		if want.Performed {
			return fmt.Sprintf("selftrace emulates this call (%s), but strace saw it performed", e.Why)
		}
		return ""
	}
	if !want.Performed {
		if got.Result == "?" && (dv.d.Killed[want.Pid] || dv.d.Open[want.Pid]) && dv.has(KilledBeforeReport, "") {
			// exit or exit_group reported, then the thread was killed
			// before it, or strace's trace ended before it
			return ""
		}
		return "strace saw no call performed for this interception (and no exception applies)"
	}
	if !SameResult(got.Result, want.Result) {
		return fmt.Sprintf("different results: selftrace reports %s, strace saw %s", got.Result, want.Result)
	}
	return ""
}

// emulated returns the NotPerformed exception that applies to selftrace's
// record, or nil.
func (dv *deriver) emulated(r *Record) *Exception {
	for i, e := range dv.opts.Exceptions {
		if e.Kind != NotPerformed || e.Call != r.Name {
			continue
		}
		a := firstArg(r.Args)
		switch e.Arg0 {
		case "", a:
			return &dv.opts.Exceptions[i]
		case LibraryFD:
			if fd, err := strconv.Atoi(a); err == nil && slices.Contains(dv.d.LibraryFDs, fd) {
				return &dv.opts.Exceptions[i]
			}
		}
	}
	return nil
}

// contextCalls is how many calls before and after a mismatch context shows.
const contextCalls = 3

// maxSegment bounds the records of an interception that context shows.
const maxSegment = 16

// context renders both sides around position i.
func context(want []Derived, got []*Record, i int) string {
	var b strings.Builder
	b.WriteString("  selftrace's trace:\n")
	for k := max(0, i-contextCalls); k < min(len(got), i+contextCalls+1); k++ {
		fmt.Fprintf(&b, "  %s #%-4d T%-6d %s\n", mark(k, i), k+1, got[k].Line, got[k].Text)
	}
	if i >= len(got) {
		fmt.Fprintf(&b, "  > #%-4d (end)\n", i+1)
	}
	b.WriteString("  derived from strace's trace:\n")
	for k := max(0, i-contextCalls); k < min(len(want), i+contextCalls+1); k++ {
		fmt.Fprintf(&b, "  %s #%-4d %s\n", mark(k, i), k+1, want[k].summary())
	}
	if i >= len(want) {
		fmt.Fprintf(&b, "  > #%-4d (end)\n", i+1)
	}
	if i < len(want) && len(want[i].Segment) > 0 {
		seg := want[i].Segment
		fmt.Fprintf(&b, "  strace's records of call #%d (its interception to selftrace's line):\n", i+1)
		for k, r := range seg {
			if len(seg) > maxSegment && k == maxSegment/2 {
				fmt.Fprintf(&b, "    ... %d records ...\n", len(seg)-maxSegment)
			}
			if len(seg) > maxSegment && k >= maxSegment/2 && k < len(seg)-maxSegment/2 {
				continue
			}
			fmt.Fprintf(&b, "    S%-6d %s\n", r.Line, r.Text)
		}
	}
	return b.String()
}

func mark(k, i int) string {
	if k == i {
		return ">"
	}
	return " "
}

// summary renders a derived call on one line.
func (c Derived) summary() string {
	switch {
	case c.Performed:
		return fmt.Sprintf("%s = %s  (S%d %s)", c.Name, c.Result, c.Call.Line, c.Call.Text)
	case c.Opener != nil:
		return fmt.Sprintf("%s not performed  (S%d %s)", c.Name, c.Opener.Line, c.Opener.Text)
	}
	return c.Name + " not performed"
}
