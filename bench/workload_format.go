package bench

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
)

// workloadTitle names a workload with its size: "dd bs=1 count=30000".
func workloadTitle(name string, size int) string {
	return strings.Replace(WorkloadInfoOf(name).Label, "N", strconv.Itoa(size), 1)
}

// cells returns what the tables show for a result: the median and its
// IQR, the ratios (or why there are none).
func (w WorkloadResult) cells() (median, iqr, native, strace string) {
	switch {
	case w.Error != "":
		return "error", "", "", ""
	case w.NA != "":
		return "n/a", "", "", ""
	case w.Summary == nil:
		return "-", "", "", ""
	}
	s := w.Summary
	median = formatSeconds(s.Median)
	iqr = formatSeconds(s.Q1) + " .. " + formatSeconds(s.Q3)
	if w.Config == benchfmt.ConfigNative {
		native = "(reference)"
	} else if w.VsNative != nil {
		native = FormatRatio(*w.VsNative)
	}
	if w.Config == w.StraceRef {
		strace = "(reference)"
	} else if w.VsStrace != nil {
		strace = FormatRatio(*w.VsStrace)
	}
	return
}

// writeWorkloadsTable writes an architecture's workloads for a terminal.
func (a Arch) writeWorkloadsTable(b *strings.Builder) {
	s := a.Workloads
	if s == nil {
		return
	}
	fmt.Fprintf(b, "  selftrace workloads (%s):\n", s.describe())
	tw := tabwriter.NewWriter(b, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "    workload\tconfiguration\tmedian\tIQR\tx native (IQR)\tx strace (IQR)\tcalls/run\tover native per call")
	for _, r := range s.Results {
		med, iqr, nat, str := r.cells()
		calls := ""
		if r.Syscalls > 0 {
			calls = strconv.Itoa(r.Syscalls)
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", workloadTitle(r.Workload, r.Size), r.Label, med, iqr, nat, str,
			calls, formatOverhead(r.OverheadPerCallNs))
	}
	tw.Flush()
	for _, r := range s.Results {
		if r.NA != "" {
			fmt.Fprintf(b, "    %s, %s: n/a: %s\n", r.Workload, r.Label, r.NA)
		}
		if r.Error != "" {
			fmt.Fprintf(b, "    %s, %s: ERROR: %s\n", r.Workload, r.Label, r.Error)
		}
	}
}

func (s *WorkloadSet) describe() string {
	var parts []string
	if s.GuestCPUs > 0 {
		parts = append(parts, fmt.Sprintf("guest %d vCPU", s.GuestCPUs))
	}
	if s.Kernel != "" {
		parts = append(parts, "Linux "+strings.Fields(s.Kernel)[0])
	}
	if !s.SelfPtrace {
		parts = append(parts, "no self-ptrace")
	}
	if s.Debian != "" {
		parts = append(parts, "Debian "+s.Debian)
	}
	if s.Strace != "" {
		parts = append(parts, s.Strace)
	}
	return strings.Join(parts, ", ")
}

// writeWorkloadsMarkdown writes the workload benchmark's part of the
// README snippet.
func (r *Report) writeWorkloadsMarkdown(b *strings.Builder, o MarkdownOptions) {
	b.WriteString("### selftrace on real programs\n\n")
	fmt.Fprintf(b, "Measured with `%s` on %s: %s, %d CPUs", r.Command, r.Generated.Format("2006-01-02"), r.Host.CPUModel, r.Host.NProc)
	if r.Host.Kernel != "" {
		fmt.Fprintf(b, ", host Linux %s", r.Host.Kernel)
	}
	b.WriteString(". ")
	first := true
	for _, a := range r.Arches {
		if a.Workloads == nil {
			continue
		}
		if first {
			b.WriteString("Guests: ")
		} else {
			b.WriteString("; ")
		}
		first = false
		accel := a.Accel
		if accel == "tcg" {
			accel = "TCG"
		}
		fmt.Fprintf(b, "%s %s", a.Arch, accel)
		if a.QEMU != "" {
			fmt.Fprintf(b, ", %s", a.QEMU)
		}
		if d := a.Workloads.describe(); d != "" {
			fmt.Fprintf(b, ", %s", d)
		}
	}
	b.WriteString(".\n")
	if m := r.WorkloadMethod; m != nil {
		fmt.Fprintf(b, "Method: the workloads (%s) run chrooted into the Debian userland, natively and under each configuration; "+
			"%d warm-up round(s), then %d rounds in which the configurations take turns, the first one rotating; "+
			"a sample is the %s. ", m.Workloads, m.Warmup, m.Samples, m.Timing)
	}
	f := benchfmt.FilterCall
	fmt.Fprintf(b, "Every run's output is checked (dd's record and byte counts, sqlite3's final count, the archive's listing), "+
		"and each configuration first makes one run with its trace in a file, which must hold the workload's calls "+
		"(filtered: %s and nothing else); a configuration that fails produces no number. The traces go to /dev/null. "+
		"× native and × strace are the medians of the ratios of the runs of the same round, in brackets their interquartile range; "+
		"× strace compares with `strace -f`, and the two filtered configurations with `strace -f --seccomp-bpf -e trace=%s`. "+
		"*Over native per call* is the median of the per-round differences to the native run, divided by the workload's system calls "+
		"(strace -f -c of a native run).\n\n", f, f)
	if r.AnyTCG() {
		b.WriteString("> **TCG.** The guests are emulated: a run's time is the emulator's, and only the ratios between " +
			"configurations measured in the same guest run mean something. Even they are skewed: TCG makes kernel entry, " +
			"signal delivery and context switches cost what they do not cost on hardware, and the share of the program's own " +
			"computation differs from a real CPU's.\n\n")
	}
	if o.WorkloadChart != "" {
		fmt.Fprintf(b, "![Time of each workload under each tracer over its native time, per architecture](%s)\n\n", o.WorkloadChart)
	}
	b.WriteString("| configuration | how the calls are intercepted |\n| --- | --- |\n")
	for _, c := range ConfigInfos() {
		fmt.Fprintf(b, "| `%s` | %s |\n", c.Label, c.How)
	}
	b.WriteString("\n")
	for _, a := range r.Arches {
		s := a.Workloads
		if s == nil {
			continue
		}
		fmt.Fprintf(b, "#### %s\n\n", a.Arch)
		b.WriteString("| workload | configuration | time per run, median (IQR) | × native | × strace | over native per call |\n")
		b.WriteString("| --- | --- | ---: | ---: | ---: | ---: |\n")
		last := ""
		for _, w := range s.Results {
			title := ""
			if w.Workload+strconv.Itoa(w.Size) != last {
				last = w.Workload + strconv.Itoa(w.Size)
				title = "`" + workloadTitle(w.Workload, w.Size) + "`"
				if w.Syscalls > 0 {
					title += fmt.Sprintf(" (%d calls per run)", w.Syscalls)
				}
			}
			med, _, nat, str := w.cells()
			if w.Measured() {
				med = fmt.Sprintf("%s (%s–%s)", formatSeconds(w.Summary.Median), formatSeconds(w.Summary.Q1), formatSeconds(w.Summary.Q3))
			}
			if w.NA != "" {
				med = "n/a (below)"
			}
			if w.Error != "" {
				med = "error (below)"
			}
			fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s |\n", title, w.Label, med, nat, str, formatOverhead(w.OverheadPerCallNs))
		}
		b.WriteString("\n")
		seen := map[string]bool{}
		for _, w := range s.Results {
			if w.NA != "" && !seen[w.Config] {
				seen[w.Config] = true
				fmt.Fprintf(b, "n/a on %s, `%s`: %s\n", a.Arch, w.Label, w.NA)
			}
		}
		for _, w := range s.Results {
			if w.Error != "" {
				fmt.Fprintf(b, "Error on %s, %s under `%s`: %s\n", a.Arch, w.Workload, w.Label, w.Error)
			}
		}
		if len(seen) > 0 {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(b, "Reproduce: `%s`.\n", r.Command)
}
