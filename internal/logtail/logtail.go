// Package logtail keeps and cuts the last lines of a log: of a finished
// command's output (Lines, String) or of a stream (Ring).
package logtail

import "strings"

// Lines returns the last n lines of s, without their newlines; nil for an
// empty s. A trailing newline does not make an empty last line.
func Lines(s string, n int) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" || n <= 0 {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// String returns the last n lines of out as one string, joined by
// newlines, without a trailing newline.
func String(out []byte, n int) string { return strings.Join(Lines(string(out), n), "\n") }

// Ring keeps the last lines pushed into it, at most its size.
type Ring struct {
	buf   []string
	next  int
	count int
}

// NewRing returns a ring that keeps the last n lines (at least one).
func NewRing(n int) *Ring { return &Ring{buf: make([]string, max(n, 1))} }

// Cap is how many lines the ring keeps.
func (r *Ring) Cap() int { return len(r.buf) }

// Push adds a line, dropping the oldest one when the ring is full.
func (r *Ring) Push(line string) {
	r.buf[r.next] = line
	r.next = (r.next + 1) % len(r.buf)
	if r.count < len(r.buf) {
		r.count++
	}
}

// Last returns a copy of the last n lines, oldest first.
func (r *Ring) Last(n int) []string {
	n = max(min(n, r.count), 0)
	out := make([]string, n)
	start := (r.next - n + len(r.buf)) % len(r.buf)
	for i := range n {
		out[i] = r.buf[(start+i)%len(r.buf)]
	}
	return out
}

// String returns every line the ring holds, joined by newlines.
func (r *Ring) String() string { return strings.Join(r.Last(r.count), "\n") }
