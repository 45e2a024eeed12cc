package bench

import (
	"bytes"
	"encoding/json"
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

// workloadParsed is what a guest prints for one workload: native takes
// 1.0, 1.1 and 0.9 s in its three rounds, and every other configuration a
// fixed multiple of native in the same round (so that the paired ratios
// are exact), sud not applicable.
func workloadParsed(workload string, size, calls int) benchfmt.Parsed {
	native := []float64{1.0, 1.1, 0.9}
	times := func(k float64) []float64 {
		out := make([]float64, len(native))
		for i, v := range native {
			out[i] = v * k
		}
		return out
	}
	p := benchfmt.Parsed{WorkloadEnv: &benchfmt.WorkloadEnv{GOARCH: "arm64", CPUs: 1, Kernel: "6.12.117 #1 SMP", SelfPtrace: true,
		Samples: 3, Warmup: 1, Strace: "strace -- version 6.1", Debian: "12.15", FilterCall: benchfmt.FilterCall, Rotated: true}}
	// Out of order on purpose: the report sorts them.
	for _, r := range []struct {
		config string
		k      float64
		na     string
	}{
		{benchfmt.ConfigStrace, 10, ""},
		{benchfmt.ConfigNative, 1, ""},
		{benchfmt.ConfigSelftrace, 2, ""},
		{benchfmt.ConfigSelftraceSUD, 0, "selftrace exits 2: --backend sud: Linux 6.12 has no Syscall User Dispatch on arm64"},
		{benchfmt.ConfigSelftraceFiltered, 1.8, ""},
		{benchfmt.ConfigStraceSeccomp, 0.9, ""},
	} {
		res := benchfmt.WorkloadResult{Workload: workload, Size: size, Config: r.config, Warmup: 1, Syscalls: calls, NA: r.na}
		if r.na == "" {
			res.Seconds = times(r.k)
		}
		p.Workloads = append(p.Workloads, res)
	}
	return p
}

func TestNewWorkloadSet(t *testing.T) {
	p := workloadParsed(benchfmt.WorkloadTar, 20, 500)
	dd := workloadParsed(benchfmt.WorkloadDD, 1000, 2000)
	p.Workloads = append(p.Workloads, dd.Workloads...)
	s := NewWorkloadSet(p)
	if s.GuestCPUs != 1 || !s.SelfPtrace || s.Strace == "" || s.Debian != "12.15" || s.FilterCall != "execve" || !s.rotated {
		t.Errorf("guest description: %+v", s)
	}
	var order []string
	for _, r := range s.Results {
		order = append(order, r.Workload+"/"+r.Config)
	}
	want := "dd/native dd/selftrace dd/selftrace_sud dd/strace dd/selftrace_filtered dd/strace_seccomp " +
		"tar/native tar/selftrace tar/selftrace_sud tar/strace tar/selftrace_filtered tar/strace_seccomp"
	if strings.Join(order, " ") != want {
		t.Errorf("order:\n%s\nwant\n%s", strings.Join(order, " "), want)
	}
	for _, c := range []struct {
		config           string
		native, strace   float64
		ref              string
		overheadPerCall  float64 // ns
		hasStrace, hasNs bool
	}{
		{benchfmt.ConfigNative, 1, 0.1, benchfmt.ConfigStrace, 0, true, false},
		{benchfmt.ConfigSelftrace, 2, 0.2, benchfmt.ConfigStrace, 1.0 / 2000 * 1e9, true, true},
		{benchfmt.ConfigStrace, 10, 1, benchfmt.ConfigStrace, 9.0 / 2000 * 1e9, true, true},
		{benchfmt.ConfigSelftraceFiltered, 1.8, 2, benchfmt.ConfigStraceSeccomp, 0.8 / 2000 * 1e9, true, true},
		{benchfmt.ConfigStraceSeccomp, 0.9, 1, benchfmt.ConfigStraceSeccomp, -0.1 / 2000 * 1e9, true, true},
	} {
		r := s.Result(benchfmt.WorkloadDD, c.config)
		if r == nil || !r.Measured() || r.Summary.N != 3 || r.Label != ConfigInfoOf(c.config).Label || r.Syscalls != 2000 {
			t.Fatalf("%s: %+v", c.config, r)
		}
		if r.VsNative == nil || !near(r.VsNative.Value, c.native) || r.VsNative.Method != RatioPaired {
			t.Errorf("%s over native: %+v, want %v (paired)", c.config, r.VsNative, c.native)
		}
		if r.StraceRef != c.ref || r.VsStrace == nil || !near(r.VsStrace.Value, c.strace) {
			t.Errorf("%s over %s: %+v (ref %s), want %v", c.config, c.ref, r.VsStrace, r.StraceRef, c.strace)
		}
		if (r.OverheadPerCallNs != nil) != c.hasNs || (c.hasNs && !near(*r.OverheadPerCallNs, c.overheadPerCall)) {
			t.Errorf("%s overhead per call: %v, want %v", c.config, r.OverheadPerCallNs, c.overheadPerCall)
		}
	}
	sud := s.Result(benchfmt.WorkloadDD, benchfmt.ConfigSelftraceSUD)
	if sud.Measured() || sud.NA == "" || sud.VsNative != nil || sud.VsStrace != nil || sud.OverheadPerCallNs != nil {
		t.Errorf("sud: %+v", sud)
	}
	if s.Failed() {
		t.Error("a set with an n/a configuration failed")
	}

	// Without rotation (or with missing rounds) the ratios come from the
	// medians.
	p.WorkloadEnv.Rotated = false
	s = NewWorkloadSet(p)
	if r := s.Result(benchfmt.WorkloadTar, benchfmt.ConfigSelftrace); r.VsNative.Method != RatioMedians || !near(r.VsNative.Value, 2) {
		t.Errorf("ratio of medians: %+v", r.VsNative)
	}

	// A broken configuration fails the set and has no numbers; an unknown
	// one is an error too.
	p.Workloads[2].Error, p.Workloads[2].Seconds = "round 2: want exit status 0", nil
	p.Workloads = append(p.Workloads, benchfmt.WorkloadResult{Workload: "dd", Config: "ltrace", Seconds: []float64{1}})
	s = NewWorkloadSet(p)
	if !s.Failed() {
		t.Error("a set with a broken configuration did not fail")
	}
	// (after the known configurations of its workload)
	if r := s.Result("dd", "ltrace"); r == nil || r.Error == "" || s.Results[6].Config != "ltrace" {
		t.Errorf("unknown configuration: %+v", r)
	}
	if a := (Arch{Workloads: s}); !a.Failed() {
		t.Error("an arch with a broken workload configuration did not fail")
	}
}

func TestParseWorkloadRun(t *testing.T) {
	p := workloadParsed(benchfmt.WorkloadDD, 1000, 2000)
	var out strings.Builder
	out.WriteString("=== RUN   TestWorkloads\n")
	for _, v := range append([]any{*p.WorkloadEnv}, anySlice(p.Workloads)...) {
		l, err := benchfmt.Format(v)
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(l + "\n    main_test.go:148: dd=1000 round 1: native 1.00s\n")
	}
	run := report.Run{Outcome: vm.OutcomePass, Tests: []report.Test{
		{Name: GuestTest, Status: report.Pass, Output: `BENCH {"mech":"baseline"}`},
		{Name: WorkloadTest, Status: report.Pass, Output: out.String()},
	}}
	got, err := ParseWorkloadRun(run)
	if err != nil || len(got.Workloads) != 6 || got.WorkloadEnv == nil || len(got.Results) != 0 {
		t.Fatalf("ParseWorkloadRun: %v, %+v", err, got)
	}
	run.Tests[1].Status = report.Fail
	if got, err := ParseWorkloadRun(run); err == nil || len(got.Workloads) != 6 {
		t.Errorf("failed test: %v, %d results (want an error and the results)", err, len(got.Workloads))
	}
	run.Tests[1].Output = "--- FAIL: TestWorkloads"
	if _, err := ParseWorkloadRun(run); err == nil || !strings.Contains(err.Error(), "no benchmark line") {
		t.Errorf("silent test: %v", err)
	}
	if _, err := ParseWorkloadRun(report.Run{Outcome: vm.OutcomeBootFail}); err == nil || !strings.Contains(err.Error(), WorkloadTest) {
		t.Errorf("missing test: %v", err)
	}
}

func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// workloadReport is a report of the workloads only (bench --mechanisms
// none --no-rig --userland debian) on two arches.
func workloadReport(t *testing.T) *Report {
	t.Helper()
	arches := []Arch{{Arch: "x86_64", Accel: "tcg", QEMU: "QEMU 7.2.22"}, {Arch: "arm64", Accel: "tcg", QEMU: "QEMU 7.2.22"}}
	for i := range arches {
		p := workloadParsed(benchfmt.WorkloadDD, 1000, 2000)
		p.Workloads = append(p.Workloads, workloadParsed(benchfmt.WorkloadSQLite, 100, 4100).Workloads...)
		if arches[i].Arch == "x86_64" {
			// sud applies there.
			for j := range p.Workloads {
				if p.Workloads[j].Config == benchfmt.ConfigSelftraceSUD {
					p.Workloads[j].NA, p.Workloads[j].Seconds = "", []float64{1.9, 2.1, 1.7}
				}
			}
		}
		arches[i].Workloads = NewWorkloadSet(p)
		arches[i].Rig = Rig{ColdBuild: Missing("not measured (--no-rig)")}
	}
	plan := WorkloadPlan{Workloads: []benchfmt.WorkloadSize{{Name: "dd", Size: 1000}, {Name: "sqlite", Size: 100}},
		Configs: benchfmt.Configs(), Samples: 3, Warmup: 1, Timeout: time.Hour}
	return &Report{
		Generated:      time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC),
		Command:        "go run ./cmd/selfptrace-vm bench --arch x86_64,arm64 --userland debian --mechanisms none --no-rig",
		Host:           Host{CPUModel: "AMD EPYC", NProc: 2, GoVersion: "go1.26.8"},
		Arches:         arches,
		WorkloadMethod: plan.Method(),
	}
}

func TestWorkloadTableAndMarkdown(t *testing.T) {
	r := workloadReport(t)
	var tb bytes.Buffer
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	table := tb.String()
	for _, want := range []string{
		"selftrace workloads (guest 1 vCPU, Linux 6.12.117, Debian 12.15, strace -- version 6.1)",
		"dd bs=1 count=1000", "sqlite3, 100 INSERTs", "selftrace -f --backend sud", "strace -f --seccomp-bpf -e trace=execve",
		"2.00 (2.00–2.00)", "0.20 (0.20–0.20)", "(reference)", "500 µs",
		"dd, selftrace -f --backend sud: n/a: selftrace exits 2",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "rig timings") || strings.Contains(table, "x self-ptrace") {
		t.Errorf("a workload-only table shows the mechanisms or the rig:\n%s", table)
	}

	var mb bytes.Buffer
	if err := r.WriteMarkdown(&mb, MarkdownOptions{WorkloadChart: "bench/workloads.png"}); err != nil {
		t.Fatal(err)
	}
	md := mb.String()
	for _, want := range []string{
		"### selftrace on real programs",
		"Guests: x86_64 TCG, QEMU 7.2.22, guest 1 vCPU, Linux 6.12.117",
		"1 warm-up round(s), then 3 rounds",
		"> **TCG.**",
		"![Time of each workload under each tracer over its native time, per architecture](bench/workloads.png)",
		"| `strace -f --seccomp-bpf -e trace=execve` | a seccomp filter",
		"#### x86_64", "#### arm64",
		"| `dd bs=1 count=1000` (2000 calls per run) | `native` | 1.00 s (0.950 s–1.05 s) | (reference) | 0.10 (0.10–0.10) |  |",
		"|  | `selftrace -f` | 2.00 s (1.90 s–2.10 s) | 2.00 (2.00–2.00) | 0.20 (0.20–0.20) | 500 µs |",
		"|  | `strace -f --seccomp-bpf -e trace=execve` | 0.900 s (0.855 s–0.945 s) | 0.90 (0.90–0.90) | (reference) | −50.0 µs |",
		"|  | `selftrace -f --backend sud` | n/a (below) |",
		"n/a on arm64, `selftrace -f --backend sud`: selftrace exits 2",
		"Reproduce: `go run ./cmd/selfptrace-vm bench --arch x86_64,arm64 --userland debian --mechanisms none --no-rig`.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Cost of an intercepted system call") || strings.Contains(md, "n/a on x86_64") {
		t.Errorf("markdown of the workloads only:\n%s", md)
	}
	if strings.Count(md, "n/a on arm64") != 1 {
		t.Errorf("the n/a reason should be given once per arch and configuration:\n%s", md)
	}

	// With the mechanisms too, both parts.
	full := testReport(t)
	full.Arches[0].Workloads = r.Arches[0].Workloads
	full.WorkloadMethod = r.WorkloadMethod
	mb.Reset()
	if err := full.WriteMarkdown(&mb, MarkdownOptions{Chart: "bench/bench.png"}); err != nil {
		t.Fatal(err)
	}
	if md := mb.String(); !strings.Contains(md, "### Cost of an intercepted system call") || !strings.Contains(md, "### selftrace on real programs") ||
		strings.Index(md, "selftrace on real programs") < strings.Index(md, "The rig's own speed") || strings.Contains(md, "](bench/workloads.png)") {
		t.Errorf("markdown with both parts:\n%s", md)
	}
}

// TestWorkloadJSONShape pins the names of the JSON fields that the README
// documents.
func TestWorkloadJSONShape(t *testing.T) {
	var b bytes.Buffer
	if err := workloadReport(t).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		WorkloadMethod map[string]any `json:"workload_method"`
		Arches         []struct {
			Workloads struct {
				SelfPtrace *bool            `json:"self_ptrace"`
				Results    []map[string]any `json:"results"`
			} `json:"workloads"`
		} `json:"arches"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"workloads", "configs", "samples", "warmup", "timing", "trace_output"} {
		if _, ok := doc.WorkloadMethod[k]; !ok {
			t.Errorf("workload_method lacks %q: %v", k, doc.WorkloadMethod)
		}
	}
	if len(doc.Arches) != 2 || doc.Arches[0].Workloads.SelfPtrace == nil || len(doc.Arches[0].Workloads.Results) != 12 {
		t.Fatalf("arches: %s", b.String())
	}
	sp := doc.Arches[0].Workloads.Results[1]
	for _, k := range []string{"workload", "size", "config", "label", "syscalls_per_run", "seconds", "summary_s",
		"ratio_to_native", "ratio_to_strace", "strace_reference", "overhead_per_call_ns"} {
		if _, ok := sp[k]; !ok {
			t.Errorf("a measured result lacks %q: %v", k, sp)
		}
	}
	if sp["config"] != "selftrace" {
		t.Errorf("second result: %v", sp)
	}
	summary, _ := sp["summary_s"].(map[string]any)
	for _, k := range []string{"n", "median", "q1", "q3", "min", "max"} {
		if _, ok := summary[k]; !ok {
			t.Errorf("summary_s lacks %q: %v", k, summary)
		}
	}
	na := doc.Arches[1].Workloads.Results[2]
	if na["config"] != "selftrace_sud" || na["na"] == nil || na["seconds"] != nil || na["ratio_to_native"] != nil {
		t.Errorf("an n/a result: %v", na)
	}
}

func TestWorkloadChartPNG(t *testing.T) {
	b, err := workloadReport(t).WorkloadChartPNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// 10 rows (two workloads, five traced configurations) of two arches.
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 1320 || h < 600 {
		t.Errorf("chart is %dx%d", w, h)
	}
	if _, err := (&Report{}).WorkloadChartPNG(); err == nil {
		t.Error("a chart of nothing")
	}
	broken := workloadReport(t)
	for i := range broken.Arches {
		for j := range broken.Arches[i].Workloads.Results {
			broken.Arches[i].Workloads.Results[j].Error = "x"
		}
	}
	if _, err := broken.WorkloadChartPNG(); err == nil || !strings.Contains(err.Error(), "no measured") {
		t.Errorf("a chart without numbers: %v", err)
	}
}

func TestWorkloadPlanEnv(t *testing.T) {
	w := WorkloadPlan{Workloads: []benchfmt.WorkloadSize{{Name: "dd", Size: 500}, {Name: "tar", Size: 5}},
		Configs: []string{"native", "strace"}, Samples: 2, Warmup: 0, Timeout: time.Minute}
	env := strings.Join(w.guestEnv([]string{"GODEBUG=asyncpreemptoff=1"}), " ")
	want := "GODEBUG=asyncpreemptoff=1 SELFPTRACE_WORKLOADS=dd=500,tar=5 SELFPTRACE_WORKLOAD_CONFIGS=native,strace " +
		"SELFPTRACE_WORKLOAD_SAMPLES=2 SELFPTRACE_WORKLOAD_WARMUP=0"
	if env != want {
		t.Errorf("guest env:\n%s\nwant\n%s", env, want)
	}
	if m := w.Method(); m.Workloads != "dd=500,tar=5" || m.Samples != 2 || m.TraceOutput != "/dev/null" {
		t.Errorf("method: %+v", m)
	}
}

// TestWorkloadRealOutput reads a real guest run (x86_64, TCG, 2026-12-07,
// default sizes, the host building kernels meanwhile): every configuration
// applies and has five samples; strace costs far more than selftrace on the
// syscall-bound workloads, and the filtered strace less than the filtered
// selftrace.
func TestWorkloadRealOutput(t *testing.T) {
	out, err := os.ReadFile(filepath.Join("testdata", "x86_64-workloads.output"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseWorkloadRun(report.Run{Outcome: vm.OutcomePass, Tests: []report.Test{
		{Name: WorkloadTest, Status: report.Pass, Output: string(out)}}})
	if err != nil {
		t.Fatal(err)
	}
	s := NewWorkloadSet(p)
	if len(s.Results) != 18 || s.Failed() || !s.SelfPtrace || !s.rotated {
		t.Fatalf("results: %d, failed %v, self-ptrace %v", len(s.Results), s.Failed(), s.SelfPtrace)
	}
	for _, r := range s.Results {
		if !r.Measured() || r.Summary.N != 5 || r.VsNative == nil || r.VsNative.Method != RatioPaired || r.Syscalls == 0 {
			t.Errorf("%s/%s: %+v", r.Workload, r.Config, r)
		}
	}
	for _, w := range []string{benchfmt.WorkloadDD, benchfmt.WorkloadSQLite} {
		if r := s.Result(w, benchfmt.ConfigSelftrace); r.VsStrace.Hi >= 0.5 {
			t.Errorf("%s: selftrace over strace %+v, want well below 1", w, r.VsStrace)
		}
		if r := s.Result(w, benchfmt.ConfigSelftraceFiltered); r.VsStrace.Lo <= 1 {
			t.Errorf("%s: filtered selftrace over filtered strace %+v, want above 1", w, r.VsStrace)
		}
	}
}
