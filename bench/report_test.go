package bench

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// guestRun returns a run whose bench test printed testdata/NAME.output.
func guestRun(t *testing.T, name string) report.Run {
	t.Helper()
	out, err := os.ReadFile(filepath.Join("testdata", name+".output"))
	if err != nil {
		t.Fatal(err)
	}
	return report.Run{Outcome: vm.OutcomePass, Tests: []report.Test{
		{Name: "bench.TestOther", Status: report.Pass, Output: `BENCH {"mech":"not this one"}`},
		{Name: GuestTest, Status: report.Pass, Output: string(out)},
	}}
}

func parsed(t *testing.T, name string) benchfmt.Parsed {
	t.Helper()
	p, err := ParseRun(guestRun(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// testArch builds an architecture's results from the real guest output
// kept in testdata (two alternations of vanilla and patched boots).
func testArch(t *testing.T, arch string) Arch {
	t.Helper()
	a := Arch{Arch: arch, Accel: "tcg"}
	var bases []BaselineBoot
	for _, b := range []struct {
		name    string
		vanilla bool
	}{{"vanilla-1", true}, {"patched-2", false}, {"vanilla-2", true}} {
		p := parsed(t, arch+"-"+b.name)
		for _, r := range p.Results {
			bases = append(bases, BaselineBoot{Vanilla: b.vanilla, ClockSource: p.Env.ClockSource, Result: r})
		}
	}
	a.Results(parsed(t, arch+"-patched-1"), bases)
	return a
}

func TestArchResults(t *testing.T) {
	x := testArch(t, "x86_64")
	var names []string
	for _, m := range x.Mechanisms {
		names = append(names, m.Name)
	}
	want := append(benchfmt.Mechanisms(), VanillaBaseline)
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("mechanisms %v, want %v", names, want)
	}
	if x.GuestCPUs != 1 || x.ClockSource != "refined-jiffies" || x.SampleTime != "200ms" {
		t.Errorf("guest description: cpus %d clock %q sample %q", x.GuestCPUs, x.ClockSource, x.SampleTime)
	}
	sp := x.Mechanism(benchfmt.SelfPtrace)
	if sp.VsSelfPtrace == nil || sp.VsSelfPtrace.Value != 1 || sp.VsSelfPtrace.Method != RatioPaired {
		t.Errorf("self-ptrace over itself: %+v", sp.VsSelfPtrace)
	}
	tr := x.Mechanism(benchfmt.PtraceSyscall)
	if !tr.Measured() || tr.VsSelfPtrace == nil || tr.VsSelfPtrace.Value < 5 || tr.Iters == 0 || len(tr.Samples) != 9 {
		t.Errorf("ptrace_syscall: %+v", tr)
	}
	van := x.Mechanism(VanillaBaseline)
	if van == nil || len(van.Samples) != 18 || van.VsSelfPtrace.Method != RatioMedians {
		t.Fatalf("vanilla baseline: %+v", van)
	}
	if x.NotArmed == nil || len(x.NotArmed.PatchedNs) != 1 || len(x.NotArmed.VanillaNs) != 2 || x.NotArmed.Ratio.Method != RatioBoots {
		t.Fatalf("not armed: %+v", x.NotArmed)
	}
	if r := x.NotArmed.Ratio; !(r.Lo <= r.Value && r.Value <= r.Hi) {
		t.Errorf("not armed ratio outside its range: %+v", r)
	}
	if x.Failed() {
		t.Errorf("x86_64 failed: %v", x.Errors)
	}
	// Without a patched boot that measured the baseline only, the patched
	// run's baseline stands in.
	var y Arch
	y.Results(parsed(t, "x86_64-patched-1"), []BaselineBoot{{Vanilla: true, Result: parsed(t, "x86_64-vanilla-1").Results[0]}})
	if y.NotArmed == nil || len(y.NotArmed.PatchedNs) != 1 || y.NotArmed.PatchedNs[0] != y.Mechanism(benchfmt.Baseline).Summary.Median {
		t.Errorf("not armed without a baseline-only patched boot: %+v", y.NotArmed)
	}

	s := testArch(t, "s390x")
	se := s.Mechanism(benchfmt.PtraceSysemu)
	if se == nil || se.NA == "" || se.Measured() || se.VsSelfPtrace != nil || !strings.Contains(se.NA, "-38") {
		t.Errorf("s390x PTRACE_SYSEMU should be n/a with the skipped call's result: %+v", se)
	}
	if s.Failed() {
		t.Errorf("s390x failed: %v", s.Errors)
	}
}

func TestParseRunErrors(t *testing.T) {
	if _, err := ParseRun(report.Run{Outcome: vm.OutcomeBootFail, Error: "no runner"}); err == nil ||
		!strings.Contains(err.Error(), "boot_fail: no runner") {
		t.Errorf("missing test: %v", err)
	}
	run := guestRun(t, "x86_64-patched-1")
	run.Tests[1].Status = report.Fail
	p, err := ParseRun(run)
	if err == nil || len(p.Results) == 0 {
		t.Errorf("failed test: %v, %d results (want an error and the results)", err, len(p.Results))
	}
	run.Tests[1].Output = "--- FAIL: TestMechanisms"
	if _, err := ParseRun(run); err == nil || !strings.Contains(err.Error(), "no benchmark line") {
		t.Errorf("silent test: %v", err)
	}
}

func testReport(t *testing.T) *Report {
	x, s := testArch(t, "x86_64"), testArch(t, "s390x")
	x.QEMU, s.QEMU = "QEMU 7.2.22", "QEMU 7.2.22"
	x.Rig = Rig{ColdBuild: Missing("not measured (use --cold)"), IncrementalBuild: Seconds(16.5, "one comment line"),
		Boot: Seconds(1.5, ""), WarmTest: Seconds(3.9, "pass, 134 tests")}
	s.Rig = Rig{ColdBuild: Missing("not measured (use --cold)"), IncrementalBuild: Seconds(20.1, "")}
	return &Report{
		Generated: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC),
		Command:   "go run ./cmd/selfptrace-vm bench --arch all",
		Host:      Host{CPUModel: "AMD EPYC", NProc: 2, GoVersion: "go1.26.8"},
		Method:    Method{Samples: 9, SampleTime: "100ms", Warmup: 1, Clock: "CLOCK_MONOTONIC", Call: "getpid"},
		Arches:    []Arch{x, s},
	}
}

func TestWriteTableAndMarkdown(t *testing.T) {
	r := testReport(t)
	var tab, md, js bytes.Buffer
	if err := r.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md, MarkdownOptions{Chart: "bench/bench.png"}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"x86_64: accel TCG", "s390x: accel TCG", "ptrace PTRACE_SYSEMU: n/a: ", "16.5 s (one comment line)",
		"not measured (use --cold)", "not armed, patched/vanilla getpid:", "only the ratios", "clocksource refined-jiffies (resolution 4.00 ms)"} {
		if !strings.Contains(tab.String(), want) && !strings.Contains(strings.ToLower(tab.String()), strings.ToLower(want)) {
			t.Errorf("table lacks %q:\n%s", want, tab.String())
		}
	}
	for _, want := range []string{"AMD EPYC, 2 CPUs", "![Cost per getpid", "(bench/bench.png)", "| mechanism | what the interception does | x86_64 per call",
		"| self-ptrace | SIGSYS handler performs the call, then re-arms", "n/a (below)", "n/a on s390x, ptrace PTRACE_SYSEMU:", "`go run ./cmd/selfptrace-vm bench --arch all`",
		"> **TCG.**", "| 16.5 s | 20.1 s |", "| not measured (use --cold) | not measured (use --cold) |", "| 3.9 s | - |", "BenchmarkParse", "add `--cold`"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	// Every table row has as many cells as the header.
	for _, l := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(l, "| ") && strings.Contains(l, "per call") {
			if n := strings.Count(l, "|"); n != 7 {
				t.Errorf("header has %d bars: %s", n, l)
			}
		}
	}
	for _, want := range []string{`"ratio_to_selfptrace"`, `"method": "paired"`, `"not_armed"`, `"cold_kernel_build": {`, `"note": "not measured (use --cold)"`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
}

func TestChartPNG(t *testing.T) {
	r := testReport(t)
	data, err := r.ChartPNG()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bench.png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 400 {
		t.Errorf("chart is %v, too small to read", b)
	}
	if _, err := (&Report{}).ChartPNG(); err == nil {
		t.Error("an empty report made a chart")
	}
}

func TestFormatNs(t *testing.T) {
	for ns, want := range map[float64]string{812: "812 ns", 4250: "4.25 µs", 35100: "35.1 µs", 584000: "584 µs", 1.2e6: "1.20 ms"} {
		if got := FormatNs(ns); got != want {
			t.Errorf("FormatNs(%v) = %q, want %q", ns, got, want)
		}
	}
	for ns, want := range map[float64]string{100: "100 ns", 1000: "1 µs", 1e5: "100 µs", 1e7: "10 ms", 1e9: "1 s"} {
		if got := decadeLabel(ns); got != want {
			t.Errorf("decadeLabel(%v) = %q, want %q", ns, got, want)
		}
	}
}
