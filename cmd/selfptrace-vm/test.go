package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/rig"
)

func runTest(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var jsonOut, junitOut, ktapOut, kcidbOut, filter, pkgs string
	var kselftests bool
	fs := newFlagSet("test", e.stderr, "--arch "+arch.Usage(true)+" [flags]")
	b.register(fs, true)
	b.registerUserland(fs)
	fs.StringVar(&jsonOut, "json", "", "write the results as JSON to this file")
	fs.StringVar(&junitOut, "junit", "", "write the results as JUnit XML to this file")
	fs.StringVar(&ktapOut, "ktap", "", "write the results as KTAP to this file")
	fs.StringVar(&kcidbOut, "kcidb", "", "write the results as KCIDB v5 JSON (checkout, builds, tests) to this file")
	fs.StringVar(&filter, "run", "", "only run top-level guest tests matching this regular expression")
	fs.StringVar(&pkgs, "tests", strings.Join(defaultSuite, ","), "comma-separated guest test packages (with --userland, "+userlandPkg+" is added to the default)")
	fs.BoolVar(&kselftests, "kselftest", false, "run the upstream kselftests of seccomp, syscall user dispatch and ptrace and the series' self_ptrace kselftest (built from the same tree; self_ptrace from the series for --vanilla) instead of the Go suite")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if err := b.finish(true); err != nil {
		return err
	}
	if err := notWith(fs, kselftests, "with --kselftest: the kselftests run whole, instead of the Go suite", "tests", "run", "userland"); err != nil {
		return err
	}
	if filter != "" {
		if _, err := regexp.Compile(filter); err != nil {
			return usagef("--run: %v", err)
		}
	}
	if b.userland != nil && !flagSet(fs, "tests") {
		pkgs += "," + userlandPkg
	}
	var packages []string
	for _, p := range strings.Split(pkgs, ",") {
		if p = strings.TrimSpace(p); p != "" {
			packages = append(packages, p)
		}
	}
	if kselftests {
		packages = nil
	} else if len(packages) == 0 {
		return usagef("--tests names no package")
	}
	files := []outputFile{{"json", jsonOut}, {"junit", junitOut}, {"ktap", ktapOut}, {"kcidb", kcidbOut}}
	if err := checkOutputs(files...); err != nil {
		return err
	}
	summary := e.stdout
	if anyToStdout(files...) {
		summary = e.stderr // standard output carries a result file
	}
	start := time.Now()
	rep := newReporter(e.stderr)
	results := report.Results{Runs: make([]report.Run, len(b.archs))}
	var mu sync.Mutex
	rigErr := runAll(ctx, b.archs, func(ctx context.Context, i int, a arch.Spec) error {
		o := b.options(a, plan.Suite)
		o.Tests = testPackages(packages, b.testTimeout)
		o.Kselftests = kselftests
		o.Filter = filter
		o.Progress = rep
		if b.verbose {
			o.Console = &prefixWriter{mu: &mu, w: e.stderr, prefix: "[" + a.Name + "] "}
			o.OnStart = func(argv []string) { printArgv(e.stderr, a, argv) }
		}
		res, err := rig.Run(ctx, o)
		results.Runs[i] = res.Run
		return err
	})
	results.WriteSummary(summary)
	// Every requested file is written, whatever happened to the others,
	// and a file that cannot be written does not change the verdict.
	werr := writeOutputs(e.stdout, results, files[:3]...)
	if kcidbOut != "" {
		werr = errors.Join(werr, writeKCIDB(ctx, &b.common, results, start, e.stdout, files[3]))
	}
	if werr != nil {
		fmt.Fprintf(e.stderr, "selfptrace-vm test: %v\n", werr)
	}
	if rigErr != nil {
		return rigErr
	}
	if !results.Passed() {
		return failure{}
	}
	return nil
}

// writeOutputs writes the results as JSON, JUnit XML and KTAP to files
// (in that order; an empty path is not asked for), each atomically or to
// standard output, and returns every error.
func writeOutputs(stdout io.Writer, rs report.Results, files ...outputFile) error {
	writers := []func(io.Writer) error{rs.WriteJSON, rs.WriteJUnit, rs.WriteKTAP}
	var errs []error
	for i, f := range files {
		if f.path == "" {
			continue
		}
		var sb strings.Builder
		if err := writers[i](&sb); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, writeOutput(stdout, f, []byte(sb.String())))
	}
	return errors.Join(errs...)
}

// absPaths resolves result paths against the directory the user ran from.
func absPath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	wd, _ := os.Getwd()
	return filepath.Join(wd, p)
}
