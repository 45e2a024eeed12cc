// SPDX-License-Identifier: GPL-2.0
/*
 * Self ptrace in a 32-bit (ia32) task on an x86_64 kernel.
 *
 * A freestanding static i386 program (no libc: every system call goes
 * through one "int $0x80" in do_sys, so si_call_addr is known exactly).
 * Built by go generate in tests/selfptrace (see compat_amd64_test.go):
 *
 *   i686-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-pic -no-pie \
 *     -fno-stack-protector -O2 -o ia32-selfptrace ia32_selfptrace.c
 *
 * The checks are compat.h's (si_arch AUDIT_ARCH_I386; eax is the number
 * register); the native x86_64 numbers of rt_sigreturn (15) and ptrace
 * (101), which are chmod and ioperm for ia32, must be intercepted.
 * It prints "ia32: ok" and exits 0, or prints FAIL lines and exits 1.
 */

#define NAME		"ia32"
#define NR_write	4
#define NR_getpid	20
#define NR_ptrace	26
#define NR_sigreturn	119
#define NR_rt_sigreturn	173
#define NR_rt_sigaction	174
#define NR_exit_group	252
#define AUDIT_ARCH	0x40000003u	/* AUDIT_ARCH_I386 */
#define PC_AFTER_CALL	((u32)sys_after)
#define NR_REG		1

#define HAS_SA_RESTORER	1

#include "compat.h"

/* struct ucontext_ia32: uc_mcontext (struct sigcontext_32) at 20. */
#define UC_MCONTEXT	20
/* struct sigcontext_32 offsets. */
#define SC_EDI	16
#define SC_ESI	20
#define SC_EBP	24
#define SC_EBX	32
#define SC_EDX	36
#define SC_ECX	40
#define SC_EAX	44
#define SC_EIP	56

/*
 * do_sys(nr, a..f): the only system call instruction of the program.
 * sys_after is the address just after it.
 */
__asm__(".text\n"
	".globl do_sys\n"
	"do_sys:\n"
	"	push %ebp\n"
	"	push %edi\n"
	"	push %esi\n"
	"	push %ebx\n"
	"	mov 20(%esp), %eax\n"
	"	mov 24(%esp), %ebx\n"
	"	mov 28(%esp), %ecx\n"
	"	mov 32(%esp), %edx\n"
	"	mov 36(%esp), %esi\n"
	"	mov 40(%esp), %edi\n"
	"	mov 44(%esp), %ebp\n"
	"	int $0x80\n"
	".globl sys_after\n"
	"sys_after:\n"
	"	pop %ebx\n"
	"	pop %esi\n"
	"	pop %edi\n"
	"	pop %ebp\n"
	"	ret\n"
	".globl restore_rt\n"
	"restore_rt:\n"
	"	mov $173, %eax\n"
	"	int $0x80\n"
	"	ud2\n"
	".globl restore_old\n"
	"restore_old:\n"
	"	pop %eax\n"
	"	mov $119, %eax\n"
	"	int $0x80\n"
	"	ud2\n");

static u32 *sc_reg(void *sc, int off)
{
	return (u32 *)((char *)sc + off);
}

static void on_sigsys(void *sc, const void *si)
{
	regs[0] = *sc_reg(sc, SC_EBX);
	regs[1] = *sc_reg(sc, SC_ECX);
	regs[2] = *sc_reg(sc, SC_EDX);
	regs[3] = *sc_reg(sc, SC_ESI);
	regs[4] = *sc_reg(sc, SC_EDI);
	regs[5] = *sc_reg(sc, SC_EBP);
	regs[6] = *sc_reg(sc, SC_EIP);
	regs[7] = *sc_reg(sc, SC_EAX);
	*sc_reg(sc, SC_EAX) = sigsys(si);
}

/* SA_SIGINFO handler: returns through rt_sigreturn (restore_rt). */
static void handler_rt(int sig, void *si, void *uc)
{
	on_sigsys((char *)uc + UC_MCONTEXT, si);
}

/* Old-style handler: its sigcontext follows sig; returns through sigreturn. */
static void handler_old(int sig)
{
	on_sigsys(&sig + 1, 0);
}

/* ia32 15 and 101 are chmod and ioperm: not exempt. */
static const long other_numbers[2] = { 15, 101 };

void __attribute__((noreturn, used)) start_c(void)
{
	run_all(handler_rt, handler_old, other_numbers, 2);
	for (;;)
		;
}

/* The stack is 16-byte aligned at _start; keep it so for the C code. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %esp\n"
	"	call start_c\n"
	"	ud2\n");
