package kcidb

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// validator is Debian's python3 with python3-jsonschema (make deps installs
// it); the pyenv python3 found first on PATH may lack the module.
const validator = "/usr/bin/python3"

func schemaPath(t *testing.T) string {
	p, err := filepath.Abs("testdata/kcidb-io.schema.v5.3.json")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// validate runs the published schema over doc and returns the validator's
// verdict and output.
func validate(t *testing.T, doc []byte) (bool, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "doc.json")
	if err := os.WriteFile(p, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(validator, "testdata/validate.py", schemaPath(t), p).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok || strings.Contains(string(out), "ModuleNotFoundError") {
			t.Fatalf("cannot run the validator (apt-get install python3-jsonschema, or make deps): %v\n%s", err, out)
		}
		return false, string(out)
	}
	return true, string(out)
}

func fixture() Input {
	run := func(a string, patched bool, outcome vm.Outcome, tests ...report.Test) report.Run {
		r := report.Run{Arch: a, Outcome: outcome, Accel: "tcg", Tests: tests,
			Kernel:  report.Kernel{Version: "6.12.117", Patched: patched, Image: "/nonexistent/" + a + "/bzImage"},
			Timings: report.Timings{KernelBuild: 123.4, Boot: 1.5}}
		return r
	}
	return Input{
		Source:    "/usr/src/linux-source-6.12.tar.xz",
		SourceID:  "0123abcd",
		Series:    []kbuild.Patch{{Name: "0001-a.patch", Content: []byte("a\n")}, {Name: "0002-b.patch", Content: []byte("b\n")}},
		SeriesDir: "/tmp/series dir",
		Start:     time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC),
		Results: report.Results{Runs: []report.Run{
			run("x86_64", true, vm.OutcomeFail,
				report.Test{Name: "smoke", Status: report.Pass, Duration: 0.5},
				report.Test{Name: "selfptrace.TestDelivery", Status: report.Pass, Duration: 0.01},
				report.Test{Name: "selfptrace.TestArgs/rdi", Status: report.Fail, Output: "want 1\x00 got 2"},
				report.Test{Name: "selfptrace.TestHang", Status: report.Timeout},
				report.Test{Name: "kselftest.seccomp_bpf/global.kcmp", Status: report.Skip},
				report.Test{Name: "kselftest.ptrace/vmaccess/attach (odd name)", Status: report.Fail, Output: strings.Repeat("x", 20000)},
			),
			run("s390x", false, vm.OutcomePanic),
			{Arch: "s390x", Outcome: vm.OutcomeRigError, Error: "building s390x kernel: build: exit status 2", Tests: []report.Test{}},
		}},
	}
}

func TestReportValidatesAgainstPublishedSchema(t *testing.T) {
	rep, err := New(fixture())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if ok, out := validate(t, buf.Bytes()); !ok {
		t.Fatalf("generated report is not valid KCIDB v%d.%d:\n%s\n%s", Major, Minor, out, buf.String())
	}
	if len(rep.Checkouts) != 2 || len(rep.Builds) != 3 {
		t.Fatalf("%d checkouts, %d builds; want 2 (patched, vanilla) and 3", len(rep.Checkouts), len(rep.Builds))
	}
	paths := map[string]string{}
	for _, tc := range rep.Tests {
		if strings.Contains(tc.BuildID, "x86_64") {
			paths[tc.Path] = tc.Status
		}
	}
	for path, status := range map[string]string{
		"boot":                                        StatusPass,
		"selfptrace.TestDelivery":                     StatusPass,
		"selfptrace.TestArgs.rdi":                     StatusFail,
		"selfptrace.TestHang":                         StatusFail,
		"kselftest.seccomp_bpf.global.kcmp":           StatusSkip,
		"kselftest.ptrace.vmaccess.attach__odd_name_": StatusFail,
	} {
		if paths[path] != status {
			t.Errorf("test %s: status %q, want %q (all: %v)", path, paths[path], status, paths)
		}
	}
	// The panicked s390x run has one failed boot test; the rig error a failed build and no tests.
	var s390Boot, s390Tests int
	for _, tc := range rep.Tests {
		if strings.Contains(tc.BuildID, "s390x") {
			s390Tests++
			if tc.Path == "boot" && tc.Status == StatusFail {
				s390Boot++
			}
		}
	}
	if s390Boot != 1 || s390Tests != 1 {
		t.Errorf("s390x: %d failed boot tests of %d tests, want 1 of 1", s390Boot, s390Tests)
	}
	if rep.Builds[2].Status != StatusFail || rep.Builds[2].LogExcerpt == "" {
		t.Errorf("rig error build: %+v, want FAIL with the error", rep.Builds[2])
	}
	if rep.Checkouts[0].PatchsetHash == "" || rep.Checkouts[1].PatchsetHash != "" {
		t.Errorf("patchset hashes %q (patched), %q (vanilla)", rep.Checkouts[0].PatchsetHash, rep.Checkouts[1].PatchsetHash)
	}
}

// TestValidatorRejects proves the schema check can fail: each mutation of
// a valid report must be refused.
func TestValidatorRejects(t *testing.T) {
	rep, err := New(fixture())
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Report){
		"status":  func(r *Report) { r.Tests[0].Status = "pass" },
		"path":    func(r *Report) { r.Tests[1].Path = "selfptrace/TestArgs" },
		"origin":  func(r *Report) { r.Builds[0].Origin = "Selfptrace VM" },
		"hash":    func(r *Report) { r.Checkouts[0].PatchsetHash = "abc" },
		"version": func(r *Report) { r.Version.Major = 4 },
	} {
		var cp Report
		data, _ := json.Marshal(rep)
		json.Unmarshal(data, &cp)
		mutate(&cp)
		doc, _ := json.Marshal(cp)
		if ok, out := validate(t, doc); ok {
			t.Errorf("%s: an invalid report passed validation:\n%s", name, out)
		}
	}
}

func TestPatchsetHashMatchesShellRecipe(t *testing.T) {
	dir := "../patches/linux-6.12"
	series, err := kbuild.ReadSeries(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The schema's recipe, over the series in its order.
	var names []string
	for _, p := range series {
		names = append(names, p.Name)
	}
	cmd := exec.Command("sh", "-c", "sha256sum \"$@\" | cut -c-64 | sha256sum | cut -c-64", "sh")
	cmd.Args = append(cmd.Args, names...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := PatchsetHash(series), strings.TrimSpace(string(out)); got != want {
		t.Errorf("PatchsetHash = %s, shell recipe gives %s", got, want)
	}
	if PatchsetHash(nil) != "" {
		t.Error("no patches must give an empty hash")
	}
}

func TestPath(t *testing.T) {
	for in, want := range map[string]string{
		"selfptrace.TestDelivery":           "selfptrace.TestDelivery",
		"selfptrace.TestArgs/rdi":           "selfptrace.TestArgs.rdi",
		"kselftest.seccomp_bpf/global.kcmp": "kselftest.seccomp_bpf.global.kcmp",
		"kselftest.sud_test/a b":            "kselftest.sud_test.a_b",
		"x//y..z":                           "x.y.z",
	} {
		if got := Path(in); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAsIsCheckout: a kernel tree built as it is gets a checkout of its
// own, named by its commit, with no patchset, that validates; its build
// says as-is.
func TestAsIsCheckout(t *testing.T) {
	in := fixture()
	in.Series = nil
	commit := strings.Repeat("ab", 20)
	in.Results.Runs = []report.Run{{Arch: "x86_64", Outcome: vm.OutcomePass, Accel: "tcg",
		Kernel: report.Kernel{Version: "6.12.118", Flavor: report.FlavorAsIs, Image: "/nonexistent/bzImage",
			Tree: &report.Tree{Path: "/src/linux", Commit: commit, Dirty: true}},
		Tests: []report.Test{{Name: "smoke", Status: report.Pass}}}}
	rep, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if ok, out := validate(t, buf.Bytes()); !ok {
		t.Fatalf("as-is report is not valid:\n%s\n%s", out, buf.String())
	}
	c := rep.Checkouts[0]
	if c.GitCommitHash != commit || c.PatchsetHash != "" || len(c.PatchsetFiles) != 0 ||
		c.Misc["flavor"] != report.FlavorAsIs || c.Misc["tree"] != "/src/linux" || c.Misc["dirty"] != true {
		t.Errorf("checkout: %+v", c)
	}
	if b := rep.Builds[0]; !strings.HasSuffix(b.ID, "x86_64-as-is") {
		t.Errorf("build id %q does not say as-is", b.ID)
	}
}
