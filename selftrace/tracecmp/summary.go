package tracecmp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Count is one row of a `-c` table.
type Count struct{ Calls, Errors int }

// ParseSummary parses a strace `-c` table (selftrace -c prints the same):
//
//	% time     seconds  usecs/call     calls    errors syscall
//	------ ----------- ----------- --------- --------- ----------------
//	 41.77    0.003648        1216         3           futex
//	  0.24    0.000021          21         1         1 access
//	------ ----------- ----------- --------- --------- ----------------
//	100.00    0.008734          28       303         1 total
//
// The columns are found by the header's names (calls, errors, syscall);
// an empty errors cell is 0; the total row is left out. Lines before the
// header (a trace, notices) are skipped.
func ParseSummary(text string) (map[string]Count, error) {
	lines := strings.Split(text, "\n")
	h := -1
	var cols []string
	for i, l := range lines {
		f := strings.Fields(strings.Replace(l, "% time", "%time", 1))
		if slices.Contains(f, "calls") && slices.Contains(f, "syscall") {
			h, cols = i, f
			break
		}
	}
	if h < 0 {
		return nil, fmt.Errorf("no -c table header (a line naming the calls and syscall columns)")
	}
	callsCol, errorsCol := slices.Index(cols, "calls"), slices.Index(cols, "errors")
	if slices.Index(cols, "syscall") != len(cols)-1 {
		return nil, fmt.Errorf("line %d: the syscall column is not the last: %q", h+1, lines[h])
	}
	out := map[string]Count{}
	for i := h + 1; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.Trim(l, "- ") == "" {
			continue
		}
		f := strings.Fields(l)
		name := f[len(f)-1]
		if name == "total" {
			break
		}
		var c Count
		var err error
		switch len(f) {
		case len(cols):
			c.Calls, err = strconv.Atoi(f[callsCol])
			if err == nil && errorsCol >= 0 {
				c.Errors, err = strconv.Atoi(f[errorsCol])
			}
		case len(cols) - 1:
			// The errors cell is empty (it is the second last column).
			if errorsCol != len(cols)-2 {
				return nil, fmt.Errorf("line %d: %d columns, want %d: %q", i+1, len(f), len(cols), lines[i])
			}
			c.Calls, err = strconv.Atoi(f[callsCol])
		default:
			return nil, fmt.Errorf("line %d: %d columns, want %d: %q", i+1, len(f), len(cols), lines[i])
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %v: %q", i+1, err, lines[i])
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("line %d: %s twice", i+1, name)
		}
		out[name] = c
	}
	return out, nil
}

// neverReturn are the calls strace -c leaves out of its table: they never
// return, so strace never sees them end.
var neverReturn = []string{"exit", "exit_group"}

// Summary counts the derived calls per name, as a `-c` table of the
// program's calls: every derived call, an error being a result "-1 E...";
// exit and exit_group are left out (strace -c counts a call when it
// returns, and they never do).
func (d *Derivation) Summary() map[string]Count {
	out := map[string]Count{}
	for _, pid := range d.Pids {
		for _, c := range d.Calls[pid] {
			if slices.Contains(neverReturn, c.Name) {
				continue
			}
			n := out[c.Name]
			n.Calls++
			if isErrorResult(c.Result) {
				n.Errors++
			}
			out[c.Name] = n
		}
	}
	return out
}

// CompareSummary compares a `-c` table (got) with the counts derived from
// strace's trace of the same run (want), leaving out exit and exit_group
// on both sides. It returns "" when they agree, else one line per
// difference, sorted by name.
func CompareSummary(got, want map[string]Count) string {
	var names []string
	for n := range got {
		names = append(names, n)
	}
	for n := range want {
		if _, ok := got[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		if slices.Contains(neverReturn, n) {
			continue
		}
		g, w := got[n], want[n]
		if g != w {
			fmt.Fprintf(&b, "%-20s selftrace -c: %d calls, %d errors; from strace's trace: %d calls, %d errors\n",
				n, g.Calls, g.Errors, w.Calls, w.Errors)
		}
	}
	return b.String()
}
