package bench

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want Summary
	}{
		{[]float64{5}, Summary{N: 1, Median: 5, Min: 5, Max: 5, Q1: 5, Q3: 5}},
		{[]float64{4, 1, 3, 2}, Summary{N: 4, Median: 2.5, Min: 1, Max: 4, Q1: 1.75, Q3: 3.25}},
		// numpy.percentile([1,2,3,4,5,6,7,8,100], [25,50,75]) = 3, 5, 7
		{[]float64{100, 1, 2, 3, 4, 5, 6, 7, 8}, Summary{N: 9, Median: 5, Min: 1, Max: 100, Q1: 3, Q3: 7}},
	} {
		got, err := Summarize(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got.N != c.want.N || !near(got.Median, c.want.Median) || !near(got.Min, c.want.Min) || !near(got.Max, c.want.Max) ||
			!near(got.Q1, c.want.Q1) || !near(got.Q3, c.want.Q3) {
			t.Errorf("Summarize(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 {
		t.Error("Summarize sorted its input")
	}
	for _, bad := range [][]float64{nil, {1, 0}, {1, -2}, {math.NaN()}, {math.Inf(1)}} {
		if _, err := Summarize(bad); err == nil {
			t.Errorf("Summarize(%v) succeeded", bad)
		}
	}
}

func TestRatio(t *testing.T) {
	a := Summary{Median: 30, Q1: 27, Q3: 33}
	b := Summary{Median: 10, Q1: 9, Q3: 11}
	r := RatioOf(a, b)
	if !near(r.Value, 3) || !near(r.Lo, 27.0/11) || !near(r.Hi, 33.0/9) {
		t.Errorf("RatioOf = %+v", r)
	}
	for _, c := range []struct {
		r    Ratio
		want string
	}{
		{Ratio{Value: 1.02, Lo: 0.95, Hi: 1.1}, "no measurable difference"},
		{Ratio{Value: 1.2, Lo: 1.1, Hi: 1.3}, "the patched kernel slower by 20.0% in this run, beyond the spread of 3+3 boots"},
		{Ratio{Value: 0.9, Lo: 0.85, Hi: 0.95}, "the patched kernel faster by 10.0%"},
	} {
		n := NotArmed{Ratio: c.r, PatchedNs: []float64{1, 2, 3}, VanillaNs: []float64{1, 2, 3}}
		if got := n.Verdict(); !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v.Verdict() = %q, want %q...", c.r, got, c.want)
		}
	}
	few := NotArmed{Ratio: Ratio{Value: 1.28, Lo: 1.28, Hi: 1.28}, PatchedNs: []float64{1}, VanillaNs: []float64{1, 2}}
	if got := few.Verdict(); !strings.HasPrefix(got, "too few boots") {
		t.Errorf("one patched boot: %q", got)
	}
	p, err := PairedRatio([]float64{20, 44, 30}, []float64{10, 20, 10})
	if err != nil || !near(p.Value, 2.2) || !near(p.Lo, 2.1) || !near(p.Hi, 2.6) || p.Method != RatioPaired {
		t.Errorf("PairedRatio = %+v, %v; want 2.2 (2.1-2.6) paired", p, err)
	}
	if _, err := PairedRatio([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("PairedRatio of unequal lengths succeeded")
	}
	if got := (Summary{Median: 10, Q1: 9, Q3: 12}).Spread(); !near(got, 0.15) {
		t.Errorf("Spread = %v, want 0.15", got)
	}
}
