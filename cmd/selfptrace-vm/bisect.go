package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/selfptrace/selfptrace-vm/bisect"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/rig"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// exitAbort makes `git bisect run` stop: the rig itself failed, so the
// commit says nothing (git bisect aborts on codes above 127).
const exitAbort = 128

func runBisect(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var filter, seriesDir, pkgs, jsonOut string
	var good, bad int
	var step, kselftests bool
	fs := newFlagSet("bisect", e.stderr, "--arch A --run REGEXP [--series DIR] [--good K] [--bad N] | --step --kernel-src GIT-TREE --run REGEXP")
	b.register(fs, false)
	fs.StringVar(&filter, "run", "", "the top-level guest tests to judge by (regular expression, required)")
	fs.StringVar(&seriesDir, "series", "", "the quilt series to search (default: patches/linux-6.12 of the checkout)")
	fs.IntVar(&good, "good", -1, "number of leading patches under which the test passes (default: the patch that gives the arch the feature, where a feature test can first pass; 0 if no patch does)")
	fs.IntVar(&bad, "bad", -1, "number of leading patches under which the test fails (default: the whole series)")
	fs.StringVar(&pkgs, "tests", strings.Join(defaultSuite, ","), "comma-separated guest test packages")
	fs.StringVar(&jsonOut, "json", "", "write the steps, the culprit and the number of kernels built as JSON to this file")
	fs.BoolVar(&kselftests, "kselftest", false, "judge by the kselftests instead of the Go suite")
	fs.BoolVar(&step, "step", false, "one step of git bisect run: build --kernel-src (a kernel git tree) as it is, without the series, and exit 0 (good), 1 (bad), 125 (cannot build or boot) or 128 (the rig failed: abort)")
	err := parse(fs, args)
	if err == nil && fs.NArg() > 0 {
		err = usagef("unexpected arguments: %v", fs.Args())
	}
	if err == nil {
		err = b.finish(false)
	}
	if err == nil {
		err = checkOutputs(outputFile{"json", jsonOut})
	}
	if err == nil {
		err = notWith(fs, step, "with --step: git bisect chooses the kernel tree's commits, and --kernel-src is built as it is", "good", "bad", "series")
	}
	if err == nil {
		err = notWith(fs, kselftests, "with --kselftest: the kselftests are judged whole", "run", "tests")
	}
	if err == nil && filter == "" && !kselftests {
		err = usagef("--run is required: the test to bisect by")
	}
	if err == nil && filter != "" {
		if _, rerr := regexp.Compile(filter); rerr != nil {
			err = usagef("--run: %v", rerr)
		}
	}
	if err != nil {
		if step && !errors.Is(err, errHelp) {
			fmt.Fprintf(e.stderr, "selfptrace-vm bisect: %v\n", err)
			return exitStatus{exitAbort}
		}
		return err
	}
	var packages []string
	if !kselftests {
		for _, p := range strings.Split(pkgs, ",") {
			if p = strings.TrimSpace(p); p != "" {
				packages = append(packages, p)
			}
		}
	}
	a := b.archs[0]
	rep := newReporter(e.stderr)
	builds := 0
	// probe builds the kernel from series (nil: --kernel-src as it is), runs
	// the test and judges it.
	probe := func(ctx context.Context, name string, series string) (bisect.Verdict, error) {
		o := b.options(a, plan.Suite)
		o.OutDir = filepath.Join(b.outDir, name)
		if series == "" {
			o.Kernel.AsIs = true // --step: the tree as git bisect checked it out
		} else {
			o.Kernel.SeriesDir = series
		}
		o.Tests = testPackages(packages, b.testTimeout)
		o.Kselftests = kselftests
		o.Filter = filter
		o.Progress = rep
		res, err := rig.Run(ctx, o)
		if res != nil && res.Kernel != nil && !res.Kernel.CacheHit {
			builds++
		}
		v, why, err := judgeProbe(res, err)
		fmt.Fprintf(e.stderr, "bisect: %s: %s (%s)\n", name, v, why)
		return v, err
	}

	if step {
		v, err := probe(ctx, "step", "")
		if err != nil {
			fmt.Fprintf(e.stderr, "selfptrace-vm bisect: %v\n", err)
			return exitStatus{exitAbort}
		}
		fmt.Fprintln(e.stdout, v)
		return exitStatus{int(v)}
	}

	series, err := readSeriesFlag(fs, seriesDir, b.root)
	if err != nil {
		return err
	}
	if bad < 0 {
		bad = len(series)
	}
	if !flagSet(fs, "good") {
		// Before the patch that selects HAVE_ARCH_SELF_PTRACE for the
		// arch no feature test can pass: the good end is that patch.
		good = kbuild.FeaturePatch(series, a.KernelDir)
		why := "no patch gives " + a.Name + " the feature"
		if good > 0 {
			why = series[good-1].Name + " gives " + a.Name + " the feature"
		}
		fmt.Fprintf(e.stderr, "bisect: good end %d of %d patches (%s; --good overrides)\n", good, len(series), why)
	}
	if good < 0 || bad > len(series) || good >= bad {
		return usagef("need 0 <= --good < --bad <= %d (the series has %d patches); got %d and %d", len(series), len(series), good, bad)
	}
	scratch := filepath.Join(b.outDir, "series")
	res, err := bisect.Search(ctx, good, bad, func(ctx context.Context, k int) (bisect.Verdict, error) {
		dir, err := prefixSeries(scratch, series, k)
		if err != nil {
			return bisect.Skip, err
		}
		return probe(ctx, fmt.Sprintf("patches-%d", k), dir)
	})
	if err != nil {
		switch {
		case errors.Is(err, bisect.ErrNotGood):
			return failure{fmt.Sprintf("%v (%d patches); give --good K with a K where it passes (0 for a test that does not need the feature, or a prefix that ends before the breakage)", err, good)}
		case errors.Is(err, bisect.ErrNotBad):
			return failure{fmt.Sprintf("%v (%d patches): there is nothing to bisect; give --bad N with an N where it fails", err, bad)}
		}
		return err
	}
	for _, s := range res.Steps {
		last := "(none)"
		if s.Patches > 0 {
			last = series[s.Patches-1].Name
		}
		fmt.Fprintf(e.stdout, "%-5s with %d of %d patches (last %s)\n", s.Verdict, s.Patches, len(series), last)
	}
	if res.Exact() {
		fmt.Fprintf(e.stdout, "first bad patch: %d of %d: %s\n", res.FirstBad, len(series), series[res.FirstBad-1].Name)
	} else {
		fmt.Fprintf(e.stdout, "first bad patch: one of %d..%d (the kernels between could not be built or booted)\n", res.LastGood+1, res.FirstBad)
	}
	fmt.Fprintf(e.stdout, "%d probes, %d kernels built (the others were in the cache)\n", len(res.Steps), builds)
	if jsonOut == "" {
		return nil
	}
	return writeBisectJSON(jsonOut, res, series, builds)
}

// judgeProbe turns one run into a verdict. A kernel that does not build or
// boot says nothing about the test (skip); a kernel that panics or hangs
// under the test is bad. A rig failure is an error.
func judgeProbe(res *rig.Result, err error) (bisect.Verdict, string, error) {
	if err != nil {
		var se *kbuild.StepError
		if errors.As(err, &se) {
			return bisect.Skip, "kernel " + se.Step + " failed", nil
		}
		return bisect.Skip, "rig error", err
	}
	r := res.Run
	switch r.Outcome {
	case vm.OutcomePass:
		ran := 0
		for _, t := range r.Tests {
			if t.Status == report.Pass {
				ran++
			}
		}
		if ran == 0 {
			return bisect.Skip, "no test ran", errors.New("--run matches no test that passed or failed: nothing to judge by")
		}
		return bisect.Good, fmt.Sprintf("%d tests passed", ran), nil
	case vm.OutcomeBootFail:
		return bisect.Skip, "the kernel did not boot", nil
	default:
		var failed []string
		for _, t := range r.Tests {
			if t.Status == report.Fail || t.Status == report.Timeout {
				failed = append(failed, t.Name)
			}
		}
		return bisect.Bad, string(r.Outcome) + ": " + strings.Join(failed, " "), nil
	}
}

// prefixSeries writes a series directory holding the first k patches.
func prefixSeries(scratch string, series []kbuild.Patch, k int) (string, error) {
	dir := filepath.Join(scratch, fmt.Sprintf("%d", k))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var list strings.Builder
	for _, p := range series[:k] {
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, p.Name), p.Content, 0o644); err != nil {
			return "", err
		}
		list.WriteString(p.Name + "\n")
	}
	return dir, fsutil.WriteFileAtomic(filepath.Join(dir, "series"), []byte(list.String()), 0o644)
}

func writeBisectJSON(path string, res bisect.Result, series []kbuild.Patch, builds int) error {
	out := struct {
		bisect.Result
		Culprit string `json:"culprit,omitempty"`
		Builds  int    `json:"builds"`
	}{Result: res, Builds: builds}
	if res.Exact() {
		out.Culprit = series[res.FirstBad-1].Name
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, append(data, '\n'), 0o644)
}
