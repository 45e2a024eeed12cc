package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/vm"
)

func sample() Results {
	return Results{Runs: []Run{
		{Arch: "x86_64", Outcome: vm.OutcomePass, Accel: "tcg", AccelReason: "KVM unusable: no guest code ran",
			Kernel:  Kernel{Version: "6.12.117", Patched: true, Image: "/c/bzImage", CacheHit: true},
			Tests:   []Test{{Name: "smoke.TestA", Status: Pass, Duration: 0.5}, {Name: "smoke.TestA/sub", Status: Pass}},
			Timings: Timings{Total: 3}},
		{Arch: "s390x", Outcome: vm.OutcomePanic, Error: "kernel panic", Excerpt: "Kernel panic - not syncing",
			Tests: []Test{{Name: "selfptrace.TestB", Status: Fail, Output: "boom"}, {Name: "selfptrace.TestC", Status: Timeout}, {Name: "selfptrace.TestD", Status: Skip}}},
	}}
}

func TestJSONRoundTripKeepsNames(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"runs"`, `"arch"`, `"kernel"`, `"version"`, `"patched"`, `"image"`, `"cache_hit"`, `"accel"`, `"accel_reason"`, `"outcome"`,
		`"tests"`, `"name"`, `"status"`, `"duration_s"`, `"output"`, `"timings_s"`, `"kernel_build"`, `"initramfs"`, `"boot"`, `"total"`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	rs, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Runs) != 2 || rs.Runs[1].Tests[1].Status != Timeout || !rs.Runs[0].Kernel.CacheHit ||
		rs.Runs[1].Outcome != vm.OutcomePanic || rs.Runs[0].AccelReason != "KVM unusable: no guest code ran" {
		t.Errorf("round trip lost data: %+v", rs)
	}
}

func TestPassed(t *testing.T) {
	if sample().Passed() {
		t.Error("a run with a panic passed")
	}
	if (Results{}).Passed() {
		t.Error("no runs passed")
	}
	ok := Results{Runs: sample().Runs[:1]}
	if !ok.Passed() {
		t.Error("a passing run did not pass")
	}
}

func TestJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var s junitSuites
	if err := xml.Unmarshal(b.Bytes(), &s); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, b.String())
	}
	if len(s.Suites) != 2 {
		t.Fatalf("%d suites", len(s.Suites))
	}
	su := s.Suites[1]
	if su.Failures != 2 || su.Skipped != 1 || su.Errors != 1 || su.Tests != 4 {
		t.Errorf("s390x suite counts: %+v", su)
	}
}

func TestKTAP(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteKTAP(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"KTAP version 1\n1..2\n", "    1..2\n", "    ok 1 smoke.TestA\n", "    not ok 1 selfptrace.TestB\n",
		"    not ok 2 selfptrace.TestC # TIMEOUT\n", "    ok 3 selfptrace.TestD # SKIP\n", "ok 1 x86_64\n", "not ok 2 s390x\n", "# s390x: panic\n", "    # boom\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("KTAP lacks %q:\n%s", want, out)
		}
	}
}

func TestSummaryNamesFailures(t *testing.T) {
	var b bytes.Buffer
	sample().WriteSummary(&b)
	out := b.String()
	for _, want := range []string{"x86_64  PASS", "s390x   PANIC", "FAIL selfptrace.TestB", "TIMEOUT selfptrace.TestC", "| Kernel panic"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestSummaryShowsTheAcceleratorAndWhy(t *testing.T) {
	var b bytes.Buffer
	sample().WriteSummary(&b)
	if !strings.Contains(b.String(), "accelerator tcg: KVM unusable: no guest code ran") {
		t.Errorf("summary lacks the accelerator's reason:\n%s", b.String())
	}
}

func TestJSONUserlandAndSelftrace(t *testing.T) {
	rs := Results{Runs: []Run{{Arch: "s390x", Outcome: vm.OutcomePass,
		Userland:  &Userland{Spec: "debian", Suite: "bookworm", DebianArch: "s390x", Key: "u", CacheHit: true},
		Selftrace: &Selftrace{Key: "k", CacheHit: true},
		Timings:   Timings{Userland: 1.5, Selftrace: 0.25}}}}
	var b bytes.Buffer
	if err := rs.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"userland": {`, `"selftrace": {`, `"key": "k"`, `"selftrace": 0.25`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s:\n%s", key, b.String())
		}
	}
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if st := got.Runs[0].Selftrace; st == nil || st.Key != "k" || !st.CacheHit || got.Runs[0].Timings.Selftrace != 0.25 {
		t.Errorf("round trip lost selftrace: %+v", got.Runs[0])
	}
	// A run without the userland has neither.
	b.Reset()
	(Results{Runs: []Run{{Arch: "x86_64"}}}).WriteJSON(&b)
	if strings.Contains(b.String(), "selftrace") {
		t.Errorf("a run without selftrace mentions it:\n%s", b.String())
	}
}

// TestAsIsLabels: a kernel tree built as it is is labelled as-is, with its
// tree, commit and dirtiness, in the summary, the JSON, JUnit and KTAP.
func TestAsIsLabels(t *testing.T) {
	rs := Results{Runs: []Run{{Arch: "s390x", Outcome: vm.OutcomePass, Accel: "tcg", SMP: 2,
		Kernel: Kernel{Version: "6.12.118", Flavor: FlavorAsIs, Image: "/k/bzImage", CacheHit: true,
			Tree: &Tree{Path: "/src/linux", Commit: "0123456789abcdef0123456789abcdef01234567", Dirty: true}},
		Tests: []Test{{Name: "smoke", Status: Pass}}}}}
	var sum, js, ju, kt bytes.Buffer
	rs.WriteSummary(&sum)
	if err := rs.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := rs.WriteJUnit(&ju); err != nil {
		t.Fatal(err)
	}
	if err := rs.WriteKTAP(&kt); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		sum.String(): {"(as-is, cached)", "kernel tree /src/linux at 0123456789abcdef0123456789abcdef01234567, with uncommitted changes"},
		js.String():  {`"flavor": "as-is"`, `"patched": false`, `"commit": "0123456789abcdef0123456789abcdef01234567"`, `"dirty": true`},
		ju.String():  {`name="kernel.flavor" value="as-is"`, `name="kernel.commit" value="0123456789abcdef0123456789abcdef01234567"`, `name="kernel.dirty" value="true"`},
		kt.String():  {"# kernel: 6.12.118 as-is from /src/linux at 0123456789abcdef0123456789abcdef01234567 (dirty)"},
	} {
		for _, w := range want {
			if !strings.Contains(name, w) {
				t.Errorf("lacks %q:\n%s", w, name)
			}
		}
	}
}
