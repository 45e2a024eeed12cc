// Package prefix judges the guest suite's results on a kernel built from a
// prefix of the series (the first K patches). The series is opt-in per
// architecture: before the patch that selects HAVE_ARCH_SELF_PTRACE for an
// architecture, its kernel must behave like one without the series (the
// smoke tests pass, every feature test fails saying the kernel lacks the
// feature); from that patch on, every test must pass.
package prefix

import (
	"fmt"
	"strings"

	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// Expect is what a prefix's kernel must do on one architecture.
type Expect string

const (
	// Vanilla: the architecture has not got the feature yet.
	Vanilla Expect = "vanilla"
	// Feature: the architecture has the feature: everything passes.
	Feature Expect = "feature"
)

// ExpectFor says what a kernel with k patches must do on an architecture
// that gets the feature from patch featurePatch (0: never).
func ExpectFor(k, featurePatch int) Expect {
	if featurePatch > 0 && k >= featurePatch {
		return Feature
	}
	return Vanilla
}

// unsupported is what a feature test says on a kernel without the feature.
const unsupported = "not supported by this kernel"

// Judge returns what is wrong with run for the expectation, or nothing.
func Judge(run report.Run, want Expect) []string {
	var problems []string
	switch {
	case want == Feature && run.Outcome != vm.OutcomePass:
		problems = append(problems, fmt.Sprintf("outcome %s, want pass", run.Outcome))
	case want == Vanilla && run.Outcome != vm.OutcomeFail:
		problems = append(problems, fmt.Sprintf("outcome %s, want fail (the feature tests fail, nothing else)", run.Outcome))
	}
	var features, smoke int
	for _, tc := range run.Tests {
		top := !strings.Contains(tc.Name, "/")
		switch {
		case strings.HasPrefix(tc.Name, "smoke.") && top:
			smoke++
			if tc.Status != report.Pass {
				problems = append(problems, fmt.Sprintf("%s is %s", tc.Name, tc.Status))
			}
		case strings.HasPrefix(tc.Name, "selfptrace.") && top:
			features++
			switch {
			case want == Feature && tc.Status != report.Pass:
				problems = append(problems, fmt.Sprintf("%s is %s", tc.Name, tc.Status))
			case want == Vanilla && tc.Status != report.Fail:
				problems = append(problems, fmt.Sprintf("%s is %s before the arch has the feature, want fail", tc.Name, tc.Status))
			case want == Vanilla && !strings.Contains(tc.Output, unsupported):
				problems = append(problems, fmt.Sprintf("%s failed without saying the feature is %s", tc.Name, unsupported))
			}
		}
	}
	if smoke == 0 || features == 0 {
		problems = append(problems, fmt.Sprintf("%d smoke and %d feature tests ran", smoke, features))
	}
	return problems
}
