package vm

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLineSplitter(t *testing.T) {
	tests := []struct {
		name    string
		reads   []string
		lines   []string
		partial string
	}{
		{"one read", []string{"a\nb\n"}, []string{"a", "b"}, ""},
		{"split across reads", []string{"Kernel pa", "nic - not ", "syncing: x\nne", "xt"}, []string{"Kernel panic - not syncing: x"}, "next"},
		{"crlf", []string{"a\r\nb\r", "\nc"}, []string{"a", "b"}, "c"},
		{"lone cr dropped", []string{"50%\r100%\n"}, []string{"50%100%"}, ""},
		{"empty lines kept", []string{"\n\na\n"}, []string{"", "", "a"}, ""},
		{"byte by byte", strings.Split("ab\ncd\n", ""), []string{"ab", "cd"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s lineSplitter
			var got []string
			for _, r := range tc.reads {
				got = append(got, s.feed([]byte(r))...)
			}
			if !slices.Equal(got, tc.lines) {
				t.Errorf("lines = %q, want %q", got, tc.lines)
			}
			if p := s.partial(); p != tc.partial {
				t.Errorf("partial = %q, want %q", p, tc.partial)
			}
			rest := s.flush()
			if tc.partial == "" && rest != nil || tc.partial != "" && !slices.Equal(rest, []string{tc.partial}) {
				t.Errorf("flush = %q", rest)
			}
		})
	}
}

func TestLineSplitterLongLine(t *testing.T) {
	var s lineSplitter
	long := strings.Repeat("x", 2*MaxLineLen+10)
	var got []string
	for i := 0; i < len(long); i += 1000 {
		got = append(got, s.feed([]byte(long[i:min(i+1000, len(long))]))...)
	}
	got = append(got, s.feed([]byte("\n"))...)
	if len(got) != 3 || len(got[0]) != MaxLineLen || len(got[1]) != MaxLineLen || len(got[2]) != 10 {
		var lens []int
		for _, l := range got {
			lens = append(lens, len(l))
		}
		t.Errorf("line lengths %v", lens)
	}
}

func TestConsoleExpect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := NewConsole()
	go func() {
		c.AddLines("booting", "VMTEST INIT STARTED mode=echo")
		time.Sleep(10 * time.Millisecond)
		c.SetPartial("vmtest> ")
		time.Sleep(10 * time.Millisecond)
		c.AddLines("vmtest> hello", "echo: hello")
		c.SetPartial("vmtest> ")
	}()
	if l, err := c.ExpectString(ctx, "INIT STARTED"); err != nil || !strings.Contains(l, "mode=echo") {
		t.Fatalf("ExpectString = %q, %v", l, err)
	}
	// The prompt has no newline yet: it matches as a partial line.
	if _, err := c.ExpectString(ctx, "vmtest> "); err != nil {
		t.Fatal(err)
	}
	// The same prompt, completed into "vmtest> hello", is not matched
	// again: the cursor is after the first match.
	m, err := c.ExpectRegexp(ctx, regexp.MustCompile(`^echo: (\w+)$`))
	if err != nil || m[1] != "hello" {
		t.Fatalf("ExpectRegexp = %q, %v", m, err)
	}
	if _, err := c.ExpectString(ctx, "vmtest> "); err != nil {
		t.Fatal(err)
	}
	// Consumed output does not match again.
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	_, err = c.ExpectString(short, "hello")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expected deadline, got %v", err)
	}
	if !strings.Contains(err.Error(), "last output") {
		t.Errorf("timeout error lacks the last output: %v", err)
	}
	c.Close()
	_, err = c.ExpectString(ctx, "never")
	if !errors.Is(err, ErrConsoleClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestConsoleExpectSameLineTwice(t *testing.T) {
	ctx := context.Background()
	c := NewConsole()
	c.AddLines("a=1 b=2")
	c.Close()
	m, err := c.ExpectRegexp(ctx, regexp.MustCompile(`(\w)=\d`))
	if err != nil || m[1] != "a" {
		t.Fatalf("first: %q %v", m, err)
	}
	m, err = c.ExpectRegexp(ctx, regexp.MustCompile(`(\w)=\d`))
	if err != nil || m[1] != "b" {
		t.Fatalf("second: %q %v", m, err)
	}
}

func TestConsoleDropsOldLinesBounded(t *testing.T) {
	c := NewConsole()
	line := strings.Repeat("y", 1<<10)
	for range (maxExpectBytes >> 10) + 100 {
		c.AddLines(line)
	}
	c.AddLines("last")
	c.Close()
	if c.bytes > maxExpectBytes {
		t.Errorf("console keeps %d bytes, bound %d", c.bytes, maxExpectBytes)
	}
	if _, err := c.ExpectString(context.Background(), "last"); err != nil {
		t.Fatal(err)
	}
	_, err := c.ExpectString(context.Background(), "nothing")
	if err == nil || !strings.Contains(err.Error(), "dropped") {
		t.Errorf("error should say lines were dropped: %v", err)
	}
}
