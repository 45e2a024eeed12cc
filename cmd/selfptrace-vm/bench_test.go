package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
)

func TestBenchUsageErrors(t *testing.T) {
	t.Chdir("../..")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"bench", "--vanilla"}, "--vanilla does not apply"},
		{[]string{"bench", "--samples", "0"}, "--samples"},
		{[]string{"bench", "--warmup", "-1"}, "--warmup"},
		{[]string{"bench", "--rounds", "0"}, "--rounds"},
		{[]string{"bench", "--sample-time", "0s"}, "--sample-time"},
		{[]string{"bench", "--mechanisms", "baseline,strace"}, `unknown mechanism "strace"`},
		{[]string{"bench", "--arch", "mips"}, "unknown architecture"},
		{[]string{"bench", "extra"}, "unexpected arguments"},
		{[]string{"bench", "--mechanisms", "baseline,none"}, `unknown mechanism "none"`},
		{[]string{"bench", "--workloads", "dd=100"}, "--workloads: the selftrace workloads run in the Debian userland: add --userland debian"},
		{[]string{"bench", "--workload-samples", "3"}, "--workload-samples: the selftrace workloads run in the Debian userland"},
		{[]string{"bench", "--userland", "debian", "--workloads", "ls"}, `--workloads: unknown workload "ls"`},
		{[]string{"bench", "--userland", "debian", "--workloads", "dd=0"}, `--workloads: workload dd: size "0"`},
		{[]string{"bench", "--userland", "debian", "--workload-configs", "native,ltrace"}, `--workload-configs: unknown configuration "ltrace"`},
		{[]string{"bench", "--userland", "debian", "--workload-samples", "0"}, "--workload-samples must be at least 1"},
		{[]string{"bench", "--userland", "debian", "--workload-warmup", "-1"}, "--workload-warmup must not be negative"},
		{[]string{"bench", "--userland", "debian", "--workload-timeout", "0s"}, "--workload-timeout must be positive"},
		{[]string{"bench", "--mechanisms", "none", "--no-rig"}, "measures nothing"},
		{[]string{"bench", "--mechanisms", "none", "--no-rig", "--userland", "debian", "--workloads", "none"}, "measures nothing"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), &out, &errb, c.args); code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, code, exitUsage, errb.String())
		}
		if !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: stderr lacks %q:\n%s", c.args, c.msg, errb.String())
		}
	}
}

func TestBenchCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--arch", "all"}, "go run ./cmd/selfptrace-vm bench --arch all"},
		{[]string{"--arch", "s390x", "--cold", "--json", "x.json", "--markdown", "m.md", "-v", "--samples", "11"},
			"go run ./cmd/selfptrace-vm bench --arch s390x --cold --samples 11"},
		{[]string{"--arch", "arm64", "--userland", "debian", "--workloads", "dd=500", "--workload-png", "w.png"},
			"go run ./cmd/selfptrace-vm bench --arch arm64 --userland debian --workloads dd=500"},
	} {
		var b bootFlags
		var o benchFlags
		fs := newFlagSet("bench", &bytes.Buffer{}, "")
		b.register(fs, true)
		b.registerUserland(fs)
		fs.StringVar(&o.workloads, "workloads", "all", "")
		fs.StringVar(&o.workloadPNG, "workload-png", "", "")
		fs.StringVar(&o.jsonOut, "json", "", "")
		fs.StringVar(&o.mdOut, "markdown", "", "")
		fs.BoolVar(&o.cold, "cold", false, "")
		fs.IntVar(&o.samples, "samples", 9, "")
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if got := benchCommand(fs); got != c.want {
			t.Errorf("benchCommand(%v) = %q, want %q", c.args, got, c.want)
		}
	}
}

// TestBenchWorkloadPlan: --userland debian plans the workloads (all of
// them at their default sizes unless --workloads says otherwise);
// without it, or with --workloads none, there is no plan.
func TestBenchWorkloadPlan(t *testing.T) {
	for _, c := range []struct {
		args     []string
		userland bool
		want     string // FormatWorkloads of the plan, "" for none
	}{
		{nil, false, ""},
		{[]string{"--workloads", "none"}, false, ""},
		{nil, true, "dd=20000,sqlite=1000,tar=200"},
		{[]string{"--workloads", "tar=20,dd=2000", "--workload-samples", "2", "--workload-warmup", "0"}, true, "dd=2000,tar=20"},
		{[]string{"--workloads", "none"}, true, ""},
	} {
		var o benchFlags
		fs := newFlagSet("bench", &bytes.Buffer{}, "")
		fs.StringVar(&o.mechs, "mechanisms", "all", "")
		fs.StringVar(&o.workloads, "workloads", "all", "")
		fs.StringVar(&o.workloadConfigs, "workload-configs", "all", "")
		fs.IntVar(&o.workloadSamples, "workload-samples", 5, "")
		fs.IntVar(&o.workloadWarmup, "workload-warmup", 1, "")
		fs.DurationVar(&o.workloadTimeout, "workload-timeout", benchWorkloadTimeout, "")
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if err := o.validateWorkloads(fs, c.userland); err != nil {
			t.Errorf("%v (userland %v): %v", c.args, c.userland, err)
			continue
		}
		got := ""
		if o.workloadPlan != nil {
			got = benchfmt.FormatWorkloads(o.workloadPlan.Workloads)
			if len(o.workloadPlan.Configs) != len(benchfmt.Configs()) || o.workloadPlan.Timeout != benchWorkloadTimeout {
				t.Errorf("%v: plan %+v", c.args, o.workloadPlan)
			}
		}
		if got != c.want {
			t.Errorf("%v (userland %v): workloads %q, want %q", c.args, c.userland, got, c.want)
		}
	}
}
