// Package bench_test measures, inside the guest and in one run, the cost
// per call of a getpid(2) that is intercepted by self-ptrace and by the
// mechanisms it competes with (see bench/benchfmt for the list), against
// the plain call as a baseline.
//
// Every measured call is made from assembly (selfptrace.Loop), so that no
// Go runtime code runs between two calls; the intercepting mechanisms use
// the same assembly SIGSYS handler as the conformance suite. A sample is
// the CLOCK_MONOTONIC wall time of a calibrated number of calls (at least
// the sample time, more with a coarse clock). The mechanisms take turns,
// one sample each per round: warm-up rounds, then the rounds that are
// reported. Each sample also checks that every call was really
// intercepted (the handler's counter, the tracer's stops, the supervisor's
// notifications) and returned the pid.
//
// The results are printed as "BENCH {json}" lines (benchfmt.Format) that
// the host's bench verb reads back from the test's output. The test fails
// (never skips) when a requested mechanism cannot be measured; on a kernel
// without self-ptrace the host only requests the baseline.
//
// The ptrace mechanisms trace a child process: the test binary re-executes
// itself with SELFPTRACE_BENCH_HELPER set, and TestMain runs the tracee.
package bench_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

const helperEnv = "SELFPTRACE_BENCH_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// config is the benchmark's configuration, from the environment.
type config struct {
	mechs      []string
	samples    int
	warmup     int
	sampleTime time.Duration
}

func loadConfig() (config, error) {
	c := config{samples: benchfmt.DefaultSamples, warmup: benchfmt.DefaultWarmup}
	c.sampleTime, _ = time.ParseDuration(benchfmt.DefaultSampleTime)
	var err error
	if c.samples, err = benchfmt.EnvInt(benchfmt.EnvSamples, c.samples, 1); err != nil {
		return c, err
	}
	if c.warmup, err = benchfmt.EnvInt(benchfmt.EnvWarmup, c.warmup, 0); err != nil {
		return c, err
	}
	if v := os.Getenv(benchfmt.EnvSampleTime); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive duration", benchfmt.EnvSampleTime, v)
		}
		c.sampleTime = d
	}
	v := strings.TrimSpace(os.Getenv(benchfmt.EnvMechanisms))
	if v == "" || v == "all" {
		c.mechs = benchfmt.Mechanisms()
		return c, nil
	}
	for _, m := range strings.Split(v, ",") {
		m = strings.TrimSpace(m)
		if mechanisms()[m] == nil {
			return c, fmt.Errorf("%s: unknown mechanism %q (known: %s)", benchfmt.EnvMechanisms, m, strings.Join(benchfmt.Mechanisms(), ", "))
		}
		c.mechs = append(c.mechs, m)
	}
	return c, nil
}

// mechanism is one way of making the call. sample runs k samples of n
// calls and returns their durations; it sets up and tears down everything
// it needs (handler, filter, thread, tracee) on each call, outside the
// timed part, so that the mechanisms can take turns. finish, if set,
// qualifies the result once every round is done.
type mechanism struct {
	sample sampler
	finish func(r *benchfmt.Result)
}

// sampler runs k samples of n calls each and returns their durations.
type sampler func(n, k int) ([]time.Duration, error)

// mechanisms returns every mechanism by name.
func mechanisms() map[string]func() mechanism {
	return map[string]func() mechanism{
		benchfmt.Baseline:      benchBaseline,
		benchfmt.SelfPtrace:    benchSelfPtrace,
		benchfmt.SUD:           benchSUD,
		benchfmt.SeccompTrap:   benchSeccompTrap,
		benchfmt.PtraceSyscall: func() mechanism { return benchTracer(benchfmt.PtraceSyscall) },
		benchfmt.PtraceSysemu:  func() mechanism { return benchTracer(benchfmt.PtraceSysemu) },
		benchfmt.SeccompNotif:  benchSeccompNotif,
	}
}

// TestMechanisms measures the requested mechanisms and prints one BENCH
// line for each, after a BENCHENV line. The mechanisms take turns: each
// round takes one sample of every mechanism, so that a change of the
// host's load hits them all alike, and sample i of two mechanisms were
// taken close together (the host computes ratios round by round).
func TestMechanisms(t *testing.T) {
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	// No collection in the middle of a sample, and enough Ps for a thread
	// that blocks in the kernel while holding one (the notification
	// target, in assembly) and the thread that must run to release it
	// (its supervisor), on a guest with one CPU.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(4, runtime.NumCPU())))

	// A coarse clock (an x86 guest under TCG may have nothing better than
	// jiffies) lengthens the samples.
	var res unix.Timespec
	if err := unix.ClockGetres(unix.CLOCK_MONOTONIC, &res); err != nil {
		t.Fatalf("clock_getres(CLOCK_MONOTONIC): %v", err)
	}
	c.sampleTime = max(c.sampleTime, benchfmt.MinClockTicks*time.Duration(res.Nano()))
	env := benchfmt.Env{
		GOARCH:      runtime.GOARCH,
		CPUs:        runtime.NumCPU(),
		Kernel:      kernelVersion(),
		SelfPtrace:  sp.Probe() == nil,
		Samples:     c.samples,
		SampleTime:  c.sampleTime.String(),
		Warmup:      c.warmup,
		GoVersion:   runtime.Version(),
		ClockSource: clockSource(),
		ClockResNs:  res.Nano(),
		Interleaved: true,
	}
	emit(t, env)
	for _, r := range measureAll(t, c) {
		emit(t, r)
		switch {
		case r.Error != "":
			t.Errorf("%s: %s", r.Mech, r.Error)
		case r.NA != "":
			t.Logf("%s: n/a: %s", r.Mech, r.NA)
		}
	}
}

// measureAll calibrates every mechanism, then runs the rounds: the
// warm-up rounds (which also lengthen samples that came out short: the
// first calls of a new process are slower under an emulator, which
// translates code on first use), then the measured ones. A mechanism that
// fails is left out of the following rounds.
func measureAll(t *testing.T, c config) []benchfmt.Result {
	all := mechanisms()
	ms := make([]mechanism, len(c.mechs))
	rs := make([]benchfmt.Result, len(c.mechs))
	for i, name := range c.mechs {
		ms[i] = all[name]()
		rs[i] = benchfmt.Result{Mech: name, Warmup: c.warmup}
		start := time.Now()
		n, err := calibrate(c, ms[i].sample)
		rs[i].Iters = n
		if err != nil {
			rs[i].Error = err.Error()
		}
		t.Logf("%s: %d calls per sample (calibrated in %v)", name, n, time.Since(start).Round(time.Millisecond))
	}
	for round := range c.warmup + c.samples {
		for i := range ms {
			r := &rs[i]
			if r.Error != "" {
				continue
			}
			ds, err := ms[i].sample(r.Iters, 1)
			if err != nil {
				r.Error = fmt.Sprintf("round %d, %d calls: %v", round+1, r.Iters, err)
				continue
			}
			d := ds[0]
			if round < c.warmup {
				if d < c.sampleTime*9/10 && d > 0 {
					r.Iters = min(int(float64(r.Iters)*float64(c.sampleTime)*1.1/float64(d))+1, maxIters)
				}
				continue
			}
			r.NsPerCall = append(r.NsPerCall, float64(d.Nanoseconds())/float64(r.Iters))
		}
	}
	for i := range ms {
		if ms[i].finish != nil {
			ms[i].finish(&rs[i])
		}
		if rs[i].Error != "" {
			rs[i].NsPerCall = nil
		}
	}
	return rs
}

// maxIters bounds the calibration.
const maxIters = 1 << 30

// calibrate returns the number of calls that makes a sample last the
// sample time, from single samples of growing size.
func calibrate(c config, s sampler) (int, error) {
	n := 16
	for {
		d, err := s(n, 1)
		if err != nil {
			return n, fmt.Errorf("calibrating with %d calls: %w", n, err)
		}
		if d[0] >= c.sampleTime/8 || n >= maxIters {
			per := float64(d[0]) / float64(n)
			return min(int(float64(c.sampleTime)*1.1/max(per, 1))+1, maxIters), nil
		}
		if d[0] <= 0 {
			n *= 16
		} else {
			// Aim at a quarter of the sample time, at most 16 times more.
			n = int(min(float64(n)*16, float64(n)*float64(c.sampleTime/4)/float64(d[0]))) + 1
		}
		n = min(n, maxIters)
	}
}

// emit prints one benchmark line on its own (not through t.Log, which
// prefixes it with the file and line).
func emit(t *testing.T, v any) {
	t.Helper()
	line, err := benchfmt.Format(v)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(line)
}

func clockSource() string {
	b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func kernelVersion() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown: " + err.Error()
	}
	return unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:])
}

// runMasked runs ops with every signal but SIGSYS blocked (no Go signal
// handler can make a system call in an armed or filtered window) and
// returns the wall time of the sequence.
func runMasked(ops []sp.Op) (time.Duration, error) {
	old, err := sp.Sigprocmask(sp.SigSetmask, ^uint64(0)&^sp.SigBit(sp.SIGSYS))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	sp.RunRaw(ops)
	d := time.Since(start)
	if _, err := sp.Sigprocmask(sp.SigSetmask, old); err != nil {
		return 0, err
	}
	return d, nil
}
