package ktap

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden is what a golden file holds for one console log.
type golden struct {
	Report *Report `json:"report"`
	Counts Counts  `json:"counts"`
	Check  string  `json:"check"`
}

func TestGolden(t *testing.T) {
	logs, err := filepath.Glob(filepath.Join("testdata", "*.console"))
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 {
		t.Fatal("no console logs (*.console) in testdata/")
	}
	for _, log := range logs {
		name := strings.TrimSuffix(filepath.Base(log), ".console")
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(log)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rep, err := Parse(f)
			if err != nil {
				t.Fatal(err)
			}
			g := golden{Report: rep, Counts: rep.Counts(), Check: "ok"}
			if err := rep.Check(); err != nil {
				g.Check = err.Error()
			}
			got, err := json.MarshalIndent(g, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := strings.TrimSuffix(log, ".console") + ".golden"
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./ktap -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("report of %s differs from %s (rerun with -update and review the diff):\n%s", log, path, got)
			}
		})
	}
}

func parseString(t *testing.T, s string) *Report {
	t.Helper()
	rep, err := Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// flat renders the tree as "path=result" words, for compact comparisons.
func flat(r *Report) string {
	var out []string
	r.Walk(func(path string, t *Test) {
		out = append(out, path+"="+t.Result.String())
	})
	return strings.Join(out, " ")
}

func TestParseRoundTrip(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	steps := []error{w.Header(3), w.Announce("a"), w.Diag("hello"), w.Result(Pass, "a", "")}
	sub := w.Sub()
	steps = append(steps, sub.Header(2))
	subsub := sub.Sub()
	steps = append(steps,
		subsub.Header(1), subsub.Result(Skip, "deep#1", "why not"),
		sub.Result(Pass, "x", ""),
		sub.Diag("x failed"), sub.Result(Fail, "y", "oops"),
		w.Result(Fail, "b", ""),
		w.Result(Timeout, "c", "after 1s"),
		w.Summary(),
	)
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	rep := parseString(t, b.String())
	if err := rep.Check(); err != nil {
		t.Errorf("Check: %v\n%s", err, b.String())
	}
	if got, want := flat(rep), "a=pass b=fail b/x=pass b/x/deep#1=skip b/y=fail c=timeout"; got != want {
		t.Errorf("tree = %s, want %s", got, want)
	}
	if d := rep.Tests[0].Diagnostics; len(d) != 1 || d[0] != "hello" {
		t.Errorf("diagnostics of a = %q", d)
	}
	y := rep.Tests[1].Subtests[1]
	if y.Reason != "oops" || len(y.Diagnostics) != 1 || y.Diagnostics[0] != "x failed" {
		t.Errorf("b/y = %+v", y)
	}
	if deep := rep.Tests[1].Subtests[0].Subtests[0]; deep.Directive != DirSkip || deep.Reason != "why not" {
		t.Errorf("b/x/deep = %+v", deep)
	}
	if c := rep.Tests[2]; c.Directive != DirTimeout || c.Reason != "after 1s" {
		t.Errorf("c = %+v", c)
	}
	if !rep.Tests[0].Started || rep.Tests[1].Started {
		t.Errorf("Started flags: a=%v b=%v", rep.Tests[0].Started, rep.Tests[1].Started)
	}
}

func TestParseMissing(t *testing.T) {
	for _, tc := range []struct {
		name, log, tree string
		checkHas        []string
	}{
		{
			name:     "no output",
			log:      "[    0.1] Linux version 6.12\nKernel panic - not syncing: VFS\n",
			checkHas: []string{ErrNoKTAP.Error()},
		},
		{
			name:     "plan only",
			log:      "KTAP version 1\n1..2\n",
			tree:     "#1=missing #2=missing",
			checkHas: []string{"test #1 has no result line", "test #2 has no result line", "no summary marker"},
		},
		{
			name:     "gap",
			log:      "KTAP version 1\n1..3\nok 1 a\nok 3 c\n# selfptrace-vm: summary pass=2 fail=0 skip=0 timeout=0 total=3\n",
			tree:     "a=pass #2=missing c=pass",
			checkHas: []string{"test number 3, want 2", "test #2 has no result line", "summary marker says"},
		},
		{
			name: "started",
			log: "KTAP version 1\n1..2\n# selfptrace-vm: start 1 smoke.TestA\nok 1 smoke.TestA\n" +
				"# selfptrace-vm: start 2 smoke.TestB\n# === RUN   TestB\n[    9.000000] Kernel panic\n",
			tree:     "smoke.TestA=pass smoke.TestB=missing",
			checkHas: []string{"test smoke.TestB started but has no result line"},
		},
		{
			name:     "nested plan",
			log:      "KTAP version 1\n1..1\n    KTAP version 1\n    1..3\n    ok 1 x\nok 1 t\n",
			tree:     "t=pass t/x=pass t/#2=missing t/#3=missing",
			checkHas: []string{"test t/#2 has no result line"},
		},
		{
			name:     "beyond plan",
			log:      "KTAP version 1\n1..1\nok 1 a\nok 2 b\n",
			tree:     "a=pass b=pass",
			checkHas: []string{"beyond the plan"},
		},
		{
			name:     "subtests without parent",
			log:      "KTAP version 1\n1..2\n    KTAP version 1\n    1..1\n        KTAP version 1\n        1..1\n        ok 1 z\nok 1 a\n",
			tree:     "a=pass a/#1=missing a/#1/z=pass #2=missing",
			checkHas: []string{"subtests have no parent result line"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := parseString(t, tc.log)
			if got := flat(rep); got != tc.tree {
				t.Errorf("tree = %q, want %q", got, tc.tree)
			}
			err := rep.Check()
			if err == nil {
				t.Fatal("Check() = nil, want an error")
			}
			for _, s := range tc.checkHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Check() = %v\nwant it to mention %q", err, s)
				}
			}
		})
	}
}

func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		name, log, tree string
	}{
		{"crlf", "KTAP version 1\r\n1..1\r\nok 1 a\r\r\n", "a=pass"},
		{"cut result", "KTAP version 1\n1..1\nok 1 sm[    1.000000] x\noke\n", "smoke=pass"},
		{"cut twice", "KTAP version 1\n1..1\nno[    1.000000] x\nt ok 1 a[    1.000001] y\n[    1.000002] z\nb\n", "ab=fail"},
		{"cut before directive", "KTAP version 1\n1..1\nok 1 a [    1.000000] x\n# SKIP why\n", "a=skip"},
		{"whole line before diag", "KTAP version 1\n1..2\nok 1 a[    1.000000] x\n# next\nok 2 b\n", "a=pass b=pass"},
		{"kernel line first", "KTAP version 1\n1..1\n[    1.000000] x\nok 1 a\n", "a=pass"},
		{"diag quoting dmesg", "KTAP version 1\n1..1\n# dmesg: [    1.000000] x\nok 1 a\n", "a=pass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := parseString(t, tc.log)
			if got := flat(rep); got != tc.tree {
				t.Errorf("tree = %q, want %q", got, tc.tree)
			}
			if len(rep.Problems) != 0 {
				t.Errorf("problems: %v", rep.Problems)
			}
		})
	}
}

func TestParseDiagQuotingDmesgKept(t *testing.T) {
	rep := parseString(t, "KTAP version 1\n1..1\n# dmesg: [    1.000000] x\nok 1 a\n")
	if d := rep.Tests[0].Diagnostics; len(d) != 1 || d[0] != "dmesg: [    1.000000] x" {
		t.Errorf("diagnostics = %q", d)
	}
}

func TestParseKernelLogAttached(t *testing.T) {
	rep := parseString(t, "KTAP version 1\n1..2\nok 1 a\n[    2.000000] WARNING: CPU: 0 PID: 1\nok 2 b\n[    3.000000] reboot: Power down\n")
	if l := rep.Tests[1].Log; len(l) != 1 || !strings.Contains(l[0], "WARNING") {
		t.Errorf("log of b = %q", l)
	}
	if l := rep.TrailingLog; len(l) != 1 || !strings.Contains(l[0], "Power down") {
		t.Errorf("trailing log = %q", l)
	}
}

func TestParseLongLine(t *testing.T) {
	long := strings.Repeat("x", 3*maxLine)
	rep := parseString(t, "KTAP version 1\n1..1\n# "+long+"\nok 1 a\n")
	if got := flat(rep); got != "a=pass" {
		t.Fatalf("tree = %q", got)
	}
	if d := rep.Tests[0].Diagnostics; len(d) != 1 || len(d[0]) >= maxLine {
		t.Errorf("long diagnostic not cut: %d lines, %d bytes", len(d), len(d[0]))
	}
}

func TestParseRunnerError(t *testing.T) {
	log := "KTAP version 1\n1..1\nok 1 a\n" + ErrorMarker(errors.New("suite: writing KTAP: EIO")) + "\n"
	rep := parseString(t, log)
	if err := rep.Check(); err == nil || !strings.Contains(err.Error(), "runner error: suite: writing KTAP: EIO") {
		t.Errorf("Check() = %v", err)
	}
}

func TestParseExitOnly(t *testing.T) {
	rep := parseString(t, "hello\n# selfptrace-vm: exit status=159 signal=SIGSYS\n")
	if rep.Exit == nil || rep.Exit.Status != 159 || rep.Exit.Signal != "SIGSYS" {
		t.Errorf("Exit = %+v", rep.Exit)
	}
	if !errors.Is(rep.Check(), ErrNoKTAP) {
		t.Errorf("Check() = %v, want ErrNoKTAP", rep.Check())
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("serial port gone") }

func TestParseReadError(t *testing.T) {
	if _, err := Parse(errReader{}); err == nil || !strings.Contains(err.Error(), "serial port gone") {
		t.Errorf("Parse(failing reader) error = %v", err)
	}
}

// bigLog makes a console log of n top-level tests, each with subtests,
// output lines and kernel noise.
func bigLog(n int) []byte {
	var b bytes.Buffer
	b.WriteString("[    0.000000] Linux version 6.12.58-selfptrace\r\n")
	w := NewWriter(&b)
	w.Header(n)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("pkg%d.TestCase%d", i%7, i)
		w.Announce(name)
		for j := 0; j < 8; j++ {
			w.Diagf("    case_test.go:%d: iteration %d of test %d", 10+j, j, i)
		}
		if i%50 == 0 {
			fmt.Fprintf(&b, "[ %5d.%06d] random: crng reseeded\r\n", i/1000, i%1000000)
		}
		sub := w.Sub()
		sub.Header(4)
		for j := 1; j <= 4; j++ {
			sub.Result(Pass, fmt.Sprintf("sub_%d", j), "")
		}
		w.Result(Pass, name, "")
	}
	w.Summary()
	return b.Bytes()
}

func BenchmarkParse(b *testing.B) {
	log := bigLog(20000)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Parse(bytes.NewReader(log))
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Tests) != 20000 {
			b.Fatalf("%d tests", len(rep.Tests))
		}
	}
}

func TestBigLog(t *testing.T) {
	rep, err := Parse(bytes.NewReader(bigLog(500)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Check(); err != nil {
		t.Fatal(err)
	}
	if c := rep.Counts(); c.Pass != 500 || c.Total != 500 {
		t.Errorf("counts = %v", c)
	}
}
