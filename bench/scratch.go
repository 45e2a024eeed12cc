package bench

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ScratchRoot makes dst a checkout that can be changed without touching
// root: every top-level entry of root is a symbolic link to the real one,
// except the entries named in copies, which are copied (regular files and
// directories), and .git and out, which are left out.
func ScratchRoot(root, dst string, copies ...string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("scratch checkout: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		src, to := filepath.Join(root, name), filepath.Join(dst, name)
		switch {
		case name == ".git" || name == "out":
		case slices.Contains(copies, name):
			if err := CopyTree(src, to); err != nil {
				return fmt.Errorf("scratch checkout: %w", err)
			}
		default:
			if err := os.Symlink(src, to); err != nil {
				return fmt.Errorf("scratch checkout: %w", err)
			}
		}
	}
	return nil
}

// CopyTree copies the directory or file src to dst, which must not exist:
// directories and regular files, with their permission bits; anything else
// is an error.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(to, info.Mode().Perm()|0o700)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(to, data, info.Mode().Perm())
		default:
			return fmt.Errorf("copying %s: not a regular file or directory", path)
		}
	})
}

// CPUModel returns the processor's name from the text of /proc/cpuinfo:
// "model name" (x86, most others), else "Hardware" or "machine" or
// "vendor_id".
func CPUModel(cpuinfo string) string {
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, seen := fields[k]; !seen && v != "" {
			fields[k] = v
		}
	}
	for _, k := range []string{"model name", "Hardware", "machine", "vendor_id"} {
		if v := fields[k]; v != "" {
			return v
		}
	}
	return "unknown CPU"
}
