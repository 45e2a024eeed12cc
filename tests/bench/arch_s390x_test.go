package bench_test

import "golang.org/x/sys/unix"

// setResult writes the result of the call a PTRACE_SYSEMU tracer emulates:
// gprs[2] (offsetof(struct user, regs.gprs[2]), the psw is 16 bytes), the
// result register, which the tracer writes as on x86_64.
func setResult(tid int, v uint64) error { return pokeUser(tid, 16+2*8, v) }

// ptraceSysemu is PTRACE_SYSEMU.
const ptraceSysemu = unix.PTRACE_SYSEMU

// hasSUD tells whether the kernel has Syscall User Dispatch on this arch.
const hasSUD = true

// emulationNA says why s390x has no working PTRACE_SYSEMU emulation, in
// case the tracee sees another result than the one the tracer wrote: Linux
// 6.12 defines PTRACE_SYSEMU for s390 and the generic entry code stops and
// skips the call, but at the entry stop gpr2 is the system call number in
// the s390 ptrace ABI (__poke_user rewrites int_code when it is written),
// and do_syscall() stores -ENOSYS in gpr2 for the skipped call, since only
// syscall_set_return_value() sets PIF_SYSCALL_RET_SET.
const emulationNA = "PTRACE_SYSEMU stops and skips the call, but the tracer cannot set its result " +
	"(at the entry stop gpr2 is the syscall number; do_syscall() stores -ENOSYS for a skipped call)"
