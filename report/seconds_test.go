package report

import (
	"testing"
	"time"
)

func TestSeconds(t *testing.T) {
	if got := Seconds(1234567 * time.Microsecond); got != 1.235 {
		t.Errorf("Seconds(1.234567s) = %v, want 1.235", got)
	}
}
