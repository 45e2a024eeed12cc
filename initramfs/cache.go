package initramfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

// lockFile takes an exclusive flock on path, creating it, and returns the
// function that releases it. It waits for other holders until ctx ends.
func lockFile(ctx context.Context, path string) (func(), error) {
	l, err := fsutil.Acquire(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Unlock() }, nil
}

// sumPath is where the checksum of a cache entry is kept, in the format of
// sha256sum, so that `sha256sum -c` can check it by hand.
func sumPath(path string) string { return path + ".sha256" }

// verifyEntry checks a cache entry against its checksum file. It returns
// nil only for a complete entry.
func verifyEntry(path string) error {
	b, err := os.ReadFile(sumPath(path))
	if err != nil {
		return err
	}
	want, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	got, err := fsutil.HashFile(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s: sha256 %s, want %s (truncated or corrupted)", path, got, want)
	}
	return nil
}

// commitEntry moves a finished file into the cache at path and writes its
// checksum file. A crash between the two leaves an entry without checksum,
// which verifyEntry rejects.
func commitEntry(tmp, path string) error {
	sum, err := fsutil.HashFile(tmp)
	if err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return err
	}
	os.Remove(sumPath(path))
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(sumPath(path), fmt.Appendf(nil, "%s  %s\n", sum, filepath.Base(path)), 0o644)
}
