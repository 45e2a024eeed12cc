// SPDX-License-Identifier: GPL-2.0
/*
 * Self ptrace in a 31-bit (compat) task on an s390x kernel.
 *
 * A freestanding static 31-bit program (no libc: Debian has no 31-bit s390
 * libc; every system call goes through one "svc 0" in do_sys, so
 * si_call_addr is known exactly). Built by go generate in tests/selfptrace
 * (see compat_s390x_test.go):
 *
 *   s390x-linux-gnu-gcc -m31 -mzarch -static -nostdlib -ffreestanding \
 *     -fno-pic -no-pie -fno-stack-protector -O2 -o s390-31-selfptrace \
 *     s390_31_selfptrace.c
 *
 * The checks are compat.h's: si_arch AUDIT_ARCH_S390, the arguments in
 * r2..r7 (r2 is also the return register), the PSW address after the svc
 * with the 31-bit addressing mode bit. The compat numbers of the exempt
 * calls are the native ones, so there are no other numbers to try.
 * It prints "s390-31: ok" and exits 0, or prints FAIL lines and exits 1.
 */

#define NAME		"s390-31"
#define NR_write	4
#define NR_getpid	20
#define NR_ptrace	26
#define NR_sigreturn	119
#define NR_rt_sigreturn	173
#define NR_rt_sigaction	174
#define NR_exit_group	248
#define AUDIT_ARCH	0x16u		/* AUDIT_ARCH_S390: EM_S390, 32-bit, big endian */
#define PC_AFTER_CALL	((u32)sys_after | 0x80000000u)	/* PSW32_ADDR_AMODE */
#define NR_REG		0		/* the number is in r1 or the svc */

#define HAS_SA_RESTORER	1

#include "compat.h"

/*
 * The kernel's 31-bit signal frame types (arch/s390/kernel/compat_linux.h),
 * as far as the handlers read them.
 */
struct psw32 {
	u32 mask;
	u32 addr;
} __attribute__((aligned(8)));

struct sigregs32 {
	struct psw32 psw;
	u32 gprs[16];
	u32 acrs[16];
	/* floating point registers follow */
};

struct ucontext32 {
	u32 uc_flags;
	u32 uc_link;
	struct stack32 uc_stack;
	struct sigregs32 uc_mcontext;
};

struct sigcontext32 {
	u32 oldmask[2];
	u32 sregs;	/* pointer to struct sigregs32 */
};

_Static_assert(__builtin_offsetof(struct ucontext32, uc_mcontext) == 24,
	       "ucontext32.uc_mcontext");
_Static_assert(__builtin_offsetof(struct sigregs32, gprs) == 8, "sigregs32.gprs");

/*
 * do_sys(nr, a..f): the only system call instruction of the program.
 * sys_after is the address just after it. The arguments are sign-extended
 * to 64 bits (lgfr): a first argument of 0xfffffe00 is -ERESTARTSYS in the
 * full gpr2, the value the kernel's restart logic compares. The high halves
 * of r6 and r7 are saved around the call.
 */
__asm__(".text\n"
	".globl do_sys\n"
	"do_sys:\n"
	"	stm	%r6,%r15,24(%r15)\n"
	"	ahi	%r15,-16\n"
	"	stmh	%r6,%r7,0(%r15)\n"
	"	lr	%r1,%r2\n"
	"	lgfr	%r2,%r3\n"
	"	lgfr	%r3,%r4\n"
	"	lgfr	%r4,%r5\n"
	"	lgfr	%r5,%r6\n"
	"	lgf	%r6,112(%r15)\n"
	"	lgf	%r7,116(%r15)\n"
	"	svc	0\n"
	".globl sys_after\n"
	"sys_after:\n"
	"	lmh	%r6,%r7,0(%r15)\n"
	"	ahi	%r15,16\n"
	"	lm	%r6,%r15,24(%r15)\n"
	"	br	%r14\n"
	".globl restore_rt\n"
	"restore_rt:\n"
	"	svc	173\n"
	"	.long	0\n"
	".globl restore_old\n"
	"restore_old:\n"
	"	svc	119\n"
	"	.long	0\n");

static void on_sigsys(struct sigregs32 *sr, const void *si)
{
	int i;

	for (i = 0; i < 6; i++)
		regs[i] = sr->gprs[2 + i];
	regs[6] = sr->psw.addr;
	sr->gprs[2] = sigsys(si);
}

/* SA_SIGINFO handler: returns through rt_sigreturn (restore_rt). */
static void handler_rt(int sig, void *si, struct ucontext32 *uc)
{
	on_sigsys(&uc->uc_mcontext, si);
}

/* Old-style handler: r3 points at the sigcontext; returns through sigreturn. */
static void handler_old(int sig, struct sigcontext32 *sc)
{
	on_sigsys((struct sigregs32 *)sc->sregs, 0);
}

void __attribute__((noreturn, used)) start_c(void)
{
	run_all(handler_rt, handler_old, 0, 0);
	for (;;)
		;
}

/*
 * At _start r15 points at argc. Align it to 8, make the 96-byte frame of
 * the 31-bit ABI with a zero back chain, and call the C code.
 */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	lhi	%r0,-8\n"
	"	nr	%r15,%r0\n"
	"	ahi	%r15,-96\n"
	"	xc	0(4,%r15),0(%r15)\n"
	"	brasl	%r14,start_c\n"
	"	.long	0\n");
