package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
	} {
		var b bootFlags
		var o benchFlags
		fs := newFlagSet("bench", &bytes.Buffer{}, "")
		b.register(fs, true)
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
