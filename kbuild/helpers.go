package kbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/internal/logtail"
)

func compilerVersion(ctx context.Context, a arch.Spec) (string, error) {
	out, err := exec.CommandContext(ctx, a.CrossCompile+"gcc", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%sgcc --version: %w (install %s)", a.CrossCompile, err, a.CrossPackage)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first), nil
}

// extract unpacks a tarball once into cacheDir/src/<id>, under a lock, via
// a temporary directory and a rename, so a half-extracted tree is never used.
func extract(ctx context.Context, cacheDir string, src source) (string, error) {
	dir := filepath.Join(cacheDir, "src", src.id[:20])
	done := filepath.Join(dir, ".selfptrace-vm-complete")
	if _, err := os.Stat(done); err == nil {
		return dir, nil
	}
	lock, err := fsutil.Acquire(ctx, filepath.Join(cacheDir, "locks", "src-"+src.id[:20]+".lock"), nil)
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	if _, err := os.Stat(done); err == nil {
		return dir, nil
	}
	os.RemoveAll(dir)
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "tar", "-xf", src.path, "-C", tmp, "--strip-components=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("tar -xf %s: %v: %s", src.path, err, logtail.String(out, 10))
	}
	if _, err := os.Stat(filepath.Join(tmp, "Makefile")); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("%s does not hold a kernel tree (no Makefile at its top level)", src.path)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".selfptrace-vm-complete"), nil, 0o644); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return dir, nil
}

func numCPU() int { return runtime.NumCPU() }

func sortStrings(s []string) { sort.Strings(s) }
