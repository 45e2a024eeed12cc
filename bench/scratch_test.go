package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestScratchRoot(t *testing.T) {
	root, dst := t.TempDir(), t.TempDir()
	for _, f := range []string{"go.mod", "patches/linux-6.12/series", "tests/smoke/smoke_test.go", ".git/HEAD", "out/x"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(root, f), []byte(f), 0o644)
	}
	if err := ScratchRoot(root, dst, "patches"); err != nil {
		t.Fatal(err)
	}
	for name, link := range map[string]bool{"go.mod": true, "tests": true, "patches": false} {
		fi, err := os.Lstat(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode()&os.ModeSymlink != 0; got != link {
			t.Errorf("%s: symlink %v, want %v", name, got, link)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dst, "patches/linux-6.12/series")); err != nil || string(b) != "patches/linux-6.12/series" {
		t.Errorf("copied series: %q %v", b, err)
	}
	for _, name := range []string{".git", "out"} {
		if _, err := os.Lstat(filepath.Join(dst, name)); err == nil {
			t.Errorf("%s was not left out", name)
		}
	}
	// The copy is independent of the original.
	os.WriteFile(filepath.Join(dst, "patches/linux-6.12/series"), []byte("changed"), 0o644)
	if b, _ := os.ReadFile(filepath.Join(root, "patches/linux-6.12/series")); string(b) != "patches/linux-6.12/series" {
		t.Error("changing the copy changed the original")
	}
}

func TestCPUModel(t *testing.T) {
	for in, want := range map[string]string{
		"processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nprocessor\t: 1\nmodel name\t: AMD EPYC\n": "AMD EPYC",
		"processor\t: 0\nHardware\t: BCM2835\n": "BCM2835",
		"vendor_id       : IBM/S390\n":          "IBM/S390",
		"":                                      "unknown CPU",
	} {
		if got := CPUModel(in); got != want {
			t.Errorf("CPUModel(%q) = %q, want %q", in, got, want)
		}
	}
}
