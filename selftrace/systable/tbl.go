package systable

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tblEntry is one system call of the architecture's table.
type tblEntry struct {
	nr    int
	name  string // the name user space knows (strace prints)
	entry string // the kernel entry point; "" or sys_ni_syscall: none
}

// readTable reads a syscall.tbl file: "<nr> <abi> <name> [<entry> ...]"
// lines. Only the abis in abis are kept; the entry point is the column
// entryCol (0-based; 3 is the native entry). A "-" entry is none.
func readTable(path string, abis map[string]bool, entryCol int) ([]tblEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading syscall table: %w", err)
	}
	var out []tblEntry
	seen := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: too few fields", path, ln)
		}
		if !abis[f[1]] {
			continue
		}
		nr, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: bad number: %w", path, ln, err)
		}
		e := tblEntry{nr: nr, name: f[2]}
		if len(f) > entryCol && f[entryCol] != "-" {
			e.entry = f[entryCol]
		}
		if prev, ok := seen[nr]; ok {
			return nil, fmt.Errorf("%s:%d: number %d is both %s and %s for abis %v", path, ln, nr, prev, e.name, abiList(abis))
		}
		seen[nr] = e.name
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading syscall table: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no system calls for abis %v", path, abiList(abis))
	}
	return out, nil
}

func abiList(abis map[string]bool) []string {
	var l []string
	for a := range abis {
		l = append(l, a)
	}
	return l
}

// genericTable reads the table of an architecture that uses the generic
// system call numbers (scripts/syscall.tbl): like scripts/Makefile.asm-headers,
// the abis are common, 64 and those arch/<karch>/kernel/Makefile.syscalls
// adds to syscall_abis_64, and that Makefile may name another table file
// (syscalltbl, with % standing for 64).
func genericTable(src, karch string) ([]tblEntry, error) {
	abis := map[string]bool{"common": true, "64": true}
	table := filepath.Join(src, "scripts/syscall.tbl")
	mk := filepath.Join(src, "arch", karch, "kernel/Makefile.syscalls")
	data, err := os.ReadFile(mk)
	if err != nil {
		return nil, fmt.Errorf("reading system call abis: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		var op string
		for _, o := range []string{"+=", ":=", "?=", "="} {
			if strings.Contains(line, o) {
				op = o
				break
			}
		}
		if op == "" {
			continue
		}
		k, v, _ := strings.Cut(line, op)
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "syscall_abis_64":
			if op != "+=" {
				abis = map[string]bool{}
			}
			for _, a := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
				abis[a] = true
			}
		case "syscalltbl":
			v = strings.ReplaceAll(v, "$(srctree)/", "")
			v = strings.ReplaceAll(v, "%", "64")
			table = filepath.Join(src, v)
		}
	}
	return readTable(table, abis, 3)
}
