package benchfmt

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The workload benchmark (tests/tracerbench) runs real programs of the
// Debian userland, natively and under selftrace and strace, and prints one
// WORKLOAD line per workload and configuration after one WORKLOADENV line.

// Workload names, in the order the guest runs them and the host reports
// them.
const (
	// WorkloadDD is `dd if=/dev/zero of=/dev/null bs=1 count=N`: two
	// system calls per byte, strace's classic worst case. Size: N.
	WorkloadDD = "dd"
	// WorkloadSQLite is sqlite3 reading a script of N INSERT statements,
	// each its own transaction (autocommit: journal, writes, fsync), then a
	// count. Size: N.
	WorkloadSQLite = "sqlite"
	// WorkloadTar is `tar -czf` of a generated tree of N files (tar execs
	// gzip and writes to it through a pipe). Size: N.
	WorkloadTar = "tar"
)

// Workloads lists every workload in order.
func Workloads() []string { return []string{WorkloadDD, WorkloadSQLite, WorkloadTar} }

// DefaultWorkloadSize is the size of workload name when none is given
// (sized for a few minutes per architecture under TCG), 0 for an unknown
// name.
func DefaultWorkloadSize(name string) int {
	switch name {
	case WorkloadDD:
		return 20000
	case WorkloadSQLite:
		return 1000
	case WorkloadTar:
		return 200
	}
	return 0
}

// Configuration names: how a workload is run. The traced ones write their
// trace to /dev/null, so that the cost measured is the tracer's, not the
// disk's.
const (
	ConfigNative            = "native"             // the program alone
	ConfigSelftrace         = "selftrace"          // selftrace -f -o /dev/null
	ConfigSelftraceSUD      = "selftrace_sud"      // selftrace -f -o /dev/null --backend sud
	ConfigStrace            = "strace"             // strace -f -o /dev/null
	ConfigSelftraceFiltered = "selftrace_filtered" // selftrace -f -o /dev/null -e trace=FilterCall
	ConfigStraceSeccomp     = "strace_seccomp"     // strace -f -o /dev/null --seccomp-bpf -e trace=FilterCall
)

// FilterCall is the one rare call that the filtered configurations trace:
// every program makes it, once per program it runs (the classic "what
// does this run" trace).
const FilterCall = "execve"

// Configs lists every configuration in order.
func Configs() []string {
	return []string{ConfigNative, ConfigSelftrace, ConfigSelftraceSUD, ConfigStrace, ConfigSelftraceFiltered, ConfigStraceSeccomp}
}

// StraceReference is the strace configuration that config is compared
// with: the filtered strace for the filtered configurations, the plain one
// for the others.
func StraceReference(config string) string {
	if config == ConfigSelftraceFiltered || config == ConfigStraceSeccomp {
		return ConfigStraceSeccomp
	}
	return ConfigStrace
}

// TracerArgv is the tracer's part of config's command line, to put before
// the program's argv ("" for the native one); selftrace and strace are the
// programs' paths, out the trace file.
func TracerArgv(config, selftrace, strace, out string) ([]string, error) {
	switch config {
	case ConfigNative:
		return nil, nil
	case ConfigSelftrace:
		return []string{selftrace, "-f", "-o", out, "--"}, nil
	case ConfigSelftraceSUD:
		return []string{selftrace, "-f", "-o", out, "--backend", "sud", "--"}, nil
	case ConfigStrace:
		return []string{strace, "-f", "-o", out, "--"}, nil
	case ConfigSelftraceFiltered:
		return []string{selftrace, "-f", "-o", out, "-e", "trace=" + FilterCall, "--"}, nil
	case ConfigStraceSeccomp:
		return []string{strace, "-f", "-o", out, "--seccomp-bpf", "-e", "trace=" + FilterCall, "--"}, nil
	}
	return nil, fmt.Errorf("unknown configuration %q", config)
}

// Environment of the workload benchmark.
const (
	// EnvWorkloads selects the workloads and their sizes: "all" (or
	// empty) for every one at its default size, else a comma-separated
	// list of NAME or NAME=SIZE (ParseWorkloads).
	EnvWorkloads = "SELFPTRACE_WORKLOADS"
	// EnvWorkloadConfigs is a comma-separated list of configurations, or
	// "all" (or empty).
	EnvWorkloadConfigs = "SELFPTRACE_WORKLOAD_CONFIGS"
	// EnvWorkloadSamples is the number of measured rounds.
	EnvWorkloadSamples = "SELFPTRACE_WORKLOAD_SAMPLES"
	// EnvWorkloadWarmup is the number of rounds run and discarded first.
	EnvWorkloadWarmup = "SELFPTRACE_WORKLOAD_WARMUP"
)

// Defaults of the workload benchmark.
const (
	DefaultWorkloadSamples = 5
	DefaultWorkloadWarmup  = 1
)

// Line prefixes of the workload benchmark.
const (
	WorkloadPrefix    = "WORKLOAD"
	WorkloadEnvPrefix = "WORKLOADENV"
)

// WorkloadSize is one workload to run and its size.
type WorkloadSize struct {
	Name string
	Size int
}

// ParseWorkloads reads a workload selection: "all" or "" for every
// workload at its default size, "none" for none, else a comma-separated
// list of NAME or NAME=SIZE (SIZE a positive number). The result is in
// Workloads() order, each workload once.
func ParseWorkloads(s string) ([]WorkloadSize, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "all":
		var out []WorkloadSize
		for _, w := range Workloads() {
			out = append(out, WorkloadSize{w, DefaultWorkloadSize(w)})
		}
		return out, nil
	case "none":
		return nil, nil
	}
	sizes := map[string]int{}
	for _, item := range strings.Split(s, ",") {
		name, size, hasSize := strings.Cut(strings.TrimSpace(item), "=")
		if !slices.Contains(Workloads(), name) {
			return nil, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(Workloads(), ", "))
		}
		if _, dup := sizes[name]; dup {
			return nil, fmt.Errorf("workload %q given twice", name)
		}
		n := DefaultWorkloadSize(name)
		if hasSize {
			var err error
			if n, err = strconv.Atoi(size); err != nil || n < 1 {
				return nil, fmt.Errorf("workload %s: size %q is not a positive number", name, size)
			}
		}
		sizes[name] = n
	}
	var out []WorkloadSize
	for _, w := range Workloads() {
		if n, ok := sizes[w]; ok {
			out = append(out, WorkloadSize{w, n})
		}
	}
	return out, nil
}

// FormatWorkloads is the inverse of ParseWorkloads, sizes always given.
func FormatWorkloads(ws []WorkloadSize) string {
	if len(ws) == 0 {
		return "none"
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%s=%d", w.Name, w.Size)
	}
	return strings.Join(parts, ",")
}

// ParseConfigs reads a configuration selection: "all" or "" for every
// one, else a comma-separated list. The result is in Configs() order.
func ParseConfigs(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return Configs(), nil
	}
	want := map[string]bool{}
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if !slices.Contains(Configs(), c) {
			return nil, fmt.Errorf("unknown configuration %q (known: %s)", c, strings.Join(Configs(), ", "))
		}
		want[c] = true
	}
	var out []string
	for _, c := range Configs() {
		if want[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// WorkloadResult is one workload's measurement under one configuration.
type WorkloadResult struct {
	Workload string `json:"workload"`
	Size     int    `json:"size"`
	Config   string `json:"config"`
	// Argv is the command line as run in the userland, trace file
	// included.
	Argv []string `json:"argv,omitempty"`
	// Seconds holds one wall time per measured round: from the start of
	// the chrooted command to its end. Sample i of every configuration of
	// a workload comes from round i.
	Seconds []float64 `json:"seconds,omitempty"`
	Warmup  int       `json:"warmup,omitempty"`
	// Syscalls is the number of system calls of one native run of the
	// workload, every process counted (strace -f -c), 0 if not known.
	Syscalls int `json:"syscalls,omitempty"`
	// NA says why the configuration does not apply here (no samples then).
	NA string `json:"na,omitempty"`
	// Note qualifies the numbers.
	Note string `json:"note,omitempty"`
	// Error is set when the configuration was broken: a run failed or its
	// output was wrong. No samples then.
	Error string `json:"error,omitempty"`
}

// WorkloadEnv describes the guest that ran the workloads.
type WorkloadEnv struct {
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	Kernel     string `json:"kernel"`
	SelfPtrace bool   `json:"self_ptrace"`
	Samples    int    `json:"samples"`
	Warmup     int    `json:"warmup"`
	// Strace and Debian name the versions in the userland.
	Strace string `json:"strace,omitempty"`
	Debian string `json:"debian,omitempty"`
	// FilterCall is the call the filtered configurations trace.
	FilterCall string `json:"filter_call"`
	// Rotated says that the configurations took turns within each round,
	// the first one rotating from round to round.
	Rotated bool `json:"rotated,omitempty"`
}
