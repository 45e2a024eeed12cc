package bench_test

// setResult writes the result of the call a PTRACE_SYSEMU tracer emulates:
// a0, word 10 of the NT_PRSTATUS regset (struct user_regs_struct: pc, then
// x1..x31).
func setResult(tid int, v uint64) error { return setRegsetWord(tid, ntPrstatus, 32*8, 10, v) }

// ptraceSysemu is PTRACE_SYSEMU as x86 and arm64 number it: riscv defines no
// PTRACE_SYSEMU, so the kernel answers EIO and the result is n/a.
const ptraceSysemu = 31

// emulationNA is empty: never reached (PTRACE_SYSEMU fails with EIO).
const emulationNA = ""

// hasSUD tells whether the kernel has Syscall User Dispatch on this arch.
const hasSUD = true
