package benchfmt

import (
	"reflect"
	"strings"
	"testing"
)

func TestFormatParseRoundTrip(t *testing.T) {
	env := Env{GOARCH: "s390x", CPUs: 1, Kernel: "6.12.117 #1", SelfPtrace: true, Samples: 9, SampleTime: "100ms", Warmup: 1, ClockSource: "tod", ClockResNs: 1}
	res := Result{Mech: SelfPtrace, NsPerCall: []float64{1.5, 2.25}, Iters: 1000, Warmup: 1, Note: "n"}
	na := Result{Mech: PtraceSysemu, NA: "no such thing"}
	var lines []string
	for _, v := range []any{env, res, &na} {
		l, err := Format(v)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	// As the host sees them: between the test's other output, indented.
	out := "=== RUN   TestMechanisms\n" + lines[0] + "\n    " + lines[1] + "\r\n[   12.5] kernel says BENCH nothing\n" + lines[2] + "\n--- PASS"
	p, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.Env == nil || !reflect.DeepEqual(*p.Env, env) {
		t.Errorf("env = %+v, want %+v", p.Env, env)
	}
	if want := []Result{res, na}; !reflect.DeepEqual(p.Results, want) {
		t.Errorf("results = %+v, want %+v", p.Results, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, out := range []string{
		`BENCH {"mech": "x", "iters": "many"}`,
		`BENCH {"iters": 3}`,
		`BENCHENV {"cpus": "one"}`,
		`BENCH {"mech":"baseline","ns_per_call":[1,2`,
	} {
		if _, err := Parse(out); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("Parse(%q) = %v, want an error naming line 1", out, err)
		}
	}
	if _, err := Format(42); err == nil {
		t.Error("Format(int) succeeded")
	}
}

func TestMechanismsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Mechanisms() {
		if seen[m] || m == "" || m == "all" || strings.ContainsAny(m, ", ") {
			t.Errorf("bad or duplicate mechanism name %q", m)
		}
		seen[m] = true
	}
}

func TestWorkloadLinesRoundTrip(t *testing.T) {
	env := WorkloadEnv{GOARCH: "arm64", CPUs: 1, Kernel: "6.12.117 #1", SelfPtrace: true, Samples: 5, Warmup: 1,
		Strace: "strace -- version 6.1", Debian: "12.15", FilterCall: FilterCall, Rotated: true}
	dd := WorkloadResult{Workload: WorkloadDD, Size: 30000, Config: ConfigSelftrace, Argv: []string{"/usr/local/bin/selftrace", "-f"},
		Seconds: []float64{1.5, 1.25}, Warmup: 1, Syscalls: 60012}
	na := WorkloadResult{Workload: WorkloadDD, Size: 30000, Config: ConfigSelftraceSUD, NA: "selftrace exits 2: no SUD on arm64"}
	mech := Result{Mech: Baseline, NsPerCall: []float64{100}}
	var lines []string
	for _, v := range []any{env, &dd, na, mech} {
		l, err := Format(v)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if !strings.HasPrefix(lines[0], WorkloadEnvPrefix+" {") || !strings.HasPrefix(lines[1], WorkloadPrefix+" {") {
		t.Errorf("prefixes: %q, %q", lines[0], lines[1])
	}
	out := "=== RUN   TestWorkloads\n" + lines[0] + "\n    tracerbench_test.go:1: round 1\n" + lines[1] + "\r\n" + lines[2] + "\n" + lines[3] + "\n--- PASS"
	p, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.WorkloadEnv == nil || !reflect.DeepEqual(*p.WorkloadEnv, env) {
		t.Errorf("workload env = %+v, want %+v", p.WorkloadEnv, env)
	}
	if want := []WorkloadResult{dd, na}; !reflect.DeepEqual(p.Workloads, want) {
		t.Errorf("workloads = %+v, want %+v", p.Workloads, want)
	}
	if len(p.Results) != 1 || p.Env != nil || p.Empty() {
		t.Errorf("the mechanism line: %+v", p)
	}
	if !(Parsed{}).Empty() {
		t.Error("an empty Parsed is not Empty")
	}
	for _, bad := range []string{
		`WORKLOAD {"workload": "dd"}`,
		`WORKLOAD {"config": "native"}`,
		`WORKLOAD {"workload": "dd", "config": "native", "seconds": "fast"}`,
		`WORKLOADENV {"cpus": "one"}`,
	} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("Parse(%q) = %v, want an error naming line 1", bad, err)
		}
	}
}

func TestParseWorkloads(t *testing.T) {
	all := []WorkloadSize{{WorkloadDD, 20000}, {WorkloadSQLite, 1000}, {WorkloadTar, 200}}
	for _, c := range []struct {
		in   string
		want []WorkloadSize
	}{
		{"", all},
		{"all", all},
		{" none ", nil},
		{"tar=20,dd", []WorkloadSize{{WorkloadDD, 20000}, {WorkloadTar, 20}}},
		{"sqlite=1", []WorkloadSize{{WorkloadSQLite, 1}}},
	} {
		got, err := ParseWorkloads(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseWorkloads(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if back, err := ParseWorkloads(FormatWorkloads(got)); err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("ParseWorkloads(FormatWorkloads(%v)) = %v, %v", got, back, err)
		}
	}
	for _, bad := range []string{"ls", "dd=0", "dd=-3", "dd=many", "dd,dd=5", "dd,,tar"} {
		if ws, err := ParseWorkloads(bad); err == nil {
			t.Errorf("ParseWorkloads(%q) = %v, want an error", bad, ws)
		}
	}
	for _, w := range Workloads() {
		if DefaultWorkloadSize(w) < 1 {
			t.Errorf("workload %s has no default size", w)
		}
	}
}

func TestParseConfigs(t *testing.T) {
	if got, err := ParseConfigs("all"); err != nil || !reflect.DeepEqual(got, Configs()) {
		t.Errorf("all: %v, %v", got, err)
	}
	got, err := ParseConfigs("strace, native")
	if err != nil || !reflect.DeepEqual(got, []string{ConfigNative, ConfigStrace}) {
		t.Errorf("strace, native: %v, %v (want Configs() order)", got, err)
	}
	if _, err := ParseConfigs("native,ltrace"); err == nil || !strings.Contains(err.Error(), `"ltrace"`) {
		t.Errorf("unknown configuration: %v", err)
	}
}

func TestTracerArgv(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Configs() {
		argv, err := TracerArgv(c, "/st", "/strace", "/dev/null")
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		line := strings.Join(argv, " ")
		if seen[line] {
			t.Errorf("%s: the same command line as another configuration: %q", c, line)
		}
		seen[line] = true
		if c == ConfigNative {
			if len(argv) != 0 {
				t.Errorf("native: %q", argv)
			}
			continue
		}
		if argv[len(argv)-1] != "--" || !strings.Contains(line, " -f -o /dev/null") {
			t.Errorf("%s: %q: want -f, -o /dev/null and a final --", c, line)
		}
		filtered := strings.Contains(line, "-e trace="+FilterCall)
		if filtered != (StraceReference(c) == ConfigStraceSeccomp) {
			t.Errorf("%s: %q: filtered %v, but compared with %s", c, line, filtered, StraceReference(c))
		}
	}
	if argv, _ := TracerArgv(ConfigStraceSeccomp, "/st", "/strace", "/o"); argv[0] != "/strace" || !strings.Contains(strings.Join(argv, " "), " --seccomp-bpf -e trace=execve --") {
		t.Errorf("strace_seccomp: %q", argv)
	}
	if argv, _ := TracerArgv(ConfigSelftraceSUD, "/st", "/strace", "/o"); argv[0] != "/st" || !strings.Contains(strings.Join(argv, " "), "--backend sud") {
		t.Errorf("selftrace_sud: %q", argv)
	}
	if _, err := TracerArgv("ltrace", "", "", ""); err == nil {
		t.Error("unknown configuration accepted")
	}
	if StraceReference(ConfigSelftrace) != ConfigStrace || StraceReference(ConfigNative) != ConfigStrace {
		t.Error("unfiltered configurations compare with strace -f")
	}
}
