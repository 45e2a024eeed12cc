/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftrace, arm64: where the interrupted call lives in the ucontext, and
 * the few instructions that must be assembly.
 */
#define ST_ARCH_NAME "arm64"

/* libgcc's outline atomics need getauxval: this library has no libc. */
#pragma GCC target("no-outline-atomics")

#define ST_UC_ARG(uc, i) ((unsigned long)(uc)->uc_mcontext.regs[i])
#define ST_UC_SETRET(uc, v) ((uc)->uc_mcontext.regs[0] = (unsigned long)(v))
#define ST_UC_PC(uc) ((unsigned long)(uc)->uc_mcontext.pc)
#define ST_UC_SP(uc) ((unsigned long)(uc)->uc_mcontext.sp)

/* struct sigaction of the kernel: handler, flags, restorer, mask. */
#define ST_HAS_RESTORER 0
#define ST_KSA_MASK_OFF 24

/* clone(flags, newsp, parent_tid, tls, child_tid) */
#define ST_CLONE_STACK_ARG 1
#define ST_CLONE_TLS_ARG 3
#define ST_CLONE_FLAGS_ARG 0

#ifndef ST_LAUNCHER
static void st_arch_fill_resume(struct st_resume *r, const ucontext_t *uc)
{
	for (int i = 0; i < 31; i++)
		r->gpr[i] = uc->uc_mcontext.regs[i];
	r->pc = uc->uc_mcontext.pc;
}

/*
 * The clone child's jump to the program clobbers x16 and x17 (IP0/IP1,
 * the intra-procedure-call scratch registers): all 31 others are restored.
 */
__asm__(
	".pushsection st_gate,\"ax\",%progbits\n"
	".globl st_syscall6\n.hidden st_syscall6\n.type st_syscall6,%function\n"
	"st_syscall6:\n"
	"	mov x8, x0\n"
	"	mov x0, x1\n"
	"	mov x1, x2\n"
	"	mov x2, x3\n"
	"	mov x3, x4\n"
	"	mov x4, x5\n"
	"	mov x5, x6\n"
	"	svc #0\n"
	"	ret\n"
	".globl st_clone_gate\n.hidden st_clone_gate\n.type st_clone_gate,%function\n"
	"st_clone_gate:\n"
	"	mov x8, x0\n"
	"	mov x0, x1\n"
	"	mov x1, x2\n"
	"	mov x2, x3\n"
	"	mov x3, x4\n"
	"	mov x4, x5\n"
	"	mov x5, x6\n"
	"	svc #0\n"
	"	cbnz x0, 1f\n"
	"	mov x0, sp\n"
	"	bl st_child_main\n"
	"	mov x0, sp\n"
	"	b st_resume\n"
	"1:	ret\n"
	".globl st_resume\n.hidden st_resume\n.type st_resume,%function\n"
	"st_resume:\n"
	"	mov x16, x0\n"
	"	ldr x17, [x16, #264]\n"
	"	mov sp, x17\n"
	"	ldp x1, x2, [x16, #8]\n"
	"	ldp x3, x4, [x16, #24]\n"
	"	ldp x5, x6, [x16, #40]\n"
	"	ldp x7, x8, [x16, #56]\n"
	"	ldp x9, x10, [x16, #72]\n"
	"	ldp x11, x12, [x16, #88]\n"
	"	ldp x13, x14, [x16, #104]\n"
	"	ldr x15, [x16, #120]\n"
	"	ldp x18, x19, [x16, #144]\n"
	"	ldp x20, x21, [x16, #160]\n"
	"	ldp x22, x23, [x16, #176]\n"
	"	ldp x24, x25, [x16, #192]\n"
	"	ldp x26, x27, [x16, #208]\n"
	"	ldp x28, x29, [x16, #224]\n"
	"	ldr x30, [x16, #240]\n"
	"	ldr x17, [x16, #256]\n"
	"	mov x0, #0\n"
	"	br x17\n"
	".globl st_sigreturn_at\n.hidden st_sigreturn_at\n.type st_sigreturn_at,%function\n"
	"st_sigreturn_at:\n"
	"	mov sp, x0\n"
	"	mov x8, #139\n"
	"	svc #0\n"
	".popsection\n");
#endif /* ST_LAUNCHER */
