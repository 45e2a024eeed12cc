// Package report holds the results of a run and writes them for people
// (a summary table) and for machines (JSON, JUnit XML, KTAP).
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/selfptrace/selfptrace-vm/internal/logtail"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// Test statuses.
const (
	Pass    = "pass"
	Fail    = "fail"
	Skip    = "skip"
	Timeout = "timeout"
)

// Results is the whole output of a command, one Run per architecture.
type Results struct {
	Runs []Run `json:"runs"`
}

// Run is one architecture's run.
type Run struct {
	Arch   string `json:"arch"`
	Kernel Kernel `json:"kernel"`
	Accel  string `json:"accel"`
	// AccelReason says why Accel was chosen (and, for TCG on a host
	// whose KVM did not run a guest, what the probe saw).
	AccelReason string `json:"accel_reason,omitempty"`
	// SMP is the number of virtual CPUs the guest booted with.
	SMP int `json:"smp,omitempty"`
	// Outcome is the run's verdict (vm.Outcome: the VM's verdict
	// combined with the tests' through vm.Worse).
	Outcome    vm.Outcome `json:"outcome"`
	Tests      []Test     `json:"tests"`
	Timings    Timings    `json:"timings_s"`
	Excerpt    string     `json:"excerpt,omitempty"`
	ConsoleLog string     `json:"console_log,omitempty"`
	QEMU       []string   `json:"qemu_cmdline,omitempty"`
	Error      string     `json:"error,omitempty"`
	RegDump    string     `json:"register_dump,omitempty"`
	Rerun      string     `json:"rerun,omitempty"`
	// Userland is the Debian userland in the image (--userland), if any.
	Userland *Userland `json:"userland,omitempty"`
	// Selftrace is the selftrace build that came with the userland, if any.
	Selftrace *Selftrace `json:"selftrace,omitempty"`
}

// Selftrace describes the selftrace build (launcher, preload library,
// test programs) that the userland carried.
type Selftrace struct {
	// Key is the content key of the cache entry (compiler, the kernel's
	// system call table, the sources under tools/selftrace).
	Key      string `json:"key"`
	CacheHit bool   `json:"cache_hit"`
}

// Userland describes the distribution root that the image carried.
type Userland struct {
	// Spec is the --userland value ("debian", "debian:PKG,...").
	Spec       string `json:"spec"`
	Suite      string `json:"suite"`
	DebianArch string `json:"debian_arch"`
	// Key is the content key of the cache entry (suite, architecture,
	// packages and their resolved versions).
	Key      string `json:"key"`
	Bytes    int64  `json:"archive_bytes"`
	Packages int    `json:"packages_resolved"`
	CacheHit bool   `json:"cache_hit"`
}

// Kernel describes the kernel that was booted.
type Kernel struct {
	Version string `json:"version"`
	// Patched is true when the rig applied the series (flavor patched).
	Patched bool `json:"patched"`
	// Flavor is patched, vanilla or as-is (FlavorName for results
	// written before it existed).
	Flavor string `json:"flavor,omitempty"`
	// Tree is the kernel git tree the kernel was built from, if it was
	// one: which commit, and whether its work tree had changes.
	Tree *Tree `json:"tree,omitempty"`
	// Profile is the kernel profile (kbuild.Profiles): default or debug.
	Profile  string `json:"profile,omitempty"`
	Image    string `json:"image"`
	CacheHit bool   `json:"cache_hit"`
}

// Tree identifies a kernel git tree.
type Tree struct {
	Path   string `json:"path"`
	Commit string `json:"commit"`
	// Dirty is true when the tree had uncommitted changes (which the
	// build included).
	Dirty bool `json:"dirty"`
}

// FlavorName is the kernel's flavor: patched, vanilla or as-is.
func (k Kernel) FlavorName() string {
	if k.Flavor != "" {
		return k.Flavor
	}
	return Flavor(k.Patched)
}

// Describe says which kernel it is, for people and for the diagnostic
// lines of KTAP: "6.12.118 patched", "as-is from /src/linux at 1a2b3c4d5e6f
// (dirty)".
func (k Kernel) Describe() string {
	s := strings.TrimSpace(k.Version + " " + k.FlavorName() + profileNote(k.Profile))
	if k.Tree != nil {
		s += " from " + k.Tree.Path + " at " + k.Tree.Commit
		if k.Tree.Dirty {
			s += " (dirty)"
		}
	}
	return s
}

// Test is one guest test (subtests are separate entries named parent/child).
type Test struct {
	Name     string  `json:"name"`
	Status   string  `json:"status"`
	Duration float64 `json:"duration_s"`
	Output   string  `json:"output"`
}

// Timings are wall times in seconds.
type Timings struct {
	KernelBuild float64 `json:"kernel_build"`
	Initramfs   float64 `json:"initramfs"`
	// Userland is the time to find or make the Debian userland.
	Userland float64 `json:"userland,omitempty"`
	// Selftrace is the time to find or build selftrace (with the userland).
	Selftrace float64 `json:"selftrace,omitempty"`
	Boot      float64 `json:"boot"`
	Tests     float64 `json:"tests"`
	Total     float64 `json:"total"`
}

// Counts returns the number of tests per status.
func (r Run) Counts() map[string]int {
	c := map[string]int{}
	for _, t := range r.Tests {
		c[t.Status]++
	}
	return c
}

// Passed reports whether every run passed and ran at least one test.
func (rs Results) Passed() bool {
	if len(rs.Runs) == 0 {
		return false
	}
	for _, r := range rs.Runs {
		if r.Outcome != vm.OutcomePass {
			return false
		}
	}
	return true
}

// WriteJSON writes the results as indented JSON.
func (rs Results) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}

// ReadJSON parses results written by WriteJSON.
func ReadJSON(r io.Reader) (Results, error) {
	var rs Results
	err := json.NewDecoder(r).Decode(&rs)
	return rs, err
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       float64         `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// kernelProperties are the kernel's labels as JUnit properties.
func kernelProperties(k Kernel) []junitProperty {
	ps := []junitProperty{{"kernel.version", k.Version}, {"kernel.flavor", k.FlavorName()}}
	if k.Profile != "" {
		ps = append(ps, junitProperty{"kernel.profile", k.Profile})
	}
	if t := k.Tree; t != nil {
		ps = append(ps, junitProperty{"kernel.tree", t.Path}, junitProperty{"kernel.commit", t.Commit},
			junitProperty{"kernel.dirty", fmt.Sprint(t.Dirty)})
	}
	return ps
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes one testsuite per architecture. A run that did not
// complete (panic, timeout, boot failure) adds an error test case, so CI
// never shows it as green.
func (rs Results) WriteJUnit(w io.Writer) error {
	var s junitSuites
	for _, r := range rs.Runs {
		su := junitSuite{Name: "selfptrace-vm/" + r.Arch, Time: r.Timings.Total, Properties: kernelProperties(r.Kernel)}
		for _, t := range r.Tests {
			c := junitCase{Name: t.Name, Classname: r.Arch, Time: t.Duration, SystemOut: t.Output}
			switch t.Status {
			case Fail:
				c.Failure = &junitMessage{Message: "failed", Body: t.Output}
				su.Failures++
			case Timeout:
				c.Failure = &junitMessage{Message: "timed out", Body: t.Output}
				su.Failures++
			case Skip:
				c.Skipped = &junitMessage{Message: "skipped"}
				su.Skipped++
			}
			su.Cases = append(su.Cases, c)
		}
		if !r.Outcome.Completed() {
			su.Cases = append(su.Cases, junitCase{Name: "run", Classname: r.Arch,
				Error: &junitMessage{Message: string(r.Outcome), Body: strings.TrimSpace(r.Error + "\n" + r.Excerpt)}})
			su.Errors++
		}
		su.Tests = len(su.Cases)
		s.Suites = append(s.Suites, su)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteKTAP writes the results as one KTAP v1 document: one top-level test
// per architecture, its guest tests nested below it.
func (rs Results) WriteKTAP(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "KTAP version 1\n1..%d\n", len(rs.Runs))
	for i, r := range rs.Runs {
		fmt.Fprintf(&b, "    KTAP version 1\n    1..%d\n    # kernel: %s\n", len(r.Tests), r.Kernel.Describe())
		for j, t := range r.Tests {
			for _, line := range strings.Split(strings.TrimRight(t.Output, "\n"), "\n") {
				if line != "" {
					fmt.Fprintf(&b, "    # %s\n", line)
				}
			}
			fmt.Fprintf(&b, "    %s %d %s%s\n", okWord(t.Status), j+1, t.Name, directive(t.Status))
		}
		if !r.Outcome.Completed() {
			fmt.Fprintf(&b, "# %s: %s\n", r.Arch, r.Outcome)
		}
		ok := "ok"
		if r.Outcome != vm.OutcomePass {
			ok = "not ok"
		}
		fmt.Fprintf(&b, "%s %d %s\n", ok, i+1, r.Arch)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func okWord(status string) string {
	if status == Pass || status == Skip {
		return "ok"
	}
	return "not ok"
}

func directive(status string) string {
	switch status {
	case Skip:
		return " # SKIP"
	case Timeout:
		return " # TIMEOUT"
	}
	return ""
}

// WriteSummary writes a table for people: one line per architecture, then
// the tests that did not pass.
func (rs Results) WriteSummary(w io.Writer) {
	for _, r := range rs.Runs {
		c := r.Counts()
		kernel := fmt.Sprintf("%s (%s, %s)", r.Kernel.Version, r.Kernel.FlavorName()+profileNote(r.Kernel.Profile), CacheState(r.Kernel.CacheHit))
		if r.Kernel.Image == "" {
			kernel = fmt.Sprintf("not built (%s)", r.Kernel.FlavorName()+profileNote(r.Kernel.Profile))
		}
		fmt.Fprintf(w, "%-7s %-10s kernel %s accel=%s smp=%d  pass=%d fail=%d timeout=%d skip=%d  total %.1fs (build %.1fs, initramfs %.1fs, boot %.1fs, tests %.1fs)\n",
			r.Arch, strings.ToUpper(string(r.Outcome)), kernel, r.Accel, r.SMP,
			c[Pass], c[Fail], c[Timeout], c[Skip], r.Timings.Total, r.Timings.KernelBuild, r.Timings.Initramfs, r.Timings.Boot, r.Timings.Tests)
		var bad []Test
		for _, t := range r.Tests {
			if t.Status == Fail || t.Status == Timeout {
				bad = append(bad, t)
			}
		}
		sort.SliceStable(bad, func(i, j int) bool { return bad[i].Name < bad[j].Name })
		for _, t := range bad {
			fmt.Fprintf(w, "    %s %s\n", strings.ToUpper(t.Status), t.Name)
			for _, line := range logtail.Lines(t.Output, 6) {
				fmt.Fprintf(w, "        %s\n", line)
			}
		}
		if t := r.Kernel.Tree; t != nil {
			dirty := ""
			if t.Dirty {
				dirty = ", with uncommitted changes"
			}
			fmt.Fprintf(w, "    kernel tree %s at %s%s\n", t.Path, t.Commit, dirty)
		}
		if r.AccelReason != "" {
			fmt.Fprintf(w, "    accelerator %s: %s\n", r.Accel, r.AccelReason)
		}
		if r.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", r.Error)
		}
		if r.Excerpt != "" && !r.Outcome.Completed() {
			for _, line := range logtail.Lines(r.Excerpt, 15) {
				fmt.Fprintf(w, "    | %s\n", line)
			}
		}
		if r.ConsoleLog != "" && r.Outcome != vm.OutcomePass {
			fmt.Fprintf(w, "    console log: %s\n", r.ConsoleLog)
		}
		if r.Rerun != "" && r.Outcome != vm.OutcomePass {
			fmt.Fprintf(w, "    reproduce interactively: %s\n", r.Rerun)
		}
	}
}

// profileNote names a kernel profile other than the default one, for the
// summary's "(patched, debug profile, cached)".
func profileNote(profile string) string {
	if profile == "" || profile == "default" {
		return ""
	}
	return ", " + profile + " profile"
}
