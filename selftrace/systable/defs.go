package systable

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// param is one system call parameter as declared in the kernel.
type param struct {
	typ  string // normalized: single spaces, "*" attached as written
	name string // "" when a prototype leaves it out
}

// condTerm is one preprocessor condition a definition is under: expr
// evaluates to non-zero if want is true, to zero otherwise.
type condTerm struct {
	expr string
	want bool
}

// sysDef is one system call definition or prototype found in the tree.
type sysDef struct {
	name   string // without the sys_ prefix
	params []param
	file   string // relative to the tree
	line   int
	cond   []condTerm
}

func (d sysDef) signature() string {
	var b strings.Builder
	for _, p := range d.params {
		b.WriteString(p.typ)
		b.WriteByte(' ')
		b.WriteString(p.name)
		b.WriteByte(',')
	}
	return b.String()
}

// defDirs are the directories (relative to the tree) searched for
// SYSCALL_DEFINEn: Linux 6.12 defines system calls in these, in drivers
// only in drivers/char (getrandom) and drivers/pci (pciconfig_*), and in
// arch/<karch>.
func defDirs(karch string) []string {
	return []string{
		"block", "crypto", "drivers/char", "drivers/pci", "fs", "init", "io_uring",
		"ipc", "kernel", "lib", "mm", "net", "security", "virt", filepath.Join("arch", karch),
	}
}

// scanDefinitions finds the SYSCALL_DEFINEn definitions of the tree that
// can be built for karch. arch/<karch>/um (User-mode Linux) is skipped.
func scanDefinitions(src, karch string) (map[string][]sysDef, error) {
	var files []string
	for _, d := range defDirs(karch) {
		root := filepath.Join(src, d)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if p == filepath.Join(src, "arch", karch, "um") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(p, ".c") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walking %s: %w", d, err)
		}
	}

	type result struct {
		defs []sysDef
		err  error
	}
	results := make([]result, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0)*2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				data, err := os.ReadFile(files[i])
				if err != nil {
					results[i].err = fmt.Errorf("reading source: %w", err)
					continue
				}
				if !bytes.Contains(data, []byte("SYSCALL_DEFINE")) {
					continue
				}
				rel, err := filepath.Rel(src, files[i])
				if err != nil {
					results[i].err = fmt.Errorf("relative path: %w", err)
					continue
				}
				results[i].defs, results[i].err = parseSource(rel, string(data), false)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

	defs := map[string][]sysDef{}
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		for _, d := range r.defs {
			defs[d.name] = append(defs[d.name], d)
		}
	}
	return defs, nil
}

// scanPrototypes reads the asmlinkage long sys_x(...) prototypes of
// include/linux/syscalls.h.
func scanPrototypes(src string) (map[string][]sysDef, error) {
	const rel = "include/linux/syscalls.h"
	data, err := os.ReadFile(filepath.Join(src, rel))
	if err != nil {
		return nil, fmt.Errorf("reading prototypes: %w", err)
	}
	list, err := parseSource(rel, string(data), true)
	if err != nil {
		return nil, err
	}
	protos := map[string][]sysDef{}
	for _, d := range list {
		protos[d.name] = append(protos[d.name], d)
	}
	return protos, nil
}

// parseSource finds the definitions (SYSCALL_DEFINEn(...)) or, with
// protos, the prototypes (asmlinkage long sys_x(...);) in a C file, with
// the preprocessor conditions each is under.
func parseSource(rel, text string, protos bool) ([]sysDef, error) {
	lines := splitC(text)
	type frame struct {
		prev []string   // expressions of the earlier branches
		cur  []condTerm // the condition of the current branch
	}
	var stack []frame
	var defs []sysDef
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if name, rest, ok := directive(l.code); ok {
			switch name {
			case "if", "ifdef", "ifndef":
				e, want := rest, true
				switch name {
				case "ifdef":
					e = "defined(" + firstIdent(rest) + ")"
				case "ifndef":
					e, want = "defined("+firstIdent(rest)+")", false
				}
				stack = append(stack, frame{prev: []string{e}, cur: []condTerm{{e, want}}})
			case "elif", "else":
				if len(stack) == 0 {
					return nil, fmt.Errorf("%s:%d: #%s without #if", rel, l.num, name)
				}
				f := &stack[len(stack)-1]
				f.cur = nil
				for _, p := range f.prev {
					f.cur = append(f.cur, condTerm{p, false})
				}
				if name == "elif" {
					f.cur = append(f.cur, condTerm{rest, true})
					f.prev = append(f.prev, rest)
				}
			case "endif":
				if len(stack) == 0 {
					return nil, fmt.Errorf("%s:%d: #endif without #if", rel, l.num)
				}
				stack = stack[:len(stack)-1]
			}
			continue
		}
		code := strings.TrimSpace(l.code)
		var rest string
		if protos {
			const p = "asmlinkage long sys_"
			if !strings.HasPrefix(code, p) {
				continue
			}
			rest = code[len(p):]
		} else {
			const p = "SYSCALL_DEFINE"
			if !strings.HasPrefix(code, p) || len(code) < len(p)+2 || code[len(p)] < '0' || code[len(p)] > '6' {
				continue
			}
			rest = strings.TrimSpace(code[len(p)+1:])
			if !strings.HasPrefix(rest, "(") {
				continue
			}
		}
		// Gather the parenthesized list, which may go on over lines.
		for j := i + 1; strings.Count(rest, "(") > strings.Count(rest, ")") && j < len(lines); j++ {
			if _, _, ok := directive(lines[j].code); ok {
				break
			}
			rest += " " + lines[j].code
		}
		if !protos {
			rest = rest[1:]
		}
		d, err := parseDecl(rest, protos)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", rel, l.num, err)
		}
		if !protos {
			n := int(code[len("SYSCALL_DEFINE")] - '0')
			if n != len(d.params) {
				return nil, fmt.Errorf("%s:%d: SYSCALL_DEFINE%d(%s) has %d parameters", rel, l.num, n, d.name, len(d.params))
			}
		}
		d.file, d.line = rel, l.num
		for _, f := range stack {
			d.cond = append(d.cond, f.cur...)
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// parseDecl parses "name, type, arg, ...)" (a definition) or
// "name(type arg, ...)" (a prototype).
func parseDecl(s string, proto bool) (sysDef, error) {
	var d sysDef
	if proto {
		i := strings.IndexByte(s, '(')
		if i < 0 {
			return d, fmt.Errorf("prototype without parameters: %q", s)
		}
		d.name = strings.TrimSpace(s[:i])
		s = s[i+1:]
	}
	parts, err := splitArgs(s)
	if err != nil {
		return d, err
	}
	if !proto {
		if len(parts) == 0 || len(parts)%2 != 1 {
			return d, fmt.Errorf("bad SYSCALL_DEFINE argument list %q", s)
		}
		d.name = parts[0]
		for k := 1; k+1 < len(parts); k += 2 {
			d.params = append(d.params, param{typ: normType(parts[k]), name: parts[k+1]})
		}
		return d, nil
	}
	if len(parts) == 1 && (parts[0] == "void" || parts[0] == "") {
		return d, nil
	}
	for _, p := range parts {
		d.params = append(d.params, splitParam(p))
	}
	return d, nil
}

// splitArgs splits a parenthesized list (its "(" already consumed) at the
// top-level commas, up to the closing parenthesis.
func splitArgs(s string) ([]string, error) {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				return parts, nil
			}
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return nil, fmt.Errorf("unterminated parameter list %q", s)
}

// isTypeWord reports the words that end a type, not name a parameter.
func isTypeWord(w string) bool {
	switch w {
	case "int", "long", "char", "short", "unsigned", "signed", "void", "const", "__user":
		return true
	}
	return false
}

// splitParam splits a prototype parameter "type name" into its type and
// name; a parameter without a name is all type.
func splitParam(p string) param {
	p = normType(p)
	i := len(p)
	for i > 0 && isIdent(p[i-1]) {
		i--
	}
	name := p[i:]
	typ := strings.TrimSpace(p[:i])
	if name == "" || typ == "" || isTypeWord(name) || typ == "struct" || strings.HasSuffix(typ, " struct") ||
		typ == "union" || strings.HasSuffix(typ, " union") {
		return param{typ: p}
	}
	return param{typ: normType(typ), name: name}
}

// normType collapses white space and removes it before "*".
func normType(t string) string {
	t = strings.Join(strings.Fields(t), " ")
	t = strings.ReplaceAll(t, " *", "*")
	t = strings.ReplaceAll(t, "*", " *")
	t = strings.ReplaceAll(t, "* ", "*")
	t = strings.ReplaceAll(t, "  ", " ")
	return strings.TrimSpace(t)
}

// condHolds evaluates a definition's conditions on the macro set m.
func condHolds(cond []condTerm, m macros) bool {
	for _, c := range cond {
		v, err := evalExpr(c.expr, m)
		if err != nil || (v != 0) != c.want {
			return false
		}
	}
	return true
}

// pickDef chooses among the definitions of one system call. Those whose
// preprocessor conditions hold for the architecture (m) are preferred, then
// files not named *_32.c, *-stubs.c or nommu.c (built for 32-bit,
// stripped-down or MMU-less kernels); definitions with
// the same parameters are equivalent (the choice only shows in the header's
// comment). If the preferred ones differ, it is an error.
func pickDef(cands []sysDef, m macros) (sysDef, error) {
	rank := func(d sysDef) int {
		r := 0
		if !condHolds(d.cond, m) {
			r += 2
		}
		if b := filepath.Base(d.file); strings.HasSuffix(b, "_32.c") || strings.HasSuffix(b, "-stubs.c") || b == "nommu.c" {
			r++
		}
		return r
	}
	sort.SliceStable(cands, func(i, j int) bool {
		ri, rj := rank(cands[i]), rank(cands[j])
		if ri != rj {
			return ri < rj
		}
		if cands[i].file != cands[j].file {
			return cands[i].file < cands[j].file
		}
		return cands[i].line < cands[j].line
	})
	if agree(cands) {
		return cands[0], nil
	}
	var kept []sysDef
	for _, d := range cands {
		if condHolds(d.cond, m) {
			kept = append(kept, d)
		}
	}
	if len(kept) > 0 && agree(kept) {
		return kept[0], nil
	}
	var where []string
	for _, d := range cands {
		where = append(where, fmt.Sprintf("%s:%d", d.file, d.line))
	}
	return sysDef{}, fmt.Errorf("sys_%s: %d differing definitions, %d of them built for this architecture: %s",
		cands[0].name, len(cands), len(kept), strings.Join(where, ", "))
}

func agree(ds []sysDef) bool {
	for _, d := range ds[1:] {
		if d.signature() != ds[0].signature() {
			return false
		}
	}
	return true
}
