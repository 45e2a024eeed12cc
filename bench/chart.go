package bench

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// archColor is the bar color of the i-th architecture in report order
// (colour-blind safe: Okabe-Ito blue, orange, green, purple).
func archColor(i int) color.RGBA {
	colors := [...]color.RGBA{
		{0x00, 0x72, 0xb2, 0xff},
		{0xe6, 0x9f, 0x00, 0xff},
		{0x00, 0x9e, 0x73, 0xff},
		{0xcc, 0x79, 0xa7, 0xff},
	}
	return colors[i%len(colors)]
}

// ChartPNG renders the report's mechanisms as a PNG: one row per
// mechanism, one horizontal bar per architecture with the median cost per
// call on a log scale, whiskers over the interquartile range, and the ratio to self-ptrace written at the end of the bar.
func (r *Report) ChartPNG() ([]byte, error) {
	var rows []MechInfo
	for _, info := range Mechanisms() {
		for _, a := range r.Arches {
			if a.Mechanism(info.Name) != nil {
				rows = append(rows, info)
				break
			}
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("chart: no mechanism to draw")
	}
	p := newBarPlot("Cost of one getpid, per mechanism (bar: median; whiskers: interquartile range; label: × self-ptrace)",
		r.AnyTCG(), "QEMU TCG, no KVM: absolute times are the emulator's, compare the ratios",
		"time per call (log scale)", nsTicks{})

	bars := &hbars{rows: len(rows), label: p.Y.Tick.Label}
	bars.label.Font.Size = vg.Points(10)
	lo, hi := math.Inf(1), 0.0
	for j, a := range r.Arches {
		s := barSeries{name: a.Arch, color: archColor(j)}
		for _, info := range rows {
			m := a.Mechanism(info.Name)
			var b bar
			switch {
			case m == nil:
			case m.Measured():
				b = bar{ok: true, median: m.Summary.Median, lo: m.Summary.Q1, hi: m.Summary.Q3,
					text: FormatNs(m.Summary.Median)}
				if m.VsSelfPtrace != nil && info.Name != "selfptrace" {
					b.text += fmt.Sprintf("  ×%s", ratioNum(m.VsSelfPtrace.Value))
				}
				lo, hi = math.Min(lo, m.Summary.Q1), math.Max(hi, m.Summary.Q3)
			case m.NA != "":
				b.text = a.Arch + ": n/a (see the notes)"
			default:
				b.text = a.Arch + ": error"
			}
			s.bars = append(s.bars, b)
		}
		bars.series = append(bars.series, s)
	}
	if hi == 0 {
		return nil, fmt.Errorf("chart: no measured mechanism")
	}
	// Bars start one decade below the fastest sample; the right margin
	// leaves room for the labels.
	bars.base = math.Pow(10, math.Floor(math.Log10(lo))-0.3)
	bars.top = math.Pow(10, math.Log10(hi)+0.7)
	names := make([]string, len(rows))
	for i, info := range rows {
		names[len(rows)-1-i] = info.Label
	}
	return renderBars(p, bars, names, vg.Points(11), 11*vg.Inch, vg.Length(1.6+0.55*float64(len(rows)))*vg.Inch, "chart")
}

// newBarPlot makes a chart of horizontal bars on a logarithmic X axis,
// with a second title line when the numbers come from an emulator.
func newBarPlot(title string, tcg bool, tcgNote, xLabel string, ticks plot.Ticker) *plot.Plot {
	p := plot.New()
	if tcg {
		title += "\n" + tcgNote
	}
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xLabel
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = ticks
	return p
}

// renderBars adds the bars, their row names (bottom to top) and a legend
// of the series to p, and draws it as a w by h PNG; what names the chart
// in errors.
func renderBars(p *plot.Plot, bars *hbars, names []string, nameSize, w, h vg.Length, what string) ([]byte, error) {
	p.Add(bars)
	p.NominalY(names...)
	p.Y.Tick.Label.Font.Size = nameSize
	for _, s := range bars.series {
		p.Legend.Add(s.name, swatch{s.color})
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(6)
	p.Legend.TextStyle.Font.Size = vg.Points(11)

	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.Crop(draw.New(c), vg.Points(10), -vg.Points(10), vg.Points(4), -vg.Points(4)))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("%s: encoding PNG: %w", what, err)
	}
	return buf.Bytes(), nil
}

type bar struct {
	ok             bool
	median, lo, hi float64
	text           string
}

type barSeries struct {
	name  string
	color color.Color
	bars  []bar // one per row
}

// hbars draws groups of horizontal bars that start at base, for a log
// scale (plotter.BarChart starts at 0).
type hbars struct {
	rows      int
	series    []barSeries
	base, top float64
	label     text.Style
	// refLine, if positive, is drawn as a dashed vertical line (the
	// reference a ratio is taken to).
	refLine float64
}

func (h *hbars) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	n := len(h.series)
	group := (trY(0) - trY(1)) * -0.8 // vertical room of one row
	thick := group / vg.Length(n)
	whisker := draw.LineStyle{Color: color.Gray{0x30}, Width: vg.Points(1)}
	lbl := h.label
	lbl.XAlign = text.XLeft
	lbl.YAlign = text.YCenter
	if h.refLine > 0 {
		ref := draw.LineStyle{Color: color.Gray{0x80}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(3)}}
		x := trX(h.refLine)
		c.StrokeLine2(ref, x, c.Min.Y, x, c.Max.Y)
	}
	for j, s := range h.series {
		for i, b := range s.bars {
			yc := trY(float64(h.rows-1-i)) + group/2 - thick*(vg.Length(j)+0.5)
			x0 := trX(h.base)
			if !b.ok {
				if b.text != "" {
					c.FillText(lbl, vg.Point{X: x0 + vg.Points(4), Y: yc}, b.text)
				}
				continue
			}
			x1 := trX(b.median)
			y0, y1 := yc-thick*0.42, yc+thick*0.42
			c.FillPolygon(s.color, []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}})
			wl, wh := trX(b.lo), trX(b.hi)
			c.StrokeLine2(whisker, wl, yc, wh, yc)
			c.StrokeLine2(whisker, wl, yc-thick*0.25, wl, yc+thick*0.25)
			c.StrokeLine2(whisker, wh, yc-thick*0.25, wh, yc+thick*0.25)
			c.FillText(lbl, vg.Point{X: max(x1, wh) + vg.Points(5), Y: yc}, b.text)
		}
	}
}

func (h *hbars) DataRange() (xmin, xmax, ymin, ymax float64) {
	return h.base, h.top, -0.5, float64(h.rows) - 0.5
}

// swatch is a legend thumbnail: a filled square.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	})
}

// nsTicks labels decades of nanoseconds with their unit and puts
// unlabelled minor ticks at 2 and 5.
type nsTicks struct{}

func (nsTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		d := math.Pow(10, e)
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = decadeLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// decadeLabel names a power of ten of nanoseconds: "100 ns", "1 µs".
func decadeLabel(ns float64) string {
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}} {
		if ns >= u.div {
			return fmt.Sprintf("%g %s", ns/u.div, u.unit)
		}
	}
	return fmt.Sprintf("%g ns", ns)
}
