package selfptrace_test

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// creationCall is a named system call that creates a task or replaces the
// program.
type creationCall struct {
	name string
	op   sp.Op
}

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

// getRegset reads register set note of the stopped thread into b, which
// must be its exact size.
func getRegset(tid int, note uintptr, b []byte) error {
	iov := unix.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	if _, e := sp.Ptrace(unix.PTRACE_GETREGSET, uintptr(tid), note, uintptr(unsafe.Pointer(&iov))); e != 0 {
		return fmt.Errorf("PTRACE_GETREGSET %#x: %s", note, sp.ErrnoName(e))
	}
	if int(iov.Len) != len(b) {
		return fmt.Errorf("PTRACE_GETREGSET %#x: %d bytes, want %d", note, iov.Len, len(b))
	}
	return nil
}

// setRegset writes register set note of the stopped thread from b.
func setRegset(tid int, note uintptr, b []byte) error {
	iov := unix.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	if _, e := sp.Ptrace(unix.PTRACE_SETREGSET, uintptr(tid), note, uintptr(unsafe.Pointer(&iov))); e != 0 {
		return fmt.Errorf("PTRACE_SETREGSET %#x: %s", note, sp.ErrnoName(e))
	}
	return nil
}
