package bench

import (
	"fmt"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	"github.com/selfptrace/selfptrace-vm/report"
)

// GuestPackage is the guest benchmark's test package, and GuestTest its
// test as the rig names it in a run's results.
const (
	GuestPackage = "./tests/bench"
	GuestTest    = "bench.TestMechanisms"
)

// ParseRun reads the guest benchmark's lines from a run's results. What
// it finds is returned even with an error, which says why the run is not
// complete.
func ParseRun(run report.Run) (benchfmt.Parsed, error) {
	for _, t := range run.Tests {
		if t.Name != GuestTest {
			continue
		}
		p, err := benchfmt.Parse(t.Output)
		if err != nil {
			return p, fmt.Errorf("%s: %w", GuestTest, err)
		}
		if p.Env == nil && len(p.Results) == 0 {
			return p, fmt.Errorf("%s (%s) printed no benchmark line", GuestTest, t.Status)
		}
		if t.Status != report.Pass {
			return p, fmt.Errorf("%s: %s", GuestTest, t.Status)
		}
		return p, nil
	}
	msg := fmt.Sprintf("the run has no result for %s: outcome %s", GuestTest, run.Outcome)
	if run.Error != "" {
		msg += ": " + run.Error
	}
	return benchfmt.Parsed{}, fmt.Errorf("%s", msg)
}
