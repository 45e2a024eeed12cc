package bench

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
)

// workloadRow is one row of the workload chart: a workload under a
// traced configuration.
type workloadRow struct{ workload, config string }

// WorkloadChartPNG renders the workload results as a PNG: one row per
// workload and traced configuration, one horizontal bar per architecture
// with the time over the native run (the median of the per-round ratios)
// on a log scale, whiskers over their interquartile range, and the
// ratios to native and to strace written at the end of the bar.
func (r *Report) WorkloadChartPNG() ([]byte, error) {
	var rows []workloadRow
	for _, w := range WorkloadInfos() {
		for _, c := range ConfigInfos() {
			if c.Name == benchfmt.ConfigNative {
				continue
			}
			for _, a := range r.Arches {
				if a.Workloads != nil && a.Workloads.Result(w.Name, c.Name) != nil {
					rows = append(rows, workloadRow{w.Name, c.Name})
					break
				}
			}
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("workload chart: no workload to draw")
	}
	p := newBarPlot("Time of a workload under each tracer over its native time (bar: median of the per-round ratios; whiskers: interquartile range)",
		r.AnyTCG(), "QEMU TCG, no KVM: only these ratios mean something, and the emulator skews them too",
		"time over the native run (log scale; dashed: ×1, as fast as native)", ratioTicks{})

	bars := &hbars{rows: len(rows), label: p.Y.Tick.Label, refLine: 1}
	bars.label.Font.Size = vg.Points(9)
	lo, hi := math.Inf(1), 0.0
	for j, a := range r.Arches {
		if a.Workloads == nil {
			continue
		}
		s := barSeries{name: a.Arch, color: archColor(j)}
		for _, row := range rows {
			w := a.Workloads.Result(row.workload, row.config)
			var b bar
			switch {
			case w == nil:
			case w.Measured() && w.VsNative != nil:
				v := w.VsNative
				b = bar{ok: true, median: v.Value, lo: v.Lo, hi: v.Hi, text: "×" + ratioNum(v.Value)}
				if w.VsStrace != nil && w.Config != w.StraceRef {
					of := "strace"
					if w.StraceRef != benchfmt.ConfigStrace {
						of = "the filtered strace"
					}
					b.text += fmt.Sprintf("  (%s× %s)", ratioNum(w.VsStrace.Value), of)
				}
				lo, hi = math.Min(lo, v.Lo), math.Max(hi, v.Hi)
			case w.NA != "":
				b.text = a.Arch + ": n/a (see the notes)"
			case w.Error != "":
				b.text = a.Arch + ": error"
			}
			s.bars = append(s.bars, b)
		}
		bars.series = append(bars.series, s)
	}
	if hi == 0 {
		return nil, fmt.Errorf("workload chart: no measured configuration")
	}
	// Bars start below the smallest ratio (about 1: the native time);
	// the right margin leaves room for the labels.
	bars.base = math.Min(lo, 1) / 1.6
	bars.top = hi * 8
	names := make([]string, len(rows))
	for i, row := range rows {
		names[len(rows)-1-i] = row.workload + ": " + ConfigInfoOf(row.config).Label
	}
	perRow := 0.22 + 0.13*float64(len(bars.series))
	return renderBars(p, bars, names, vg.Points(10), 12*vg.Inch, vg.Length(1.6+perRow*float64(len(rows)))*vg.Inch, "workload chart")
}

// ratioTicks labels 1, 2 and 5 times the powers of ten: "×1", "×2",
// "×5", "×10".
type ratioTicks struct{}

func (ratioTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		d := math.Pow(10, e)
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v < lo || v > hi {
				continue
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: "×" + fmt.Sprintf("%g", v)})
		}
	}
	return ticks
}
