// SPDX-License-Identifier: GPL-2.0
/*
 * Self ptrace in a 32-bit (RV32, compat) task on a riscv64 kernel.
 *
 * A freestanding static RV32 program (Debian has no 32-bit riscv libc:
 * every system call goes through one "ecall" in do_sys, so si_call_addr
 * is known exactly). Built by go generate in tests/selfptrace (see
 * compat_riscv64_test.go):
 *
 *   riscv64-linux-gnu-gcc -march=rv32imac -mabi=ilp32 -static -nostdlib \
 *     -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 \
 *     -Wl,--no-relax -o rv32-selfptrace rv32_selfptrace.c
 *
 * The checks are compat.h's: si_arch AUDIT_ARCH_RISCV32, the arguments in
 * a0..a5 (a0 is also the return register), a7 the number, the pc after the
 * ecall. The compat numbers are the native ones, riscv has no sigreturn
 * system call and no sa_restorer: handlers return through the compat vDSO.
 * It prints "rv32: ok" and exits 0, or prints FAIL lines and exits 1.
 */

#define NAME		"rv32"
#define NR_write	64
#define NR_getpid	172
#define NR_ptrace	117
#define NR_sigreturn	(-1)
#define NR_rt_sigreturn	139
#define NR_rt_sigaction	134
#define NR_exit_group	94
#define AUDIT_ARCH	0x400000f3u	/* AUDIT_ARCH_RISCV32: EM_RISCV, little endian */
#define PC_AFTER_CALL	((u32)sys_after)
#define NR_REG		1
#define HAS_SA_RESTORER	0

#include "compat.h"

/*
 * The kernel's struct compat_ucontext (arch/riscv/kernel/compat_signal.c)
 * is laid out by the 64-bit kernel: uc_link is a 64-bit pointer and
 * uc_sigmask a 64-bit sigset_t.
 */
struct ucontext_rv32 {
	u32 uc_flags;
	unsigned long long uc_link;
	struct stack32 uc_stack;
	unsigned long long uc_sigmask;
	unsigned char unused[128 - 8];
	/* struct compat_user_regs_struct: pc, ra, sp, gp, tp, t0..t2, s0, s1, a0..a7, ... */
	u32 regs[32];
};

#define REG_PC	0
#define REG_A0	10
#define REG_A7	17

_Static_assert(__builtin_offsetof(struct ucontext_rv32, regs) == 160,
	       "compat_ucontext.uc_mcontext");

/*
 * do_sys(nr, a..f): nr in a7, the arguments in a0..a5; sys_after is the
 * address just after the ecall.
 */
__asm__(".text\n"
	".globl do_sys\n"
	"do_sys:\n"
	"	mv	t0, a0\n"
	"	mv	a0, a1\n"
	"	mv	a1, a2\n"
	"	mv	a2, a3\n"
	"	mv	a3, a4\n"
	"	mv	a4, a5\n"
	"	mv	a5, a6\n"
	"	mv	a7, t0\n"
	"	ecall\n"
	".globl sys_after\n"
	"sys_after:\n"
	"	ret\n");

/* SA_SIGINFO handler: returns through the vDSO's rt_sigreturn. */
static void handler_rt(int sig, void *si, struct ucontext_rv32 *uc)
{
	int i;

	for (i = 0; i < 6; i++)
		regs[i] = uc->regs[REG_A0 + i];
	regs[6] = uc->regs[REG_PC];
	regs[7] = uc->regs[REG_A7];
	uc->regs[REG_A0] = sigsys(si);
}

void __attribute__((noreturn, used)) start_c(void)
{
	run_all(handler_rt, 0, 0, 0);
	for (;;)
		;
}

/* At _start sp points at argc: align it to 16 for the C code. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	andi	sp, sp, -16\n"
	"	call	start_c\n"
	"	unimp\n");
