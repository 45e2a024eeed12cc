package report

import (
	"testing"
	"time"
)

func TestWords(t *testing.T) {
	if got := Seconds(1234567 * time.Microsecond); got != 1.235 {
		t.Errorf("Seconds(1.234567s) = %v, want 1.235", got)
	}
	if Flavor(true) != "patched" || Flavor(false) != "vanilla" {
		t.Errorf("Flavor: %q %q", Flavor(true), Flavor(false))
	}
	if CacheState(true) != "cached" || CacheState(false) != "built" {
		t.Errorf("CacheState: %q %q", CacheState(true), CacheState(false))
	}
}
