package bench_test

import "golang.org/x/sys/unix"

// setResult writes the result of the call a PTRACE_SYSEMU tracer emulates:
// rax (offsetof(struct user, regs.rax)).
func setResult(tid int, v uint64) error { return pokeUser(tid, 10*8, v) }

// ptraceSysemu is PTRACE_SYSEMU.
const ptraceSysemu = unix.PTRACE_SYSEMU

// emulationNA is empty: x86_64's PTRACE_SYSEMU tracer sets the result in
// rax at the entry stop.
const emulationNA = ""

// hasSUD tells whether the kernel has Syscall User Dispatch on this arch.
const hasSUD = true
