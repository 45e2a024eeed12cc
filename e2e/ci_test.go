package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/kcidb"
)

// brokenPatch is a deliberately broken patch (si_errno 42 in the SIGSYS of
// an interception): it builds and boots, and TestDelivery catches it. It
// goes right after the patch that gives x86_64 the feature
// (kbuild.FeaturePatch): before it no feature test can pass on x86_64.
const brokenPatch = "broken-entry-self-ptrace-report-a-bogus-si_errno.patch"

// x86FeaturePatch returns the number of the series patch that gives
// x86_64 the feature, and its name.
func x86FeaturePatch(t *testing.T, root string) (int, string) {
	t.Helper()
	series, err := kbuild.ReadSeries(filepath.Join(root, "patches", "linux-6.12"))
	if err != nil {
		t.Fatal(err)
	}
	x86, err := arch.Lookup("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	k := kbuild.FeaturePatch(series, x86.KernelDir)
	if k == 0 {
		t.Fatal("no patch of the series gives x86_64 the feature")
	}
	return k, series[k-1].Name
}

var (
	brokenOnce sync.Once
	brokenRoot string
	brokenErr  error
)

// brokenCheckout returns a copy of the checkout whose series has the
// broken patch inserted after the x86_64 feature patch, shared by the compare and
// bisect tests.
func brokenCheckout(t *testing.T, e *env) string {
	t.Helper()
	brokenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "selfptrace-vm-broken-")
		if err != nil {
			brokenErr = err
			return
		}
		root := filepath.Join(dir, "checkout")
		out, err := exec.Command("rsync", "-a", "--exclude", "/out", "--exclude", "/.git", e.root+"/", root+"/").CombinedOutput()
		if err != nil {
			brokenErr = err
			t.Logf("rsync: %s", out)
			return
		}
		series := filepath.Join(root, "patches", "linux-6.12")
		patch, err := os.ReadFile(filepath.Join(e.root, "e2e", "testdata", brokenPatch))
		if err != nil {
			brokenErr = err
			return
		}
		if err := os.WriteFile(filepath.Join(series, brokenPatch), patch, 0o644); err != nil {
			brokenErr = err
			return
		}
		list, err := os.ReadFile(filepath.Join(series, "series"))
		if err != nil {
			brokenErr = err
			return
		}
		_, after := x86FeaturePatch(t, e.root)
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(list)), "\n") {
			lines = append(lines, l)
			if l == after {
				lines = append(lines, brokenPatch)
			}
		}
		t.Logf("series with the broken patch (%d patches): %v", len(lines), lines)
		brokenErr = os.WriteFile(filepath.Join(series, "series"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
		brokenRoot = root
	})
	if brokenErr != nil {
		t.Fatalf("making the broken checkout: %v", brokenErr)
	}
	return brokenRoot
}

// TestKCIDBReportValidates runs the suite on every arch with --kcidb and
// validates the report against the published KCIDB schema; every guest
// result is in it, under its dotted path, with the matching status.
func TestKCIDBReportValidates(t *testing.T) {
	e := needEnv(t)
	dir := t.TempDir()
	js, kc := filepath.Join(dir, "r.json"), filepath.Join(dir, "kcidb.json")
	r := e.run(t, 60*time.Minute, "test", "--arch", archFlag(), "--json", js, "--kcidb", kc, "--out", filepath.Join(dir, "out"))
	if r.code != 0 {
		t.Fatalf("test --kcidb exited %d\n%s", r.code, tailOf(r.stderr, 30))
	}
	data := mustRead(t, kc)
	out, err := exec.Command("/usr/bin/python3", filepath.Join(e.root, "kcidb", "testdata", "validate.py"),
		filepath.Join(e.root, "kcidb", "testdata", "kcidb-io.schema.v5.3.json"), kc).CombinedOutput()
	if err != nil {
		t.Fatalf("the KCIDB report does not validate: %v\n%s", err, out)
	}
	var doc kcidb.Report
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	rs := readResults(t, js)
	if len(doc.Checkouts) != 1 || doc.Checkouts[0].PatchsetHash == "" || len(doc.Checkouts[0].PatchsetFiles) == 0 {
		t.Errorf("checkouts: %+v, want one with the series' patchset", doc.Checkouts)
	}
	if len(doc.Builds) != len(rs.Runs) {
		t.Errorf("%d builds for %d runs", len(doc.Builds), len(rs.Runs))
	}
	for _, b := range doc.Builds {
		if b.Architecture == "" || b.Compiler == "" || b.ConfigName == "" || b.Status != kcidb.StatusPass {
			t.Errorf("build %s: architecture %q compiler %q config %q status %s", b.ID, b.Architecture, b.Compiler, b.ConfigName, b.Status)
		}
	}
	got := map[string]string{}
	for _, tc := range doc.Tests {
		got[tc.BuildID+" "+tc.Path] = tc.Status
	}
	n := 0
	for i, run := range rs.Runs {
		for _, tc := range run.Tests {
			n++
			key := doc.Builds[i].ID + " " + kcidb.Path(tc.Name)
			if got[key] != kcidb.Status(tc.Status) {
				t.Errorf("%s: %s in KCIDB, %s in the run", key, got[key], tc.Status)
			}
		}
		if got[doc.Builds[i].ID+" boot"] != kcidb.StatusPass {
			t.Errorf("%s: boot test %q", run.Arch, got[doc.Builds[i].ID+" boot"])
		}
	}
	if !strings.Contains(string(data), `"path": "selfptrace.TestDelivery"`) {
		t.Errorf("no selfptrace.TestDelivery in the report")
	}
	t.Logf("KCIDB report: %d bytes, %d checkouts, %d builds, %d tests (%d guest results + boot); schema v%d.%d: %s",
		len(data), len(doc.Checkouts), len(doc.Builds), len(doc.Tests), n, kcidb.Major, kcidb.Minor, strings.TrimSpace(string(out)))
}

type compareJSON struct {
	Results []struct {
		Arch, Name, Class string
		A, B              []string
	} `json:"results"`
	Counts map[string]int `json:"counts"`
}

func readCompare(t *testing.T, path string) compareJSON {
	t.Helper()
	var c compareJSON
	if err := json.Unmarshal(mustRead(t, path), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCompareGate: the series against a copy with a broken patch is a
// regression (exit 1, TestDelivery named), and the kselftests on the
// patched kernel against the vanilla one are not (exit 0).
func TestCompareGate(t *testing.T) {
	e := needEnv(t)
	broken := brokenCheckout(t, e)
	dir := t.TempDir()

	js := filepath.Join(dir, "broken.json")
	r := e.run(t, 40*time.Minute, "compare", "--arch", "x86_64", "--root", e.root, "--root", broken,
		"--suite", "go", "--run", "^Test(Delivery|NotExecuted)$", "--json", js, "--out", filepath.Join(dir, "out-broken"))
	t.Logf("compare (series against broken series):\n%s", r.stdout)
	if r.code != 1 {
		t.Errorf("compare with a broken patch exited %d, want 1 (regression)\n%s", r.code, tailOf(r.stderr, 30))
	}
	c := readCompare(t, js)
	var found bool
	for _, res := range c.Results {
		if res.Name == "selfptrace.TestDelivery" {
			found = true
			if res.Class != "regression" || len(res.A) < 2 || len(res.B) < 2 {
				t.Errorf("TestDelivery: %+v, want a regression confirmed by a rerun", res)
			}
		}
	}
	if !found || c.Counts["regression"] == 0 {
		t.Errorf("no regression of selfptrace.TestDelivery in %+v", c)
	}

	js = filepath.Join(dir, "kselftest.json")
	start := time.Now()
	r = e.run(t, 60*time.Minute, "compare", "--arch", "x86_64", "--json", js, "--out", filepath.Join(dir, "out-ks"))
	t.Logf("compare (kselftests, vanilla against patched) in %s:\n%s", time.Since(start).Round(time.Second), r.stdout)
	if r.code != 0 {
		t.Errorf("compare patched against vanilla exited %d, want 0\n%s", r.code, tailOf(r.stderr, 30))
	}
	c = readCompare(t, js)
	if c.Counts["unchanged"] < 100 || c.Counts["regression"] != 0 {
		t.Errorf("kselftest comparison: %v, want 100+ unchanged results and no regression", c.Counts)
	}
	// The series' own kselftest skips on the vanilla kernel and passes on
	// the patched one: each of its cases is fixed.
	var fixed int
	for _, res := range c.Results {
		if !strings.HasPrefix(res.Name, selfPtraceProgram+"/") {
			continue
		}
		fixed++
		if res.Class != "fixed" {
			t.Errorf("%s: %+v, want fixed (skip on vanilla, pass on patched)", res.Name, res)
		}
	}
	if fixed < minSelfPtraceCases {
		t.Errorf("compare saw %d cases of %s, want at least %d", fixed, selfPtraceProgram, minSelfPtraceCases)
	}
}

// TestBisectFindsBrokenPatch bisects the broken copy of the series on
// x86_64 by TestDelivery, without --good, and must name the broken patch.
func TestBisectFindsBrokenPatch(t *testing.T) {
	e := needEnv(t)
	broken := brokenCheckout(t, e)
	dir := t.TempDir()
	js := filepath.Join(dir, "bisect.json")
	start := time.Now()
	r := e.run(t, 60*time.Minute, "bisect", "--arch", "x86_64", "--series", filepath.Join(broken, "patches", "linux-6.12"),
		"--run", "^TestDelivery$", "--tests", "./tests/selfptrace", "--json", js, "--out", filepath.Join(dir, "out"))
	t.Logf("bisect in %s:\n%s", time.Since(start).Round(time.Second), r.stdout)
	if r.code != 0 {
		t.Fatalf("bisect exited %d\n%s", r.code, tailOf(r.stderr, 40))
	}
	var res struct {
		Culprit  string `json:"culprit"`
		FirstBad int    `json:"first_bad"`
		Builds   int    `json:"builds"`
		Steps    []struct {
			Patches, Verdict int
		} `json:"steps"`
	}
	if err := json.Unmarshal(mustRead(t, js), &res); err != nil {
		t.Fatal(err)
	}
	// No --good: the good end is the patch that gives x86_64 the feature.
	good, _ := x86FeaturePatch(t, e.root)
	if want := fmt.Sprintf("bisect: good end %d of", good); !strings.Contains(r.stderr, want) {
		t.Errorf("bisect did not choose the x86_64 feature patch (%d) as its good end:\n%s", good, tailOf(r.stderr, 20))
	}
	if res.Culprit != brokenPatch || res.FirstBad != good+1 {
		t.Errorf("culprit %q (patch %d), want %s (patch %d)", res.Culprit, res.FirstBad, brokenPatch, good+1)
	}
	n := len(seriesOf(t, broken))
	if want := fmt.Sprintf("first bad patch: %d of %d: %s", good+1, n, brokenPatch); !strings.Contains(r.stdout, want) {
		t.Errorf("the output does not say %q", want)
	}
	t.Logf("bisect: %d probes, %d kernels built", len(res.Steps), res.Builds)
}

// seriesOf lists the patches of a checkout's series file.
func seriesOf(t *testing.T, root string) []string {
	t.Helper()
	return strings.Fields(string(mustRead(t, filepath.Join(root, "patches", "linux-6.12", "series"))))
}
