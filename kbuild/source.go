package kbuild

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
)

// DefaultSource is Debian's linux-source-6.12 tarball.
const DefaultSource = "/usr/src/linux-source-6.12.tar.xz"

// sourceKind tells how a --kernel-src value is read.
type sourceKind int

const (
	sourceTarball sourceKind = iota
	sourceDir
	sourceGit
)

// source is a resolved kernel source: where it is and a stable identity
// for cache keys.
type source struct {
	path string
	kind sourceKind
	id   string // hex digest identifying the content
	// commit and dirty describe a git checkout: HEAD, and whether the
	// work tree differs from it (changes or untracked files).
	commit string
	dirty  bool
}

// resolveSource inspects path and computes its identity: the content hash
// of a tarball, HEAD plus the uncommitted diff of a git checkout, or the
// names, sizes and modification times of an unpacked tree.
func resolveSource(ctx context.Context, a arch.Spec, path string) (source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return source{}, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return source{}, fmt.Errorf("kernel source %s: %w (install Debian's linux-source-6.12 or pass --kernel-src)", path, err)
	}
	if !st.IsDir() {
		sum, err := fsutil.HashFile(abs)
		if err != nil {
			return source{}, fmt.Errorf("hashing kernel tarball %s: %w", path, err)
		}
		return source{path: abs, kind: sourceTarball, id: sum}, nil
	}
	if _, err := os.Stat(filepath.Join(abs, "Makefile")); err != nil {
		return source{}, fmt.Errorf("kernel source %s: no top-level Makefile, not a kernel tree", path)
	}
	if _, err := os.Stat(filepath.Join(abs, ".git")); err == nil {
		if err := hosttools.Check(hosttools.KernelGit, a); err != nil {
			return source{}, err
		}
		s, err := gitIdentity(ctx, abs)
		if err != nil {
			return source{}, fmt.Errorf("reading git state of %s: %w", path, err)
		}
		return s, nil
	}
	id, err := treeIdentity(abs)
	if err != nil {
		return source{}, fmt.Errorf("scanning kernel tree %s: %w", path, err)
	}
	return source{path: abs, kind: sourceDir, id: id}, nil
}

func gitIdentity(ctx context.Context, dir string) (source, error) {
	h := sha256.New()
	var outs [3][]byte
	for i, args := range [][]string{
		{"rev-parse", "HEAD"},
		{"diff", "HEAD", "--binary"},
		{"ls-files", "--others", "--exclude-standard"},
	} {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			return source{}, fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		outs[i] = out
		h.Write(out)
		h.Write([]byte{0})
	}
	return source{
		path: dir, kind: sourceGit, id: hex.EncodeToString(h.Sum(nil)),
		commit: strings.TrimSpace(string(outs[0])),
		dirty:  len(outs[1]) > 0 || len(outs[2]) > 0,
	}, nil
}

func treeIdentity(dir string) (string, error) {
	type ent struct {
		name string
		size int64
		mod  int64
	}
	var ents []ent
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		ents = append(ents, ent{rel, info.Size(), info.ModTime().UnixNano()})
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].name < ents[j].name })
	h := sha256.New()
	for _, e := range ents {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", e.name, e.size, e.mod)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// patchFiles returns the paths (relative to the tree) that a unified diff
// touches, from its "--- a/" and "+++ b/" lines.
func patchFiles(diff []byte) []string {
	seen := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(diff))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var p string
		switch {
		case strings.HasPrefix(line, "--- "):
			p = strings.TrimPrefix(line, "--- ")
		case strings.HasPrefix(line, "+++ "):
			p = strings.TrimPrefix(line, "+++ ")
		default:
			continue
		}
		if i := strings.IndexByte(p, '\t'); i >= 0 {
			p = p[:i]
		}
		if p == "/dev/null" {
			continue
		}
		if i := strings.IndexByte(p, '/'); i >= 0 {
			p = p[i+1:] // strip a/ or b/ (patch -p1)
		}
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
