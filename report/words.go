package report

import "time"

// Seconds is d in the results' unit: seconds, rounded to the millisecond.
func Seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

// Flavor names a kernel: "patched" (with the series) or "vanilla".
func Flavor(patched bool) string {
	if patched {
		return "patched"
	}
	return "vanilla"
}

// CacheState says where a kernel came from: "cached" or "built".
func CacheState(hit bool) string {
	if hit {
		return "cached"
	}
	return "built"
}
