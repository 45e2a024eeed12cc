/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftrace, s390x: where the interrupted call lives in the ucontext, and
 * the few instructions that must be assembly.
 */
#define ST_ARCH_NAME "s390x"

#define ST_UC_ARG(uc, i) ((unsigned long)(uc)->uc_mcontext.gregs[2 + (i)])
#define ST_UC_SETRET(uc, v) ((uc)->uc_mcontext.gregs[2] = (unsigned long)(v))
#define ST_UC_PC(uc) ((unsigned long)(uc)->uc_mcontext.psw.addr)
#define ST_UC_SP(uc) ((unsigned long)(uc)->uc_mcontext.gregs[15])

/* The kernel's struct sigaction: handler, flags, restorer, mask. */
#define ST_HAS_RESTORER 1
#define ST_KSA_MASK_OFF 24

/* s390's clone takes the stack first: clone(newsp, flags, ptid, ctid, tls). */
#define ST_CLONE_STACK_ARG 0
#define ST_CLONE_FLAGS_ARG 1

#ifndef ST_LAUNCHER
static void st_arch_fill_resume(struct st_resume *r, const ucontext_t *uc)
{
	for (int i = 0; i < 16; i++)
		r->gpr[i] = uc->uc_mcontext.gregs[i];
	r->pc = uc->uc_mcontext.psw.addr;
}

/*
 * st_syscall6(nr, a0..a5): nr and a0..a3 arrive in r2..r6, a4 and a5 on
 * the stack; the kernel wants the number in r1 and the arguments in r2..r7.
 * The clone child's jump to the program clobbers r1 only.
 */
__asm__(
	".pushsection st_gate,\"ax\",@progbits\n"
	".globl st_syscall6\n.hidden st_syscall6\n.type st_syscall6,@function\n"
	"st_syscall6:\n"
	"	stmg %r6,%r7,48(%r15)\n"
	"	lgr %r1,%r2\n"
	"	lgr %r2,%r3\n"
	"	lgr %r3,%r4\n"
	"	lgr %r4,%r5\n"
	"	lgr %r5,%r6\n"
	"	lg %r6,160(%r15)\n"
	"	lg %r7,168(%r15)\n"
	"	svc 0\n"
	"	lmg %r6,%r7,48(%r15)\n"
	"	br %r14\n"
	".globl st_clone_gate\n.hidden st_clone_gate\n.type st_clone_gate,@function\n"
	"st_clone_gate:\n"
	"	stmg %r6,%r7,48(%r15)\n"
	"	lgr %r1,%r2\n"
	"	lgr %r2,%r3\n"
	"	lgr %r3,%r4\n"
	"	lgr %r4,%r5\n"
	"	lgr %r5,%r6\n"
	"	lg %r6,160(%r15)\n"
	"	lg %r7,168(%r15)\n"
	"	svc 0\n"
	"	ltgr %r2,%r2\n"
	"	jnz 1f\n"
	"	lgr %r2,%r15\n"
	"	aghi %r15,-160\n"
	"	xc 0(8,%r15),0(%r15)\n"
	"	brasl %r14,st_child_main\n"
	"	la %r2,160(%r15)\n"
	"	jg st_resume\n"
	"1:	lmg %r6,%r7,48(%r15)\n"
	"	br %r14\n"
	".globl st_resume\n.hidden st_resume\n.type st_resume,@function\n"
	"st_resume:\n"
	"	lgr %r1,%r2\n"
	"	lmg %r3,%r14,24(%r1)\n"
	"	lg %r0,0(%r1)\n"
	"	lg %r15,264(%r1)\n"
	"	lghi %r2,0\n"
	"	lg %r1,256(%r1)\n"
	"	br %r1\n"
	".globl st_restorer\n.hidden st_restorer\n.type st_restorer,@function\n"
	"st_restorer:\n"
	"	svc 173\n"
	/* st_sigreturn_at(sp, nr): (rt_)sigreturn with the program's stack pointer. */
	".globl st_sigreturn_at\n.hidden st_sigreturn_at\n.type st_sigreturn_at,@function\n"
	"st_sigreturn_at:\n"
	"	lgr %r15,%r2\n"
	"	lgr %r1,%r3\n"
	"	svc 0\n"
	".popsection\n");
#endif /* ST_LAUNCHER */
