package kselftest

// The self-ptrace series adds a selftest suite of its own, self_ptrace/,
// in its last patch. The patched tree has it; the vanilla tree does not,
// yet the vanilla run must build and run it too, so that every test
// reports SKIP with its reason there. For a recipe marked Series whose
// suite the tree lacks, the builder applies the parts of the series that
// are under that suite's directory to a directory of its own, next to
// copies of the tree's top-level selftest files (kselftest_harness.h,
// kselftest.h, lib.mk), and compiles the program there, against the
// tree's own uapi headers: the series' test on the vanilla tree, as if the
// selftest part of the series had been applied to it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

// selftestsDir is where the selftests are in a kernel tree.
const selftestsDir = "tools/testing/selftests"

// suiteSections returns the sections of a git patch (each from its
// "diff --git a/X b/Y" line to the next one) that change a file under
// tools/testing/selftests/<suite>/ for one of suites, in order. The
// commit message before the first section and the format-patch signature
// after the last are left out.
func suiteSections(patch []byte, suites []string) []byte {
	var starts []int
	for i := 0; i < len(patch); {
		if bytes.HasPrefix(patch[i:], []byte("diff --git ")) {
			starts = append(starts, i)
		}
		n := bytes.IndexByte(patch[i:], '\n')
		if n < 0 {
			break
		}
		i += n + 1
	}
	var out []byte
	for k, start := range starts {
		end := len(patch)
		if k+1 < len(starts) {
			end = starts[k+1]
		} else {
			end = start + trimSignature(patch[start:])
		}
		sec := patch[start:end]
		line, _, _ := bytes.Cut(sec, []byte("\n"))
		if inSuites(sectionPath(string(line)), suites) {
			out = append(out, sec...)
		}
	}
	return out
}

// trimSignature returns the length of the last section of a patch without
// git format-patch's signature ("-- " and a version line).
func trimSignature(sec []byte) int {
	i := bytes.LastIndex(sec, []byte("\n-- \n"))
	if i < 0 {
		return len(sec)
	}
	rest := strings.TrimSpace(string(sec[i+len("\n-- \n"):]))
	if strings.Contains(rest, "\n") {
		return len(sec)
	}
	return i + 1
}

// sectionPath is the file a "diff --git a/X b/Y" line changes (Y), or "".
func sectionPath(line string) string {
	i := strings.LastIndex(line, " b/")
	if !strings.HasPrefix(line, "diff --git a/") || i < 0 {
		return ""
	}
	return line[i+len(" b/"):]
}

func inSuites(path string, suites []string) bool {
	for _, s := range suites {
		if strings.HasPrefix(path, selftestsDir+"/"+s+"/") {
			return true
		}
	}
	return false
}

// resolveSuites decides where each selected program's suite comes from:
// the tree, or, for a suite that the series adds (recipe.Series) and the
// tree lacks, the series (seriesSelftests). A program that neither has is
// left out, and the progress says so.
func (b *builder) resolveSuites(ctx context.Context) error {
	b.roots = map[string]string{}
	var missing []string
	for _, r := range b.recipes {
		if !r.Series || slices.Contains(missing, r.Suite) {
			continue
		}
		if _, err := os.Stat(r.source(b.paths)); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, r.Suite)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var root string
	if len(b.opts.Series) > 0 {
		var err error
		if root, err = b.seriesSelftests(ctx, missing); err != nil {
			return err
		}
	}
	a := b.opts.Arch.Name
	var kept []recipe
	for _, r := range b.recipes {
		if !slices.Contains(missing, r.Suite) {
			kept = append(kept, r)
			continue
		}
		p := b.paths
		p.Selftests = root
		if _, err := os.Stat(r.source(p)); root != "" && err == nil {
			b.roots[r.Suite] = root
			kept = append(kept, r)
			b.opts.Progress.Update(a, fmt.Sprintf("kselftest %s: the tree has no %s/, built from the series", r.Name, r.Suite))
			continue
		}
		b.opts.Progress.Update(a, fmt.Sprintf("kselftest %s left out: neither the tree nor the series has %s/%s.c", r.Name, r.Suite, r.Name))
	}
	b.recipes = kept
	return nil
}

// seriesSelftests writes, in a fresh directory of the work area, the
// top-level files of the tree's selftests directory and what the series
// puts under tools/testing/selftests/<suite>/ for each of suites (GNU
// patch, patch after patch), and returns that selftests directory.
func (b *builder) seriesSelftests(ctx context.Context, suites []string) (string, error) {
	dir := filepath.Join(b.work, "series")
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	root := filepath.Join(dir, filepath.FromSlash(selftestsDir))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(b.paths.Selftests)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if _, err := fsutil.CopyFile(filepath.Join(root, e.Name()), filepath.Join(b.paths.Selftests, e.Name()), 0o644); err != nil {
			return "", fmt.Errorf("copying the tree's %s: %w", e.Name(), err)
		}
	}
	for _, pt := range b.opts.Series {
		part := suiteSections(pt.Content, suites)
		if len(part) == 0 {
			continue
		}
		cmd := command(ctx, dir, "patch", "-p1", "--fuzz=0", "--forward", "--batch", "--no-backup-if-mismatch", "-r", "-", "-d", dir)
		cmd.Stdin = bytes.NewReader(part)
		if _, err := b.exec(ctx, "", "series", cmd); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Err = fmt.Errorf("applying the %s part of %s: %w", strings.Join(suites, ", "), pt.Name, e.Err)
			}
			return "", err
		}
	}
	return root, nil
}
