package compare

import (
	"bytes"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	a := Side{
		{"t.Same": "pass", "t.Broke": "pass", "t.Healed": "fail", "t.Flip": "pass", "t.Gone": "pass", "t.SkipNow": "pass", "t.BadBoth": "fail"},
		{"t.Broke": "pass", "t.Healed": "fail", "t.Flip": "fail", "t.Gone": "pass", "t.SkipNow": "pass", "t.BadBoth": "fail"},
	}
	b := Side{
		{"t.Same": "pass", "t.Broke": "fail", "t.Healed": "pass", "t.Flip": "fail", "t.SkipNow": "skip", "t.BadBoth": "timeout", "t.New": "pass"},
		{"t.Broke": "fail", "t.Healed": "pass", "t.Flip": "fail", "t.Gone": "missing", "t.SkipNow": "skip", "t.BadBoth": "timeout"},
	}
	want := map[string]string{
		"t.Same":    Unchanged,
		"t.Broke":   Regression,
		"t.Healed":  Fixed,
		"t.Flip":    Flaky,
		"t.Gone":    Regression,
		"t.SkipNow": Regression,
		"t.BadBoth": Unchanged,
		"t.New":     Fixed,
	}
	rep := Report{Results: Classify("x86_64", a, b)}
	rep.Finish()
	got := map[string]string{}
	for _, r := range rep.Results {
		got[r.Name] = r.Class
	}
	for n, c := range want {
		if got[n] != c {
			t.Errorf("%s: %s, want %s (a=%v b=%v)", n, got[n], c, a.present(n), b.present(n))
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d results, want %d: %v", len(got), len(want), got)
	}
	if rep.Counts != (Counts{Unchanged: 2, Regression: 3, Fixed: 2, Flaky: 1}) || !rep.Regressed() {
		t.Errorf("counts %+v", rep.Counts)
	}
	if rep.Results[0].Class != Regression {
		t.Errorf("regressions must come first: %+v", rep.Results[0])
	}
	var buf bytes.Buffer
	rep.WriteTable(&buf)
	if !strings.Contains(buf.String(), "regression x86_64   pass,pass    fail,fail    t.Broke") {
		t.Errorf("table:\n%s", buf.String())
	}
}

func TestDisagreements(t *testing.T) {
	got := Disagreements(map[string]string{"a": "pass", "b": "fail", "c": "skip"}, map[string]string{"a": "pass", "b": "pass", "d": "pass"})
	if strings.Join(got, ",") != "b,c,d" {
		t.Errorf("Disagreements = %v, want b,c,d", got)
	}
}

func TestNoRegressionPasses(t *testing.T) {
	rep := Report{Results: Classify("s390x", Side{{"x": "pass", "y": "fail"}}, Side{{"x": "pass", "y": "pass"}})}
	rep.Finish()
	if rep.Regressed() || rep.Counts.Fixed != 1 || rep.Counts.Unchanged != 1 {
		t.Errorf("counts %+v", rep.Counts)
	}
}
