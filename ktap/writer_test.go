package ktap

import (
	"errors"
	"strings"
	"testing"
)

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	steps := []error{
		w.Header(5),
		w.Announce("smoke.TestA"),
		w.Diag("=== RUN   TestA\n--- PASS: TestA (0.00s)\n"),
		w.Result(Pass, "smoke.TestA", ""),
		w.Announce("smoke.TestB"),
	}
	sub := w.Sub()
	steps = append(steps,
		sub.Header(3),
		sub.Result(Pass, "one", ""),
		sub.Diag("b_test.go:12: got 1, want 2"),
		sub.Result(Fail, "two#01", "b_test.go:12: got 1, want 2"),
		sub.Result(Skip, "three", "needs root\nreally"),
		w.Result(Fail, "smoke.TestB", "SKIP is not a directive here"),
		w.Result(Skip, "smoke.TestC", ""),
		w.Result(Fail, "smoke.TestE", "ERROR cannot start"),
		w.Result(Timeout, "smoke.TestD", "after 30s"),
		w.Summary(),
	)
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	want := `KTAP version 1
1..5
# selfptrace-vm: start 1 smoke.TestA
# === RUN   TestA
# --- PASS: TestA (0.00s)
ok 1 smoke.TestA
# selfptrace-vm: start 2 smoke.TestB
    KTAP version 1
    1..3
    ok 1 one
    # b_test.go:12: got 1, want 2
    not ok 2 two%2301 # b_test.go:12: got 1, want 2
    ok 3 three # SKIP needs root really
not ok 2 smoke.TestB # - SKIP is not a directive here
ok 3 smoke.TestC # SKIP
not ok 4 smoke.TestE # ERROR cannot start
not ok 5 smoke.TestD # TIMEOUT after 30s
# selfptrace-vm: summary pass=1 fail=2 skip=1 timeout=1 total=5
`
	if got := b.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if got, want := w.Counts(), (Counts{Pass: 1, Fail: 2, Skip: 1, Timeout: 1, Total: 5}); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
}

func TestWriterErrors(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	if err := w.Result(Pass, "x", ""); err == nil {
		t.Error("Result before Header: no error")
	}
	if err := w.Header(1); err != nil {
		t.Fatal(err)
	}
	if err := w.Header(1); err == nil {
		t.Error("second Header: no error")
	}
	if err := w.Result(Missing, "x", ""); err == nil {
		t.Error("Result(Missing): no error")
	}
	if err := w.Result(Pass, "x", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Result(Pass, "y", ""); err == nil {
		t.Error("result beyond the plan: no error")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("console gone")
	}
	f.n--
	return len(p), nil
}

func TestWriterStickyError(t *testing.T) {
	w := NewWriter(&failWriter{n: 1})
	if err := w.Header(2); err == nil {
		t.Fatal("Header: no error from a failing writer")
	}
	sub := w.Sub()
	if err := sub.Diag("x"); err == nil || w.Err() == nil {
		t.Errorf("sub-writer does not share the error: %v, %v", err, w.Err())
	}
}

func TestWriterIncompleteCounts(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	if err := errors.Join(w.Header(3), w.Result(Pass, "a", ""), w.Summary()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "summary pass=1 fail=0 skip=0 timeout=0 total=3 missing=2\n") {
		t.Errorf("summary does not count the missing tests:\n%s", b.String())
	}
}

func TestEscapeName(t *testing.T) {
	for _, s := range []string{"", "TestX", "TestX/seed#0", "100%", "a\nb", "tab\there", "#%#"} {
		e := EscapeName(s)
		if strings.ContainsAny(e, "#\n\t") {
			t.Errorf("EscapeName(%q) = %q still has a special character", s, e)
		}
		if got := UnescapeName(e); got != s {
			t.Errorf("UnescapeName(EscapeName(%q)) = %q", s, got)
		}
	}
	if got := UnescapeName("50%zz%2"); got != "50%zz%2" {
		t.Errorf("UnescapeName of malformed escapes = %q", got)
	}
}

func TestResultText(t *testing.T) {
	for r := Missing; r <= Timeout; r++ {
		b, err := r.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Errorf("round trip of %v: %v, %v", r, back, err)
		}
	}
	if _, err := Result(42).MarshalText(); err == nil {
		t.Error("MarshalText(42): no error")
	}
	var r Result
	if err := r.UnmarshalText([]byte("bogus")); err == nil {
		t.Error("UnmarshalText(bogus): no error")
	}
}

func TestMarkers(t *testing.T) {
	c := Counts{Pass: 3, Fail: 1, Skip: 2, Timeout: 0, Total: 6}
	if got, want := c.Marker(), "# selfptrace-vm: summary pass=3 fail=1 skip=2 timeout=0 total=6"; got != want {
		t.Errorf("Marker() = %q, want %q", got, want)
	}
	back, err := parseCounts(strings.TrimPrefix(c.Marker(), "# selfptrace-vm: summary "))
	if err != nil || back != c {
		t.Errorf("parseCounts(Marker()) = %+v, %v", back, err)
	}
	if _, err := parseCounts("pass=1 fail=0"); err == nil {
		t.Error("parseCounts of an incomplete marker: no error")
	}
	e := Exit{Status: 159, Signal: "SIGSYS"}
	if got, want := e.Marker(), "# selfptrace-vm: exit status=159 signal=SIGSYS"; got != want {
		t.Errorf("Exit.Marker() = %q, want %q", got, want)
	}
	eb, err := parseExit("status=159 signal=SIGSYS")
	if err != nil || eb != e {
		t.Errorf("parseExit = %+v, %v", eb, err)
	}
}
