package systable

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// kconfigSymbols returns the Kconfig symbols (without CONFIG_) that are
// certainly set for the architecture: the roots, and, transitively, what
// the config blocks of arch/<karch>/Kconfig of set symbols select, either
// unconditionally or under a condition (symbols joined by !, &&, || and
// parentheses) that holds on the symbols found so far.
func kconfigSymbols(src, karch string, roots []string) (map[string]bool, error) {
	path := filepath.Join(src, "arch", karch, "Kconfig")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading arch Kconfig: %w", err)
	}
	type sel struct{ sym, cond string }
	selects := map[string][]sel{}
	block := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			// A top-level keyword ends the current block.
			block = ""
			if (f[0] == "config" || f[0] == "menuconfig") && len(f) > 1 {
				block = f[1]
			}
			continue
		}
		if block == "" || f[0] != "select" || len(f) < 2 {
			continue
		}
		s := sel{sym: f[1]}
		if len(f) > 3 && f[2] == "if" {
			s.cond = strings.Join(f[3:], " ")
		}
		selects[block] = append(selects[block], s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading arch Kconfig: %w", err)
	}
	set := map[string]bool{}
	for _, r := range roots {
		set[r] = true
	}
	for changed := true; changed; {
		changed = false
		m := macros{}
		for s := range set {
			m[s] = "1"
		}
		for b := range set {
			for _, s := range selects[b] {
				if set[s.sym] {
					continue
				}
				if s.cond != "" {
					v, err := evalExpr(s.cond, m)
					if err != nil || v == 0 {
						// Conditions this evaluator cannot read
						// (comparisons) count as unset.
						continue
					}
				}
				set[s.sym] = true
				changed = true
			}
		}
	}
	return set, nil
}
