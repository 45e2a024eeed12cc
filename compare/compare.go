// Package compare classifies the results of the same tests on two kernels
// (A, the reference, and B, the candidate): unchanged, regression, fixed or
// flaky. A disagreement between A and B only counts once it survived a
// rerun of both sides; a result that changes between runs of the same
// kernel is flaky.
package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/selfptrace/selfptrace-vm/report"
)

// Classes of a result.
const (
	Unchanged  = "unchanged"
	Regression = "regression"
	Fixed      = "fixed"
	Flaky      = "flaky"
)

// Missing is the status of a test absent from one side's results.
const Missing = "missing"

// Result is one test on one architecture.
type Result struct {
	Arch  string `json:"arch"`
	Name  string `json:"name"`
	Class string `json:"class"`
	// A and B hold every status seen on each side, first run first.
	A []string `json:"a"`
	B []string `json:"b"`
}

// Report is a whole comparison.
type Report struct {
	A       string   `json:"a"`
	B       string   `json:"b"`
	Reruns  int      `json:"reruns"`
	Results []Result `json:"results"`
	Counts  Counts   `json:"counts"`
}

// Counts per class.
type Counts struct {
	Unchanged  int `json:"unchanged"`
	Regression int `json:"regression"`
	Fixed      int `json:"fixed"`
	Flaky      int `json:"flaky"`
}

// Regressed reports whether the gate must fail.
func (r Report) Regressed() bool { return r.Counts.Regression > 0 }

// rank orders statuses from good to bad; a change to a worse rank is a
// regression, to a better one a fix.
func rank(status string) int {
	switch status {
	case report.Pass:
		return 0
	case report.Skip:
		return 1
	default: // fail, timeout, missing
		return 2
	}
}

// Statuses maps each test of one architecture's run to its status.
func Statuses(r report.Run) map[string]string {
	m := map[string]string{}
	for _, t := range r.Tests {
		m[t.Name] = t.Status
	}
	return m
}

// Side is every run of one kernel on one architecture, first run first.
type Side []map[string]string

// Disagreements returns the tests whose first results differ between a and b:
// the ones to rerun before judging.
func Disagreements(a, b map[string]string) []string {
	var out []string
	for _, n := range names(a, b) {
		sa, oka := a[n]
		sb, okb := b[n]
		if !oka {
			sa = Missing
		}
		if !okb {
			sb = Missing
		}
		if sa != sb {
			out = append(out, n)
		}
	}
	return out
}

func names(ms ...map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for n := range m {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Classify judges every test of one architecture from all runs of both
// sides. A test rerun on one side only (it agreed at first) keeps its
// single result there. A test whose statuses differ within a side is flaky;
// otherwise A and B are compared by rank.
func Classify(archName string, a, b Side) []Result {
	var all []map[string]string
	all = append(all, a...)
	all = append(all, b...)
	var out []Result
	for _, n := range names(all...) {
		sa, sb := a.present(n), b.present(n)
		res := Result{Arch: archName, Name: n, A: sa, B: sb}
		switch {
		case !uniform(sa) || !uniform(sb):
			res.Class = Flaky
		case sa[0] == sb[0]:
			res.Class = Unchanged
		case rank(sb[0]) > rank(sa[0]):
			res.Class = Regression
		case rank(sb[0]) < rank(sa[0]):
			res.Class = Fixed
		default:
			// Same rank, different words (fail against timeout or missing):
			// bad on both kernels.
			res.Class = Unchanged
		}
		out = append(out, res)
	}
	return out
}

// present returns the statuses of name in the runs that include it, or in
// the first run only (as missing) when none does. Reruns cover only the
// disagreeing tests, so a test absent from a rerun was not run there.
func (s Side) present(name string) []string {
	var out []string
	for i, run := range s {
		st, ok := run[name]
		if !ok {
			if i > 0 {
				continue
			}
			st = Missing
		}
		out = append(out, st)
	}
	return out
}

func uniform(s []string) bool {
	for _, v := range s {
		if v != s[0] {
			return false
		}
	}
	return true
}

// Finish counts the classes and sorts the results: regressions first.
func (r *Report) Finish() {
	r.Counts = Counts{}
	order := map[string]int{Regression: 0, Flaky: 1, Fixed: 2, Unchanged: 3}
	sort.SliceStable(r.Results, func(i, j int) bool {
		a, b := r.Results[i], r.Results[j]
		if order[a.Class] != order[b.Class] {
			return order[a.Class] < order[b.Class]
		}
		if a.Arch != b.Arch {
			return a.Arch < b.Arch
		}
		return a.Name < b.Name
	})
	for _, res := range r.Results {
		switch res.Class {
		case Unchanged:
			r.Counts.Unchanged++
		case Regression:
			r.Counts.Regression++
		case Fixed:
			r.Counts.Fixed++
		case Flaky:
			r.Counts.Flaky++
		}
	}
}

// WriteTable writes the changed results in full and the unchanged ones as a
// count per architecture.
func (r Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "A: %s\nB: %s\n", r.A, r.B)
	fmt.Fprintf(w, "%-10s %-8s %-12s %-12s %s\n", "CLASS", "ARCH", "A", "B", "TEST")
	unchanged := map[string]int{}
	for _, res := range r.Results {
		if res.Class == Unchanged {
			unchanged[res.Arch]++
			continue
		}
		fmt.Fprintf(w, "%-10s %-8s %-12s %-12s %s\n", res.Class, res.Arch, strings.Join(res.A, ","), strings.Join(res.B, ","), res.Name)
	}
	var archs []string
	for a := range unchanged {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	for _, a := range archs {
		fmt.Fprintf(w, "%-10s %-8s %d tests with the same result on both kernels\n", Unchanged, a, unchanged[a])
	}
	fmt.Fprintf(w, "regression=%d fixed=%d flaky=%d unchanged=%d (disagreements rerun %d time(s) on both kernels)\n",
		r.Counts.Regression, r.Counts.Fixed, r.Counts.Flaky, r.Counts.Unchanged, r.Reruns)
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
