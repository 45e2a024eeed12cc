package bench

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Summary describes the samples of one measurement, in ns per call.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// Q1 and Q3 are the first and third quartiles (linear interpolation
	// between order statistics, as R's type 7 and NumPy's default).
	Q1 float64 `json:"q1"`
	Q3 float64 `json:"q3"`
}

// Summarize computes the summary of xs, which must hold at least one
// finite, positive value and nothing else.
func Summarize(xs []float64) (Summary, error) {
	if len(xs) == 0 {
		return Summary{}, errors.New("no samples")
	}
	s := slices.Clone(xs)
	for _, x := range s {
		if math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 {
			return Summary{}, errors.New("a sample is not a positive number")
		}
	}
	slices.Sort(s)
	return Summary{
		N:      len(s),
		Median: quantile(s, 0.5),
		Min:    s[0],
		Max:    s[len(s)-1],
		Q1:     quantile(s, 0.25),
		Q3:     quantile(s, 0.75),
	}, nil
}

// quantile of sorted s at q in [0, 1], interpolating linearly.
func quantile(s []float64, q float64) float64 {
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// Spread is the relative half-width of the interquartile range:
// (Q3-Q1)/2/Median.
func (s Summary) Spread() float64 {
	if s.Median == 0 {
		return 0
	}
	return (s.Q3 - s.Q1) / 2 / s.Median
}

// Ratio compares two measurements: Value is the ratio of their medians,
// Lo and Hi bound it by their interquartile ranges (Q1 of the numerator
// over Q3 of the denominator, and the other way round), a conservative
// range that contains the ratio of any two central samples.
type Ratio struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	// Method says how Value, Lo and Hi were computed (RatioMedians,
	// RatioPaired, RatioBoots).
	Method string `json:"method,omitempty"`
}

// Ratio methods.
const (
	// RatioMedians: ratio of the medians, bounded by Q1/Q3 and Q3/Q1.
	RatioMedians = "medians"
	// RatioPaired: median and interquartile range of the ratios of the
	// samples taken in the same round.
	RatioPaired = "paired"
	// RatioBoots: ratio of the medians of the boots' medians, bounded by
	// min/max and max/min.
	RatioBoots = "boots"
)

// RatioOf returns a / b from their summaries (RatioMedians).
func RatioOf(a, b Summary) Ratio {
	return Ratio{Value: a.Median / b.Median, Lo: a.Q1 / b.Q3, Hi: a.Q3 / b.Q1, Method: RatioMedians}
}

// PairedRatio returns a / b from samples taken in pairs: a[i] and b[i]
// were measured in the same round (RatioPaired).
func PairedRatio(a, b []float64) (Ratio, error) {
	if len(a) != len(b) {
		return Ratio{}, fmt.Errorf("paired ratio of %d and %d samples", len(a), len(b))
	}
	rs := make([]float64, len(a))
	for i := range a {
		if b[i] <= 0 {
			return Ratio{}, errors.New("a sample is not a positive number")
		}
		rs[i] = a[i] / b[i]
	}
	s, err := Summarize(rs)
	if err != nil {
		return Ratio{}, err
	}
	return Ratio{Value: s.Median, Lo: s.Q1, Hi: s.Q3, Method: RatioPaired}, nil
}

// Contains tells whether v lies within the range.
func (r Ratio) Contains(v float64) bool { return r.Lo <= v && v <= r.Hi }
