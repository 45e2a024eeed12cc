package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/compare"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/rig"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// kernelSide is one of the two kernels compare runs: a checkout (its
// series, configs and guest tests) and a flavour.
type kernelSide struct {
	label   string
	root    string
	vanilla bool
}

func runCompare(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var roots multiFlag
	var jsonOut, filter, suite, pkgs string
	var reruns int
	fs := newFlagSet("compare", e.stderr, "--arch A|all [--root A --root B] [--suite kselftest|go] [--json F]")
	b.register(fs, true)
	// --root is repeatable here: two checkouts to compare.
	rf := fs.Lookup("root")
	rf.Value = &roots
	rf.Usage = "a selfptrace-vm checkout; give it twice (--root A --root B) to compare two series, both patched; without it the patched kernel of the working checkout is compared with the vanilla one"
	fs.StringVar(&jsonOut, "json", "", "write the comparison as JSON to this file")
	fs.StringVar(&suite, "suite", "kselftest", "what to run on both kernels: kselftest (the upstream seccomp, SUD and ptrace kselftests) or go (the guest Go suite, --tests)")
	fs.StringVar(&pkgs, "tests", strings.Join(defaultSuite, ","), "comma-separated guest test packages (--suite go)")
	fs.StringVar(&filter, "run", "", "only run top-level guest tests matching this regular expression (--suite go)")
	fs.IntVar(&reruns, "reruns", 1, "how many times a disagreement is rerun on both kernels before it is judged")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if err := notWith(fs, true, "to compare: it chooses the kernels itself (patched against vanilla, or --root A --root B)", "vanilla", "as-is"); err != nil {
		return err
	}
	if err := b.finish(true); err != nil {
		return err
	}
	if err := checkOutputs(outputFile{"json", jsonOut}); err != nil {
		return err
	}
	if suite != "kselftest" && suite != "go" {
		return usagef("--suite must be kselftest or go, not %q", suite)
	}
	if err := notWith(fs, suite == "kselftest", "with --suite kselftest (the kselftests run whole; --suite go runs --tests and --run)", "run", "tests"); err != nil {
		return err
	}
	if filter != "" {
		if _, err := regexp.Compile(filter); err != nil {
			return usagef("--run: %v", err)
		}
	}
	if reruns < 1 {
		return usagef("--reruns must be at least 1: a disagreement is always rerun")
	}
	var sides [2]kernelSide
	switch len(roots) {
	case 0:
		sides = [2]kernelSide{{"vanilla " + b.root, b.root, true}, {"patched " + b.root, b.root, false}}
	case 2:
		for i, r := range roots {
			abs, err := filepath.Abs(r)
			if err != nil {
				return err
			}
			if !isRoot(abs) {
				return usagef("--root %s is not a selfptrace-vm checkout (go.mod, patches/, configs/, tests/)", r)
			}
			sides[i] = kernelSide{"patched " + abs, abs, false}
		}
	default:
		return usagef("--root is given twice or not at all (got %d)", len(roots))
	}
	var packages []string
	if suite == "go" {
		for _, p := range strings.Split(pkgs, ",") {
			if p = strings.TrimSpace(p); p != "" {
				packages = append(packages, p)
			}
		}
		if len(packages) == 0 {
			return usagef("--tests names no package")
		}
	}

	rep := newReporter(e.stderr)
	// runSide runs one kernel on every arch; round names the output directory.
	runSide := func(s kernelSide, round, filter string) ([]report.Run, error) {
		runs := make([]report.Run, len(b.archs))
		err := runAll(ctx, b.archs, func(ctx context.Context, i int, a arch.Spec) error {
			o := b.options(a, plan.Suite)
			o.OutDir = filepath.Join(b.outDir, round, a.Name)
			o.Kernel.SeriesDir = filepath.Join(s.root, "patches", "linux-6.12")
			o.Kernel.ConfigDir = filepath.Join(s.root, "configs")
			o.Kernel.Vanilla = s.vanilla
			o.ModuleDir = s.root
			o.Tests = testPackages(packages, b.testTimeout)
			o.Kselftests = suite == "kselftest"
			o.Filter = filter
			o.Progress = rep
			res, err := rig.Run(ctx, o)
			runs[i] = res.Run
			return err
		})
		for _, r := range runs {
			fmt.Fprintf(e.stderr, "compare: %s on %s: %s, %d results\n", round, r.Arch, r.Outcome, len(r.Tests))
		}
		return runs, err
	}
	first := [2][]report.Run{}
	for i, s := range sides {
		runs, err := runSide(s, fmt.Sprintf("%c-0", 'a'+i), filter)
		if err != nil {
			return err
		}
		first[i] = runs
	}
	out := compare.Report{A: sides[0].label, B: sides[1].label, Reruns: reruns}
	for ai, a := range b.archs {
		sa := compare.Side{compare.Statuses(first[0][ai])}
		sb := compare.Side{compare.Statuses(first[1][ai])}
		dis := compare.Disagreements(sa[0], sb[0])
		if len(dis) > 0 {
			fmt.Fprintf(e.stderr, "compare: %s: %d disagreement(s), rerunning both kernels %d time(s)\n", a.Name, len(dis), reruns)
			rerunFilter := topLevelFilter(dis, filter)
			want := map[string]bool{}
			for _, n := range dis {
				want[n] = true
			}
			for n := 1; n <= reruns; n++ {
				for i, s := range sides {
					run, err := runSideArch(runSide, &b, a, s, fmt.Sprintf("%c-%d", 'a'+i, n), rerunFilter)
					if err != nil {
						return err
					}
					only := map[string]string{}
					for name, st := range compare.Statuses(run) {
						if want[name] {
							only[name] = st
						}
					}
					for _, name := range dis {
						if _, ok := only[name]; !ok {
							only[name] = compare.Missing
						}
					}
					if i == 0 {
						sa = append(sa, only)
					} else {
						sb = append(sb, only)
					}
				}
			}
		}
		out.Results = append(out.Results, compare.Classify(a.Name, sa, sb)...)
		for i, r := range []report.Run{first[0][ai], first[1][ai]} {
			if r.Outcome != vm.OutcomePass && r.Outcome != vm.OutcomeFail {
				fmt.Fprintf(e.stderr, "compare: warning: %s on %s ended %s: %s\n", sides[i].label, a.Name, r.Outcome, r.Error)
			}
		}
	}
	out.Finish()
	out.WriteTable(e.stdout)
	if jsonOut != "" {
		var buf bytes.Buffer
		if err := out.WriteJSON(&buf); err != nil {
			return err
		}
		if err := fsutil.WriteFileAtomic(jsonOut, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", jsonOut, err)
		}
	}
	if out.Regressed() {
		return failure{fmt.Sprintf("%d regression(s)", out.Counts.Regression)}
	}
	return nil
}

// runSideArch reruns one side on one architecture.
func runSideArch(runSide func(kernelSide, string, string) ([]report.Run, error), b *bootFlags, a arch.Spec, s kernelSide, round, filter string) (report.Run, error) {
	saved := b.archs
	b.archs = []arch.Spec{a}
	defer func() { b.archs = saved }()
	runs, err := runSide(s, round, filter)
	if len(runs) == 0 {
		return report.Run{}, err
	}
	return runs[0], err
}

// topLevelFilter selects the top-level Go tests of the named results
// ("selfptrace.TestArgs/rdi" -> TestArgs), within the user's filter.
// Kselftests always run whole: the filter does not apply to them.
func topLevelFilter(names []string, user string) string {
	seen := map[string]bool{}
	var tops []string
	for _, n := range names {
		if strings.HasPrefix(n, "kselftest.") {
			continue
		}
		_, rest, ok := strings.Cut(n, ".")
		if !ok {
			continue
		}
		top, _, _ := strings.Cut(rest, "/")
		if !seen[top] {
			seen[top] = true
			tops = append(tops, regexp.QuoteMeta(top))
		}
	}
	if len(tops) == 0 {
		return user
	}
	sort.Strings(tops)
	return "^(" + strings.Join(tops, "|") + ")$"
}
