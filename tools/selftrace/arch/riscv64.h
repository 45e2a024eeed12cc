/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftrace, riscv64: where the interrupted call lives in the ucontext, and
 * the few instructions that must be assembly.
 */
#define ST_ARCH_NAME "riscv64"

/* __gregs[0] is the pc, __gregs[i] is x<i>: a0 = x10, sp = x2. */
#define ST_UC_ARG(uc, i) ((unsigned long)(uc)->uc_mcontext.__gregs[10 + (i)])
#define ST_UC_SETRET(uc, v) ((uc)->uc_mcontext.__gregs[10] = (unsigned long)(v))
#define ST_UC_PC(uc) ((unsigned long)(uc)->uc_mcontext.__gregs[0])
#define ST_UC_SP(uc) ((unsigned long)(uc)->uc_mcontext.__gregs[2])

/* The kernel's struct sigaction has no restorer here: handler, flags, mask. */
#define ST_HAS_RESTORER 0
#define ST_KSA_MASK_OFF 16
/*
 * riscv has no SA_RESTORER and its kernel does not exempt the vDSO's
 * rt_sigreturn from Syscall User Dispatch: under SUD the handler returns
 * with an rt_sigreturn of its own, from inside the allowed range.
 */
#define ST_SUD_OWN_SIGRETURN 1

/* clone(flags, newsp, parent_tid, tls, child_tid) */
#define ST_CLONE_STACK_ARG 1
#define ST_CLONE_TLS_ARG 3
#define ST_CLONE_FLAGS_ARG 0

#ifndef ST_LAUNCHER
static void st_arch_fill_resume(struct st_resume *r, const ucontext_t *uc)
{
	for (int i = 1; i < 32; i++)
		r->gpr[i] = uc->uc_mcontext.__gregs[i];
	r->pc = uc->uc_mcontext.__gregs[0];
}

/*
 * The clone child's jump to the program clobbers t0 and t1 and keeps the
 * tp the kernel gave it (CLONE_SETTLS); every other register is restored.
 */
__asm__(
	".pushsection st_gate,\"ax\",@progbits\n"
	".globl st_syscall6\n.hidden st_syscall6\n.type st_syscall6,@function\n"
	"st_syscall6:\n"
	"	mv a7, a0\n"
	"	mv a0, a1\n"
	"	mv a1, a2\n"
	"	mv a2, a3\n"
	"	mv a3, a4\n"
	"	mv a4, a5\n"
	"	mv a5, a6\n"
	"	ecall\n"
	"	ret\n"
	".globl st_clone_gate\n.hidden st_clone_gate\n.type st_clone_gate,@function\n"
	"st_clone_gate:\n"
	"	mv a7, a0\n"
	"	mv a0, a1\n"
	"	mv a1, a2\n"
	"	mv a2, a3\n"
	"	mv a3, a4\n"
	"	mv a4, a5\n"
	"	mv a5, a6\n"
	"	ecall\n"
	"	bnez a0, 1f\n"
	"	mv a0, sp\n"
	"	call st_child_main\n"
	"	mv a0, sp\n"
	"	j st_resume\n"
	"1:	ret\n"
	".globl st_resume\n.hidden st_resume\n.type st_resume,@function\n"
	"st_resume:\n"
	"	mv t0, a0\n"
	"	ld ra, 8(t0)\n"
	"	ld gp, 24(t0)\n"
	"	ld t2, 56(t0)\n"
	"	ld s0, 64(t0)\n"
	"	ld s1, 72(t0)\n"
	"	ld a1, 88(t0)\n"
	"	ld a2, 96(t0)\n"
	"	ld a3, 104(t0)\n"
	"	ld a4, 112(t0)\n"
	"	ld a5, 120(t0)\n"
	"	ld a6, 128(t0)\n"
	"	ld a7, 136(t0)\n"
	"	ld s2, 144(t0)\n"
	"	ld s3, 152(t0)\n"
	"	ld s4, 160(t0)\n"
	"	ld s5, 168(t0)\n"
	"	ld s6, 176(t0)\n"
	"	ld s7, 184(t0)\n"
	"	ld s8, 192(t0)\n"
	"	ld s9, 200(t0)\n"
	"	ld s10, 208(t0)\n"
	"	ld s11, 216(t0)\n"
	"	ld t3, 224(t0)\n"
	"	ld t4, 232(t0)\n"
	"	ld t5, 240(t0)\n"
	"	ld t6, 248(t0)\n"
	"	li a0, 0\n"
	"	ld sp, 264(t0)\n"
	"	ld t1, 256(t0)\n"
	"	jr t1\n"
	/* st_sigreturn_at(frame): rt_sigreturn with sp at the signal frame. */
	".globl st_sigreturn_at\n.hidden st_sigreturn_at\n.type st_sigreturn_at,@function\n"
	"st_sigreturn_at:\n"
	"	mv sp, a0\n"
	"	li a7, 139\n"
	"	ecall\n"
	"	unimp\n"
	".popsection\n");
#endif /* ST_LAUNCHER */
