package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/prefix"
	"github.com/selfptrace/selfptrace-vm/rig"
)

// prefixCell is one kernel of the matrix: an arch with the first K patches.
type prefixCell struct {
	Arch     string        `json:"arch"`
	Patches  int           `json:"patches"`
	Last     string        `json:"last_patch,omitempty"`
	Expect   prefix.Expect `json:"expect"`
	Outcome  string        `json:"outcome"`
	Problems []string      `json:"problems,omitempty"`
	Built    bool          `json:"built"`
	Console  string        `json:"console_log,omitempty"`
}

// runPrefixes builds every prefix of the series for every arch asked for,
// incrementally in each arch's work tree, runs the suite on each, and
// judges it: an arch that has not selected the feature yet must behave like
// vanilla, one that has must pass everything.
func runPrefixes(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var seriesDir, jsonOut string
	var from, to int
	var descending bool
	fs := newFlagSet("prefixes", e.stderr, "--arch A|all [--series DIR] [--from K] [--to N] [--descending] [--json F]")
	b.register(fs, true)
	fs.StringVar(&seriesDir, "series", "", "the quilt series (default: patches/linux-6.12 of the checkout)")
	fs.IntVar(&from, "from", 0, "the first prefix, in patches")
	fs.IntVar(&to, "to", -1, "the last prefix, in patches (default: the whole series)")
	fs.StringVar(&jsonOut, "json", "", "write every cell of the matrix as JSON to this file")
	fs.BoolVar(&descending, "descending", false, "walk each arch from the last prefix down to the first: one big rebuild fewer when the arch's work tree holds the whole series (as after test), and it is left at the first prefix")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := notWith(fs, true, "to prefixes: it builds the series' prefixes itself", "vanilla", "as-is"); err != nil {
		return err
	}
	if err := b.finish(true); err != nil {
		return err
	}
	if err := checkOutputs(outputFile{"json", jsonOut}); err != nil {
		return err
	}
	series, err := readSeriesFlag(fs, seriesDir, b.root)
	if err != nil {
		return err
	}
	if to < 0 {
		to = len(series)
	}
	if from < 0 || to > len(series) || from > to {
		return usagef("need 0 <= --from <= --to <= %d (the series has %d patches); got %d and %d", len(series), len(series), from, to)
	}
	rep := newReporter(e.stderr)
	scratch := filepath.Join(b.outDir, "series")
	var cells []prefixCell
	bad := 0
	// One arch after the other, each prefix in order: every build is
	// incremental in the arch's work tree, and two emulators never share
	// the host's CPUs with a build.
	for _, a := range b.archs {
		feature := kbuild.FeaturePatch(series, a.KernelDir)
		for _, k := range prefixOrder(from, to, descending) {
			dir, err := prefixSeries(scratch, series, k)
			if err != nil {
				return err
			}
			o := b.options(a, plan.Suite)
			o.OutDir = filepath.Join(b.outDir, a.Name, fmt.Sprintf("patches-%d", k))
			o.Kernel.SeriesDir = dir
			o.Tests = testPackages(defaultSuite, b.testTimeout)
			o.Progress = rep
			res, rerr := rig.Run(ctx, o)
			if rerr != nil && ctx.Err() != nil {
				return rerr
			}
			c := prefixCell{Arch: a.Name, Patches: k, Expect: prefix.ExpectFor(k, feature), Outcome: string(res.Run.Outcome), Console: res.Run.ConsoleLog}
			if k > 0 {
				c.Last = series[k-1].Name
			}
			if res.Kernel != nil {
				c.Built = !res.Kernel.CacheHit
			}
			if rerr != nil {
				c.Problems = []string{rerr.Error()}
			} else {
				c.Problems = prefix.Judge(res.Run, c.Expect)
			}
			if len(c.Problems) > 0 {
				bad++
			}
			fmt.Fprintf(e.stderr, "prefixes: %s with %d patches: %s\n", a.Name, k, cellWord(c))
			cells = append(cells, c)
		}
	}
	writePrefixMatrix(e, cells, b.archs, from, to, series)
	if jsonOut != "" {
		data, err := json.MarshalIndent(struct {
			Cells []prefixCell `json:"cells"`
		}{cells}, "", "  ")
		if err != nil {
			return err
		}
		if err := writeOutput(e.stdout, outputFile{"json", jsonOut}, append(data, '\n')); err != nil {
			fmt.Fprintf(e.stderr, "selfptrace-vm prefixes: %v\n", err)
		}
	}
	if bad > 0 {
		return failure{fmt.Sprintf("%d of %d kernels do not behave as their prefix must", bad, len(cells))}
	}
	return nil
}

// prefixOrder lists the prefixes from..to in the order they are built.
func prefixOrder(from, to int, descending bool) []int {
	var ks []int
	for k := from; k <= to; k++ {
		ks = append(ks, k)
	}
	if descending {
		slices.Reverse(ks)
	}
	return ks
}

// cellWord is a cell of the matrix: what the kernel had to do, and whether
// it did.
func cellWord(c prefixCell) string {
	if len(c.Problems) > 0 {
		return "WRONG (" + string(c.Expect) + "): " + strings.Join(c.Problems, "; ")
	}
	return "ok (" + string(c.Expect) + ")"
}

// writePrefixMatrix prints one line per prefix, one column per arch, then
// what went wrong.
func writePrefixMatrix(e *env, cells []prefixCell, archs []arch.Spec, from, to int, series []kbuild.Patch) {
	fmt.Fprintf(e.stdout, "%-8s", "patches")
	for _, a := range archs {
		fmt.Fprintf(e.stdout, " %-14s", a.Name)
	}
	fmt.Fprintf(e.stdout, " last patch\n")
	at := map[string]prefixCell{}
	for _, c := range cells {
		at[fmt.Sprintf("%s %d", c.Arch, c.Patches)] = c
	}
	for k := from; k <= to; k++ {
		fmt.Fprintf(e.stdout, "%-8d", k)
		for _, a := range archs {
			c, ok := at[fmt.Sprintf("%s %d", a.Name, k)]
			word := "-"
			if ok {
				word = "ok " + string(c.Expect)
				if len(c.Problems) > 0 {
					word = "WRONG"
				}
			}
			fmt.Fprintf(e.stdout, " %-14s", word)
		}
		last := "(none)"
		if k > 0 {
			last = series[k-1].Name
		}
		fmt.Fprintf(e.stdout, " %s\n", last)
	}
	for _, c := range cells {
		if len(c.Problems) > 0 {
			fmt.Fprintf(e.stdout, "%s with %d patches: %s (console: %s)\n", c.Arch, c.Patches, strings.Join(c.Problems, "; "), c.Console)
		}
	}
}
