package ktap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Test is one test of a parsed report.
type Test struct {
	// Number is the test's number within its level, from 1.
	Number int `json:"number"`
	// Name is the description of the result line, unescaped. For a missing
	// test it comes from the runner's start marker, if there was one.
	Name   string `json:"name,omitempty"`
	Result Result `json:"result"`
	// Directive is the directive of the result line, if any.
	Directive Directive `json:"directive,omitempty"`
	// Reason is the text after the directive (or after "#" when there is
	// no directive).
	Reason string `json:"reason,omitempty"`
	// Diagnostics are the "#" lines of this level that came before the
	// result line (after the previous result), without the "# ".
	Diagnostics []string `json:"diagnostics,omitempty"`
	// Log holds the other lines, such as kernel messages, seen while the
	// test ran.
	Log []string `json:"log,omitempty"`
	// Plan is the subtests' plan, -1 if they had none.
	Plan     int     `json:"plan"`
	Subtests []*Test `json:"subtests,omitempty"`
	// Line is the 1-based line number of the result line in the input, 0
	// for a missing test.
	Line int `json:"line,omitempty"`
	// Started is set when the runner announced the test with a start
	// marker.
	Started bool `json:"started,omitempty"`
}

// Problem is something malformed in the input.
type Problem struct {
	Line int    `json:"line"`
	Msg  string `json:"msg"`
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// Report is a parsed console log.
type Report struct {
	// Version is the first version line ("KTAP version 1"); empty if the
	// log has none.
	Version string `json:"version,omitempty"`
	// Plan is the top-level plan, -1 if there was none.
	Plan  int     `json:"plan"`
	Tests []*Test `json:"tests,omitempty"`
	// Summary holds the counts of the runner's summary marker; nil if the
	// marker was not seen.
	Summary *Counts `json:"summary,omitempty"`
	// Exit is the exit marker of run mode; nil if not seen.
	Exit *Exit `json:"exit,omitempty"`
	// Trailer and TrailingLog are the diagnostic and other lines after the
	// last top-level result (when no test is missing; otherwise they belong
	// to the first missing test).
	Trailer     []string  `json:"trailer,omitempty"`
	TrailingLog []string  `json:"trailing_log,omitempty"`
	Problems    []Problem `json:"problems,omitempty"`
	// Lines is the number of lines read.
	Lines int `json:"lines"`
}

// ErrNoKTAP is returned by Report.Check for a log that has no version line.
var ErrNoKTAP = errors.New("no KTAP output in the log")

// Counts counts the top-level tests by result.
func (r *Report) Counts() Counts {
	var c Counts
	for _, t := range r.Tests {
		c.Add(t.Result)
	}
	return c
}

// Walk calls fn for every test, parents before their subtests. path is the
// names from the top level down joined with "/"; a test without a name is
// named by its number ("#3").
func (r *Report) Walk(fn func(path string, t *Test)) {
	var walk func(prefix string, ts []*Test)
	walk = func(prefix string, ts []*Test) {
		for _, t := range ts {
			name := t.Name
			if name == "" {
				name = "#" + strconv.Itoa(t.Number)
			}
			p := name
			if prefix != "" {
				p = prefix + "/" + name
			}
			fn(p, t)
			walk(p, t.Subtests)
		}
	}
	walk("", r.Tests)
}

// Check reports, as one joined error, everything that keeps the report from
// accounting for every test: no KTAP output, malformed lines, tests without
// result lines at any level, a missing plan or summary marker, and a summary
// that disagrees with the results. Test failures are not errors here; they
// are in Counts.
func (r *Report) Check() error {
	if r.Version == "" {
		return ErrNoKTAP
	}
	var errs []error
	if r.Plan < 0 {
		errs = append(errs, errors.New("no top-level plan line"))
	}
	for _, p := range r.Problems {
		errs = append(errs, errors.New(p.String()))
	}
	r.Walk(func(path string, t *Test) {
		if t.Result != Missing {
			return
		}
		what := "has no result line"
		if t.Started {
			what = "started but has no result line"
		}
		errs = append(errs, fmt.Errorf("test %s %s", path, what))
	})
	if r.Summary == nil {
		errs = append(errs, errors.New("no summary marker: the runner did not finish"))
	} else if got := r.Counts(); *r.Summary != got {
		errs = append(errs, fmt.Errorf("summary marker says %v, results say %v", *r.Summary, got))
	}
	return errors.Join(errs...)
}

// maxLine bounds the length of a line kept by the parser; the rest of a
// longer line is dropped.
const maxLine = 64 << 10

// Parse reads a console log and returns its KTAP report. It returns an error
// only if reading fails; what is wrong with the content is in the report
// (see Report.Check).
//
// Besides KTAP lines, the log may hold anything: kernel messages, "\r\n" line
// ends, output of other programs. Such lines are kept in the Log of the test
// that was running. A kernel message that starts in the middle of a line (a
// "[    1.234567]" timestamp after other text) is cut out, and the text
// before it is joined to the next line that does not look like the start of
// a KTAP line, which undoes the usual interleaving of printk with a line
// that the runner was writing.
func Parse(r io.Reader) (*Report, error) {
	p := &parser{rep: &Report{Plan: -1}}
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxLine {
			buf = append(buf, chunk...)
		} else if len(buf) < maxLine {
			buf = append(buf, chunk[:maxLine-len(buf)]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(buf) > 0 {
			p.raw(string(buf))
			buf = buf[:0]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading console log: %w", err)
		}
	}
	p.finish()
	return p.rep, nil
}

type block struct {
	indent int
	plan   int
	tests  []*Test
	diags  []string
	logs   []string
	line   int            // where the block started
	starts map[int]string // start markers: number -> name
}

type parser struct {
	rep     *Report
	stack   []*block
	started bool
	done    bool
	lineNo  int

	fragment     string // text before a kernel message in the middle of a line
	fragmentLine int
}

func (p *parser) top() *block { return p.stack[len(p.stack)-1] }

func (p *parser) problem(line int, format string, args ...any) {
	p.rep.Problems = append(p.rep.Problems, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
}

// clean drops "\r", NUL bytes and the line end.
func clean(s string) string {
	s = strings.TrimRight(s, "\n")
	if strings.ContainsAny(s, "\r\x00") {
		s = strings.NewReplacer("\r", "", "\x00", "").Replace(s)
	}
	return s
}

// kernelStamp returns the index of the first printk timestamp
// "[ <seconds>.<6 digits>]" in s, or -1.
func kernelStamp(s string) int {
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(s[i:], '[')
		if j < 0 {
			return -1
		}
		i += j
		if stampAt(s[i:]) {
			return i
		}
	}
	return -1
}

func stampAt(s string) bool {
	k := 1
	for k < len(s) && s[k] == ' ' {
		k++
	}
	d := k
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == d || k >= len(s) || s[k] != '.' {
		return false
	}
	k++
	d = k
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	return k-d == 6 && k < len(s) && s[k] == ']'
}

// startsLine reports whether s looks like the beginning of a KTAP line (as
// opposed to the rest of a line that a kernel message cut in two).
func startsLine(s string) bool {
	b := strings.TrimLeft(s, " ")
	switch {
	case b == "" && s == "":
		return false
	case strings.HasPrefix(b, "#"),
		strings.HasPrefix(b, "ok "), b == "ok",
		strings.HasPrefix(b, "not ok"),
		strings.HasPrefix(b, "KTAP version"),
		strings.HasPrefix(b, "TAP version"):
		return true
	}
	_, ok := parsePlan(b)
	return ok
}

func isDiag(s string) bool { return strings.HasPrefix(strings.TrimLeft(s, " "), "#") }

// raw handles one physical line of input.
func (p *parser) raw(s string) {
	p.lineNo++
	p.rep.Lines = p.lineNo
	s = clean(s)
	if p.fragment != "" {
		switch {
		case kernelStamp(s) == 0:
			p.other(s)
			return
		case startsLine(s) && !(strings.HasSuffix(p.fragment, " ") && strings.HasPrefix(s, "#")):
			// The fragment was a whole line after all.
			p.flushFragment()
		default:
			s = p.fragment + s
			p.fragment = ""
		}
	}
	if i := kernelStamp(s); i > 0 && !isDiag(s[:i]) && strings.TrimSpace(s[:i]) != "" {
		p.fragment, p.fragmentLine = s[:i], p.lineNo
		p.other(s[i:])
		return
	}
	p.line(s)
}

func (p *parser) flushFragment() {
	f := p.fragment
	p.fragment = ""
	p.line(f)
}

func parsePlan(b string) (int, bool) {
	rest, ok := strings.CutPrefix(b, "1..")
	if !ok {
		return 0, false
	}
	rest = strings.TrimSpace(rest)
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = strings.TrimSpace(rest[:i])
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

type resultLine struct {
	ok        bool
	num       int
	name      string
	directive Directive
	reason    string
}

func parseResult(b string) (resultLine, bool) {
	var r resultLine
	rest, ok := strings.CutPrefix(b, "ok ")
	if ok {
		r.ok = true
	} else if rest, ok = strings.CutPrefix(b, "not ok "); !ok {
		return r, false
	}
	rest = strings.TrimLeft(rest, " ")
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || (i < len(rest) && rest[i] != ' ' && rest[i] != '#') {
		return r, false
	}
	n, err := strconv.Atoi(rest[:i])
	if err != nil {
		return r, false
	}
	r.num = n
	desc, tail, hasTail := strings.Cut(rest[i:], "#")
	r.name = UnescapeName(strings.TrimSpace(desc))
	if hasTail {
		tail = strings.TrimSpace(tail)
		word, after, _ := strings.Cut(tail, " ")
		if d, ok := lookupDirective(word); ok {
			r.directive = d
			r.reason = strings.TrimSpace(after)
		} else {
			r.reason = tail
		}
	}
	return r, true
}

func (r resultLine) result() Result {
	switch r.directive {
	case DirSkip:
		return Skip
	case DirTimeout:
		return Timeout
	case DirError:
		return Fail
	}
	if r.ok {
		return Pass
	}
	return Fail
}

// line handles one logical line.
func (p *parser) line(s string) {
	indent := len(s) - len(strings.TrimLeft(s, " "))
	b := s[indent:]
	if strings.HasPrefix(b, "#") {
		p.diag(indent, b)
		return
	}
	if p.done {
		return
	}
	if strings.HasPrefix(b, "KTAP version ") || strings.HasPrefix(b, "TAP version ") {
		p.version(indent, strings.TrimSpace(b))
		return
	}
	if !p.started {
		return
	}
	if n, ok := parsePlan(b); ok {
		p.plan(indent, n)
		return
	}
	if r, ok := parseResult(b); ok {
		p.result(indent, r)
		return
	}
	p.other(s)
}

func (p *parser) other(s string) {
	if !p.started || p.done {
		return
	}
	b := p.top()
	b.logs = append(b.logs, s)
}

func (p *parser) push(indent int) *block {
	b := &block{indent: indent, plan: -1, line: p.lineNo}
	p.stack = append(p.stack, b)
	return b
}

func (p *parser) version(indent int, v string) {
	if !p.started {
		p.started = true
		p.rep.Version = v
		p.push(indent).starts = map[int]string{}
		return
	}
	root := p.stack[0]
	if indent <= root.indent {
		p.problem(p.lineNo, "KTAP output starts again (the guest rebooted or the runner restarted); only the first run is reported")
		p.finish()
		p.done = true
		return
	}
	if indent <= p.top().indent {
		p.problem(p.lineNo, "version line at indentation %d inside a block at indentation %d", indent, p.top().indent)
		p.closeTo(indent - 1)
	}
	p.push(indent)
}

func (p *parser) plan(indent, n int) {
	b := p.top()
	if indent > b.indent {
		p.problem(p.lineNo, "plan line without a version line")
		b = p.push(indent)
	}
	if b.plan >= 0 || len(b.tests) > 0 || indent != b.indent {
		p.problem(p.lineNo, "unexpected plan line 1..%d", n)
		return
	}
	b.plan = n
	if len(p.stack) == 1 {
		p.rep.Plan = n
	}
}

// finalize adds the tests of b's plan that have no result line.
func (p *parser) finalize(b *block) {
	if b.plan < 0 {
		return
	}
	seen := map[int]bool{}
	for _, t := range b.tests {
		seen[t.Number] = true
		if t.Number > b.plan {
			p.problem(t.Line, "test %d (%s) is beyond the plan 1..%d", t.Number, t.Name, b.plan)
		}
	}
	added := false
	for n := 1; n <= b.plan; n++ {
		if seen[n] {
			continue
		}
		t := &Test{Number: n, Result: Missing, Plan: -1}
		if name, ok := b.starts[n]; ok {
			t.Name, t.Started = name, true
		}
		if !added {
			// Whatever was printed after the last result belongs to the
			// first test that did not finish.
			t.Diagnostics, t.Log = b.diags, b.logs
			b.diags, b.logs = nil, nil
		}
		added = true
		b.tests = append(b.tests, t)
	}
	if added {
		slices.SortStableFunc(b.tests, func(x, y *Test) int { return x.Number - y.Number })
	}
}

// pop removes the innermost block and finalizes it.
func (p *parser) pop() *block {
	b := p.top()
	p.stack = p.stack[:len(p.stack)-1]
	p.finalize(b)
	return b
}

// adopt gives the subtests of child to t.
func adopt(t *Test, child *block) {
	t.Subtests, t.Plan = child.tests, child.plan
	t.Diagnostics = append(t.Diagnostics, child.diags...)
	t.Log = append(t.Log, child.logs...)
}

// closeTo pops every block deeper than indent. A popped block whose parent
// result line never came gets a missing parent test.
func (p *parser) closeTo(indent int) {
	for len(p.stack) > 1 && p.top().indent > indent {
		b := p.pop()
		parent := p.top()
		p.orphan(parent, b)
	}
}

// orphan adds to parent a missing test that holds the subtests of b, whose
// parent result line never came.
func (p *parser) orphan(parent, b *block) {
	t := &Test{Number: len(parent.tests) + 1, Result: Missing, Plan: -1,
		Diagnostics: parent.diags, Log: parent.logs}
	parent.diags, parent.logs = nil, nil
	if name, ok := parent.starts[t.Number]; ok {
		t.Name, t.Started = name, true
	}
	adopt(t, b)
	parent.tests = append(parent.tests, t)
	p.problem(b.line, "subtests have no parent result line")
}

func (p *parser) result(indent int, r resultLine) {
	root := p.stack[0]
	if indent < root.indent {
		p.problem(p.lineNo, "result line left of the top level")
		indent = root.indent
	}
	var claimed *block
	if indent > p.top().indent {
		// KTAP wants a version line first; be lenient.
		p.problem(p.lineNo, "subtest result without a version line")
		p.push(indent)
	} else if indent < p.top().indent {
		for len(p.stack) > 1 && p.top().indent > indent {
			b := p.pop()
			if p.top().indent > indent {
				p.orphan(p.top(), b)
				continue
			}
			claimed = b
		}
	}
	b := p.top()
	if indent != b.indent {
		p.problem(p.lineNo, "result line at indentation %d matches no block", indent)
	}
	t := &Test{
		Number:      r.num,
		Name:        r.name,
		Result:      r.result(),
		Directive:   r.directive,
		Reason:      r.reason,
		Diagnostics: b.diags,
		Log:         b.logs,
		Plan:        -1,
		Line:        p.lineNo,
	}
	b.diags, b.logs = nil, nil
	if claimed != nil {
		adopt(t, claimed)
	}
	if want := len(b.tests) + 1; r.num != want {
		p.problem(p.lineNo, "test number %d, want %d", r.num, want)
		for _, o := range b.tests {
			if o.Number == r.num {
				p.problem(p.lineNo, "test number %d appears twice", r.num)
				break
			}
		}
	}
	if name, ok := b.starts[r.num]; ok {
		t.Started = true
		if name != t.Name {
			p.problem(p.lineNo, "test %d was announced as %q but reported as %q", r.num, name, t.Name)
		}
	}
	b.tests = append(b.tests, t)
}

func (p *parser) diag(indent int, b string) {
	text := strings.TrimPrefix(b, "#")
	text = strings.TrimPrefix(text, " ")
	if m, ok := strings.CutPrefix(text, MarkerPrefix); ok {
		p.marker(m)
		return
	}
	if !p.started || p.done {
		return
	}
	// The diagnostic belongs to the innermost block it is not left of.
	i := len(p.stack) - 1
	for i > 0 && p.stack[i].indent > indent {
		i--
	}
	blk := p.stack[i]
	blk.diags = append(blk.diags, text)
}

func (p *parser) marker(m string) {
	kind, rest, _ := strings.Cut(m, " ")
	switch kind {
	case markerStart:
		if !p.started || p.done {
			return
		}
		num, name, _ := strings.Cut(rest, " ")
		n, err := strconv.Atoi(num)
		if err != nil {
			p.problem(p.lineNo, "bad start marker %q", m)
			return
		}
		p.stack[0].starts[n] = UnescapeName(strings.TrimSpace(name))
	case markerSummary:
		if p.done {
			return
		}
		c, err := parseCounts(rest)
		if err != nil {
			p.problem(p.lineNo, "%v", err)
			return
		}
		if p.rep.Summary != nil {
			p.problem(p.lineNo, "second summary marker")
			return
		}
		p.rep.Summary = &c
	case markerExit:
		e, err := parseExit(rest)
		if err != nil {
			p.problem(p.lineNo, "%v", err)
			return
		}
		p.rep.Exit = &e
	case markerError:
		p.problem(p.lineNo, "runner error: %s", rest)
	}
	// Other markers (info) are ignored.
}

func (p *parser) finish() {
	if p.fragment != "" && !p.done {
		p.flushFragment()
	}
	if !p.started || p.done {
		return
	}
	if len(p.stack) > 1 {
		p.problem(p.lineNo, "log ends inside nested subtests")
	}
	p.closeTo(p.stack[0].indent)
	root := p.stack[0]
	p.finalize(root)
	p.rep.Tests = root.tests
	p.rep.Trailer, p.rep.TrailingLog = root.diags, root.logs
	p.stack = p.stack[:0]
	slices.SortStableFunc(p.rep.Problems, func(x, y Problem) int { return x.Line - y.Line })
}
