package kbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

// SelfPtraceSource is the file whose patch IncrementalRebuild edits.
const SelfPtraceSource = "kernel/entry/self_ptrace.c"

// Rebuild is a timed build of the benchmark's: the kernel and what was
// changed to cause it.
type Rebuild struct {
	Kernel *Kernel
	// Note says what the build did, for the benchmark's table.
	Note string
}

// IncrementalRebuild builds the kernel of o from a copy of the series in
// which one comment line of file's hunk changed, in the real cache: the
// per-arch work tree rewrites that one file and make rebuilds its object
// and relinks. The new cache entry is removed afterwards; the work tree
// keeps the changed line until the next build that misses the cache
// switches it back (also incrementally).
func IncrementalRebuild(ctx context.Context, o Options, file string) (*Rebuild, error) {
	dir, err := os.MkdirTemp("", "selfptrace-vm-bench-series-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ents, err := os.ReadDir(o.SeriesDir)
	if err != nil {
		return nil, fmt.Errorf("copying the series: %w", err)
	}
	edited := ""
	stamp := fmt.Sprintf("selfptrace-vm bench %d", time.Now().UnixNano())
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		src, dst := filepath.Join(o.SeriesDir, e.Name()), filepath.Join(dir, e.Name())
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		if edited == "" && strings.HasSuffix(e.Name(), ".patch") {
			if out, err := ChangeCommentLine(data, file, stamp); err == nil {
				data, edited = out, e.Name()
			}
		}
		if err := fsutil.WriteFileAtomic(dst, data, 0o644); err != nil {
			return nil, err
		}
	}
	if edited == "" {
		return nil, fmt.Errorf("no patch of the series adds a comment to %s", file)
	}
	o.SeriesDir = dir
	k, err := Build(ctx, o)
	if err != nil {
		return nil, err
	}
	if k.CacheHit {
		return nil, errors.New("the edited series hit the cache: nothing was rebuilt")
	}
	if err := RemoveEntry(o.CacheDir, k.Image); err != nil {
		return nil, err
	}
	return &Rebuild{Kernel: k, Note: "one comment line of " + file + " in " + edited + "; same work tree as normal builds"}, nil
}

// ColdBuild builds the kernel of o from scratch in a temporary cache
// inside o.CacheDir (extraction of the source, patches, config, the whole
// build), removed afterwards.
func ColdBuild(ctx context.Context, o Options) (*Rebuild, error) {
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(o.CacheDir, "bench-cold-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	o.CacheDir = dir
	o.fill()
	k, err := Build(ctx, o)
	if err != nil {
		return nil, err
	}
	return &Rebuild{Kernel: k, Note: fmt.Sprintf("temporary cache, make -j%d", o.Jobs)}, nil
}

// RemoveEntry removes the kernel cache entry that holds image, after
// checking that it is one.
func RemoveEntry(cacheDir, image string) error {
	entry := filepath.Dir(image)
	if filepath.Dir(entry) != filepath.Join(cacheDir, "kernels") {
		return fmt.Errorf("refusing to remove %s: not a kernel cache entry under %s", entry, cacheDir)
	}
	return os.RemoveAll(entry)
}

// ChangeCommentLine returns patch with one comment line of the new or
// changed file name altered: the first added line of that file's first
// hunk that continues a C block comment (" * text") gets " [stamp]"
// appended. The hunk's line counts stay right and the compiled code does
// not change, but the file's content does, so make rebuilds it: the
// smallest edit a developer makes to a patch.
func ChangeCommentLine(patch []byte, name, stamp string) ([]byte, error) {
	header := "diff --git a/" + name + " b/" + name + "\n"
	start := bytes.Index(patch, []byte(header))
	if start < 0 {
		return nil, fmt.Errorf("the patch does not change %s", name)
	}
	end := len(patch)
	if next := bytes.Index(patch[start+len(header):], []byte("\ndiff --git ")); next >= 0 {
		end = start + len(header) + next + 1
	}
	section := patch[start:end]
	inHunk := false
	off := 0
	for _, line := range bytes.SplitAfter(section, []byte("\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("@@ ")):
			inHunk = true
		case inHunk && bytes.HasPrefix(line, []byte("+ * ")) && len(bytes.TrimSpace(line)) > 3:
			at := start + off + len(bytes.TrimRight(line, "\n"))
			out := make([]byte, 0, len(patch)+len(stamp)+3)
			out = append(out, patch[:at]...)
			out = append(out, " ["+stamp+"]"...)
			return append(out, patch[at:]...), nil
		}
		off += len(line)
	}
	return nil, fmt.Errorf("no added comment line in the hunks of %s", name)
}
