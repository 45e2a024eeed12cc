package systable

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// srcLine is one logical line of C source: comments removed, backslash
// continuations joined.
type srcLine struct {
	num     int    // 1-based number of the line's first physical line
	code    string // the text with comments replaced by a space
	comment string // text of the first comment that starts on the line
}

// splitC removes the comments of a C source text and splits it into
// logical lines. String and character literals are kept as they are.
func splitC(text string) []srcLine {
	var (
		lines   []srcLine
		code    strings.Builder
		comment strings.Builder
		hasCmt  bool
		num     = 1
		start   = 1
	)
	flush := func() {
		lines = append(lines, srcLine{num: start, code: code.String(), comment: strings.TrimSpace(comment.String())})
		code.Reset()
		comment.Reset()
		hasCmt = false
	}
	n := len(text)
	for i := 0; i < n; i++ {
		c := text[i]
		switch {
		case c == '\\' && i+1 < n && text[i+1] == '\n':
			// Continuation: the logical line goes on.
			i++
			num++
		case c == '\\' && i+2 < n && text[i+1] == '\r' && text[i+2] == '\n':
			i += 2
			num++
		case c == '\n':
			flush()
			num++
			start = num
		case c == '/' && i+1 < n && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			var body string
			if end < 0 {
				body = text[i+2:]
				i = n
			} else {
				body = text[i+2 : i+2+end]
				i += 2 + end + 1
			}
			if !hasCmt {
				comment.WriteString(body)
				hasCmt = true
			}
			code.WriteByte(' ')
			// A multi-line comment ends the logical line it started on
			// only at its last newline: keep the line count exact.
			if k := strings.Count(body, "\n"); k > 0 {
				flush()
				num += k
				start = num
			}
		case c == '/' && i+1 < n && text[i+1] == '/':
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = n - i
			}
			if !hasCmt {
				comment.WriteString(text[i+2 : i+end])
				hasCmt = true
			}
			i += end - 1
		case c == '"' || c == '\'':
			j := i + 1
			for j < n && text[j] != c && text[j] != '\n' {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			if j >= n {
				j = n - 1
			}
			code.WriteString(text[i : j+1])
			i = j
		default:
			code.WriteByte(c)
		}
	}
	if code.Len() > 0 || hasCmt {
		flush()
	}
	return lines
}

// directive splits a preprocessor line into its name and the rest.
// ok is false when the line is not a directive.
func directive(code string) (name, rest string, ok bool) {
	s := strings.TrimSpace(code)
	if !strings.HasPrefix(s, "#") {
		return "", "", false
	}
	s = strings.TrimSpace(s[1:])
	i := 0
	for i < len(s) && isIdent(s[i]) {
		i++
	}
	return s[:i], strings.TrimSpace(s[i:]), true
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// firstIdent returns the identifier at the start of s.
func firstIdent(s string) string {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && isIdent(s[i]) {
		i++
	}
	return s[:i]
}

// macros is a set of object-like macros; a defined macro without a body
// has the body "".
type macros map[string]string

// evalExpr evaluates a preprocessor expression. Identifiers that are not
// macros are 0, as in cpp; IS_ENABLED(X), IS_BUILTIN(X) and IS_REACHABLE(X)
// are defined(X); other function-like macros are 0.
func evalExpr(expr string, m macros) (int64, error) {
	p := &exprParser{m: m, expanding: map[string]bool{}}
	toks, err := tokenize(expr)
	if err != nil {
		return 0, err
	}
	p.toks = toks
	v, err := p.ternary()
	if err != nil {
		return 0, fmt.Errorf("expression %q: %w", expr, err)
	}
	if p.pos != len(p.toks) {
		return 0, fmt.Errorf("expression %q: unexpected %q", expr, p.toks[p.pos])
	}
	return v, nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case isIdent(c):
			j := i
			for j < len(s) && (isIdent(s[j]) || c >= '0' && c <= '9' && s[j] == '.') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			op := string(c)
			if i+1 < len(s) {
				switch two := s[i : i+2]; two {
				case "&&", "||", "==", "!=", "<=", ">=", "<<", ">>":
					op = two
				}
			}
			if !strings.Contains("()!~-+*/%<>&|^?:=,", op[:1]) {
				return nil, fmt.Errorf("unexpected character %q in %q", c, s)
			}
			toks = append(toks, op)
			i += len(op)
		}
	}
	return toks, nil
}

type exprParser struct {
	toks      []string
	pos       int
	m         macros
	expanding map[string]bool
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) next() string {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *exprParser) expect(t string) error {
	if got := p.next(); got != t {
		return fmt.Errorf("want %q, got %q", t, got)
	}
	return nil
}

func (p *exprParser) ternary() (int64, error) {
	c, err := p.binary(0)
	if err != nil || p.peek() != "?" {
		return c, err
	}
	p.next()
	a, err := p.ternary()
	if err != nil {
		return 0, err
	}
	if err := p.expect(":"); err != nil {
		return 0, err
	}
	b, err := p.ternary()
	if err != nil {
		return 0, err
	}
	if c != 0 {
		return a, nil
	}
	return b, nil
}

// binPrec is the precedence of a binary operator, 0 if op is none.
func binPrec(op string) int {
	switch op {
	case "||":
		return 1
	case "&&":
		return 2
	case "|":
		return 3
	case "^":
		return 4
	case "&":
		return 5
	case "==", "!=":
		return 6
	case "<", ">", "<=", ">=":
		return 7
	case "<<", ">>":
		return 8
	case "+", "-":
		return 9
	case "*", "/", "%":
		return 10
	}
	return 0
}

func (p *exprParser) binary(minPrec int) (int64, error) {
	l, err := p.unary()
	if err != nil {
		return 0, err
	}
	for {
		op := p.peek()
		prec := binPrec(op)
		if prec == 0 || prec <= minPrec {
			return l, nil
		}
		p.next()
		r, err := p.binary(prec)
		if err != nil {
			return 0, err
		}
		switch op {
		case "||":
			l = b2i(l != 0 || r != 0)
		case "&&":
			l = b2i(l != 0 && r != 0)
		case "|":
			l |= r
		case "^":
			l ^= r
		case "&":
			l &= r
		case "==":
			l = b2i(l == r)
		case "!=":
			l = b2i(l != r)
		case "<":
			l = b2i(l < r)
		case ">":
			l = b2i(l > r)
		case "<=":
			l = b2i(l <= r)
		case ">=":
			l = b2i(l >= r)
		case "<<":
			l <<= uint(r)
		case ">>":
			l >>= uint(r)
		case "+":
			l += r
		case "-":
			l -= r
		case "*":
			l *= r
		case "/", "%":
			if r == 0 {
				return 0, fmt.Errorf("division by zero")
			}
			if op == "/" {
				l /= r
			} else {
				l %= r
			}
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (p *exprParser) unary() (int64, error) {
	switch t := p.peek(); t {
	case "!", "~", "-", "+":
		p.next()
		v, err := p.unary()
		if err != nil {
			return 0, err
		}
		switch t {
		case "!":
			return b2i(v == 0), nil
		case "~":
			return ^v, nil
		case "-":
			return -v, nil
		}
		return v, nil
	}
	return p.primary()
}

func (p *exprParser) primary() (int64, error) {
	t := p.next()
	switch {
	case t == "(":
		v, err := p.ternary()
		if err != nil {
			return 0, err
		}
		return v, p.expect(")")
	case t == "":
		return 0, fmt.Errorf("unexpected end")
	case t[0] >= '0' && t[0] <= '9':
		return parseCInt(t)
	case t == "defined":
		paren := p.peek() == "("
		if paren {
			p.next()
		}
		name := p.next()
		if paren {
			if err := p.expect(")"); err != nil {
				return 0, err
			}
		}
		_, ok := p.m[name]
		return b2i(ok), nil
	case isIdent(t[0]):
		if p.peek() == "(" {
			// Function-like macro: only the Kconfig helpers mean something.
			p.next()
			var args []string
			for depth := 1; depth > 0; {
				a := p.next()
				switch a {
				case "":
					return 0, fmt.Errorf("unbalanced parentheses after %s", t)
				case "(":
					depth++
				case ")":
					depth--
				}
				if depth > 0 {
					args = append(args, a)
				}
			}
			switch t {
			case "IS_ENABLED", "IS_BUILTIN", "IS_REACHABLE":
				if len(args) == 1 {
					_, ok := p.m[args[0]]
					return b2i(ok), nil
				}
			}
			return 0, nil
		}
		body, ok := p.m[t]
		if !ok || p.expanding[t] {
			return 0, nil
		}
		if strings.TrimSpace(body) == "" {
			return 0, nil
		}
		p.expanding[t] = true
		defer delete(p.expanding, t)
		sub := &exprParser{m: p.m, expanding: p.expanding}
		toks, err := tokenize(body)
		if err != nil {
			return 0, fmt.Errorf("macro %s: %w", t, err)
		}
		sub.toks = toks
		v, err := sub.ternary()
		if err != nil {
			return 0, fmt.Errorf("macro %s: %w", t, err)
		}
		if sub.pos != len(sub.toks) {
			return 0, fmt.Errorf("macro %s: unexpected %q", t, sub.toks[sub.pos])
		}
		return v, nil
	}
	return 0, fmt.Errorf("unexpected %q", t)
}

// parseCInt parses a C integer literal (decimal, octal or hexadecimal,
// with optional u/l suffixes).
func parseCInt(t string) (int64, error) {
	s := strings.TrimRight(t, "uUlL")
	base := 10
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("bad integer %q: %w", t, err)
	}
	return int64(v), nil
}

// isIntLiteral reports whether s is a single (optionally negative)
// integer literal.
func isIntLiteral(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "(")
	s = strings.TrimSuffix(s, ")")
	s = strings.TrimPrefix(strings.TrimSpace(s), "-")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	_, err := parseCInt(s)
	return err == nil
}

// define is one #define seen while preprocessing a header.
type define struct {
	name    string
	body    string
	comment string
	file    string // path relative to the tree
}

// uapiHeaders preprocesses a user-space (uapi) header of the tree the way a
// user-space compiler for the architecture sees it: __KERNEL__ is not
// defined, <asm/X> is the architecture's uapi header, or asm-generic's when
// the architecture has none (Kbuild's generic-y), <asm-generic/X> is
// followed, every other include (<linux/types.h>, ...) is ignored. It
// collects the defines made by active lines in order (defs) and the
// resulting macro set (m).
type uapiHeaders struct {
	src, karch string
	m          macros
	defs       []define
	done       map[string]bool
	noFollow   bool // do not follow #include
}

func newUAPI(src, karch string, predef macros) *uapiHeaders {
	u := &uapiHeaders{src: src, karch: karch, m: macros{}, done: map[string]bool{}}
	for k, v := range predef {
		u.m[k] = v
	}
	return u
}

// resolve maps an include name to a path relative to the tree, or "".
func (u *uapiHeaders) resolve(inc string) string {
	switch {
	case strings.HasPrefix(inc, "asm/"):
		p := filepath.Join("arch", u.karch, "include/uapi", inc)
		if fileExists(filepath.Join(u.src, p)) {
			return p
		}
		p = filepath.Join("include/uapi/asm-generic", strings.TrimPrefix(inc, "asm/"))
		if fileExists(filepath.Join(u.src, p)) {
			return p
		}
	case strings.HasPrefix(inc, "asm-generic/"):
		return filepath.Join("include/uapi", inc)
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// includeOnly preprocesses the file rel without following its includes.
func (u *uapiHeaders) includeOnly(rel string) error {
	u.noFollow = true
	defer func() { u.noFollow = false }()
	return u.include(rel, 0)
}

// include preprocesses the file rel (relative to the tree).
func (u *uapiHeaders) include(rel string, depth int) error {
	if depth > 16 {
		return fmt.Errorf("%s: includes nested too deeply", rel)
	}
	data, err := os.ReadFile(filepath.Join(u.src, rel))
	if err != nil {
		return fmt.Errorf("reading uapi header: %w", err)
	}
	type frame struct{ parentActive, active, taken bool }
	var stack []frame
	active := true
	for _, l := range splitC(string(data)) {
		name, rest, ok := directive(l.code)
		if !ok {
			continue
		}
		switch name {
		case "if", "ifdef", "ifndef":
			f := frame{parentActive: active}
			if active {
				var v bool
				switch name {
				case "ifdef":
					_, v = u.m[firstIdent(rest)]
				case "ifndef":
					_, v = u.m[firstIdent(rest)]
					v = !v
				default:
					x, err := evalExpr(rest, u.m)
					if err != nil {
						return fmt.Errorf("%s:%d: %w", rel, l.num, err)
					}
					v = x != 0
				}
				f.active, f.taken = v, v
			}
			stack = append(stack, f)
			active = f.active
		case "elif", "else":
			if len(stack) == 0 {
				return fmt.Errorf("%s:%d: #%s without #if", rel, l.num, name)
			}
			f := &stack[len(stack)-1]
			f.active = false
			if f.parentActive && !f.taken {
				v := true
				if name == "elif" {
					x, err := evalExpr(rest, u.m)
					if err != nil {
						return fmt.Errorf("%s:%d: %w", rel, l.num, err)
					}
					v = x != 0
				}
				f.active, f.taken = v, v
			}
			active = f.active
		case "endif":
			if len(stack) == 0 {
				return fmt.Errorf("%s:%d: #endif without #if", rel, l.num)
			}
			active = stack[len(stack)-1].parentActive
			stack = stack[:len(stack)-1]
		case "define":
			if !active {
				continue
			}
			n := firstIdent(rest)
			body := strings.TrimSpace(rest[len(n):])
			if strings.HasPrefix(body, "(") && !strings.HasPrefix(rest[len(n):], " ") && !strings.HasPrefix(rest[len(n):], "\t") {
				// Function-like macro: not needed here.
				continue
			}
			u.m[n] = body
			u.defs = append(u.defs, define{name: n, body: body, comment: l.comment, file: rel})
		case "undef":
			if active {
				delete(u.m, firstIdent(rest))
			}
		case "include":
			if !active || u.noFollow {
				continue
			}
			inc := strings.Trim(strings.TrimSpace(rest), "<>\"")
			p := u.resolve(inc)
			if p == "" || u.done[p] || !fileExists(filepath.Join(u.src, p)) {
				continue
			}
			u.done[p] = true
			if err := u.include(p, depth+1); err != nil {
				return err
			}
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("%s: unterminated #if", rel)
	}
	return nil
}
