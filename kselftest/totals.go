package kselftest

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Totals are the counts a kselftest program prints at its end
// (kselftest.h, ksft_print_cnts):
//
//	# Totals: pass:89 fail:3 xfail:0 xpass:0 skip:7 error:0
type Totals struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	XFail int `json:"xfail"`
	XPass int `json:"xpass"`
	Skip  int `json:"skip"`
	Error int `json:"error"`
}

func (t Totals) String() string {
	return fmt.Sprintf("pass:%d fail:%d xfail:%d xpass:%d skip:%d error:%d", t.Pass, t.Fail, t.XFail, t.XPass, t.Skip, t.Error)
}

// totalsPrefix starts the line; the kselftest runner may indent a
// program's output, so leading space is allowed.
const totalsPrefix = "# Totals: "

// ParseTotals returns the counts of the last "# Totals:" line of a
// program's output; ok is false if there is none (the program died before
// printing it, or does not use kselftest.h, like ptrace/peeksiginfo).
// Console noise such as "\r" is tolerated; a malformed Totals line is an
// error.
func ParseTotals(output string) (t Totals, ok bool, err error) {
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, totalsPrefix) {
			continue
		}
		got, err := parseTotalsLine(strings.TrimPrefix(line, totalsPrefix))
		if err != nil {
			return Totals{}, false, fmt.Errorf("%w in %q", err, line)
		}
		t, ok = got, true
	}
	if err := sc.Err(); err != nil {
		return Totals{}, false, err
	}
	return t, ok, nil
}

func parseTotalsLine(s string) (Totals, error) {
	var t Totals
	fields := map[string]*int{"pass": &t.Pass, "fail": &t.Fail, "xfail": &t.XFail, "xpass": &t.XPass, "skip": &t.Skip, "error": &t.Error}
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, ":")
		p, known := fields[k]
		if !ok || !known {
			return Totals{}, fmt.Errorf("unknown field %q", f)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Totals{}, fmt.Errorf("bad count %q", f)
		}
		*p = n
		seen[k] = true
	}
	if len(seen) != len(fields) {
		return Totals{}, fmt.Errorf("incomplete Totals line")
	}
	return t, nil
}
