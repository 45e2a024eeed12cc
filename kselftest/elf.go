package kselftest

import (
	"debug/elf"
	"encoding/binary"
	"fmt"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// elfTarget is what an executable for a GOARCH looks like.
type elfTarget struct {
	Machine elf.Machine
	Class   elf.Class
	Order   binary.ByteOrder
}

// elfTargets has a row per GOARCH of the arch table; a test checks that
// every architecture has one.
var elfTargets = map[string]elfTarget{
	"amd64":   {elf.EM_X86_64, elf.ELFCLASS64, binary.LittleEndian},
	"s390x":   {elf.EM_S390, elf.ELFCLASS64, binary.BigEndian},
	"arm64":   {elf.EM_AARCH64, elf.ELFCLASS64, binary.LittleEndian},
	"riscv64": {elf.EM_RISCV, elf.ELFCLASS64, binary.LittleEndian},
}

// CheckStatic verifies that path is a statically linked executable for a:
// an ELF file of a's machine, class and byte order, with no program
// interpreter and no shared library dependencies, so that it runs in an
// initramfs that has no C library.
func CheckStatic(path string, a arch.Spec) error {
	want, ok := elfTargets[a.GOARCH]
	if !ok {
		return fmt.Errorf("no ELF machine known for GOARCH %q: add it to kselftest.elfTargets", a.GOARCH)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not an ELF file: %w", path, err)
	}
	defer f.Close()
	if f.Machine != want.Machine || f.Class != want.Class || f.ByteOrder != want.Order {
		return fmt.Errorf("%s: %v %v %v, want %v %v %v for %s", path, f.Machine, f.Class, f.ByteOrder, want.Machine, want.Class, want.Order, a.Name)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s: ELF type %v, not an executable", path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: dynamically linked (has a PT_INTERP program header)", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("%s: reading dynamic section: %w", path, err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("%s: needs shared libraries %v", path, libs)
	}
	if f.Type == elf.ET_DYN { // static-pie, or a shared library
		flags, err := f.DynValue(elf.DT_FLAGS_1)
		if err != nil || len(flags) == 0 || flags[0]&uint64(elf.DF_1_PIE) == 0 {
			return fmt.Errorf("%s: a shared object, not an executable (no DF_1_PIE)", path)
		}
	}
	return nil
}
