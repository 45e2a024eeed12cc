package prefix

import (
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

func run(outcome vm.Outcome, tests ...report.Test) report.Run {
	return report.Run{Arch: "x86_64", Outcome: outcome, Tests: tests}
}

func TestExpectFor(t *testing.T) {
	for _, c := range []struct {
		k, feature int
		want       Expect
	}{{0, 6, Vanilla}, {5, 6, Vanilla}, {6, 6, Feature}, {12, 6, Feature}, {12, 0, Vanilla}} {
		if got := ExpectFor(c.k, c.feature); got != c.want {
			t.Errorf("ExpectFor(%d, %d) = %s, want %s", c.k, c.feature, got, c.want)
		}
	}
}

func TestJudge(t *testing.T) {
	smoke := report.Test{Name: "smoke.TestUname", Status: report.Pass}
	unsupported := report.Test{Name: "selfptrace.TestDelivery", Status: report.Fail, Output: "PTRACE_SELF_ON not supported by this kernel: ESRCH"}
	passing := report.Test{Name: "selfptrace.TestDelivery", Status: report.Pass}
	broken := report.Test{Name: "selfptrace.TestDelivery", Status: report.Fail, Output: "si_errno = 42, want 0"}
	for _, c := range []struct {
		name string
		run  report.Run
		want Expect
		ok   bool
	}{
		{"vanilla-like before the feature", run(vm.OutcomeFail, smoke, unsupported), Vanilla, true},
		{"feature passes", run(vm.OutcomePass, smoke, passing), Feature, true},
		{"feature too early", run(vm.OutcomePass, smoke, passing), Vanilla, false},
		{"broken feature before its patch", run(vm.OutcomeFail, smoke, broken), Vanilla, false},
		{"broken feature", run(vm.OutcomeFail, smoke, broken), Feature, false},
		{"smoke broken", run(vm.OutcomeFail, report.Test{Name: "smoke.TestUname", Status: report.Fail}, unsupported), Vanilla, false},
		{"kernel panicked", run(vm.OutcomePanic), Vanilla, false},
	} {
		got := Judge(c.run, c.want)
		if (len(got) == 0) != c.ok {
			t.Errorf("%s: problems %q, want ok=%v", c.name, got, c.ok)
		}
		if !c.ok && len(got) > 0 && strings.TrimSpace(got[0]) == "" {
			t.Errorf("%s: an empty problem", c.name)
		}
	}
}
