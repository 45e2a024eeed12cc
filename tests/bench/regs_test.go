package bench_test

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// ntPrstatus is NT_PRSTATUS, the general purpose register set.
const ntPrstatus = 1

// pokeUser writes v at offset off of the stopped thread's struct user
// (x86_64 and s390x; arm64 and riscv64 have no PTRACE_POKEUSR).
func pokeUser(tid int, off uintptr, v uint64) error {
	if _, e := sp.Ptrace(unix.PTRACE_POKEUSR, uintptr(tid), off, uintptr(v)); e != 0 {
		return fmt.Errorf("PTRACE_POKEUSR at %d: %s", off, sp.ErrnoName(e))
	}
	return nil
}

// setRegsetWord reads register set note of the stopped thread (size bytes),
// replaces its 64-bit word i with v and writes it back.
func setRegsetWord(tid int, note uintptr, size, i int, v uint64) error {
	b := make([]uint64, size/8)
	iov := unix.Iovec{Base: (*byte)(unsafe.Pointer(&b[0]))}
	iov.SetLen(size)
	if _, e := sp.Ptrace(unix.PTRACE_GETREGSET, uintptr(tid), note, uintptr(unsafe.Pointer(&iov))); e != 0 {
		return fmt.Errorf("PTRACE_GETREGSET %#x: %s", note, sp.ErrnoName(e))
	}
	b[i] = v
	if _, e := sp.Ptrace(unix.PTRACE_SETREGSET, uintptr(tid), note, uintptr(unsafe.Pointer(&iov))); e != 0 {
		return fmt.Errorf("PTRACE_SETREGSET %#x: %s", note, sp.ErrnoName(e))
	}
	return nil
}
