package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// MaxLineLen bounds a console line: longer output without a newline is cut
// into lines of this length so that memory stays bounded.
const MaxLineLen = 64 << 10

// lineSplitter turns a byte stream into whole lines, dropping '\r'. It
// keeps the unterminated rest between calls, so a line split across reads
// comes out whole.
type lineSplitter struct {
	buf []byte
}

// feed appends p and returns the lines it completed.
func (s *lineSplitter) feed(p []byte) []string {
	var lines []string
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		s.buf = appendNoCR(s.buf, chunk)
		for len(s.buf) >= MaxLineLen {
			lines = append(lines, string(s.buf[:MaxLineLen]))
			s.buf = append(s.buf[:0], s.buf[MaxLineLen:]...)
		}
		if i < 0 {
			break
		}
		lines = append(lines, string(s.buf))
		s.buf = s.buf[:0]
		p = p[i+1:]
	}
	return lines
}

// partial returns the unterminated rest.
func (s *lineSplitter) partial() string { return string(s.buf) }

// flush returns the unterminated rest as a last line, if any.
func (s *lineSplitter) flush() []string {
	if len(s.buf) == 0 {
		return nil
	}
	l := string(s.buf)
	s.buf = s.buf[:0]
	return []string{l}
}

func appendNoCR(dst, src []byte) []byte {
	for {
		i := bytes.IndexByte(src, '\r')
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		src = src[i+1:]
	}
}

// ErrConsoleClosed is returned (wrapped) by Expect calls that can no longer
// match because QEMU's output has ended.
var ErrConsoleClosed = errors.New("console closed")

// maxExpectBytes bounds the guest output a Console keeps for Expect calls
// that have not consumed it yet. The log file always has everything.
const maxExpectBytes = 16 << 20

// Console gives expect-style access to the guest console (QEMU's stdout):
// each successful Expect consumes the output up to the end of its match,
// and a match may be on the unterminated last line (a shell prompt). Safe
// for concurrent use.
type Console struct {
	mu      sync.Mutex
	lines   []string // lines[i] is line number base+i
	base    int
	bytes   int
	dropped int
	partial string
	closed  bool
	changed chan struct{}
	// cursor: Expect searches from line curLine, column curCol.
	curLine, curCol int
}

// NewConsole returns an empty Console. A Machine feeds its own; tests can
// feed one with AddLines/SetPartial/Close.
func NewConsole() *Console {
	return &Console{changed: make(chan struct{})}
}

// AddLines appends whole lines.
func (c *Console) AddLines(lines ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range lines {
		c.lines = append(c.lines, l)
		c.bytes += len(l)
	}
	c.partial = ""
	for c.bytes > maxExpectBytes && len(c.lines) > 1 {
		c.bytes -= len(c.lines[0])
		c.lines[0] = ""
		c.lines = c.lines[1:]
		c.base++
		c.dropped++
	}
	c.notifyLocked()
}

// SetPartial records the unterminated last line.
func (c *Console) SetPartial(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.partial == p {
		return
	}
	c.partial = p
	c.notifyLocked()
}

// Close marks the end of output: pending and later Expect calls that do
// not match fail with ErrConsoleClosed.
func (c *Console) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.notifyLocked()
}

func (c *Console) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// ExpectString waits until s appears in the console output after the last
// match and returns the line that holds it.
func (c *Console) ExpectString(ctx context.Context, s string) (string, error) {
	m, err := c.expect(ctx, fmt.Sprintf("%q", s), func(line string) (int, []string) {
		i := strings.Index(line, s)
		if i < 0 {
			return -1, nil
		}
		return i + len(s), []string{line}
	})
	if err != nil {
		return "", err
	}
	return m[0], nil
}

// ExpectRegexp waits until re matches a line of console output after the
// last match, and returns the submatches (index 0 is the whole match).
func (c *Console) ExpectRegexp(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	return c.expect(ctx, "/"+re.String()+"/", func(line string) (int, []string) {
		loc := re.FindStringSubmatchIndex(line)
		if loc == nil {
			return -1, nil
		}
		subs := make([]string, len(loc)/2)
		for i := range subs {
			if loc[2*i] >= 0 {
				subs[i] = line[loc[2*i]:loc[2*i+1]]
			}
		}
		return loc[1], subs
	})
}

// expect runs match over the output from the cursor on; match returns the
// end of its match in the line (or -1) and what to return.
func (c *Console) expect(ctx context.Context, what string, match func(string) (int, []string)) ([]string, error) {
	for {
		c.mu.Lock()
		if c.curLine < c.base {
			c.curLine, c.curCol = c.base, 0
		}
		n := c.base + len(c.lines)
		for i := c.curLine; i <= n; i++ {
			line := c.partial
			if i < n {
				line = c.lines[i-c.base]
			}
			col := 0
			if i == c.curLine {
				col = min(c.curCol, len(line))
			}
			if end, res := match(line[col:]); end >= 0 {
				c.curLine, c.curCol = i, col+end
				c.mu.Unlock()
				return res, nil
			}
		}
		// Nothing matched: the complete lines are consumed.
		if c.curLine != n {
			c.curLine, c.curCol = n, 0
		}
		closed, changed, lastLines, dropped := c.closed, c.changed, c.lastLocked(5), c.dropped
		c.mu.Unlock()
		if closed {
			return nil, fmt.Errorf("waiting for %s: %w%s", what, ErrConsoleClosed, describeTail(lastLines, dropped))
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w%s", what, context.Cause(ctx), describeTail(lastLines, dropped))
		}
	}
}

func (c *Console) lastLocked(n int) []string {
	var out []string
	if k := len(c.lines); k > 0 {
		out = append(out, c.lines[max(0, k-n):]...)
	}
	if c.partial != "" {
		out = append(out, c.partial)
	}
	return out
}

func describeTail(lines []string, dropped int) string {
	var b strings.Builder
	if dropped > 0 {
		fmt.Fprintf(&b, " (%d unread lines were dropped from memory; see the log)", dropped)
	}
	if len(lines) > 0 {
		b.WriteString("; last output:")
		for _, l := range lines {
			b.WriteString("\n\t" + l)
		}
	}
	return b.String()
}

// writerOnce wraps an optional io.Writer: after the first error it stops
// writing and keeps the error, so a broken stream does not stop the run.
type writerOnce struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (o *writerOnce) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.w == nil || o.err != nil {
		return len(p), nil
	}
	if _, err := o.w.Write(p); err != nil {
		o.err = err
	}
	return len(p), nil
}

func (o *writerOnce) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}
