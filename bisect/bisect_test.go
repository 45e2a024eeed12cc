package bisect

import (
	"context"
	"errors"
	"testing"
)

// fake fails from culprit on; counts in skip cannot be built.
func fake(culprit int, skip map[int]bool, probes *[]int) Probe {
	return func(_ context.Context, k int) (Verdict, error) {
		*probes = append(*probes, k)
		switch {
		case skip[k]:
			return Skip, nil
		case k >= culprit:
			return Bad, nil
		}
		return Good, nil
	}
}

func TestSearchFindsEveryCulprit(t *testing.T) {
	for n := 1; n <= 17; n++ {
		for c := 1; c <= n; c++ {
			var probes []int
			r, err := Search(context.Background(), 0, n, fake(c, nil, &probes))
			if err != nil {
				t.Fatalf("n=%d culprit=%d: %v", n, c, err)
			}
			if r.FirstBad != c || !r.Exact() {
				t.Errorf("n=%d culprit=%d: found %+v", n, c, r)
			}
			// Two endpoint checks plus at most ceil(log2(n)) steps.
			limit := 2
			for x := 1; x < n; x *= 2 {
				limit++
			}
			if len(probes) > limit {
				t.Errorf("n=%d culprit=%d: %d probes %v, want at most %d", n, c, len(probes), probes, limit)
			}
		}
	}
}

func TestSearchSkips(t *testing.T) {
	var probes []int
	r, err := Search(context.Background(), 0, 8, fake(5, map[int]bool{4: true}, &probes))
	if err != nil {
		t.Fatal(err)
	}
	if r.FirstBad != 5 || r.LastGood != 3 || r.Exact() {
		t.Errorf("got %+v, want the range (3, 5] with 4 skipped", r)
	}
}

func TestSearchEndpoints(t *testing.T) {
	var probes []int
	if _, err := Search(context.Background(), 0, 4, fake(9, nil, &probes)); !errors.Is(err, ErrNotBad) {
		t.Errorf("bad end passes: err %v, want ErrNotBad", err)
	}
	if _, err := Search(context.Background(), 2, 4, fake(1, nil, &probes)); !errors.Is(err, ErrNotGood) {
		t.Errorf("good end fails: err %v, want ErrNotGood", err)
	}
	if _, err := Search(context.Background(), 4, 4, fake(1, nil, &probes)); err == nil {
		t.Error("empty range accepted")
	}
}
