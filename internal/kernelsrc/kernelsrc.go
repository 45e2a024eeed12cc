// Package kernelsrc finds the part of a kernel source tree that
// selftrace/systable reads (the system call tables, the definitions of the
// system calls and the uapi headers): an unpacked tree, or those members
// of a kernel tarball extracted into the cache. The rig
// uses it when the kernel came from the cache without its work tree (CI
// caches only the kernels), tests to find a tree on any host.
package kernelsrc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/internal/logtail"
)

// EnvTree names an unpacked kernel tree for tests (Locate).
const EnvTree = "SELFPTRACE_VM_KERNEL_SRC"

// complete marks a finished extraction (kbuild uses the same name for its
// unpacked trees).
const complete = ".selfptrace-vm-complete"

// TablePatterns are the members of a kernel tree, as tar wildcards relative
// to its top (a * matches within one path component; a directory comes
// with everything under it), that selftrace/systable reads for the
// architectures of the arch table: the Makefile (the version), each
// architecture's directory (system call tables, Kconfig, uapi headers,
// its own system call definitions), include/ (the uapi headers and the
// prototypes of include/linux/syscalls.h), the generic table and the
// directories whose sources define system calls (SYSCALL_DEFINEn), about a
// fifth of the tree.
func TablePatterns() []string {
	p := []string{
		"Makefile", "include", "scripts/syscall.tbl",
		"block", "crypto", "drivers/char", "drivers/pci", "fs", "init", "io_uring",
		"ipc", "kernel", "lib", "mm", "net", "security", "virt",
	}
	for _, a := range arch.All() {
		if dir := "arch/" + srcArch(a.KernelArch); !slices.Contains(p, dir) {
			p = append(p, dir)
		}
	}
	return p
}

// srcArch is the directory under arch/ of an ARCH= value: the top-level
// Makefile's SRCARCH, which folds the 32- and 64-bit spellings.
func srcArch(kernelArch string) string {
	switch kernelArch {
	case "i386", "x86_64":
		return "x86"
	case "sparc32", "sparc64":
		return "sparc"
	case "parisc64":
		return "parisc"
	}
	return kernelArch
}

// IsTree reports whether dir is an unpacked kernel tree: a directory with a
// top-level Makefile.
func IsTree(dir string) bool {
	if dir == "" {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, "Makefile"))
	return err == nil && st.Mode().IsRegular()
}

// Locate returns an unpacked kernel tree: $SELFPTRACE_VM_KERNEL_SRC, else
// the newest complete tree kbuild unpacked into cacheRoot/src, else "".
func Locate(cacheRoot string) (string, error) {
	if d := os.Getenv(EnvTree); d != "" {
		if !IsTree(d) {
			return "", fmt.Errorf("$%s=%s is not a kernel tree (no top-level Makefile)", EnvTree, d)
		}
		return d, nil
	}
	if cacheRoot == "" {
		return "", nil
	}
	ents, err := os.ReadDir(filepath.Join(cacheRoot, "src"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var best string
	var bestTime time.Time
	for _, e := range ents {
		dir := filepath.Join(cacheRoot, "src", e.Name())
		st, err := os.Stat(filepath.Join(dir, complete))
		if !e.IsDir() || err != nil || !IsTree(dir) {
			continue
		}
		if best == "" || st.ModTime().After(bestTime) {
			best, bestTime = dir, st.ModTime()
		}
	}
	return best, nil
}

// Tables returns a directory that holds at least the TablePatterns members
// of source, which --kernel-src names: source itself if it is an unpacked
// tree (a directory or a git checkout), else, for a tarball, those members
// extracted once into cacheRoot/kernel-tables/<sha256 of the tarball>.
func Tables(ctx context.Context, source, cacheRoot string) (string, error) {
	st, err := os.Stat(source)
	if err != nil {
		return "", fmt.Errorf("kernel source %s: %w", source, err)
	}
	if st.IsDir() {
		if !IsTree(source) {
			return "", fmt.Errorf("kernel source %s: no top-level Makefile, not a kernel tree", source)
		}
		return source, nil
	}
	sum, err := fsutil.HashFile(source)
	if err != nil {
		return "", fmt.Errorf("hashing kernel tarball %s: %w", source, err)
	}
	dir := filepath.Join(cacheRoot, "kernel-tables", sum[:20])
	if _, err := os.Stat(filepath.Join(dir, complete)); err == nil {
		return dir, nil
	}
	if err := Extract(ctx, source, dir, TablePatterns()...); err != nil {
		return "", err
	}
	return dir, nil
}

// Extract unpacks the members of tarball that match patterns (tar
// wildcards relative to the tree's top, as TablePatterns; the tarball's
// first path component is dropped) into dir, which must not exist or be a complete
// earlier extraction. The members are unpacked next to dir and renamed
// into place: dir is whole or absent, and of two extractions at once the
// second to finish keeps the first one's.
func Extract(ctx context.Context, tarball, dir string, patterns ...string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-"+filepath.Base(dir)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args := []string{"-xf", tarball, "-C", tmp, "--strip-components=1", "--wildcards", "--no-wildcards-match-slash", "--no-same-owner"}
	for _, p := range patterns {
		args = append(args, "*/"+strings.TrimPrefix(p, "/"))
	}
	cmd := exec.CommandContext(ctx, "tar", args...)
	if out, err := cmd.CombinedOutput(); err != nil && (ctx.Err() != nil || !onlyNotFound(out)) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("extracting from %s: tar: %v: %s", tarball, err, logtail.String(out, 10))
	}
	if !IsTree(tmp) {
		return fmt.Errorf("%s does not hold a kernel tree (no Makefile at its top level)", tarball)
	}
	if err := os.WriteFile(filepath.Join(tmp, complete), nil, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, complete)); serr == nil {
			return nil // extracted meanwhile by someone else
		}
		return fmt.Errorf("extracting the system call tables from %s: %w", tarball, err)
	}
	return nil
}

// Find returns a kernel tree for tests: Locate's, else the system call
// tables of tarball (Tables). It is an error wrapping fs.ErrNotExist when
// there is neither, so that a test can skip.
func Find(ctx context.Context, tarball, cacheRoot string) (string, error) {
	if d, err := Locate(cacheRoot); err != nil || d != "" {
		return d, err
	}
	if _, err := os.Stat(tarball); err != nil {
		return "", fmt.Errorf("no kernel tree: $%s is unset, %s/src holds none, and %w", EnvTree, cacheRoot, err)
	}
	return Tables(ctx, tarball, cacheRoot)
}

// onlyNotFound reports whether tar's output complains of nothing but
// patterns that match no member (a kernel version without one of the
// files): the members that exist were extracted.
func onlyNotFound(out []byte) bool {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines {
		if !strings.Contains(l, "Not found in archive") && !strings.Contains(l, "Exiting with failure status due to previous errors") {
			return false
		}
	}
	return len(lines) > 0
}
