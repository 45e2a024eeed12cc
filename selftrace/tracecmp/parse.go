package tracecmp

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Kind is what a trace line is.
type Kind int

const (
	// Call is a system call: `name(args) = result`, or the two halves of
	// one (`name(args <unfinished ...>` and `<... name resumed>args) =
	// result`) joined.
	Call Kind = iota
	// Signal is a signal delivery: `--- SIGCHLD {si_signo=...} ---`.
	Signal
	// Exited is `+++ exited with N +++`.
	Exited
	// Killed is `+++ killed by SIGxxx +++` (maybe with ` (core dumped)`).
	Killed
	// Notice is a line of selftrace's own: `selftrace: ...`.
	Notice
	// Other is any other line (strace's own messages, `+++ superseded by
	// execve ... +++`, `--- stopped by ... ---`, or a line this package
	// cannot parse).
	Other
)

func (k Kind) String() string {
	switch k {
	case Call:
		return "call"
	case Signal:
		return "signal"
	case Exited:
		return "exited"
	case Killed:
		return "killed"
	case Notice:
		return "notice"
	}
	return "other"
}

// Record is one event of a trace.
type Record struct {
	// Line is the 1-based number, in its trace, of the record's (first)
	// line.
	Line int
	// Pid is the thread id of the line's prefix (`1234  ` of -f -o FILE,
	// `[pid  1234] ` of -f to stderr); 0 when the line has none.
	Pid  int
	Kind Kind
	// Name is the call's name (Call), or the signal's (Signal, Killed).
	Name string
	// Args is the raw text between the call's parentheses, both halves of
	// an interrupted call joined with a space (Call); the siginfo, braces
	// included (Signal).
	Args string
	// Result is the call's return value as strace shows it, without
	// decoration: "3", "0x55d0c0a4e000", "?", "-1 ENOENT" for an error,
	// "? ERESTARTSYS" for a call a signal interrupted (Call).
	Result string
	// Extra is what follows the result, without " (INJECTED)":
	// "(No such file or directory)", "(flags O_RDWR)" (Call).
	Extra string
	// Injected is set when the line ends with " (INJECTED)" (Call).
	Injected bool
	// Unfinished is set for a call whose `<unfinished ...>` half was never
	// resumed in the trace (Call); its Result is "".
	Unfinished bool
	// Status is the exit status (Exited).
	Status int
	// Text is the line as it was, without the pid prefix; for a joined
	// call the two lines separated by " ... ".
	Text string
}

// String renders the record for messages: "L12 pid 345: text".
func (r Record) String() string {
	if r.Pid != 0 {
		return fmt.Sprintf("L%d pid %d: %s", r.Line, r.Pid, r.Text)
	}
	return fmt.Sprintf("L%d: %s", r.Line, r.Text)
}

// IsError tells whether a call's result is an error ("-1 E...").
func (r Record) IsError() bool { return isErrorResult(r.Result) }

var (
	// pidOutPrefix is the pid column of `-f -o FILE` ("%-5d " and a space:
	// strace's and selftrace's); pidErrPrefix the `[pid  1234] ` of -f to
	// stderr.
	pidOutPrefix = regexp.MustCompile(`^([0-9]+) +`)
	pidErrPrefix = regexp.MustCompile(`^\[pid +([0-9]+)\] `)
	callStart    = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\(`)
	resumedStart = regexp.MustCompile(`^<\.\.\. ([A-Za-z_][A-Za-z0-9_]*) resumed>`)
	signalLine   = regexp.MustCompile(`^--- (SIG[A-Z0-9+-]+) (.*) ---$`)
	exitedLine   = regexp.MustCompile(`^\+\+\+ exited with (-?[0-9]+) \+\+\+$`)
	killedLine   = regexp.MustCompile(`^\+\+\+ killed by (SIG[A-Z0-9+-]+)( \(core dumped\))? \+\+\+$`)
	errnoName    = regexp.MustCompile(`^E[A-Z0-9_]+$`)
)

const (
	unfinishedMark = "<unfinished ...>"
	injectedMark   = " (INJECTED)"
	noticePrefix   = "selftrace: "
)

// ParseStrace parses the output of `strace -f -o FILE` (or of strace
// without -f, or to stderr): calls, with the halves of interrupted ones
// joined per pid, signal deliveries, exits and kills. Lines it cannot parse
// become records of Kind Other. Records are in the order of their (first)
// lines.
func ParseStrace(trace string) []Record { return parse(trace, false) }

// ParseSelftrace parses selftrace's trace: strace's format (the same
// prefixes, never an unfinished call), plus its notices (`selftrace: ...`,
// Kind Notice, with or without a pid prefix).
func ParseSelftrace(trace string) []Record { return parse(trace, true) }

// Unparsed returns the records of Kind Other: lines that are neither a
// call, a signal, an exit nor a notice.
func Unparsed(recs []Record) []Record {
	var out []Record
	for _, r := range recs {
		if r.Kind == Other {
			out = append(out, r)
		}
	}
	return out
}

func parse(trace string, notices bool) []Record {
	var out []Record
	// pending is, per pid, the index in out of its unfinished call.
	pending := map[int]int{}
	lines := strings.Split(strings.TrimSuffix(trace, "\n"), "\n")
	if trace == "" {
		lines = nil
	}
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		pid, body := splitPid(line)
		r := Record{Line: i + 1, Pid: pid, Text: body}
		if m := resumedStart.FindStringSubmatch(body); m != nil {
			args, rest, ok := scanArgs(body[len(m[0]):])
			if !ok {
				r.Kind = Other
				out = append(out, r)
				continue
			}
			args = strings.TrimSpace(strings.ReplaceAll(args, unfinishedMark, ""))
			if j, has := pending[pid]; has && out[j].Name == m[1] {
				delete(pending, pid)
				p := &out[j]
				p.Args = joinArgs(p.Args, args)
				p.Text += " ... " + body
				p.Unfinished = false
				setResult(p, rest)
				continue
			}
			// A resumption without its start (another thread's execve, or
			// a trace that begins mid-call).
			r.Kind, r.Name, r.Args = Call, m[1], args
			setResult(&r, rest)
			out = append(out, r)
			continue
		}
		switch {
		case notices && strings.HasPrefix(body, noticePrefix):
			r.Kind = Notice
		case strings.HasPrefix(body, "--- "):
			if m := signalLine.FindStringSubmatch(body); m != nil && strings.HasPrefix(m[2], "{") {
				r.Kind, r.Name, r.Args = Signal, m[1], m[2]
			} else {
				r.Kind = Other
			}
		case strings.HasPrefix(body, "+++ "):
			if m := exitedLine.FindStringSubmatch(body); m != nil {
				r.Kind = Exited
				r.Status, _ = strconv.Atoi(m[1])
			} else if m := killedLine.FindStringSubmatch(body); m != nil {
				r.Kind, r.Name = Killed, m[1]
			} else {
				r.Kind = Other
			}
		default:
			m := callStart.FindStringSubmatch(body)
			if m == nil {
				r.Kind = Other
				break
			}
			r.Kind, r.Name = Call, m[1]
			after := body[len(m[0]):]
			if k := strings.LastIndex(after, unfinishedMark); k >= 0 && strings.TrimSpace(after[k+len(unfinishedMark):]) == "" {
				r.Args = strings.TrimSpace(after[:k])
				r.Unfinished = true
				pending[pid] = len(out)
				break
			}
			args, rest, ok := scanArgs(after)
			if !ok {
				r.Kind, r.Name = Other, ""
				break
			}
			r.Args = args
			setResult(&r, rest)
		}
		out = append(out, r)
	}
	return out
}

// splitPid removes a pid prefix.
func splitPid(line string) (int, string) {
	if m := pidErrPrefix.FindStringSubmatch(line); m != nil {
		pid, _ := strconv.Atoi(m[1])
		return pid, line[len(m[0]):]
	}
	if m := pidOutPrefix.FindStringSubmatch(line); m != nil {
		pid, _ := strconv.Atoi(m[1])
		return pid, line[len(m[0]):]
	}
	return 0, line
}

// scanArgs splits s, the text after a call's opening parenthesis (or after
// `resumed>`), at the parenthesis that closes the call: it skips string
// literals and nested brackets. ok is false when there is none.
func scanArgs(s string) (args, rest string, ok bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			j := skipString(s, i)
			if j < 0 {
				return "", "", false
			}
			i = j
		case '(', '[', '{':
			depth++
		case ']', '}':
			depth--
		case ')':
			if depth == 0 {
				return s[:i], s[i+1:], true
			}
			depth--
		}
	}
	return "", "", false
}

// skipString returns the index of the quote that closes the string literal
// starting at s[i], or -1.
func skipString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

func joinArgs(a, b string) string {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// setResult parses the text after a call's closing parenthesis:
// `   = -1 ENOENT (No such file or directory) (INJECTED)`.
func setResult(r *Record, rest string) {
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "=") {
		// `exit(0) <unfinished ...>` is handled by the caller; anything
		// else has no result.
		r.Result = ""
		r.Extra = rest
		return
	}
	r.Result, r.Extra, r.Injected = parseResult(strings.TrimSpace(rest[1:]))
}

// parseResult splits a result text into the value (with the errno name of
// an error), the decoration and the injection mark.
func parseResult(s string) (result, extra string, injected bool) {
	if strings.HasSuffix(s, injectedMark) {
		injected = true
		s = strings.TrimSpace(strings.TrimSuffix(s, injectedMark))
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return "", "", injected
	}
	n := 1
	switch {
	case f[0] == "?" && len(f) > 1 && errnoName.MatchString(f[1]):
		n = 2
	case f[0] == "-1" && len(f) > 1 && errnoName.MatchString(f[1]):
		n = 2
	}
	v := f[0]
	if n == 1 {
		// `3</dev/null>` of strace -y.
		if k := strings.IndexByte(v, '<'); k > 0 {
			v = v[:k]
		}
	} else {
		v += " " + f[1]
	}
	rest := s
	for range n {
		rest = strings.TrimSpace(rest)
		if k := strings.IndexAny(rest, " \t"); k >= 0 {
			rest = rest[k:]
		} else {
			rest = ""
		}
	}
	return v, strings.TrimSpace(rest), injected
}

func isErrorResult(s string) bool { return strings.HasPrefix(s, "-1 ") || s == "-1" }

// SameResult tells whether two results are the same value: equal text, the
// same errno name for errors, or the same number in another base ("0x1"
// and "1", "022" and "18"). strace prints the result of a call that
// returns an int (getppid) as an int, so a 64-bit register that the call
// never set (a call that a seccomp SECCOMP_RET_TRAP skipped keeps its
// first argument there on arm64) shows its low 32 bits, sign-extended:
// that value, printed in decimal, is the same result too.
func SameResult(a, b string) bool {
	if a == b {
		return true
	}
	if isErrorResult(a) || isErrorResult(b) {
		return false
	}
	x, okx := parseNumber(a)
	y, oky := parseNumber(b)
	if !okx || !oky {
		return false
	}
	return x == y || sameAsInt(x, b) || sameAsInt(y, a)
}

// sameAsInt tells whether the decimal text s is v truncated to an int.
func sameAsInt(v uint64, s string) bool {
	n, err := strconv.ParseInt(s, 10, 32)
	return err == nil && int64(int32(uint32(v))) == n && v != uint64(n)
}

// parseNumber reads a result as a 64-bit two's complement value.
func parseNumber(s string) (uint64, bool) {
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return uint64(v), true
	}
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		return v, true
	}
	return 0, false
}

// firstArg returns a call's first argument as text ("3" of "3, F_DUPFD,
// 500"; the fd of "3</dev/null>" of strace -y).
func firstArg(args string) string {
	return argN(args, 0)
}

// argN returns the n-th top-level argument of a call's raw arguments,
// trimmed ("" if there are fewer); strace's comment after a value
// (`0x4281 /* PTRACE_??? */`) and a descriptor's `<path>` of strace -y are
// cut.
func argN(args string, n int) string {
	depth, start, k := 0, 0, 0
	for i := 0; i <= len(args); i++ {
		if i == len(args) || (args[i] == ',' && depth == 0) {
			if k == n {
				a := strings.TrimSpace(args[start:i])
				// `0x4281 /* PTRACE_??? */`: strace's comment.
				if j := strings.Index(a, " /*"); j > 0 && strings.HasSuffix(a, "*/") {
					a = a[:j]
				}
				if j := strings.IndexByte(a, '<'); j > 0 && a[0] >= '0' && a[0] <= '9' {
					a = a[:j]
				}
				return a
			}
			k++
			start = i + 1
			continue
		}
		switch args[i] {
		case '"':
			if j := skipString(args, i); j >= 0 {
				i = j
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
	}
	return ""
}

// Unquote decodes the first string literal of s, as strace prints strings
// (C escapes \n \t \r \v \f \a \b \\ \" \', octal \ooo, hex \xhh).
// truncated is set when the literal is followed by "..." (strace's -s
// limit cut it); ok is false when s holds no complete literal.
func Unquote(s string) (text string, truncated, ok bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", false, false
	}
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if c == '"' {
			return b.String(), strings.HasPrefix(s[j+1:], "..."), true
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		j++
		if j >= len(s) {
			return "", false, false
		}
		switch e := s[j]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'x':
			k := j + 1
			for k < len(s) && k < j+3 && isHex(s[k]) {
				k++
			}
			v, err := strconv.ParseUint(s[j+1:k], 16, 8)
			if err != nil {
				return "", false, false
			}
			b.WriteByte(byte(v))
			j = k - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			k := j
			for k < len(s) && k < j+3 && s[k] >= '0' && s[k] <= '7' {
				k++
			}
			v, err := strconv.ParseUint(s[j:k], 8, 16)
			if err != nil || v > 255 {
				return "", false, false
			}
			b.WriteByte(byte(v))
			j = k - 1
		default:
			b.WriteByte(e)
		}
	}
	return "", false, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
