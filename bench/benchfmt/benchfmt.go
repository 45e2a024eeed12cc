// Package benchfmt is the contract between the guest benchmarks
// (tests/bench, the mechanisms, and tests/tracerbench, the selftrace
// workloads, run inside the VM) and the host's bench verb: the names of
// the mechanisms, workloads and configurations, the environment variables
// that configure a guest run, and the lines the guest prints, which the runner turns into KTAP
// diagnostics and the host reads back from the test's output.
//
// It depends on the standard library only, so that it costs the guest
// binary nothing.
package benchfmt

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mechanism names, in the order the guest measures them and the host
// reports them.
const (
	Baseline      = "baseline"       // getpid, nothing armed
	SelfPtrace    = "selfptrace"     // PTRACE_SELF_ON; the handler performs the call and re-arms
	SUD           = "sud"            // Syscall User Dispatch; the handler performs the call on ALLOW
	SeccompTrap   = "seccomp_trap"   // SECCOMP_RET_TRAP; the handler performs the call through an allowed argument
	PtraceSyscall = "ptrace_syscall" // an external tracer with PTRACE_SYSCALL: entry and exit stops
	PtraceSysemu  = "ptrace_sysemu"  // an external tracer with PTRACE_SYSEMU: one stop, the tracer emulates
	SeccompNotif  = "seccomp_notif"  // SECCOMP_RET_USER_NOTIF; a supervisor thread answers CONTINUE
)

// Mechanisms lists every mechanism in order.
func Mechanisms() []string {
	return []string{Baseline, SelfPtrace, SUD, SeccompTrap, PtraceSyscall, PtraceSysemu, SeccompNotif}
}

// Environment of the guest benchmark.
const (
	// EnvMechanisms is a comma-separated list of mechanisms to measure;
	// empty or "all" measures every one.
	EnvMechanisms = "SELFPTRACE_BENCH"
	// EnvSamples is the number of samples per mechanism.
	EnvSamples = "SELFPTRACE_BENCH_SAMPLES"
	// EnvSampleTime is the minimum duration of one sample (a Go duration).
	EnvSampleTime = "SELFPTRACE_BENCH_SAMPLE_TIME"
	// EnvWarmup is the number of samples run and discarded first.
	EnvWarmup = "SELFPTRACE_BENCH_WARMUP"
)

// Defaults of the guest benchmark.
const (
	DefaultSamples    = 9
	DefaultSampleTime = "100ms"
	DefaultWarmup     = 1
)

// Line prefixes. A line is the prefix, a space and one JSON object.
const (
	ResultPrefix = "BENCH"
	EnvPrefix    = "BENCHENV"
)

// Result is one mechanism's measurement.
type Result struct {
	Mech string `json:"mech"`
	// NsPerCall holds one value per sample: the sample's wall time
	// (CLOCK_MONOTONIC) divided by Iters.
	NsPerCall []float64 `json:"ns_per_call,omitempty"`
	// Iters is the number of calls per sample, calibrated so that a
	// sample lasts at least the sample time.
	Iters int `json:"iters,omitempty"`
	// Warmup is the number of samples discarded before these.
	Warmup int `json:"warmup,omitempty"`
	// NA says why the mechanism cannot be measured on this machine; the
	// samples, if any, are then only informative (see Note).
	NA string `json:"na,omitempty"`
	// Note qualifies the numbers.
	Note string `json:"note,omitempty"`
	// Error is set when the measurement failed.
	Error string `json:"error,omitempty"`
}

// Env describes the guest that measured.
type Env struct {
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	Kernel     string `json:"kernel"`      // uname release and version
	SelfPtrace bool   `json:"self_ptrace"` // PTRACE_SELF_ON works
	Samples    int    `json:"samples"`
	// SampleTime is the minimum duration of a sample that was used: the
	// one asked for, or more when the clock is coarse (MinClockTicks).
	SampleTime string `json:"sample_time"`
	Warmup     int    `json:"warmup"`
	GoVersion  string `json:"go"`
	// ClockSource is the kernel's current clocksource and ClockResNs the
	// resolution of CLOCK_MONOTONIC (clock_getres).
	ClockSource string `json:"clocksource,omitempty"`
	ClockResNs  int64  `json:"clock_res_ns,omitempty"`
	// Interleaved says that the mechanisms took turns, one sample each per
	// round: sample i of every mechanism comes from round i.
	Interleaved bool `json:"interleaved,omitempty"`
}

// MinClockTicks is the minimum number of clock ticks in one sample: with a
// coarse clock (jiffies) a sample is lengthened until the rounding of its
// two readings is at most 1/MinClockTicks of it.
const MinClockTicks = 50

// Format returns the line for v (a Result, an Env, a WorkloadResult or a
// WorkloadEnv).
func Format(v any) (string, error) {
	var prefix string
	switch v.(type) {
	case Result, *Result:
		prefix = ResultPrefix
	case Env, *Env:
		prefix = EnvPrefix
	case WorkloadResult, *WorkloadResult:
		prefix = WorkloadPrefix
	case WorkloadEnv, *WorkloadEnv:
		prefix = WorkloadEnvPrefix
	default:
		return "", fmt.Errorf("benchfmt: cannot format %T", v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return prefix + " " + string(b), nil
}

// Parsed holds what Parse found in a test's output.
type Parsed struct {
	Env     *Env
	Results []Result
	// WorkloadEnv and Workloads are the workload benchmark's lines.
	WorkloadEnv *WorkloadEnv
	Workloads   []WorkloadResult
}

// Empty tells whether no benchmark line was found.
func (p Parsed) Empty() bool {
	return p.Env == nil && len(p.Results) == 0 && p.WorkloadEnv == nil && len(p.Workloads) == 0
}

// Parse reads every benchmark line of output, which may hold any other
// lines too (the test's log, kernel messages); a line may be indented (as
// t.Log indents). A line that starts with a prefix but does not parse is an
// error that names it.
func Parse(output string) (Parsed, error) {
	var p Parsed
	for i, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		prefix, rest, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(rest, "{") {
			continue
		}
		switch prefix {
		case ResultPrefix:
			var r Result
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return p, fmt.Errorf("line %d: %s line: %w: %q", i+1, prefix, err, line)
			}
			if r.Mech == "" {
				return p, fmt.Errorf("line %d: %s line without a mechanism: %q", i+1, prefix, line)
			}
			p.Results = append(p.Results, r)
		case EnvPrefix:
			var e Env
			if err := json.Unmarshal([]byte(rest), &e); err != nil {
				return p, fmt.Errorf("line %d: %s line: %w: %q", i+1, prefix, err, line)
			}
			p.Env = &e
		case WorkloadPrefix:
			var r WorkloadResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return p, fmt.Errorf("line %d: %s line: %w: %q", i+1, prefix, err, line)
			}
			if r.Workload == "" || r.Config == "" {
				return p, fmt.Errorf("line %d: %s line without a workload or a configuration: %q", i+1, prefix, line)
			}
			p.Workloads = append(p.Workloads, r)
		case WorkloadEnvPrefix:
			var e WorkloadEnv
			if err := json.Unmarshal([]byte(rest), &e); err != nil {
				return p, fmt.Errorf("line %d: %s line: %w: %q", i+1, prefix, err, line)
			}
			p.WorkloadEnv = &e
		}
	}
	return p, nil
}

// EnvInt reads the environment variable name as an integer of at least
// min; def when it is unset. The guest tests read their settings so.
func EnvInt(name string, def, min int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return def, fmt.Errorf("%s=%q: want a whole number of at least %d", name, v, min)
	}
	return n, nil
}
