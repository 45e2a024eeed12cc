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
