package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// FormatNs formats a duration in nanoseconds with a unit that keeps three
// significant digits: "812 ns", "4.25 µs", "35.1 µs", "1.20 ms".
func FormatNs(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e4:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e5:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns < 1e6:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	}
}

// FormatRatio formats a ratio with its range: "4.10 (3.90–4.30)".
func FormatRatio(r Ratio) string {
	return fmt.Sprintf("%s (%s–%s)", ratioNum(r.Value), ratioNum(r.Lo), ratioNum(r.Hi))
}

func ratioNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// FormatSeconds formats a timing: "45.2 s", or its note.
func FormatSeconds(t Timing) string {
	if t.Seconds == nil {
		if t.Note == "" {
			return "-"
		}
		return t.Note
	}
	s := fmt.Sprintf("%.1f s", *t.Seconds)
	if t.Note != "" {
		s += " (" + t.Note + ")"
	}
	return s
}

func (n *NotArmed) describe() string {
	s := fmt.Sprintf("%s over %d patched and %d vanilla boots: %s",
		FormatRatio(n.Ratio), len(n.PatchedNs), len(n.VanillaNs), n.Verdict())
	if len(n.ClockSources) > 1 {
		s += " (the boots' clocksources: " + strings.Join(n.ClockSources, ", ") + ")"
	}
	return s
}

// cell is what a table shows for a mechanism: the median and IQR, or n/a,
// or the error.
func (m Mechanism) cell() (median, iqr, minmax, ratio string) {
	switch {
	case m.Error != "":
		return "error", "", "", ""
	case m.NA != "":
		return "n/a", "", "", ""
	case m.Summary == nil:
		return "-", "", "", ""
	}
	s := m.Summary
	median = FormatNs(s.Median)
	iqr = FormatNs(s.Q1) + " .. " + FormatNs(s.Q3)
	minmax = FormatNs(s.Min) + " .. " + FormatNs(s.Max)
	if m.VsSelfPtrace != nil {
		ratio = FormatRatio(*m.VsSelfPtrace)
	}
	return
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for a terminal: per architecture the
// mechanisms, the not-armed overhead and the rig's timings.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	for i, a := range r.Arches {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s\n", a.Arch, a.describe())
		if len(a.Mechanisms) > 0 {
			a.writeMechanismsTable(&b)
		}
		a.writeWorkloadsTable(&b)
		if len(a.Mechanisms) > 0 || a.rigMeasured() {
			fmt.Fprintf(&b, "  rig timings:\n")
			tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
			for _, row := range a.Rig.Rows() {
				fmt.Fprintf(tw, "    %s\t%s\n", strings.ReplaceAll(row.Name, "`", ""), FormatSeconds(row.T))
			}
			tw.Flush()
		}
		for _, e := range a.Errors {
			fmt.Fprintf(&b, "  ERROR: %s\n", e)
		}
	}
	if r.AnyTCG() {
		fmt.Fprintf(&b, "\nNote: %s\n", EmulatorNote)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMechanismsTable writes an architecture's mechanisms and the
// not-armed overhead for a terminal.
func (a Arch) writeMechanismsTable(b *strings.Builder) {
	tw := tabwriter.NewWriter(b, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  mechanism\tmedian/call\tIQR\tmin .. max\tx self-ptrace (IQR)\tcalls/sample")
	for _, m := range a.Mechanisms {
		med, iqr, mm, ratio := m.cell()
		iters := ""
		if m.Iters > 0 {
			iters = fmt.Sprint(m.Iters)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", m.Label, med, iqr, mm, ratio, iters)
	}
	tw.Flush()
	for _, m := range a.Mechanisms {
		if m.NA != "" {
			fmt.Fprintf(b, "  %s: n/a: %s\n", m.Label, m.NA)
			if m.Summary != nil {
				fmt.Fprintf(b, "    (measured anyway: %s per call; %s)\n", FormatNs(m.Summary.Median), m.Note)
			}
		}
		if m.Error != "" {
			fmt.Fprintf(b, "  %s: ERROR: %s\n", m.Label, m.Error)
		}
	}
	if a.NotArmed != nil {
		fmt.Fprintf(b, "  not armed, patched/vanilla getpid: %s\n", a.NotArmed.describe())
	}
}

// rigMeasured tells whether any of the rig's timings was measured.
func (a Arch) rigMeasured() bool {
	for _, row := range a.Rig.Rows() {
		if row.T.Seconds != nil {
			return true
		}
	}
	return false
}

func (a Arch) describe() string {
	var parts []string
	accel := a.Accel
	if accel == "tcg" {
		accel = "TCG (emulated: compare ratios only)"
	}
	parts = append(parts, "accel "+accel)
	if a.QEMU != "" {
		parts = append(parts, a.QEMU)
	}
	if a.GuestCPUs > 0 {
		parts = append(parts, fmt.Sprintf("guest %d vCPU", a.GuestCPUs))
	}
	if a.Kernel != "" {
		parts = append(parts, "Linux "+strings.Fields(a.Kernel)[0])
	}
	if a.ClockSource != "" {
		clock := "clocksource " + a.ClockSource
		if a.ClockResNs > 1 {
			clock += " (resolution " + FormatNs(float64(a.ClockResNs)) + ")"
		}
		parts = append(parts, clock)
	}
	if a.SampleTime != "" {
		parts = append(parts, "samples >= "+a.SampleTime)
	}
	return strings.Join(parts, ", ")
}

// MarkdownOptions are the parts of the snippet that depend on where it
// goes.
type MarkdownOptions struct {
	// Chart is the chart's path as the README links it; none if empty.
	Chart string
	// WorkloadChart is the workload chart's, likewise.
	WorkloadChart string
}

// WriteMarkdown writes a snippet for the README: the mechanisms' part
// (unless only the workloads were measured), then the workloads' part (if
// they were measured).
func (r *Report) WriteMarkdown(w io.Writer, o MarkdownOptions) error {
	var b strings.Builder
	mechs := slices.ContainsFunc(r.Arches, func(a Arch) bool { return len(a.Mechanisms) > 0 })
	if mechs || !r.WorkloadsMeasured() {
		r.writeMechanismsMarkdown(&b, o)
	}
	if r.WorkloadsMeasured() {
		if mechs {
			b.WriteString("\n")
		}
		r.writeWorkloadsMarkdown(&b, o)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMechanismsMarkdown writes the machine, the chart, the table of
// mechanisms, the not-armed overhead, the rig's timings and the command
// that reproduces them.
func (r *Report) writeMechanismsMarkdown(b *strings.Builder, o MarkdownOptions) {
	b.WriteString("### Cost of an intercepted system call\n\n")
	fmt.Fprintf(b, "Measured with `%s` on %s: %s, %d CPUs", r.Command, r.Generated.Format("2006-01-02"), r.Host.CPUModel, r.Host.NProc)
	if r.Host.Kernel != "" {
		fmt.Fprintf(b, ", host Linux %s", r.Host.Kernel)
	}
	b.WriteString(". ")
	for i, a := range r.Arches {
		if i > 0 {
			b.WriteString("; ")
		} else {
			b.WriteString("Guests: ")
		}
		fmt.Fprintf(b, "%s %s", a.Arch, a.describe())
	}
	b.WriteString(".\n")
	fmt.Fprintf(b, "Method: %s. The mechanisms take turns, one sample each per round: %d warm-up round(s), then %d rounds; "+
		"a sample lasts at least %s (longer where the guest clock is coarse) and is timed with %s. "+
		"The table gives the median and the interquartile range per call, and the cost over self-ptrace: "+
		"the median of the ratios of the samples taken in the same round, in brackets their interquartile range.\n\n",
		r.Method.Call, r.Method.Warmup, r.Method.Samples, r.Method.SampleTime, r.Method.Clock)
	if r.AnyTCG() {
		fmt.Fprintf(b, "> **TCG.** %s\n\n", EmulatorNote)
	}
	if o.Chart != "" {
		fmt.Fprintf(b, "![Cost per getpid of each mechanism, per architecture](%s)\n\n", o.Chart)
	}
	// One column pair per architecture.
	b.WriteString("| mechanism | what the interception does |")
	sep := "| --- | --- |"
	for _, a := range r.Arches {
		fmt.Fprintf(b, " %s per call, median (IQR) | %s × self-ptrace |", a.Arch, a.Arch)
		sep += " ---: | ---: |"
	}
	b.WriteString("\n" + sep + "\n")
	for _, info := range Mechanisms() {
		var row []string
		present := false
		for _, a := range r.Arches {
			m := a.Mechanism(info.Name)
			if m == nil {
				row = append(row, "", "")
				continue
			}
			present = true
			med, _, _, ratio := m.cell()
			if m.Summary != nil && m.Measured() {
				med = fmt.Sprintf("%s (%s–%s)", FormatNs(m.Summary.Median), FormatNs(m.Summary.Q1), FormatNs(m.Summary.Q3))
			}
			if m.NA != "" {
				med = "n/a (below)"
			}
			row = append(row, med, ratio)
		}
		if present {
			fmt.Fprintf(b, "| %s | %s | %s |\n", info.Label, info.How, strings.Join(row, " | "))
		}
	}
	b.WriteString("\n")
	for _, a := range r.Arches {
		for _, m := range a.Mechanisms {
			if m.NA != "" {
				fmt.Fprintf(b, "n/a on %s, %s: %s.", a.Arch, m.Label, m.NA)
				if m.Summary != nil {
					fmt.Fprintf(b, " Measured anyway: %s per call (%s).", FormatNs(m.Summary.Median), m.Note)
				}
				b.WriteString("\n")
			}
		}
	}
	var over []string
	for _, a := range r.Arches {
		if a.NotArmed != nil {
			over = append(over, a.Arch+" "+a.NotArmed.describe())
		}
	}
	if len(over) > 0 {
		fmt.Fprintf(b, "\nCost of the series for threads that are not armed: getpid on the patched kernel over getpid on the vanilla kernel, "+
			"alternate boots of the same image, each boot's median: %s. "+
			"Under TCG on a shared host, boots differ by several per cent: only a range that excludes 1 would mean something.\n",
			strings.Join(over, "; "))
	}
	b.WriteString("\n#### The rig's own speed\n\n| step | what is timed |")
	sep = "| --- | --- |"
	for _, a := range r.Arches {
		fmt.Fprintf(b, " %s |", a.Arch)
		sep += " ---: |"
	}
	b.WriteString("\n" + sep + "\n")
	if len(r.Arches) > 0 {
		for i, row := range r.Arches[0].Rig.Rows() {
			fmt.Fprintf(b, "| %s | %s |", row.Name, row.What)
			for _, a := range r.Arches {
				t := a.Rig.Rows()[i].T
				cell := t.Note
				if t.Seconds != nil {
					cell = fmt.Sprintf("%.1f s", *t.Seconds)
				}
				if cell == "" {
					cell = "-"
				}
				fmt.Fprintf(b, " %s |", cell)
			}
			b.WriteString("\n")
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "\n%s\n", n)
	}
	fmt.Fprintf(b, "\nReproduce: `%s`", r.Command)
	if !strings.Contains(r.Command, "--cold") {
		b.WriteString(" (add `--cold` to time a kernel build from scratch in a temporary cache)")
	}
	b.WriteString(". ")
	b.WriteString("The rig's hot loops have Go benchmarks of their own: `go test -run '^$' -bench . ./vm ./ktap` " +
		"(console scanning, `BenchmarkDetector`, and KTAP parsing, `BenchmarkParse`).\n")
}
