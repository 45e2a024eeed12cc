package systable

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// archSpec says where an architecture's facts are in the tree.
type archSpec struct {
	karch  string   // the directory under arch/
	roots  []string // Kconfig symbols set by definition
	predef macros   // what the compiler predefines (uapi headers test these)
	table  func(src string) ([]tblEntry, error)
}

func lookupArch(arch string) (archSpec, error) {
	lp64 := func(extra ...string) macros {
		m := macros{"__LP64__": "1", "_LP64": "1", "__CHAR_BIT__": "8", "__SIZEOF_LONG__": "8", "__linux__": "1"}
		for _, e := range extra {
			k, v, _ := strings.Cut(e, "=")
			if v == "" {
				v = "1"
			}
			m[k] = v
		}
		return m
	}
	switch arch {
	case "x86_64":
		return archSpec{
			karch:  "x86",
			roots:  []string{"X86", "X86_64", "64BIT", "MMU"},
			predef: lp64("__x86_64__", "__x86_64", "__amd64__"),
			table: func(src string) ([]tblEntry, error) {
				return readTable(filepath.Join(src, "arch/x86/entry/syscalls/syscall_64.tbl"),
					map[string]bool{"common": true, "64": true}, 3)
			},
		}, nil
	case "s390x":
		return archSpec{
			karch:  "s390",
			roots:  []string{"S390", "64BIT", "MMU"},
			predef: lp64("__s390__", "__s390x__"),
			table: func(src string) ([]tblEntry, error) {
				return readTable(filepath.Join(src, "arch/s390/kernel/syscalls/syscall.tbl"),
					map[string]bool{"common": true, "64": true}, 3)
			},
		}, nil
	case "arm64":
		return archSpec{
			karch:  "arm64",
			roots:  []string{"ARM64", "64BIT", "MMU"},
			predef: lp64("__aarch64__"),
			table:  func(src string) ([]tblEntry, error) { return genericTable(src, "arm64") },
		}, nil
	case "riscv64":
		return archSpec{
			karch:  "riscv",
			roots:  []string{"RISCV", "64BIT", "ARCH_RV64I", "MMU"},
			predef: lp64("__riscv", "__riscv_xlen=64"),
			table:  func(src string) ([]tblEntry, error) { return genericTable(src, "riscv") },
		}, nil
	}
	return archSpec{}, fmt.Errorf("systable: unknown architecture %q (want x86_64, s390x, arm64 or riscv64)", arch)
}

// sysent is one row of the generated table.
type sysent struct {
	nr     int
	name   string
	raw    bool // no declaration found or not implemented: 6 raw args
	reason string
	args   []argKind
	ret    retKind
	def    sysDef
}

// flagEnt is one open(2) flag.
type flagEnt struct {
	name string
	val  int64
}

// table is everything generated for one architecture.
type table struct {
	arch, version string
	sys           []sysent // by number, sorted
	errnos        map[int64][2]string
	signals       map[int64]string
	socketcalls   map[int64]string
	oflags        []flagEnt
	atFDCWD       int64
	unknownTypes  []string
}

// Generate writes the C header for arch (one of "x86_64", "s390x", "arm64", "riscv64") from the kernel tree at src.
func Generate(src, arch string, w io.Writer) error {
	t, err := build(src, arch)
	if err != nil {
		return err
	}
	if err := t.write(w, filepath.Base(filepath.Clean(src))); err != nil {
		return fmt.Errorf("systable: writing header: %w", err)
	}
	return nil
}

func build(src, arch string) (*table, error) {
	spec, err := lookupArch(arch)
	if err != nil {
		return nil, err
	}
	t := &table{arch: arch}
	if t.version, err = kernelVersion(src); err != nil {
		return nil, fmt.Errorf("systable: %w", err)
	}
	entries, err := spec.table(src)
	if err != nil {
		return nil, fmt.Errorf("systable: %s: %w", arch, err)
	}
	m, err := archMacros(src, spec)
	if err != nil {
		return nil, fmt.Errorf("systable: %s: %w", arch, err)
	}
	defs, err := scanDefinitions(src, spec.karch)
	if err != nil {
		return nil, fmt.Errorf("systable: %s: %w", arch, err)
	}
	protos, err := scanPrototypes(src)
	if err != nil {
		return nil, fmt.Errorf("systable: %s: %w", arch, err)
	}
	unknown := map[string]bool{}
	for _, e := range entries {
		s := sysent{nr: e.nr, name: e.name, ret: returnKind(e.name, e.entry)}
		fn := strings.TrimPrefix(e.entry, "sys_")
		switch {
		case e.entry == "" || e.entry == "sys_ni_syscall":
			s.raw, s.reason = true, "not implemented (sys_ni_syscall)"
		case len(defs[fn]) > 0:
			s.def, err = pickDef(defs[fn], m)
		case len(protos[fn]) > 0:
			s.def, err = pickDef(protos[fn], m)
		default:
			s.raw, s.reason = true, "no SYSCALL_DEFINE or prototype for "+e.entry
		}
		if err != nil {
			return nil, fmt.Errorf("systable: %s: %w", arch, err)
		}
		if !s.raw {
			if len(s.def.params) > 6 {
				return nil, fmt.Errorf("systable: %s: %s has %d parameters", arch, e.entry, len(s.def.params))
			}
			s.args = classify(e.name, s.def.params, unknown)
		}
		t.sys = append(t.sys, s)
	}
	sort.Slice(t.sys, func(i, j int) bool { return t.sys[i].nr < t.sys[j].nr })
	for k := range unknown {
		t.unknownTypes = append(t.unknownTypes, k)
	}
	sort.Strings(t.unknownTypes)

	if err := t.readHeaders(src, spec); err != nil {
		return nil, fmt.Errorf("systable: %s: %w", arch, err)
	}
	return t, nil
}

// archMacros is the macro set the preprocessor conditions of the kernel's
// C files are evaluated on (to choose between definitions that differ):
// CONFIG_x for the Kconfig symbols the architecture certainly sets, and
// what arch/<karch>/include/asm/unistd.h defines (the __ARCH_WANT_*).
func archMacros(src string, spec archSpec) (macros, error) {
	syms, err := kconfigSymbols(src, spec.karch, spec.roots)
	if err != nil {
		return nil, err
	}
	pre := macros{"__KERNEL__": "1"}
	for k, v := range spec.predef {
		pre[k] = v
	}
	for s := range syms {
		pre["CONFIG_"+s] = "1"
	}
	u := newUAPI(src, spec.karch, pre)
	rel := filepath.Join("arch", spec.karch, "include/asm/unistd.h")
	if fileExists(filepath.Join(src, rel)) {
		// Only this file: its includes are generated or uapi.
		u.done = map[string]bool{}
		if err := u.includeOnly(rel); err != nil {
			return nil, err
		}
	}
	return u.m, nil
}
