// Package kcidb turns the rig's results into a KCIDB v5 report: one
// checkout (the kernel source plus the patch series), one build per
// architecture, and one test per guest result, in the shape KernelCI's
// kcidb-submit accepts.
package kcidb

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// Schema version written.
const (
	Major = 5
	Minor = 3
)

// DefaultOrigin is the CI system name in every id.
const DefaultOrigin = "selfptrace_vm"

// Status values of the schema, in its priority order.
const (
	StatusFail  = "FAIL"
	StatusError = "ERROR"
	StatusMiss  = "MISS"
	StatusPass  = "PASS"
	StatusDone  = "DONE"
	StatusSkip  = "SKIP"
)

// Report is a KCIDB I/O document.
type Report struct {
	Version   Version    `json:"version"`
	Checkouts []Checkout `json:"checkouts"`
	Builds    []Build    `json:"builds"`
	Tests     []Test     `json:"tests"`
}

// Version is the schema version of a report.
type Version struct {
	Major int `json:"major"`
	Minor int `json:"minor"`
}

// Resource is a named file reachable at a URL.
type Resource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Checkout is the source code that was built: base source plus patchset.
type Checkout struct {
	ID       string `json:"id"`
	Origin   string `json:"origin"`
	TreeName string `json:"tree_name,omitempty"`
	// GitCommitHash names the commit of a git tree built as it is.
	GitCommitHash string         `json:"git_commit_hash,omitempty"`
	PatchsetFiles []Resource     `json:"patchset_files"`
	PatchsetHash  string         `json:"patchset_hash"`
	StartTime     string         `json:"start_time,omitempty"`
	Valid         bool           `json:"valid"`
	Misc          map[string]any `json:"misc,omitempty"`
}

// Build is one kernel build.
type Build struct {
	ID           string         `json:"id"`
	CheckoutID   string         `json:"checkout_id"`
	Origin       string         `json:"origin"`
	StartTime    string         `json:"start_time,omitempty"`
	Duration     float64        `json:"duration"`
	Architecture string         `json:"architecture"`
	Compiler     string         `json:"compiler,omitempty"`
	ConfigName   string         `json:"config_name"`
	Status       string         `json:"status"`
	LogExcerpt   string         `json:"log_excerpt,omitempty"`
	Misc         map[string]any `json:"misc,omitempty"`
}

// Test is one test run on a build.
type Test struct {
	ID          string         `json:"id"`
	BuildID     string         `json:"build_id"`
	Origin      string         `json:"origin"`
	Path        string         `json:"path"`
	Environment *Environment   `json:"environment,omitempty"`
	Status      string         `json:"status"`
	StartTime   string         `json:"start_time,omitempty"`
	Duration    float64        `json:"duration"`
	LogExcerpt  string         `json:"log_excerpt,omitempty"`
	Misc        map[string]any `json:"misc,omitempty"`
}

// Environment says where a test ran.
type Environment struct {
	Comment string `json:"comment,omitempty"`
}

// Input is what a report is made from.
type Input struct {
	// Origin is the CI system name; DefaultOrigin if empty.
	Origin string
	// Source names the base source (a tarball, a tree or a git checkout).
	Source string
	// SourceID identifies the base source's content (the kernel cache key
	// covers it; any stable digest will do).
	SourceID string
	// Series are the patches of the patched kernels, in order; SeriesDir
	// is where they live (for patchset_files).
	Series    []kbuild.Patch
	SeriesDir string
	// Start is when the run began; Stamp distinguishes this run's test ids.
	Start time.Time
	// Results are the runs, one per architecture (patched or vanilla).
	Results report.Results
}

// PatchsetHash is the schema's patchset hash: the sha256 over the
// newline-terminated sha256 hex digests of each patch, in order; empty
// without patches (as `sha256sum *.patch | cut -c-64 | sha256sum`).
func PatchsetHash(series []kbuild.Patch) string {
	if len(series) == 0 {
		return ""
	}
	h := sha256.New()
	for _, p := range series {
		s := sha256.Sum256(p.Content)
		fmt.Fprintf(h, "%s\n", hex.EncodeToString(s[:]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// New builds the report. Patched and vanilla runs get separate checkouts
// (the vanilla one has no patchset).
func New(in Input) (Report, error) {
	origin := in.Origin
	if origin == "" {
		origin = DefaultOrigin
	}
	start := in.Start.UTC()
	stamp := start.Format("20060102T150405Z")
	rep := Report{Version: Version{Major, Minor}, Checkouts: []Checkout{}, Builds: []Build{}, Tests: []Test{}}
	checkouts := map[string]string{}
	// checkout is the checkout of a kernel: the base source with the
	// series (patched) or without (vanilla), or a git tree built as it
	// is (as-is), named by its commit.
	checkout := func(k report.Kernel) string {
		flavor := k.FlavorName()
		key := flavor
		if k.Tree != nil {
			key += " " + k.Tree.Commit + fmt.Sprint(k.Tree.Dirty)
		}
		if id, ok := checkouts[key]; ok {
			return id
		}
		var series []kbuild.Patch
		if flavor == report.FlavorPatched {
			series = in.Series
		}
		ps := PatchsetHash(series)
		h := sha256.Sum256([]byte(in.SourceID + "\n" + ps + "\n" + key))
		if flavor != report.FlavorAsIs {
			h = sha256.Sum256([]byte(in.SourceID + "\n" + ps)) // the ids of earlier reports
		}
		id := origin + ":" + hex.EncodeToString(h[:])[:24]
		c := Checkout{
			ID: id, Origin: origin, TreeName: "linux-6.12",
			PatchsetFiles: []Resource{}, PatchsetHash: ps,
			StartTime: start.Format(time.RFC3339), Valid: true,
			Misc: map[string]any{"source": in.Source, "source_id": in.SourceID, "patched": k.Patched, "flavor": flavor},
		}
		if t := k.Tree; t != nil {
			// The schema's git_repository_url is https:// only: the local
			// tree is in misc.
			c.GitCommitHash = t.Commit
			c.Misc["tree"], c.Misc["dirty"] = t.Path, t.Dirty
		}
		for _, p := range series {
			c.PatchsetFiles = append(c.PatchsetFiles, Resource{Name: p.Name, URL: fileURL(filepath.Join(in.SeriesDir, p.Name))})
		}
		rep.Checkouts = append(rep.Checkouts, c)
		checkouts[key] = id
		return id
	}
	for _, r := range in.Results.Runs {
		a, err := arch.Lookup(r.Arch)
		if err != nil {
			return Report{}, err
		}
		cid := checkout(r.Kernel)
		flavor := r.Kernel.FlavorName()
		b := Build{
			ID:           cid + ":" + a.Name + "-" + flavor,
			CheckoutID:   cid,
			Origin:       origin,
			StartTime:    start.Format(time.RFC3339),
			Duration:     r.Timings.KernelBuild,
			Architecture: a.KernelArch,
			ConfigName:   "tinyconfig+common.config+" + a.Config,
			Status:       StatusPass,
			Misc:         map[string]any{"arch": a.Name, "kernel_release": r.Kernel.Version, "cache_hit": r.Kernel.CacheHit},
		}
		if r.Kernel.Image != "" {
			b.Compiler = compilerOf(filepath.Join(filepath.Dir(r.Kernel.Image), "config"))
			b.Misc["image"] = r.Kernel.Image
		} else {
			// No kernel: the rig failed while building it (or before).
			b.Status = StatusFail
			b.LogExcerpt = excerpt(r.Error)
		}
		rep.Builds = append(rep.Builds, b)
		if b.Status != StatusPass {
			continue
		}
		env := &Environment{Comment: fmt.Sprintf("QEMU %s, accel %s", a.QEMU, r.Accel)}
		test := func(path, status string, dur float64, log string, misc map[string]any) {
			rep.Tests = append(rep.Tests, Test{
				ID:          b.ID + ":" + stamp + ":" + path,
				BuildID:     b.ID,
				Origin:      origin,
				Path:        path,
				Environment: env,
				Status:      status,
				StartTime:   start.Format(time.RFC3339),
				Duration:    dur,
				LogExcerpt:  excerpt(log),
				Misc:        misc,
			})
		}
		test("boot", bootStatus(r.Outcome), r.Timings.Boot, bootLog(r), map[string]any{"outcome": r.Outcome, "console_log": r.ConsoleLog})
		for _, t := range r.Tests {
			test(Path(t.Name), Status(t.Status), t.Duration, t.Output, map[string]any{"name": t.Name, "rig_status": t.Status})
		}
	}
	return rep, nil
}

// Write writes the report as indented JSON.
func (r Report) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Status maps a rig test status to the schema's.
func Status(s string) string {
	switch s {
	case report.Pass:
		return StatusPass
	case report.Fail:
		return StatusFail
	case report.Skip:
		return StatusSkip
	case report.Timeout:
		// The test hung: the code under test did not finish; the harness
		// did its job.
		return StatusFail
	}
	return StatusError
}

func bootStatus(outcome vm.Outcome) string {
	switch outcome {
	case vm.OutcomePass, vm.OutcomeFail:
		return StatusPass
	case vm.OutcomePanic, vm.OutcomeBootFail, vm.OutcomeTimeout:
		return StatusFail
	}
	return StatusError
}

func bootLog(r report.Run) string {
	if r.Outcome == vm.OutcomePass || r.Outcome == vm.OutcomeFail {
		return ""
	}
	return strings.TrimSpace(r.Error + "\n" + r.Excerpt)
}

// Path turns a rig test name ("selfptrace.TestArgs/rdi",
// "kselftest.seccomp_bpf/global.kcmp") into a dotted KCIDB path: segments
// of letters, digits, '_' and '-' joined by '.'.
func Path(name string) string {
	var parts []string
	for _, seg := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '.' }) {
		seg = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
				return r
			}
			return '_'
		}, seg)
		parts = append(parts, seg)
	}
	return strings.Join(parts, ".")
}

// compilerOf reads CONFIG_CC_VERSION_TEXT from a kernel config.
func compilerOf(config string) string {
	f, err := os.Open(config)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CONFIG_CC_VERSION_TEXT="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// excerpt keeps the end of a log: the schema allows 16 KiB and no NULs.
func excerpt(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	const max = 16384
	if len(s) > max {
		s = s[len(s)-max:]
	}
	return s
}

func fileURL(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	return (&url.URL{Scheme: "file", Path: abs}).String()
}
