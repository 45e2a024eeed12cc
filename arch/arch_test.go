package arch

import (
	"strings"
	"testing"
)

func TestUsageAndAliasesComeFromTheTable(t *testing.T) {
	one, multi := Usage(false), Usage(true)
	if multi != one+"|all" {
		t.Errorf("Usage(true) = %q, Usage(false) = %q", multi, one)
	}
	note := AliasNote()
	for _, s := range All() {
		if !strings.Contains(one, s.Name) {
			t.Errorf("Usage lacks %s: %q", s.Name, one)
		}
		for _, a := range s.Aliases {
			if !strings.Contains(note, a) {
				t.Errorf("AliasNote lacks %s: %q", a, note)
			}
			if got, err := Lookup(a); err != nil || got.Name != s.Name {
				t.Errorf("Lookup(%q) = %s, %v", a, got.Name, err)
			}
		}
	}
	if specs[0].Name == "x86_64" && !strings.Contains(note, "amd64 and x86-64 are accepted for x86_64") {
		t.Errorf("AliasNote = %q", note)
	}
}

// TestEveryRowComplete checks that no architecture of the table lacks a
// fact the rig needs: adding a row half-filled fails here, not in a guest.
func TestEveryRowComplete(t *testing.T) {
	seen := map[string]string{}
	for _, s := range All() {
		fields := map[string]string{
			"Name": s.Name, "GOARCH": s.GOARCH, "KernelArch": s.KernelArch, "CrossPackage": s.CrossPackage,
			"KernelImage": s.KernelImage, "QEMU": s.QEMU, "QEMUPackage": s.QEMUPackage, "Console": s.Console,
			"UnameMachine": s.UnameMachine, "KVMHostArch": s.KVMHostArch, "Config": s.Config, "GDBArch": s.GDBArch,
			"DebianArch": s.DebianArch, "DebianSuite": s.DebianSuite,
		}
		for k, v := range fields {
			if v == "" {
				t.Errorf("%s: %s is empty", s.Name, k)
			}
		}
		if s.AuditArch == 0 {
			t.Errorf("%s: AuditArch is 0", s.Name)
		}
		if len(s.Machine) == 0 || s.Machine[0] != "-machine" {
			t.Errorf("%s: Machine %q does not start with -machine", s.Name, s.Machine)
		}
		for _, m := range s.Machine {
			if strings.ContainsAny(m, " \t") {
				t.Errorf("%s: Machine element %q holds a space: one argument per element", s.Name, m)
			}
		}
		if s.CrossCompile != "" && !strings.HasSuffix(s.CrossCompile, "-") {
			t.Errorf("%s: CrossCompile %q does not end in -", s.Name, s.CrossCompile)
		}
		for _, n := range append([]string{s.Name}, s.Aliases...) {
			if other, dup := seen[n]; dup {
				t.Errorf("%q names both %s and %s", n, other, s.Name)
			}
			seen[n] = s.Name
		}
	}
}

func TestLookupAndParse(t *testing.T) {
	for alias, want := range map[string]string{
		"amd64": "x86_64", "x86_64": "x86_64", "s390": "s390x",
		"aarch64": "arm64", "arm64": "arm64", "riscv64": "riscv64", "riscv": "riscv64",
	} {
		s, err := Lookup(alias)
		if err != nil || s.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", alias, s.Name, err, want)
		}
	}
	if _, err := Lookup("mips"); err == nil || !strings.Contains(err.Error(), "riscv64") {
		t.Errorf("Lookup(mips) error %v does not list the known arches", err)
	}
	if _, err := Parse(""); err == nil || !strings.Contains(err.Error(), "empty architecture") {
		t.Errorf(`Parse("") = %v, want the error "empty architecture": an unset variable must not mean four builds`, err)
	}
	if _, err := Parse(" "); err == nil {
		t.Errorf(`Parse(" ") accepted`)
	}
	all, err := Parse("all")
	if err != nil || len(all) != 4 {
		t.Fatalf("Parse(all) = %d specs, %v; want x86_64, s390x, arm64, riscv64", len(all), err)
	}
	two, err := Parse("aarch64, riscv64,arm64")
	if err != nil || len(two) != 2 || two[0].Name != "arm64" || two[1].Name != "riscv64" {
		t.Errorf("Parse(aarch64, riscv64,arm64) = %v, %v", two, err)
	}
}
