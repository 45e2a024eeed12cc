package bench_test

import "golang.org/x/sys/unix"

// setResult writes the result of the call a PTRACE_SYSEMU tracer emulates:
// x0, word 0 of the NT_PRSTATUS regset (struct user_pt_regs: regs[31], sp,
// pc, pstate); arm64 has no PTRACE_POKEUSR.
func setResult(tid int, v uint64) error { return setRegsetWord(tid, ntPrstatus, 34*8, 0, v) }

// ptraceSysemu is PTRACE_SYSEMU (arm64 has it since Linux 5.3).
const ptraceSysemu = unix.PTRACE_SYSEMU

// emulationNA is empty: el0_svc_common() skips the call after the entry
// stop and keeps the x0 that the tracer wrote.
const emulationNA = ""

// hasSUD: arm64 has no Syscall User Dispatch in Linux 6.12.
const hasSUD = false
