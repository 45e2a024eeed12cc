// Package patches_test checks the kernel series in linux-6.12/ the way a
// maintainer does before reading it: checkpatch.pl --strict on every
// patch, kernel-doc -Wall on every file the series touches, and the
// documentation's line length. The kernel's own scripts come from Debian's
// linux-source-6.12 (kbuild.DefaultSource). `make vet` runs it.
package patches_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/kbuild"
)

// allowedChecks are the checkpatch CHECKs the series keeps, each for a
// reason the cover letter gives.
var allowedChecks = map[string]string{
	// "#define arch_hook arch_hook" right after the inline function it
	// names, as every asm/entry-common.h does.
	"LINE_SPACING": "the arch hook's #define follows its function",
	// arm64's thread_info.h writes every _TIF_* as 1 << TIF_*.
	"BIT_MACRO": "kept like the neighbouring _TIF_* definitions",
}

// scripts are the kernel's scripts the checks run.
var scripts = []string{"scripts/checkpatch.pl", "scripts/spelling.txt", "scripts/const_structs.checkpatch", "scripts/kernel-doc"}

func TestSeriesStyle(t *testing.T) {
	if testing.Short() {
		t.Skip("extracts the kernel's scripts from the source package: make vet runs it")
	}
	series, err := kbuild.ReadSeries("linux-6.12")
	if err != nil {
		t.Fatal(err)
	}
	src := extract(t, series)

	t.Run("checkpatch", func(t *testing.T) {
		for _, p := range series {
			checkpatch(t, src, p)
		}
	})
	t.Run("kernel-doc", func(t *testing.T) {
		files := touched(series)
		before := kernelDoc(t, src, files)
		for _, p := range series {
			cmd := exec.Command("patch", "-p1", "-s", "--no-backup-if-mismatch")
			cmd.Dir, cmd.Stdin = src, bytes.NewReader(p.Content)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("applying %s: %v\n%s", p.Name, err, out)
			}
		}
		for _, w := range kernelDoc(t, src, files) {
			if !slices.Contains(before, w) {
				t.Errorf("kernel-doc -Wall, new with the series: %s", w)
			}
		}
	})
	t.Run("documentation", func(t *testing.T) {
		for _, p := range series {
			file := ""
			for _, line := range strings.Split(string(p.Content), "\n") {
				if strings.HasPrefix(line, "+++ b/") {
					file = strings.TrimPrefix(line, "+++ b/")
					continue
				}
				if strings.HasPrefix(file, "Documentation/") && strings.HasPrefix(line, "+") && len(line)-1 > 100 {
					t.Errorf("%s: %s: a line of %d columns (100 at most): %s", p.Name, file, len(line)-1, line[1:])
				}
			}
		}
	})
}

var typeLine = regexp.MustCompile(`^(ERROR|WARNING|CHECK):([A-Z0-9_]+): (.*)$`)

// checkpatch runs checkpatch.pl --strict on p: no error, no warning (but
// UNKNOWN_COMMIT_ID on a Fixes: tag, which it cannot verify in a tree
// without git history), only the allowed CHECKs.
func checkpatch(t *testing.T, src string, p kbuild.Patch) {
	t.Helper()
	// --no-tree: the extracted files are not a whole tree, which
	// checkpatch would refuse (with no finding to parse).
	cmd := exec.Command("perl", "scripts/checkpatch.pl", "--no-tree", "--strict", "--show-types", "-")
	cmd.Dir, cmd.Stdin = src, bytes.NewReader(p.Content)
	out, _ := cmd.CombinedOutput()
	if !regexp.MustCompile(`(?m)^total: \d+ errors, \d+ warnings, \d+ checks, \d+ lines checked$`).Match(out) {
		t.Fatalf("%s: checkpatch did not check it:\n%s", p.Name, out)
	}
	// Each finding is a block: "LEVEL:TYPE: message", where it is, the line.
	for _, block := range strings.Split(string(out), "\n\n") {
		m := typeLine.FindStringSubmatch(strings.SplitN(strings.TrimSpace(block), "\n", 2)[0])
		if m == nil {
			continue
		}
		level, typ, msg := m[1], m[2], m[3]
		switch {
		case level == "CHECK" && allowedChecks[typ] != "":
		case typ == "UNKNOWN_COMMIT_ID" && strings.Contains(block, "\nFixes: "):
		default:
			t.Errorf("%s: checkpatch --strict %s:%s: %s\n%s", p.Name, level, typ, msg, block)
		}
	}
}

// touched lists the C sources and headers that the series creates or changes.
func touched(series []kbuild.Patch) []string {
	var files []string
	for _, p := range series {
		for _, line := range strings.Split(string(p.Content), "\n") {
			f, ok := strings.CutPrefix(line, "+++ b/")
			if ok && (strings.HasSuffix(f, ".c") || strings.HasSuffix(f, ".h")) && !strings.HasPrefix(f, "tools/") && !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return files
}

// kernelDoc returns the warnings of kernel-doc -Wall on the files that
// exist in src, without line numbers (which the series moves).
func kernelDoc(t *testing.T, src string, files []string) []string {
	t.Helper()
	var warnings []string
	lineNo := regexp.MustCompile(`:\d+:`)
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(src, f)); err != nil {
			continue
		}
		out, err := exec.Command("perl", filepath.Join(src, "scripts/kernel-doc"), "-Wall", "-none", filepath.Join(src, f)).CombinedOutput()
		if err != nil && len(out) == 0 {
			t.Fatalf("kernel-doc %s: %v", f, err)
		}
		for _, w := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if w != "" {
				warnings = append(warnings, lineNo.ReplaceAllString(strings.TrimPrefix(w, src+"/"), ":"))
			}
		}
	}
	return warnings
}

// extract unpacks the kernel's scripts and the files the series changes
// from the source package into a temporary directory.
func extract(t *testing.T, series []kbuild.Patch) string {
	t.Helper()
	if _, err := os.Stat(kbuild.DefaultSource); err != nil {
		t.Fatalf("the kernel's checkpatch.pl and kernel-doc come from %s (make deps installs linux-source-6.12): %v", kbuild.DefaultSource, err)
	}
	dir := t.TempDir()
	const top = "linux-source-6.12/"
	// The files the series changes, but not those it creates.
	names := append([]string(nil), scripts...)
	var created []string
	for _, p := range series {
		lines := strings.Split(string(p.Content), "\n")
		for i, line := range lines {
			if f, ok := strings.CutPrefix(line, "--- a/"); ok && !slices.Contains(names, f) {
				names = append(names, f)
			}
			if line == "--- /dev/null" && i+1 < len(lines) {
				created = append(created, strings.TrimPrefix(lines[i+1], "+++ b/"))
			}
		}
	}
	names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(created, n) })
	args := []string{"-xJf", kbuild.DefaultSource, "-C", dir, "--strip-components=1"}
	for _, n := range names {
		args = append(args, top+n)
	}
	if out, err := exec.Command("tar", args...).CombinedOutput(); err != nil {
		t.Fatalf("extracting the kernel's scripts from %s: %v\n%s", kbuild.DefaultSource, err, out)
	}
	return dir
}
