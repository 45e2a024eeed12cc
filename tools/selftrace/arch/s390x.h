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

/*
 * glibc's s390x clone keeps the child's function in r1 and its argument in
 * r0 across the svc, so a clone child cannot jump to the program through a
 * scratch register: it continues through an rt_sigreturn of a copy of the
 * parent's signal frame (the kernel's rt_sigframe: 160 bytes of caller
 * stack, the svc slot, the siginfo, then the ucontext with its vector
 * register extension), which restores every register and the signal mask.
 */
#define ST_CHILD_SIGRETURN 1
#define ST_SIGFRAME_INFO_OFF 168
#define ST_KUC_SIZE (sizeof(ucontext_t) + 512)
/* The thread pointer is in access registers a0 (high half) and a1 (low). */
#define ST_UC_SETTLS(uc, tls) ((uc)->uc_mcontext.aregs[0] = (tls) >> 32, \
			       (uc)->uc_mcontext.aregs[1] = (unsigned int)(tls))

/* s390's clone takes the stack first: clone(newsp, flags, ptid, ctid, tls). */
#define ST_CLONE_STACK_ARG 0
#define ST_CLONE_TLS_ARG 4
#define ST_CLONE_FLAGS_ARG 1

#ifndef ST_LAUNCHER

/*
 * st_syscall6(nr, a0..a5): nr and a0..a3 arrive in r2..r6, a4 and a5 on
 * the stack; the kernel wants the number in r1 and the arguments in r2..r7.
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
	/* The child: r15 is the copied signal frame. */
	"	lgr %r2,%r15\n"
	"	aghi %r15,-160\n"
	"	xc 0(8,%r15),0(%r15)\n"
	"	brasl %r14,st_child_arm\n"
	"	aghi %r15,160\n"
	"	svc 173\n"
	"1:	lmg %r6,%r7,48(%r15)\n"
	"	br %r14\n"
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
