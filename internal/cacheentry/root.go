package cacheentry

import (
	"os"
	"path/filepath"
)

// EnvRoot is the environment variable that names the rig's cache.
const EnvRoot = "SELFPTRACE_VM_CACHE"

// DefaultRoot is the rig's cache directory: $SELFPTRACE_VM_CACHE, else
// selfptrace-vm in the user's cache directory (~/.cache), else in the
// temporary directory.
func DefaultRoot() string {
	if d := os.Getenv(EnvRoot); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "selfptrace-vm")
	}
	return filepath.Join(os.TempDir(), "selfptrace-vm-cache")
}
