// SPDX-License-Identifier: GPL-2.0
/*
 * Self ptrace in a 32-bit (AArch32) task on an arm64 kernel.
 *
 * A freestanding static ARM (EABI, ARM state) program: every system call
 * goes through one "svc #0" in do_sys, so si_call_addr is known exactly.
 * Built by go generate in tests/selfptrace (see compat_arm64_test.go):
 *
 *   arm-linux-gnueabihf-gcc -marm -march=armv7-a -static -nostdlib \
 *     -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 \
 *     -o arm32-selfptrace arm32_selfptrace.c
 *
 * The checks are compat.h's: si_arch AUDIT_ARCH_ARM, the arguments in
 * r0..r5 (r0 is also the return register), r7 the number, the pc after the
 * svc. arm64's own numbers of ptrace (117) and rt_sigreturn (139) are other
 * calls for AArch32 tasks, and 0xf0005 is an ARM private call (set_tls):
 * all must be intercepted.
 * It prints "arm32: ok" and exits 0, or prints FAIL lines and exits 1.
 */

#define NAME		"arm32"
#define NR_write	4
#define NR_getpid	20
#define NR_ptrace	26
#define NR_sigreturn	119
#define NR_rt_sigreturn	173
#define NR_rt_sigaction	174
#define NR_exit_group	248
#define AUDIT_ARCH	0x40000028u	/* AUDIT_ARCH_ARM: EM_ARM, little endian */
#define PC_AFTER_CALL	((u32)sys_after)
#define NR_REG		1

#define HAS_SA_RESTORER	1

#include "compat.h"

/*
 * The kernel's AArch32 signal frame types (arch/arm64/kernel/signal32.c),
 * as far as the handlers read them.
 */
struct sigcontext32 {
	u32 trap_no;
	u32 error_code;
	u32 oldmask;
	u32 r[11];	/* r0..r10 */
	u32 fp, ip, sp, lr, pc, cpsr, fault_address;
};

struct ucontext32 {
	u32 uc_flags;
	u32 uc_link;
	struct stack32 uc_stack;
	struct sigcontext32 uc_mcontext;
};

_Static_assert(__builtin_offsetof(struct ucontext32, uc_mcontext) == 20,
	       "ucontext32.uc_mcontext");

/*
 * do_sys(nr, a..f): nr in r7, the arguments in r0..r5 (the last three from
 * the stack); sys_after is the address just after the svc.
 */
__asm__(".text\n"
	".arm\n"
	".globl do_sys\n"
	"do_sys:\n"
	"	push	{r4, r5, r6, r7}\n"
	"	mov	r7, r0\n"
	"	mov	r0, r1\n"
	"	mov	r1, r2\n"
	"	mov	r2, r3\n"
	"	ldr	r3, [sp, #16]\n"
	"	ldr	r4, [sp, #20]\n"
	"	ldr	r5, [sp, #24]\n"
	"	svc	#0\n"
	".globl sys_after\n"
	"sys_after:\n"
	"	pop	{r4, r5, r6, r7}\n"
	"	bx	lr\n"
	".globl restore_rt\n"
	"restore_rt:\n"
	"	mov	r7, #173\n"
	"	svc	#0\n"
	"	udf	#0\n"
	".globl restore_old\n"
	"restore_old:\n"
	"	mov	r7, #119\n"
	"	svc	#0\n"
	"	udf	#0\n"
	/*
	 * The old-style handler gets only the signal number; its frame
	 * (a struct ucontext32 first) is at sp.
	 */
	".globl handler_old\n"
	"handler_old:\n"
	"	mov	r1, sp\n"
	"	b	handler_old_c\n");

void handler_old(int sig);

static void on_sigsys(struct sigcontext32 *sc, const void *si)
{
	int i;

	for (i = 0; i < 6; i++)
		regs[i] = sc->r[i];
	regs[6] = sc->pc;
	regs[7] = sc->r[7];
	sc->r[0] = sigsys(si);
}

/* SA_SIGINFO handler: returns through rt_sigreturn (restore_rt). */
static void handler_rt(int sig, void *si, struct ucontext32 *uc)
{
	on_sigsys(&uc->uc_mcontext, si);
}

void __attribute__((used)) handler_old_c(int sig, struct ucontext32 *uc)
{
	on_sigsys(&uc->uc_mcontext, 0);
}

/* arm64's ptrace and rt_sigreturn, and ARM's private set_tls. */
static const long other_numbers[3] = { 117, 139, 0xf0005 };

void __attribute__((noreturn, used)) start_c(void)
{
	run_all(handler_rt, handler_old, other_numbers, 3);
	for (;;)
		;
}

/* At _start sp points at argc: align it to 8 for the C code. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	mov	fp, #0\n"
	"	bic	sp, sp, #7\n"
	"	bl	start_c\n"
	"	udf	#0\n");
