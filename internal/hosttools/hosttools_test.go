package hosttools

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// makefilePackages reads DEB_PACKAGES from the Makefile, with its
// continuation lines.
func makefilePackages(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^DEB_PACKAGES\s*:?=((?:.*\\\n)*.*)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no DEB_PACKAGES in the Makefile")
	}
	return strings.Fields(strings.ReplaceAll(string(m[1]), "\\\n", " "))
}

// TestMakefileCoversTable: make deps installs every Debian package of the
// table, for every architecture of the arch table.
func TestMakefileCoversTable(t *testing.T) {
	deb := makefilePackages(t)
	if len(deb) < 5 {
		t.Fatalf("DEB_PACKAGES parsed as %v", deb)
	}
	for _, p := range Packages(All(arch.All())) {
		if !slices.Contains(deb, p) {
			t.Errorf("the Makefile's DEB_PACKAGES lacks %s, which the host-tools table needs", p)
		}
	}
}

func TestEveryRowIsComplete(t *testing.T) {
	all := All(arch.All())
	seen := map[string]bool{}
	for _, tl := range all {
		if tl.Name == "" || len(tl.Steps) == 0 || tl.InstallHint() == "" {
			t.Errorf("incomplete row %+v", tl)
		}
		if seen[tl.Name] {
			t.Errorf("%s has two rows", tl.Name)
		}
		seen[tl.Name] = true
	}
	for _, a := range arch.All() {
		for _, want := range []string{a.QEMU, a.CrossCompile + "gcc", "make", "rsync", "go", "gdb-multiarch"} {
			if !seen[want] {
				t.Errorf("%s: no row for %s", a.Name, want)
			}
		}
		if len(For(Boot, a)) != 1 || For(Boot, a)[0].Package != a.QEMUPackage {
			t.Errorf("%s: boot needs %+v, want %s from %s", a.Name, For(Boot, a), a.QEMU, a.QEMUPackage)
		}
	}
}

func TestCheckNamesThePackage(t *testing.T) {
	for _, a := range arch.All() {
		cross := a.CrossCompile + "gcc"
		look := func(name string) (string, error) {
			if name == cross || name == "rsync" {
				return "", errors.New("not found")
			}
			return "/usr/bin/" + name, nil
		}
		err := CheckWith(look, Kselftest, a)
		var me *MissingError
		if !errors.As(err, &me) {
			t.Fatalf("%s: Check = %v, want a *MissingError", a.Name, err)
		}
		for _, want := range []string{cross, "rsync", "apt-get install", a.CrossPackage, "make deps", string(Kselftest)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", a.Name, err, want)
			}
		}
		if err := CheckWith(look, Boot, a); err != nil {
			t.Errorf("%s: boot with QEMU present: %v", a.Name, err)
		}
		if err := CheckWith(func(string) (string, error) { return "", errors.New("no") }, Image, a); err == nil ||
			!strings.Contains(err.Error(), "go.dev") {
			t.Errorf("%s: missing go: %v", a.Name, err)
		}
	}
}
