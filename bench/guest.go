package bench

import (
	"fmt"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	"github.com/selfptrace/selfptrace-vm/report"
)

// GuestPackage is the guest benchmark's test package, and GuestTest its
// test as the rig names it in a run's results; WorkloadPackage and
// WorkloadTest are the selftrace workload benchmark's.
const (
	GuestPackage    = "./tests/bench"
	GuestTest       = "bench.TestMechanisms"
	WorkloadPackage = "./tests/tracerbench"
	WorkloadTest    = "tracerbench.TestWorkloads"
)

// ParseRun reads the guest benchmark's lines from a run's results. What
// it finds is returned even with an error, which says why the run is not
// complete.
func ParseRun(run report.Run) (benchfmt.Parsed, error) { return parseTest(run, GuestTest) }

// ParseWorkloadRun reads the workload benchmark's lines from a run's
// results, as ParseRun.
func ParseWorkloadRun(run report.Run) (benchfmt.Parsed, error) { return parseTest(run, WorkloadTest) }

func parseTest(run report.Run, name string) (benchfmt.Parsed, error) {
	for _, t := range run.Tests {
		if t.Name != name {
			continue
		}
		p, err := benchfmt.Parse(t.Output)
		if err != nil {
			return p, fmt.Errorf("%s: %w", name, err)
		}
		if p.Empty() {
			return p, fmt.Errorf("%s (%s) printed no benchmark line", name, t.Status)
		}
		if t.Status != report.Pass {
			return p, fmt.Errorf("%s: %s", name, t.Status)
		}
		return p, nil
	}
	msg := fmt.Sprintf("the run has no result for %s: outcome %s", name, run.Outcome)
	if run.Error != "" {
		msg += ": " + run.Error
	}
	return benchfmt.Parsed{}, fmt.Errorf("%s", msg)
}
