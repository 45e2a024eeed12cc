// Package bench turns the guest benchmark's output (tests/bench, lines in
// the bench/benchfmt format) and the rig's own timings into a report: JSON
// for machines, a table and a markdown snippet for people, a chart. It does
// no measuring itself; cmd/selfptrace-vm/bench.go boots the guests and times
// the rig.
package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
)

// VanillaBaseline names the baseline measured on the kernel without the
// patch series.
const VanillaBaseline = "baseline_vanilla"

// MechInfo describes a mechanism for people.
type MechInfo struct {
	Name  string // benchfmt name
	Label string // short, for the chart and the tables
	How   string // what the interception does with the call
}

// Mechanisms returns every mechanism in report order: the guest's, then the
// vanilla baseline.
func Mechanisms() []MechInfo {
	return []MechInfo{
		{benchfmt.Baseline, "getpid, not armed", "plain call: the baseline"},
		{benchfmt.SelfPtrace, "self-ptrace", "SIGSYS handler performs the call, then re-arms with PTRACE_SELF_ON: 2 syscalls per interception"},
		{benchfmt.SUD, "Syscall User Dispatch", "SIGSYS handler performs the call with the selector on ALLOW, then sets BLOCK: 1 syscall"},
		{benchfmt.SeccompTrap, "seccomp RET_TRAP", "SIGSYS handler performs the call with an argument the filter allows: 1 syscall, 2 filter runs"},
		{benchfmt.PtraceSyscall, "ptrace PTRACE_SYSCALL", "tracer process: entry and exit stops, the kernel performs the call"},
		{benchfmt.PtraceSysemu, "ptrace PTRACE_SYSEMU", "tracer process: one stop, the call is skipped and the tracer writes its result"},
		{benchfmt.SeccompNotif, "seccomp USER_NOTIF", "supervisor thread answers CONTINUE, the kernel performs the call"},
		{VanillaBaseline, "getpid, vanilla kernel", "plain call on the kernel without the series"},
	}
}

// Info returns the description of mechanism name.
func Info(name string) MechInfo {
	for _, m := range Mechanisms() {
		if m.Name == name {
			return m
		}
	}
	return MechInfo{Name: name, Label: name}
}

// Report is the whole output of the bench verb.
type Report struct {
	Generated time.Time `json:"generated"`
	// Command reproduces the report.
	Command string `json:"command"`
	Host    Host   `json:"host"`
	Method  Method `json:"method"`
	Arches  []Arch `json:"arches"`
	// WorkloadMethod is how the selftrace workloads ran, when they did
	// (bench --userland).
	WorkloadMethod *WorkloadMethod `json:"workload_method,omitempty"`
	// Notes are caveats that apply to every architecture.
	Notes []string `json:"notes,omitempty"`
}

// Host describes the machine that ran the emulators.
type Host struct {
	CPUModel  string `json:"cpu_model"`
	NProc     int    `json:"nproc"`
	Kernel    string `json:"kernel,omitempty"`
	GoVersion string `json:"go"`
}

// Method is how the guest measured.
type Method struct {
	Samples    int    `json:"samples"`
	SampleTime string `json:"sample_time"`
	Warmup     int    `json:"warmup"`
	Clock      string `json:"clock"`
	Call       string `json:"call"`
}

// Arch is one architecture's results.
type Arch struct {
	Arch string `json:"arch"`
	// Accel is the accelerator of the benchmark boots: tcg or kvm.
	Accel     string `json:"accel"`
	QEMU      string `json:"qemu,omitempty"`
	GuestCPUs int    `json:"guest_cpus,omitempty"`
	Kernel    string `json:"kernel,omitempty"`
	// ClockSource and ClockResNs describe the guest's CLOCK_MONOTONIC;
	// SampleTime is the minimum sample duration the guest used (longer
	// than asked for with a coarse clock).
	ClockSource string `json:"clocksource,omitempty"`
	ClockResNs  int64  `json:"clock_res_ns,omitempty"`
	SampleTime  string `json:"sample_time,omitempty"`
	// Mechanisms holds every mechanism of the patched kernel's run, then
	// the vanilla baseline, in Mechanisms() order.
	Mechanisms []Mechanism `json:"mechanisms"`
	// NotArmed compares the baseline on the patched kernel with the one on
	// the vanilla kernel: the cost the series adds to threads that are
	// not armed.
	NotArmed *NotArmed `json:"not_armed,omitempty"`
	// Workloads are the selftrace workloads' results (bench --userland).
	Workloads *WorkloadSet `json:"workloads,omitempty"`
	Rig       Rig          `json:"rig"`
	// Runs are the boots behind these numbers.
	Runs []RunRef `json:"runs"`
	// Errors are what went wrong; the numbers that exist are kept.
	Errors []string `json:"errors,omitempty"`

	// interleaved: the guest's mechanisms took turns (benchfmt.Env).
	interleaved bool
}

// Mechanism is one mechanism's numbers on one architecture.
type Mechanism struct {
	Name  string `json:"mech"`
	Label string `json:"label"`
	How   string `json:"how"`
	// Iters is the number of calls per sample.
	Iters int `json:"iters,omitempty"`
	// Samples are the ns per call of each sample.
	Samples []float64 `json:"ns_per_call,omitempty"`
	Summary *Summary  `json:"summary_ns,omitempty"`
	// VsSelfPtrace is this mechanism's cost over self-ptrace's.
	VsSelfPtrace *Ratio `json:"ratio_to_selfptrace,omitempty"`
	NA           string `json:"na,omitempty"`
	Note         string `json:"note,omitempty"`
	Error        string `json:"error,omitempty"`
}

// NotArmed is the cost of the series for threads that are not armed: the
// baseline getpid on the patched kernel over the one on the vanilla
// kernel. Two boots differ by more than two samples of one boot do (the
// host's load changes, the emulator translates anew), so the comparison is
// made between boots, alternated: each boot gives its median.
type NotArmed struct {
	// Ratio is the median of the patched boots' medians over the median of
	// the vanilla boots' medians; its range is the smallest patched median
	// over the largest vanilla median, and the other way round.
	Ratio Ratio `json:"patched_over_vanilla"`
	// PatchedNs and VanillaNs are the boots' medians, in boot order.
	PatchedNs []float64 `json:"patched_boot_medians_ns"`
	VanillaNs []float64 `json:"vanilla_boot_medians_ns"`
	// ClockSources are the guests' clocksources in these boots, each once
	// (an x86_64 guest under TCG calibrates its TSC against the PIT, which
	// fails now and then under load: it then runs on jiffies).
	ClockSources []string `json:"clocksources,omitempty"`
}

// BaselineBoot is the baseline of one boot that measured nothing else.
type BaselineBoot struct {
	Vanilla     bool
	ClockSource string
	Result      benchfmt.Result
}

// Measured tells whether the mechanism has numbers that count.
func (m Mechanism) Measured() bool { return m.Summary != nil && m.NA == "" && m.Error == "" }

// RunRef points at one boot.
type RunRef struct {
	// Name is the boot's name, also its directory under the output
	// directory: bench-all, baseline-vanilla-1, workloads, ...
	Name       string `json:"name,omitempty"`
	Kernel     string `json:"kernel"` // patched or vanilla
	Outcome    string `json:"outcome"`
	ConsoleLog string `json:"console_log,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Rig holds the rig's own timings on one architecture.
type Rig struct {
	ColdBuild        Timing `json:"cold_kernel_build"`
	IncrementalBuild Timing `json:"incremental_kernel_build"`
	InitramfsWarm    Timing `json:"initramfs_nothing_changed"`
	InitramfsTest    Timing `json:"initramfs_one_test_changed"`
	Boot             Timing `json:"boot_to_first_test_line"`
	BootVanilla      Timing `json:"boot_to_first_test_line_vanilla"`
	WarmTest         Timing `json:"warm_test_run"`
}

// Timing is one wall time, or why there is none.
type Timing struct {
	Seconds *float64 `json:"seconds,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Seconds returns a measured timing.
func Seconds(s float64, note string) Timing { return Timing{Seconds: &s, Note: note} }

// Missing returns a timing that was not measured, and why.
func Missing(why string) Timing { return Timing{Note: why} }

// RigRow is one of the rig's timings with what it times.
type RigRow struct {
	Name string
	What string
	T    Timing
}

// Rows returns the rig timings in display order.
func (r Rig) Rows() []RigRow {
	return []RigRow{
		{"cold kernel build", "--cold only: a new, temporary cache: extract the source, apply the series, configure, make", r.ColdBuild},
		{"incremental kernel rebuild", "one comment line of kernel/entry/self_ptrace.c changed in its patch: " +
			"the work tree rewrites that file, make rebuilds one object and relinks", r.IncrementalBuild},
		{"initramfs, nothing changed", "pack the same image again: u-root base and test binaries from the caches", r.InitramfsWarm},
		{"initramfs, one test changed", "pack smoke + conformance suites after an edit of smoke_test.go: go test -c recompiles one package", r.InitramfsTest},
		{"boot to the first test line (patched)", "QEMU start to the guest runner's first line", r.Boot},
		{"boot to the first test line (vanilla)", "the same on the kernel without the series", r.BootVanilla},
		{"whole warm `test` run", "the test verb for one arch, kernel cached: pack, boot, smoke + conformance suites", r.WarmTest},
	}
}

// Results builds an architecture's mechanisms from the guest's output on
// the patched kernel and from the boots that measured the baseline only
// (on the vanilla kernel, and on the patched one again), and computes the
// ratios. The vanilla baseline's samples are those of every vanilla boot.
// The not-armed comparison uses the boots that measured the baseline only
// (in the boot that measures everything, the baseline takes turns with
// the other mechanisms, whose code the emulator translates in between):
// the patched run's baseline counts only when no such patched boot
// exists.
func (a *Arch) Results(patched benchfmt.Parsed, baselines []BaselineBoot) {
	byName := map[string]benchfmt.Result{}
	for _, r := range patched.Results {
		byName[r.Mech] = r
	}
	var patchedMed, vanillaMed []float64
	var clocks []string
	for _, b := range baselines {
		r := b.Result
		s, err := Summarize(r.NsPerCall)
		if r.Error != "" || err != nil {
			continue
		}
		if b.ClockSource != "" && !slices.Contains(clocks, b.ClockSource) {
			clocks = append(clocks, b.ClockSource)
		}
		if !b.Vanilla {
			patchedMed = append(patchedMed, s.Median)
			continue
		}
		vanillaMed = append(vanillaMed, s.Median)
		v, ok := byName[VanillaBaseline]
		if !ok {
			v = benchfmt.Result{Mech: VanillaBaseline, Iters: r.Iters, Warmup: r.Warmup}
		}
		v.NsPerCall = append(v.NsPerCall, r.NsPerCall...)
		if n := len(vanillaMed); n > 1 {
			v.Note = fmt.Sprintf("samples of %d boots", n)
		}
		byName[VanillaBaseline] = v
	}
	if r, ok := byName[benchfmt.Baseline]; ok && len(patchedMed) == 0 && r.Error == "" && len(r.NsPerCall) > 0 {
		if s, err := Summarize(r.NsPerCall); err == nil {
			patchedMed = append(patchedMed, s.Median)
		}
	}
	a.NotArmed = nil
	if len(patchedMed) > 0 && len(vanillaMed) > 0 {
		p, _ := Summarize(patchedMed)
		v, _ := Summarize(vanillaMed)
		a.NotArmed = &NotArmed{
			Ratio:        Ratio{Value: p.Median / v.Median, Lo: p.Min / v.Max, Hi: p.Max / v.Min, Method: RatioBoots},
			PatchedNs:    patchedMed,
			VanillaNs:    vanillaMed,
			ClockSources: clocks,
		}
	}
	if e := patched.Env; e != nil {
		a.interleaved = e.Interleaved
		a.GuestCPUs, a.Kernel = e.CPUs, e.Kernel
		a.ClockSource, a.ClockResNs, a.SampleTime = e.ClockSource, e.ClockResNs, e.SampleTime
	}
	a.Mechanisms = nil
	for _, info := range Mechanisms() {
		r, ok := byName[info.Name]
		if !ok {
			continue
		}
		m := Mechanism{Name: info.Name, Label: info.Label, How: info.How, Iters: r.Iters,
			Samples: r.NsPerCall, NA: r.NA, Note: r.Note, Error: r.Error}
		if len(r.NsPerCall) > 0 {
			s, err := Summarize(r.NsPerCall)
			if err != nil && m.Error == "" {
				m.Error = err.Error()
			} else if err == nil {
				m.Summary = &s
			}
		}
		a.Mechanisms = append(a.Mechanisms, m)
	}
	// Anything the guest printed that this version does not know is kept.
	for _, r := range patched.Results {
		if !slices.ContainsFunc(a.Mechanisms, func(m Mechanism) bool { return m.Name == r.Mech }) {
			a.Mechanisms = append(a.Mechanisms, Mechanism{Name: r.Mech, Label: r.Mech,
				Error: "unknown mechanism " + r.Mech})
		}
	}
	a.ratios()
}

func (a *Arch) ratios() {
	sp := a.Mechanism(benchfmt.SelfPtrace)
	for i := range a.Mechanisms {
		m := &a.Mechanisms[i]
		m.VsSelfPtrace = nil
		if sp == nil || !sp.Measured() || !m.Measured() {
			continue
		}
		// Samples of one run that took turns pair up round by round; the
		// vanilla baseline comes from other boots.
		r, err := PairedRatio(m.Samples, sp.Samples)
		if !a.interleaved || m.Name == VanillaBaseline || err != nil {
			r = RatioOf(*m.Summary, *sp.Summary)
		}
		m.VsSelfPtrace = &r
	}
}

// Mechanism returns the named mechanism, or nil.
func (a *Arch) Mechanism(name string) *Mechanism {
	for i := range a.Mechanisms {
		if a.Mechanisms[i].Name == name {
			return &a.Mechanisms[i]
		}
	}
	return nil
}

// Failed tells whether anything went wrong on this architecture.
func (a *Arch) Failed() bool {
	if len(a.Errors) > 0 {
		return true
	}
	for _, m := range a.Mechanisms {
		if m.Error != "" {
			return true
		}
	}
	return a.Workloads != nil && a.Workloads.Failed()
}

// EmulatorNote is the caveat every report carries when a guest ran under
// TCG.
const EmulatorNote = "Under TCG (QEMU's emulator, no KVM), every guest instruction is translated: " +
	"absolute times are the emulator's, not a machine's. Only the ratios between mechanisms measured " +
	"in the same guest run mean something, and even they are distorted (kernel entry, signal delivery " +
	"and context switches do not cost under TCG what they cost on hardware)."

// AnyTCG tells whether a guest ran under TCG.
func (r *Report) AnyTCG() bool {
	return slices.ContainsFunc(r.Arches, func(a Arch) bool { return a.Accel == "tcg" })
}

// Verdict says what the comparison of the two kernels shows. Its range
// comes from a few boots of each, so a range that just misses 1 is a hint
// at most.
func (n *NotArmed) Verdict() string {
	r := n.Ratio
	if len(n.PatchedNs) < 2 || len(n.VanillaNs) < 2 {
		return "too few boots to tell (one boot's median differs from the next by several per cent; use --rounds 3 or more)"
	}
	if r.Contains(1) {
		return "no measurable difference"
	}
	dir, pct := "slower", (r.Value-1)*100
	if r.Value < 1 {
		dir, pct = "faster", -pct
	}
	return fmt.Sprintf("the patched kernel %s by %.1f%% in this run, beyond the spread of %d+%d boots: "+
		"a hint at most (two builds also differ in code layout)", dir, pct, len(n.PatchedNs), len(n.VanillaNs))
}
