package benchfmt

import (
	"reflect"
	"strings"
	"testing"
)

func TestFormatParseRoundTrip(t *testing.T) {
	env := Env{GOARCH: "s390x", CPUs: 1, Kernel: "6.12.117 #1", SelfPtrace: true, Samples: 9, SampleTime: "100ms", Warmup: 1, ClockSource: "tod", ClockResNs: 1}
	res := Result{Mech: SelfPtrace, NsPerCall: []float64{1.5, 2.25}, Iters: 1000, Warmup: 1, Note: "n"}
	na := Result{Mech: PtraceSysemu, NA: "no such thing"}
	var lines []string
	for _, v := range []any{env, res, &na} {
		l, err := Format(v)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	// As the host sees them: between the test's other output, indented.
	out := "=== RUN   TestMechanisms\n" + lines[0] + "\n    " + lines[1] + "\r\n[   12.5] kernel says BENCH nothing\n" + lines[2] + "\n--- PASS"
	p, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.Env == nil || !reflect.DeepEqual(*p.Env, env) {
		t.Errorf("env = %+v, want %+v", p.Env, env)
	}
	if want := []Result{res, na}; !reflect.DeepEqual(p.Results, want) {
		t.Errorf("results = %+v, want %+v", p.Results, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, out := range []string{
		`BENCH {"mech": "x", "iters": "many"}`,
		`BENCH {"iters": 3}`,
		`BENCHENV {"cpus": "one"}`,
		`BENCH {"mech":"baseline","ns_per_call":[1,2`,
	} {
		if _, err := Parse(out); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("Parse(%q) = %v, want an error naming line 1", out, err)
		}
	}
	if _, err := Format(42); err == nil {
		t.Error("Format(int) succeeded")
	}
}

func TestMechanismsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Mechanisms() {
		if seen[m] || m == "" || m == "all" || strings.ContainsAny(m, ", ") {
			t.Errorf("bad or duplicate mechanism name %q", m)
		}
		seen[m] = true
	}
}
