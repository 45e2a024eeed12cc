package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"sync"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/rig"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// exitStatus makes the process exit with a guest command's status.
type exitStatus struct{ code int }

func (e exitStatus) Error() string { return fmt.Sprintf("guest command exited with status %d", e.code) }

func runRun(ctx context.Context, e *env, args []string) error {
	var b bootFlags
	var jsonOut string
	fs := newFlagSet("run", e.stderr, "--arch "+arch.Usage(false)+" [--file HOST[:GUEST]]... -- CMD [ARGS]")
	b.register(fs, false)
	b.registerUserland(fs)
	fs.StringVar(&jsonOut, "json", "", "write the run's result as JSON to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("no command: selfptrace-vm run --arch A -- CMD [ARGS]")
	}
	if err := b.finish(false); err != nil {
		return err
	}
	jsonFile := outputFile{"json", jsonOut}
	if jsonOut == stdoutPath {
		return usagef("--json -: standard output carries the guest command's output; name a file")
	}
	if err := checkOutputs(jsonFile); err != nil {
		return err
	}
	a := b.archs[0]
	o := b.options(a, plan.Run)
	o.Command = fs.Args()
	o.Progress = newReporter(e.stderr)
	var mu sync.Mutex
	if b.verbose {
		o.Console = &prefixWriter{mu: &mu, w: e.stderr, prefix: ""}
		o.OnStart = func(argv []string) { printArgv(e.stderr, a, argv) }
	} else {
		o.Console = &guestOutput{w: e.stdout}
	}
	res, err := rig.Run(ctx, o)
	if werr := writeOutputs(e.stdout, report.Results{Runs: []report.Run{res.Run}}, jsonFile); werr != nil {
		// The verdict stays the guest's; the file's error is said.
		fmt.Fprintf(e.stderr, "selfptrace-vm run: %v\n", werr)
	}
	if err != nil {
		return err
	}
	r := res.Run
	switch {
	case r.Outcome == vm.OutcomePass:
		return nil
	case r.Outcome == vm.OutcomeFail && res.ExitStatus > 0:
		return exitStatus{res.ExitStatus}
	default:
		report.Results{Runs: []report.Run{r}}.WriteSummary(e.stderr)
		return failure{fmt.Sprintf("%s run ended with outcome %s", a.Name, r.Outcome)}
	}
}

// guestOutput passes on what the guest command prints: it drops the boot
// messages before the runner starts, the runner's marker lines and kernel
// messages (printk timestamps), and keeps the rest as it comes.
type guestOutput struct {
	w       io.Writer
	started bool
	buf     bytes.Buffer
}

var kernelLine = regexp.MustCompile(`^\[\s*\d+\.\d+\] `)

func (g *guestOutput) Write(p []byte) (int, error) {
	g.buf.Write(p)
	for {
		line, err := g.buf.ReadBytes('\n')
		if err != nil {
			g.buf.Write(line)
			return len(p), nil
		}
		switch {
		case bytes.HasPrefix(line, []byte(rig.BootMarker)):
			g.started = true
		case !g.started, kernelLine.Match(line):
		default:
			if _, err := g.w.Write(line); err != nil {
				return len(p), err
			}
		}
	}
}
