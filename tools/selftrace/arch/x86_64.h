/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftrace, x86_64: where the interrupted call lives in the ucontext, and
 * the few instructions that must be assembly (raw system calls, the clone
 * child's first steps, the return to the program's registers).
 */
#define ST_ARCH_NAME "x86_64"

#define ST_UC_ARG(uc, i) ((unsigned long)(uc)->uc_mcontext.gregs[st_argreg[i]])
#define ST_UC_SETRET(uc, v) ((uc)->uc_mcontext.gregs[REG_RAX] = (long)(v))
#define ST_UC_PC(uc) ((unsigned long)(uc)->uc_mcontext.gregs[REG_RIP])
#define ST_UC_SP(uc) ((unsigned long)(uc)->uc_mcontext.gregs[REG_RSP])

static const int st_argreg[6] = { REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9 };

/* The kernel's struct sigaction: handler, flags, restorer, mask. */
#define ST_HAS_RESTORER 1
#define ST_KSA_MASK_OFF 24

/* Which clone argument is the new stack (clone(flags, newsp, ...)). */
#define ST_CLONE_STACK_ARG 1
#define ST_CLONE_TLS_ARG 4
#define ST_CLONE_FLAGS_ARG 0

/* Fill a resume block with the registers the child of a clone continues with. */
#ifndef ST_LAUNCHER
static void st_arch_fill_resume(struct st_resume *r, const ucontext_t *uc)
{
	const long long *g = uc->uc_mcontext.gregs;

	r->gpr[0] = g[REG_RBX];
	r->gpr[1] = g[REG_RBP];
	r->gpr[2] = g[REG_R12];
	r->gpr[3] = g[REG_R13];
	r->gpr[4] = g[REG_R14];
	r->gpr[5] = g[REG_R15];
	r->gpr[6] = g[REG_RDI];
	r->gpr[7] = g[REG_RSI];
	r->gpr[8] = g[REG_RDX];
	r->gpr[9] = g[REG_R8];
	r->gpr[10] = g[REG_R9];
	r->gpr[11] = g[REG_R10];
	r->pc = g[REG_RIP];
}

__asm__(
	".pushsection st_gate,\"ax\",@progbits\n"
	".globl st_syscall6\n.hidden st_syscall6\n.type st_syscall6,@function\n"
	"st_syscall6:\n"
	"	mov %rdi,%rax\n"
	"	mov %rsi,%rdi\n"
	"	mov %rdx,%rsi\n"
	"	mov %rcx,%rdx\n"
	"	mov %r8,%r10\n"
	"	mov %r9,%r8\n"
	"	mov 8(%rsp),%r9\n"
	"	syscall\n"
	"	ret\n"
	".globl st_clone_gate\n.hidden st_clone_gate\n.type st_clone_gate,@function\n"
	"st_clone_gate:\n"
	"	mov %rdi,%rax\n"
	"	mov %rsi,%rdi\n"
	"	mov %rdx,%rsi\n"
	"	mov %rcx,%rdx\n"
	"	mov %r8,%r10\n"
	"	mov %r9,%r8\n"
	"	mov 8(%rsp),%r9\n"
	"	syscall\n"
	"	test %rax,%rax\n"
	"	jnz 1f\n"
	/* The child, on the new stack, which starts with its resume block. */
	"	mov %rsp,%rdi\n"
	"	call st_child_main\n"
	"	mov %rsp,%rdi\n"
	"	jmp st_resume\n"
	"1:	ret\n"
	".globl st_resume\n.hidden st_resume\n.type st_resume,@function\n"
	"st_resume:\n"
	"	mov 264(%rdi),%rcx\n"
	"	mov 256(%rdi),%r11\n"
	"	mov %r11,-8(%rcx)\n"
	"	mov 0(%rdi),%rbx\n"
	"	mov 8(%rdi),%rbp\n"
	"	mov 16(%rdi),%r12\n"
	"	mov 24(%rdi),%r13\n"
	"	mov 32(%rdi),%r14\n"
	"	mov 40(%rdi),%r15\n"
	"	mov 56(%rdi),%rsi\n"
	"	mov 64(%rdi),%rdx\n"
	"	mov 72(%rdi),%r8\n"
	"	mov 80(%rdi),%r9\n"
	"	mov 88(%rdi),%r10\n"
	"	lea -8(%rcx),%rsp\n"
	"	mov 48(%rdi),%rdi\n"
	"	xor %eax,%eax\n"
	"	ret\n"
	".globl st_restorer\n.hidden st_restorer\n.type st_restorer,@function\n"
	"st_restorer:\n"
	"	mov $15,%eax\n"
	"	syscall\n"
	"	hlt\n"
	".globl st_sigreturn_at\n.hidden st_sigreturn_at\n.type st_sigreturn_at,@function\n"
	"st_sigreturn_at:\n"
	"	mov %rdi,%rsp\n"
	"	mov $15,%eax\n"
	"	syscall\n"
	"	hlt\n"
	".popsection\n");
#endif /* ST_LAUNCHER */
