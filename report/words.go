package report

import "time"

// Seconds is d in the results' unit: seconds, rounded to the millisecond.
func Seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

// The flavors of a kernel: the base source with the series, without it,
// or a developer's tree built as it is (whatever it holds, the series
// committed in it or not).
const (
	FlavorPatched = "patched"
	FlavorVanilla = "vanilla"
	FlavorAsIs    = "as-is"
)

// Flavor names a kernel built from the base source: "patched" (with the
// series) or "vanilla".
func Flavor(patched bool) string {
	if patched {
		return FlavorPatched
	}
	return FlavorVanilla
}

// CacheState says where a kernel came from: "cached" or "built".
func CacheState(hit bool) string {
	if hit {
		return "cached"
	}
	return "built"
}
