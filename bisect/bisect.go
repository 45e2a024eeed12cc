// Package bisect searches a patch series for the first patch under which a
// test fails: patches 1..k are applied for a probe at k, a good count and a
// bad count bound the search, and each step halves the range.
package bisect

import (
	"context"
	"errors"
	"fmt"
)

// Verdict is the outcome of one probe, with git bisect's exit codes.
type Verdict int

const (
	Good Verdict = 0
	Bad  Verdict = 1
	// Skip means the kernel could not be built or booted: the probe says
	// nothing about the test.
	Skip Verdict = 125
)

func (v Verdict) String() string {
	switch v {
	case Good:
		return "good"
	case Bad:
		return "bad"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// Probe builds the kernel with the first k patches, runs the test and
// judges it. An error stops the search (the rig failed, or interrupted).
type Probe func(ctx context.Context, k int) (Verdict, error)

// Step is one probe that was run.
type Step struct {
	Patches int     `json:"patches"`
	Verdict Verdict `json:"verdict"`
}

// Result is a finished search.
type Result struct {
	// FirstBad is the number of patches at which the test starts failing:
	// patch FirstBad (1-based) is the culprit. With skipped probes the
	// culprit is somewhere in (LastGood, FirstBad].
	FirstBad int    `json:"first_bad"`
	LastGood int    `json:"last_good"`
	Steps    []Step `json:"steps"`
}

// Exact reports whether the culprit is one patch.
func (r Result) Exact() bool { return r.FirstBad-r.LastGood == 1 }

// ErrNotGood and ErrNotBad report endpoints that do not bound a change.
var (
	ErrNotGood = errors.New("the test does not pass at the good end")
	ErrNotBad  = errors.New("the test does not fail at the bad end")
)

// Search verifies that the test passes with good patches and fails with
// bad patches, then halves (good, bad] until one patch is left. A skipped
// probe is replaced by its nearest untested neighbour in the range.
func Search(ctx context.Context, good, bad int, probe Probe) (Result, error) {
	var r Result
	if good >= bad {
		return r, fmt.Errorf("the good end (%d patches) must be below the bad end (%d)", good, bad)
	}
	run := func(k int) (Verdict, error) {
		v, err := probe(ctx, k)
		if err != nil {
			return v, err
		}
		r.Steps = append(r.Steps, Step{Patches: k, Verdict: v})
		return v, nil
	}
	if v, err := run(bad); err != nil {
		return r, err
	} else if v != Bad {
		return r, fmt.Errorf("%w (%d patches: %s)", ErrNotBad, bad, v)
	}
	if v, err := run(good); err != nil {
		return r, err
	} else if v != Good {
		return r, fmt.Errorf("%w (%d patches: %s)", ErrNotGood, good, v)
	}
	lo, hi := good, bad
	skipped := map[int]bool{}
	for hi-lo > 1 {
		k, ok := pick(lo, hi, skipped)
		if !ok {
			break // every probe in the range was skipped
		}
		v, err := run(k)
		if err != nil {
			return r, err
		}
		switch v {
		case Good:
			lo = k
		case Bad:
			hi = k
		default:
			skipped[k] = true
		}
	}
	r.LastGood, r.FirstBad = lo, hi
	return r, nil
}

// pick returns the untested count nearest the middle of (lo, hi).
func pick(lo, hi int, skipped map[int]bool) (int, bool) {
	mid := (lo + hi) / 2
	for d := 0; d < hi-lo; d++ {
		for _, k := range []int{mid - d, mid + d} {
			if k > lo && k < hi && !skipped[k] {
				return k, true
			}
		}
	}
	return 0, false
}
