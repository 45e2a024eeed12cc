package bench

import (
	"fmt"
	"math"
	"slices"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
)

// The selftrace workload benchmark: real programs of the Debian userland
// (tests/tracerbench) natively, under selftrace and under strace.

// WorkloadInfo describes a workload for people.
type WorkloadInfo struct {
	Name  string // benchfmt name
	Label string // the command, short
	What  string // what it stresses
}

// WorkloadInfos returns every workload in report order.
func WorkloadInfos() []WorkloadInfo {
	return []WorkloadInfo{
		{benchfmt.WorkloadDD, "dd bs=1 count=N", "if=/dev/zero of=/dev/null: a read and a write per byte, nothing else (strace's classic worst case)"},
		{benchfmt.WorkloadSQLite, "sqlite3, N INSERTs", "one transaction per statement: rollback journal created, written, synced and deleted each time, then a count"},
		{benchfmt.WorkloadTar, "tar -czf, N files", "a generated tree of N files (0.5 to 8 KiB of text) in 10 directories; tar execs gzip and writes through a pipe: mostly computation"},
	}
}

// WorkloadInfoOf returns the description of workload name.
func WorkloadInfoOf(name string) WorkloadInfo {
	for _, w := range WorkloadInfos() {
		if w.Name == name {
			return w
		}
	}
	return WorkloadInfo{Name: name, Label: name}
}

// ConfigInfo describes a configuration for people.
type ConfigInfo struct {
	Name  string // benchfmt name
	Label string // the command line, short
	How   string // how the calls are intercepted
}

// ConfigInfos returns every configuration in report order.
func ConfigInfos() []ConfigInfo {
	f := benchfmt.FilterCall
	return []ConfigInfo{
		{benchfmt.ConfigNative, "native", "the program alone"},
		{benchfmt.ConfigSelftrace, "selftrace -f", "a SIGSYS in the calling thread for every call (self-ptrace); the handler performs it, formats the line, writes it and re-arms"},
		{benchfmt.ConfigSelftraceSUD, "selftrace -f --backend sud", "the same through Syscall User Dispatch: the selector byte replaces the re-arming call"},
		{benchfmt.ConfigStrace, "strace -f", "a tracer process: a ptrace stop at the entry and the exit of every call"},
		{benchfmt.ConfigSelftraceFiltered, "selftrace -f -e trace=" + f, "still a SIGSYS for every call (self-ptrace has no filter in the kernel); the handler performs all and prints " + f + " only"},
		{benchfmt.ConfigStraceSeccomp, "strace -f --seccomp-bpf -e trace=" + f, "a seccomp filter stops the tracee at " + f + " only; every other call stays in the kernel, untraced"},
	}
}

// ConfigInfoOf returns the description of configuration name.
func ConfigInfoOf(name string) ConfigInfo {
	for _, c := range ConfigInfos() {
		if c.Name == name {
			return c
		}
	}
	return ConfigInfo{Name: name, Label: name}
}

// WorkloadMethod is how the guest ran the workloads.
type WorkloadMethod struct {
	// Workloads are the workloads and their sizes (benchfmt.FormatWorkloads).
	Workloads string   `json:"workloads"`
	Configs   []string `json:"configs"`
	Samples   int      `json:"samples"`
	Warmup    int      `json:"warmup"`
	// Timing is what one sample measures.
	Timing string `json:"timing"`
	// TraceOutput is where the traced configurations write their trace.
	TraceOutput string `json:"trace_output"`
}

// WorkloadSet is one architecture's workload results.
type WorkloadSet struct {
	Kernel     string `json:"kernel,omitempty"`
	GuestCPUs  int    `json:"guest_cpus,omitempty"`
	SelfPtrace bool   `json:"self_ptrace"`
	Strace     string `json:"strace,omitempty"`
	Debian     string `json:"debian,omitempty"`
	FilterCall string `json:"filter_call,omitempty"`
	// SelftraceKey is the content key of the selftrace build that ran
	// (its sources, the compiler, the kernel's system call table).
	SelftraceKey string `json:"selftrace_key,omitempty"`
	// Results hold one entry per workload and configuration, in
	// WorkloadInfos() then ConfigInfos() order.
	Results []WorkloadResult `json:"results"`

	// rotated: the configurations took turns within each round.
	rotated bool
}

// WorkloadResult is one workload under one configuration on one
// architecture. Times are in seconds.
type WorkloadResult struct {
	Workload string `json:"workload"`
	Size     int    `json:"size"`
	Config   string `json:"config"`
	Label    string `json:"label"`
	// Argv is the command as the guest ran it (chrooted).
	Argv []string `json:"argv,omitempty"`
	// Syscalls is the number of system calls of a native run (strace -f -c).
	Syscalls int       `json:"syscalls_per_run,omitempty"`
	Samples  []float64 `json:"seconds,omitempty"`
	Summary  *Summary  `json:"summary_s,omitempty"`
	// VsNative is this configuration's time over the native one's;
	// VsStrace over StraceRef's (the plain strace, or for the filtered
	// configurations the filtered strace).
	VsNative  *Ratio `json:"ratio_to_native,omitempty"`
	VsStrace  *Ratio `json:"ratio_to_strace,omitempty"`
	StraceRef string `json:"strace_reference,omitempty"`
	// OverheadPerCallNs is what the configuration adds to each system
	// call of the workload: the median over the rounds of (this run's
	// time - the native run's) over Syscalls, in ns.
	OverheadPerCallNs *float64 `json:"overhead_per_call_ns,omitempty"`
	NA                string   `json:"na,omitempty"`
	Note              string   `json:"note,omitempty"`
	Error             string   `json:"error,omitempty"`
}

// Measured tells whether the result has numbers that count.
func (w WorkloadResult) Measured() bool { return w.Summary != nil && w.NA == "" && w.Error == "" }

// NewWorkloadSet builds an architecture's workload results from the
// guest's lines and computes the statistics and ratios.
func NewWorkloadSet(p benchfmt.Parsed) *WorkloadSet {
	s := &WorkloadSet{}
	if e := p.WorkloadEnv; e != nil {
		s.Kernel, s.GuestCPUs, s.SelfPtrace = e.Kernel, e.CPUs, e.SelfPtrace
		s.Strace, s.Debian, s.FilterCall, s.rotated = e.Strace, e.Debian, e.FilterCall, e.Rotated
	}
	order := func(r benchfmt.WorkloadResult) (int, int) {
		wi := slices.IndexFunc(WorkloadInfos(), func(w WorkloadInfo) bool { return w.Name == r.Workload })
		ci := slices.IndexFunc(ConfigInfos(), func(c ConfigInfo) bool { return c.Name == r.Config })
		if wi < 0 {
			wi = len(WorkloadInfos())
		}
		if ci < 0 {
			ci = len(ConfigInfos())
		}
		return wi, ci
	}
	rs := slices.Clone(p.Workloads)
	slices.SortStableFunc(rs, func(a, b benchfmt.WorkloadResult) int {
		aw, ac := order(a)
		bw, bc := order(b)
		if aw != bw {
			return aw - bw
		}
		return ac - bc
	})
	for _, r := range rs {
		w := WorkloadResult{Workload: r.Workload, Size: r.Size, Config: r.Config, Label: ConfigInfoOf(r.Config).Label,
			Argv: r.Argv, Syscalls: r.Syscalls, Samples: r.Seconds, NA: r.NA, Note: r.Note, Error: r.Error}
		if !slices.Contains(benchfmt.Workloads(), r.Workload) && w.Error == "" {
			w.Error = "unknown workload " + r.Workload
		}
		if !slices.Contains(benchfmt.Configs(), r.Config) && w.Error == "" {
			w.Error = "unknown configuration " + r.Config
		}
		if len(r.Seconds) > 0 && w.Error == "" {
			sum, err := Summarize(r.Seconds)
			if err != nil {
				w.Error = err.Error()
			} else {
				w.Summary = &sum
			}
		}
		s.Results = append(s.Results, w)
	}
	s.ratios()
	return s
}

// Result returns the result of workload under config, or nil.
func (s *WorkloadSet) Result(workload, config string) *WorkloadResult {
	for i := range s.Results {
		if s.Results[i].Workload == workload && s.Results[i].Config == config {
			return &s.Results[i]
		}
	}
	return nil
}

// ratio compares a and b: round by round when the configurations took
// turns and both have a sample of every round, else by their summaries.
func (s *WorkloadSet) ratio(a, b *WorkloadResult) *Ratio {
	if b == nil || !a.Measured() || !b.Measured() {
		return nil
	}
	if s.rotated {
		if r, err := PairedRatio(a.Samples, b.Samples); err == nil {
			return &r
		}
	}
	r := RatioOf(*a.Summary, *b.Summary)
	return &r
}

func (s *WorkloadSet) ratios() {
	for i := range s.Results {
		r := &s.Results[i]
		native := s.Result(r.Workload, benchfmt.ConfigNative)
		r.StraceRef = benchfmt.StraceReference(r.Config)
		r.VsNative = s.ratio(r, native)
		r.VsStrace = s.ratio(r, s.Result(r.Workload, r.StraceRef))
		r.OverheadPerCallNs = nil
		if native != nil && r.Config != benchfmt.ConfigNative && r.Syscalls > 0 && r.Measured() && native.Measured() {
			var d []float64
			if s.rotated && len(r.Samples) == len(native.Samples) {
				for j := range r.Samples {
					d = append(d, r.Samples[j]-native.Samples[j])
				}
			} else {
				d = []float64{r.Summary.Median - native.Summary.Median}
			}
			slices.Sort(d)
			ns := quantile(d, 0.5) / float64(r.Syscalls) * 1e9
			r.OverheadPerCallNs = &ns
		}
	}
}

// Failed tells whether a configuration that applies did not produce
// numbers.
func (s *WorkloadSet) Failed() bool {
	return slices.ContainsFunc(s.Results, func(r WorkloadResult) bool { return r.Error != "" })
}

// WorkloadsMeasured tells whether any architecture has workload results.
func (r *Report) WorkloadsMeasured() bool {
	return slices.ContainsFunc(r.Arches, func(a Arch) bool { return a.Workloads != nil && len(a.Workloads.Results) > 0 })
}

// formatSeconds formats a duration in seconds with three significant
// digits: "0.512 s", "12.3 s", "125 s".
func formatSeconds(s float64) string {
	switch {
	case s < 1:
		return fmt.Sprintf("%.3f s", s)
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	case s < 100:
		return fmt.Sprintf("%.1f s", s)
	default:
		return fmt.Sprintf("%.0f s", s)
	}
}

// formatOverhead formats a per-call overhead, which may be negative (a
// configuration as fast as the native run, within the noise).
func formatOverhead(ns *float64) string {
	if ns == nil {
		return ""
	}
	if *ns < 0 {
		return "−" + FormatNs(math.Abs(*ns))
	}
	return FormatNs(*ns)
}
