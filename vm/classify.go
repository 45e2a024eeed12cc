package vm

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/selfptrace/selfptrace-vm/internal/logtail"
)

// StopReason says why the rig ended a run; StopNone means QEMU exited on
// its own. It is the "which timer fired" input of Classify.
type StopReason string

const (
	StopNone        StopReason = ""
	StopBootTimeout StopReason = "boot timeout"
	StopNoOutput    StopReason = "no-output timeout"
	StopRunTimeout  StopReason = "run timeout"
	// StopAfterCrash: the kernel crashed and QEMU did not exit by itself.
	StopAfterCrash StopReason = "stopped after crash"
	StopCanceled   StopReason = "canceled"
	// StopInputEnded: an interactive run's standard input ended, the
	// guest was sent end-of-file, and it did not power off in time.
	StopInputEnded StopReason = "input ended"
)

// Exit is how a run ended, as Classify sees it.
type Exit struct {
	// Started is false if QEMU could not be started; StartErr says why.
	Started  bool
	StartErr error
	// Code is QEMU's exit status, or -1 if it was killed by Signal.
	Code   int
	Signal syscall.Signal
	// Stop says why the rig ended the run, and Limit is the timeout that
	// fired, if any.
	Stop  StopReason
	Limit time.Duration
	// Shutdown is the reason of QMP's SHUTDOWN event ("guest-shutdown",
	// "guest-reset", "guest-panic", "host-signal", "host-qmp-quit", ...),
	// empty if unknown.
	Shutdown string
	// GuestPanicked is set when QMP reported GUEST_PANICKED.
	GuestPanicked bool
}

// Verdict is what Classify decides, with the evidence.
type Verdict struct {
	Outcome Outcome
	// Reason is one line for humans: what happened.
	Reason string
	// Kind and Title describe the kernel report that decided, if any.
	Kind  CrashKind
	Title string
	// Excerpt holds the console lines that decided: some before and after
	// the report, or the last lines before a timeout or exit.
	Excerpt []string
	// Booted is set once the boot marker was seen.
	Booted bool
	// Warnings counts warning-level reports (WARNING, stall, UBSAN).
	Warnings int
}

// DetectConfig tunes a Detector.
type DetectConfig struct {
	// BootMarker is a substring of the first line user space prints (e.g.
	// "KTAP version 1"). Empty disables boot detection: the run then
	// counts as booted from the start.
	BootMarker string
	// Before and After are the lines of context kept around a report;
	// Tail is the number of last lines kept for timeouts and exits.
	Before, After, Tail int
}

func (c DetectConfig) withDefaults() DetectConfig {
	if c.Before <= 0 {
		c.Before = 10
	}
	if c.After <= 0 {
		c.After = 50
	}
	if c.Tail <= 0 {
		c.Tail = 30
	}
	return c
}

// report is one kernel report with its excerpt being collected.
type report struct {
	kind    CrashKind
	title   string
	excerpt []string
	// pending is the number of lines still to collect after the report.
	pending int
}

// Detector scans console lines one at a time, keeping a bounded window:
// memory does not grow with the length of the log. It is used live by a
// Machine and, through Classify, on golden logs. Not safe for concurrent use.
type Detector struct {
	cfg    DetectConfig
	booted bool
	// tail is a ring of the last guest lines; qemuTail of QEMU's lines.
	tail     *logtail.Ring
	qemuTail *logtail.Ring
	// fatal is the first crash or boot failure, warn the first warning.
	fatal, warn *report
	warnings    int
}

// NewDetector returns a Detector with cfg (zero fields take defaults).
func NewDetector(cfg DetectConfig) *Detector {
	cfg = cfg.withDefaults()
	n := max(cfg.Before, cfg.Tail)
	return &Detector{
		cfg:      cfg,
		booted:   cfg.BootMarker == "",
		tail:     logtail.NewRing(n),
		qemuTail: logtail.NewRing(cfg.Tail),
	}
}

// Feed scans one line. It reports whether this line was the boot marker
// and whether it started a fatal kernel report, so that a live watcher can
// react to either.
func (d *Detector) Feed(l Line) (bootedNow, crashedNow bool) {
	if l.Stream == StreamQEMU {
		d.qemuTail.Push(l.Text)
		return false, false
	}
	for _, r := range []*report{d.fatal, d.warn} {
		if r != nil && r.pending > 0 {
			r.excerpt = append(r.excerpt, l.Text)
			r.pending--
		}
	}
	if !d.booted && strings.Contains(l.Text, d.cfg.BootMarker) {
		d.booted = true
		bootedNow = true
	}
	if kind, title := matchCrash(l.Text); kind != "" {
		switch {
		case kind.fatal() && d.fatal == nil:
			d.fatal = d.newReport(kind, title, l.Text)
			crashedNow = true
		case !kind.fatal():
			d.warnings++
			if d.warn == nil {
				d.warn = d.newReport(kind, title, l.Text)
			}
		}
	}
	d.tail.Push(l.Text)
	return bootedNow, crashedNow
}

func (d *Detector) newReport(kind CrashKind, title, line string) *report {
	before := d.tail.Last(d.cfg.Before)
	ex := make([]string, 0, len(before)+1+d.cfg.After)
	ex = append(ex, before...)
	ex = append(ex, line)
	return &report{kind: kind, title: title, excerpt: ex, pending: d.cfg.After}
}

// Booted reports whether the boot marker has been seen.
func (d *Detector) Booted() bool { return d.booted }

// Crashed reports whether a fatal kernel report has been seen.
func (d *Detector) Crashed() bool { return d.fatal != nil }

// Verdict classifies the run from the lines fed so far and how it ended.
func (d *Detector) Verdict(e Exit) Verdict {
	v := Verdict{Booted: d.booted, Warnings: d.warnings}
	tail := d.tail.Last(d.cfg.Tail)
	withReport := func(o Outcome, r *report, reason string) Verdict {
		v.Outcome, v.Kind, v.Title, v.Excerpt, v.Reason = o, r.kind, r.title, r.excerpt, reason
		return v
	}
	set := func(o Outcome, reason string, excerpt []string) Verdict {
		v.Outcome, v.Reason, v.Excerpt = o, reason, excerpt
		return v
	}

	if !e.Started {
		return set(OutcomeQEMUError, fmt.Sprintf("QEMU did not start: %v", e.StartErr), d.qemuTail.Last(d.cfg.Tail))
	}
	// The console is the best evidence: a kernel that crashed is broken
	// whatever happened to QEMU afterwards.
	if r := d.fatal; r != nil {
		if r.kind == CrashBootFailure && !d.booted {
			return withReport(OutcomeBootFail, r, "boot failure: "+r.title)
		}
		return withReport(OutcomePanic, r, "kernel "+string(r.kind)+": "+r.title)
	}
	if e.GuestPanicked || e.Shutdown == "guest-panic" {
		return set(OutcomePanic, "QEMU reported a guest panic (no kernel report on the console)", tail)
	}
	switch e.Stop {
	case StopCanceled:
		return set(OutcomeCanceled, "run canceled", tail)
	case StopBootTimeout:
		return set(OutcomeBootFail, fmt.Sprintf("boot marker %q not seen within %s", d.cfg.BootMarker, e.Limit), tail)
	case StopNoOutput, StopRunTimeout:
		what := fmt.Sprintf("no console output for %s", e.Limit)
		if e.Stop == StopRunTimeout {
			what = fmt.Sprintf("run not finished after %s", e.Limit)
		}
		if !d.booted {
			return set(OutcomeBootFail, fmt.Sprintf("%s, before the boot marker %q", what, d.cfg.BootMarker), tail)
		}
		return set(OutcomeTimeout, what, tail)
	case StopInputEnded:
		return set(OutcomeTimeout, fmt.Sprintf("standard input ended, the console got end-of-file (Ctrl-D), and the guest did not power off within %s", e.Limit), tail)
	case StopAfterCrash:
		// Only reached without a fatal report: should not happen.
		return set(OutcomeQEMUError, "stopped after a crash that left no report", tail)
	}
	// QEMU exited on its own.
	qemuLines := append(d.qemuTail.Last(d.cfg.Tail), tail...)
	switch {
	case e.Signal != 0:
		return set(OutcomeQEMUError, fmt.Sprintf("QEMU killed by signal %s from outside while the guest was running", signalName(e.Signal)), qemuLines)
	case e.Code != 0:
		return set(OutcomeQEMUError, fmt.Sprintf("QEMU exited with status %d%s", e.Code, firstQEMULine(d)), qemuLines)
	case e.Shutdown == "host-signal":
		return set(OutcomeQEMUError, "QEMU terminated by a signal from outside while the guest was running", qemuLines)
	case e.Shutdown == "host-qmp-quit" || e.Shutdown == "host-ui":
		return set(OutcomeCanceled, "QEMU quit through its monitor", tail)
	case !d.booted:
		return set(OutcomeBootFail, fmt.Sprintf("guest stopped before the boot marker %q", d.cfg.BootMarker), tail)
	case d.warn != nil:
		return withReport(OutcomeFail, d.warn, "kernel "+string(d.warn.kind)+": "+d.warn.title)
	}
	return set(OutcomePass, "guest ran to completion", tail)
}

func firstQEMULine(d *Detector) string {
	for _, l := range d.qemuTail.Last(d.cfg.Tail) {
		if s := strings.TrimSpace(l); s != "" {
			return ": " + s
		}
	}
	return ""
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	}
	return fmt.Sprintf("%d (%s)", int(s), s)
}

// Classify is the pure form of the judgement: it feeds lines to a new
// Detector and classifies the run from how it ended.
func Classify(cfg DetectConfig, lines []Line, e Exit) Verdict {
	d := NewDetector(cfg)
	for _, l := range lines {
		d.Feed(l)
	}
	return d.Verdict(e)
}
