package initramfs

import (
	"context"

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
