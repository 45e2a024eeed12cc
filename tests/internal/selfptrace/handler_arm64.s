// Self-ptrace test support for arm64: SIGSYS handler, signal return
// trampoline and the system call sequence runner.
//
// Kernel layouts (verified against Linux 6.12 uapi headers and with the
// cross compiler's offsetof):
//   struct ucontext (arm64 uapi ucontext.h): uc_flags@0, uc_link@8,
//   uc_stack@16 (24 bytes), uc_sigmask@40 (8 bytes), __unused[120]@48,
//   uc_mcontext@176 (struct sigcontext is 16-byte aligned):
//   fault_address@176, regs[31]@184 (x_n at 184+8*n), sp@432, pc@440,
//   pstate@448.
//   siginfo: si_signo@0 si_errno@4 si_code@8, _sigsys: _call_addr@16,
//   _syscall@24 (int), _arch@28 (u32).
// Handler entry (arch/arm64/kernel/signal.c setup_return): x0 = signo,
// x1 = &siginfo, x2 = &ucontext, x30 (LR) = sa_restorer, sp = the frame.
// System calls: "svc #0" with the number in x8, arguments in x0..x5,
// result in x0; the kernel preserves every other register.
//
// The handler must not touch the Go runtime: no Go calls, no g (R28), no
// stack. It may clobber every register: rt_sigreturn restores them all
// from the ucontext; it keeps LR (its return address) in R23 around its
// one BL. It avoids R18 (platform register), R26 (closure context), R28
// (g) and R29 (frame pointer); R27 is the assembler's temporary.
// Register use: R19 = siginfo, R20 = ucontext, R21 = record, R22 = actions
// (Flag* bits, actForeign), R8 and R0..R5 the system call registers,
// R10..R17 and R24, R25 scratch.

#include "go_asm.h"
#include "textflag.h"

#define UC_REG(n)	(184+8*(n))
#define UC_SP	432
#define UC_PC	440

#define REC_A(i) (Record_Args+8*(i))
#define REC_P(i) (Record_PerfArgs+8*(i))

// RECFLAG ORs f into the record's flags (clobbers R10, R11).
#define RECFLAG(f) \
	MOVD	Record_Flags(R21), R10; \
	MOVD	$(f), R11; \
	ORR	R11, R10, R10; \
	MOVD	R10, Record_Flags(R21)

// func sysSite()
// Its first instruction is the system call of runSeq: si_call_addr of its
// calls is sysSitePC()+4.
TEXT ·sysSite(SB),NOSPLIT|NOFRAME,$0-0
	SVC
	RET

// func performSite()
// The system call instruction of the handler's "perform" action, so that
// the handler can recognise a SIGSYS for its own call.
TEXT ·performSite(SB),NOSPLIT|NOFRAME,$0-0
	SVC
	RET

// sysSiteImm: "svc #0x40" (d4000801): the immediate is not the number on
// arm64 (x8 is), so this is the call in x8; si_call_addr is
// sysSiteImmPC()+4.
TEXT ·sysSiteImm(SB),NOSPLIT|NOFRAME,$0-0
	WORD	$0xd4000801
	RET

// func runSeq(ops *Op, n uintptr)
// R19 = current op, R20 = ops left, R21 = OpLoop counter: preserved by the
// kernel across system calls and restored by signal returns. Not NOFRAME:
// the assembler saves the link register in the prologue because of the BL.
TEXT ·runSeq(SB),NOSPLIT,$0-16
	MOVD	ops+0(FP), R19
	MOVD	n+8(FP), R20
next:
	CBZ	R20, done
	MOVD	Op_Nr(R19), R8
	MOVD	$const_OpSpin, R10
	CMP	R10, R8
	BEQ	spin
	MOVD	$const_OpStore8, R10
	CMP	R10, R8
	BEQ	store8
	MOVD	$const_OpSvcImm, R10
	CMP	R10, R8
	BEQ	svcimm
	MOVD	$const_OpLoop, R10
	CMP	R10, R8
	BEQ	loop
	MOVD	(Op_Args+0)(R19), R0
	MOVD	(Op_Args+8)(R19), R1
	MOVD	(Op_Args+16)(R19), R2
	MOVD	(Op_Args+24)(R19), R3
	MOVD	(Op_Args+32)(R19), R4
	MOVD	(Op_Args+40)(R19), R5
	BL	·sysSite(SB)
	MOVD	R0, Op_Ret(R19)
advance:
	ADD	$Op__size, R19
	SUB	$1, R20
	B	next
svcimm:
	// "svc #0x40" (write's number as the immediate, which arm64 ignores)
	// with x8 = getpid and x0..x5 = Args.
	MOVD	(Op_Args+0)(R19), R0
	MOVD	(Op_Args+8)(R19), R1
	MOVD	(Op_Args+16)(R19), R2
	MOVD	(Op_Args+24)(R19), R3
	MOVD	(Op_Args+32)(R19), R4
	MOVD	(Op_Args+40)(R19), R5
	MOVD	$const_sysGetpid, R8
	BL	·sysSiteImm(SB)
	MOVD	R0, Op_Ret(R19)
	B	advance
loop:
	MOVD	(Op_Args+16)(R19), R21
	MOVD	$0, R0
	CBZ	R21, loopdone
loopnext:
	MOVD	(Op_Args+0)(R19), R8
	MOVD	(Op_Args+8)(R19), R0
	BL	·sysSite(SB)
	SUB	$1, R21
	CBNZ	R21, loopnext
loopdone:
	MOVD	R0, Op_Ret(R19)
	B	advance
spin:
	MOVD	(Op_Args+0)(R19), R0
	MOVD	$1, R1
	MOVW	R1, (R0)
	MOVD	(Op_Args+8)(R19), R1
	MOVD	(Op_Args+16)(R19), R2
	MOVD	$0, R3
spinloop:
	MOVWU	(R1), R4
	CBNZ	R4, released
	YIELD
	SUB	$1, R2
	CBNZ	R2, spinloop
	B	spinout
released:
	MOVD	$1, R3
spinout:
	MOVD	R3, Op_Ret(R19)
	B	advance
store8:
	MOVD	(Op_Args+0)(R19), R0
	MOVD	(Op_Args+8)(R19), R1
	MOVB	R1, (R0)
	MOVD	ZR, Op_Ret(R19)
	B	advance
done:
	RET

// func sigreturnTramp()
// sa_restorer: rt_sigreturn (the frame is at sp). It loops so that, should
// the kernel wrongly intercept rt_sigreturn, the nested SIGSYS is recorded
// and the original frame is still returned from.
TEXT ·sigreturnTramp(SB),NOSPLIT|NOFRAME,$0-0
again:
	MOVD	$const_sysRtSigreturn, R8
	SVC
	B	again

// func sigsysHandler()
TEXT ·sigsysHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOVD	R1, R19			// siginfo
	MOVD	R2, R20			// ucontext
	// Reserve a record: R24 = sequence number.
	MOVD	$·hcount(SB), R10
reserve:
	LDAXR	(R10), R24
	ADD	$1, R24, R11
	STLXR	R11, (R10), R12
	CBNZ	R12, reserve
	MOVD	R24, R11
	MOVD	$(const_MaxRecords-1), R12
	CMP	R12, R11
	BLS	slot
	MOVD	R12, R11
slot:
	MOVD	$Record__size, R12
	MUL	R12, R11, R11
	MOVD	$·hrecords(SB), R21
	ADD	R11, R21, R21

	// The raw siginfo.
	MOVD	0(R19), R10
	MOVD	R10, (Record_Info+0)(R21)
	MOVD	8(R19), R10
	MOVD	R10, (Record_Info+8)(R21)
	MOVD	16(R19), R10
	MOVD	R10, (Record_Info+16)(R21)
	MOVD	24(R19), R10
	MOVD	R10, (Record_Info+24)(R21)
	MOVD	32(R19), R10
	MOVD	R10, (Record_Info+32)(R21)
	MOVD	40(R19), R10
	MOVD	R10, (Record_Info+40)(R21)
	MOVD	48(R19), R10
	MOVD	R10, (Record_Info+48)(R21)
	MOVD	56(R19), R10
	MOVD	R10, (Record_Info+56)(R21)
	MOVD	64(R19), R10
	MOVD	R10, (Record_Info+64)(R21)
	MOVD	72(R19), R10
	MOVD	R10, (Record_Info+72)(R21)
	MOVD	80(R19), R10
	MOVD	R10, (Record_Info+80)(R21)
	MOVD	88(R19), R10
	MOVD	R10, (Record_Info+88)(R21)
	MOVD	96(R19), R10
	MOVD	R10, (Record_Info+96)(R21)
	MOVD	104(R19), R10
	MOVD	R10, (Record_Info+104)(R21)
	MOVD	112(R19), R10
	MOVD	R10, (Record_Info+112)(R21)
	MOVD	120(R19), R10
	MOVD	R10, (Record_Info+120)(R21)

	// The registers as the kernel rolled them back.
	MOVD	UC_REG(8)(R20), R10
	MOVD	R10, Record_Nr(R21)
	MOVD	UC_REG(0)(R20), R10
	MOVD	R10, REC_A(0)(R21)
	MOVD	R10, REC_P(0)(R21)
	MOVD	UC_REG(1)(R20), R10
	MOVD	R10, REC_A(1)(R21)
	MOVD	R10, REC_P(1)(R21)
	MOVD	UC_REG(2)(R20), R10
	MOVD	R10, REC_A(2)(R21)
	MOVD	R10, REC_P(2)(R21)
	MOVD	UC_REG(3)(R20), R10
	MOVD	R10, REC_A(3)(R21)
	MOVD	R10, REC_P(3)(R21)
	MOVD	UC_REG(4)(R20), R10
	MOVD	R10, REC_A(4)(R21)
	MOVD	R10, REC_P(4)(R21)
	MOVD	UC_REG(5)(R20), R10
	MOVD	R10, REC_A(5)(R21)
	MOVD	R10, REC_P(5)(R21)
	MOVD	UC_PC(R20), R10
	MOVD	R10, Record_PC(R21)
	MOVD	UC_SP(R20), R10
	MOVD	R10, Record_SP(R21)
	MOVD	R24, Record_Seq(R21)
	MOVD	ZR, Record_Flags(R21)
	MOVD	ZR, Record_RearmRet(R21)
	MOVD	ZR, Record_ProbeRet(R21)

	// Syscall User Dispatch test: switch the selector to ALLOW so that the
	// handler's own calls and its return are not dispatched.
	MOVD	·hplan+Plan_SelectorAddr(SB), R10
	CBZ	R10, nosel
	MOVB	ZR, (R10)
nosel:
	// Only a self-ptrace SIGSYS gets the plan, unless FlagAnyCode.
	MOVD	·hplan+Plan_Flags(SB), R22
	MOVW	(Record_Info+8)(R21), R10
	CMP	$const_SysSelfPtrace, R10
	BEQ	codeok
	MOVD	$const_FlagAnyCode, R10
	TST	R10, R22
	BNE	codeok
	MOVD	$0, R22
	RECFLAG(const_RecOtherCode)
	B	result
codeok:
	// A self-ptrace SIGSYS for a call that the handler makes itself (from
	// performSite or from its own code) means that the interception did
	// not disarm the thread: record it only, or the handler would repeat
	// its action (perform, probe) forever.
	MOVD	(Record_Info+16)(R21), R12
	MOVD	$·performSite(SB), R10
	ADD	$4, R10
	CMP	R10, R12
	BEQ	nested
	MOVD	$·sigsysHandler(SB), R10
	CMP	R10, R12
	BLO	notnested
	MOVD	·hHandlerEnd(SB), R10
	CMP	R10, R12
	BHS	notnested
nested:
	MOVD	$0, R22
	RECFLAG(const_RecNested)
	B	result
notnested:
	MOVD	$const_FlagMatchNr, R10
	TST	R10, R22
	BEQ	matched
	MOVW	(Record_Info+24)(R21), R10
	MOVD	·hplan+Plan_MatchNr(SB), R11
	CMP	R11, R10
	BEQ	matched
	MOVD	$(const_FlagPerform|const_FlagRearm|const_actForeign), R22
	RECFLAG(const_RecForeign)
matched:
	// The sigreturn family is never performed nor re-armed after (if the
	// kernel intercepted it, re-arming would loop forever): checked on
	// si_syscall and on the low 32 bits of x8.
	MOVW	(Record_Info+24)(R21), R10
	CMP	$const_sysRtSigreturn, R10
	BEQ	sigret
	MOVW	Record_Nr(R21), R10
	CMP	$const_sysRtSigreturn, R10
	BNE	notsigret
sigret:
	MOVD	$~(const_FlagPerform|const_FlagRearm), R10
	AND	R10, R22, R22
	RECFLAG(const_RecRefused)
	B	result
notsigret:
	MOVD	$const_actForeign, R10
	TST	R10, R22
	BNE	noprobe
	MOVD	·hplan+Plan_Probe(SB), R10
	CBNZ	R10, probe
noprobe:
	MOVD	$const_FlagPerform, R10
	TST	R10, R22
	BEQ	noperform
	// Never perform a call that creates a task or replaces the program:
	// checked on si_syscall and on the low 32 bits of x8.
	MOVW	(Record_Info+24)(R21), R10
	CMP	$const_sysClone, R10
	BEQ	refuse
	CMP	$const_sysClone3, R10
	BEQ	refuse
	CMP	$const_sysExecve, R10
	BEQ	refuse
	CMP	$const_sysExecveat, R10
	BEQ	refuse
	MOVW	Record_Nr(R21), R10
	CMP	$const_sysClone, R10
	BEQ	refuse
	CMP	$const_sysClone3, R10
	BEQ	refuse
	CMP	$const_sysExecve, R10
	BEQ	refuse
	CMP	$const_sysExecveat, R10
	BEQ	refuse
	MOVD	$const_actForeign, R10
	TST	R10, R22
	BNE	perform
	// Rewrite the selected arguments.
	MOVD	·hplan+Plan_RewriteMask(SB), R12
	TBZ	$0, R12, rw1
	MOVD	·hplan+(Plan_RewriteVal+0)(SB), R10
	MOVD	R10, REC_P(0)(R21)
rw1:
	TBZ	$1, R12, rw2
	MOVD	·hplan+(Plan_RewriteVal+8)(SB), R10
	MOVD	R10, REC_P(1)(R21)
rw2:
	TBZ	$2, R12, rw3
	MOVD	·hplan+(Plan_RewriteVal+16)(SB), R10
	MOVD	R10, REC_P(2)(R21)
rw3:
	TBZ	$3, R12, rw4
	MOVD	·hplan+(Plan_RewriteVal+24)(SB), R10
	MOVD	R10, REC_P(3)(R21)
rw4:
	TBZ	$4, R12, rw5
	MOVD	·hplan+(Plan_RewriteVal+32)(SB), R10
	MOVD	R10, REC_P(4)(R21)
rw5:
	TBZ	$5, R12, perform
	MOVD	·hplan+(Plan_RewriteVal+40)(SB), R10
	MOVD	R10, REC_P(5)(R21)
perform:
	// The thread was disarmed by the interception: this call runs
	// normally (and passes through ptrace, seccomp and audit as usual).
	MOVD	REC_P(0)(R21), R0
	MOVD	REC_P(1)(R21), R1
	MOVD	REC_P(2)(R21), R2
	MOVD	REC_P(3)(R21), R3
	MOVD	REC_P(4)(R21), R4
	MOVD	REC_P(5)(R21), R5
	MOVD	Record_Nr(R21), R8
	MOVD	R30, R23	// BL overwrites the return address
	BL	·performSite(SB)
	MOVD	R23, R30
	MOVD	R0, UC_REG(0)(R20)
	RECFLAG(const_RecPerformed)
	B	result
refuse:
	MOVD	$-38, R10	// -ENOSYS
	MOVD	R10, UC_REG(0)(R20)
	RECFLAG(const_RecRefused)
	B	result
noperform:
	MOVD	$const_FlagSetResult, R10
	TST	R10, R22
	BEQ	result
	MOVD	·hplan+Plan_Result(SB), R10
	MOVD	R10, UC_REG(0)(R20)
	RECFLAG(const_RecResultSet)
result:
	MOVD	UC_REG(0)(R20), R10
	MOVD	R10, Record_Result(R21)
	MOVD	$const_FlagRearm, R10
	TST	R10, R22
	BEQ	out
	MOVD	$const_actForeign, R10
	TST	R10, R22
	BNE	rearm
	MOVD	·hplan+Plan_RearmLimit(SB), R10
	CBZ	R10, rearm
	MOVD	Record_Seq(R21), R11
	ADD	$1, R11
	CMP	R10, R11
	BHS	out
rearm:
	// Last system call of the handler: only rt_sigreturn follows, which
	// is never intercepted.
	MOVD	$const_sysPtrace, R8
	MOVD	$const_PtraceSelfOn, R0
	MOVD	$0, R1
	MOVD	$0, R2
	MOVD	$0, R3
	SVC
	MOVD	R0, Record_RearmRet(R21)
	RECFLAG(const_RecRearmed)
out:
	// Syscall User Dispatch benchmark: block again for the caller.
	MOVD	·hplan+Plan_Flags(SB), R10
	MOVD	$const_FlagReblock, R11
	TST	R11, R10
	BEQ	reblocked
	MOVD	·hplan+Plan_SelectorAddr(SB), R10
	CBZ	R10, reblocked
	MOVD	$1, R11
	MOVB	R11, (R10)
reblocked:
	RET

probe:
	MOVD	R10, R25		// probe kind
	RECFLAG(const_RecProbed)
	MOVD	$~const_FlagRearm, R10
	AND	R10, R22, R22
	CMP	$const_ProbeFork, R25
	BEQ	pfork
	CMP	$const_ProbeVfork, R25
	BEQ	pvfork
	CMP	$const_ProbeClone, R25
	BEQ	pclone
	CMP	$const_ProbeExec, R25
	BEQ	pexec
	MOVD	$-22, R0	// -EINVAL: unknown probe
	B	probedone
pfork:
	// No fork system call: clone(SIGCHLD, 0, 0, 0, 0).
	MOVD	$const_sysClone, R8
	MOVD	$const_cloneForkFlags, R0
	MOVD	$0, R1
	MOVD	$0, R2
	MOVD	$0, R3
	MOVD	$0, R4
	SVC
	CBZ	R0, forkchild
	B	probedone
pvfork:
	// No vfork system call: clone(CLONE_VM|CLONE_VFORK|SIGCHLD, 0, ...).
	MOVD	$const_sysClone, R8
	MOVD	$const_cloneVforkFlags, R0
	MOVD	$0, R1
	MOVD	$0, R2
	MOVD	$0, R3
	MOVD	$0, R4
	SVC
	CBZ	R0, forkchild
	B	probedone
pclone:
	MOVD	ZR, ·hplan+Plan_ProbeFlag(SB)
	MOVD	$1, R10
	MOVW	R10, ·hplan+Plan_CloneTid(SB)
	// clone(flags, newsp, parent_tid, tls, child_tid).
	MOVD	$const_sysClone, R8
	MOVD	$const_cloneThreadFlags, R0
	MOVD	·hplan+Plan_CloneStack(SB), R1
	MOVD	$0, R2
	MOVD	$0, R3
	MOVD	$·hplan+Plan_CloneTid(SB), R4
	MOVD	·hcount(SB), R24
	SVC
	CBZ	R0, clonechild
	CMP	$0, R0
	BLT	probedone
	// Had the kernel intercepted this clone (the thread still armed), x0
	// would be the rolled-back first argument, not a tid: no child to
	// wait for.
	MOVD	·hcount(SB), R10
	CMP	R10, R24
	BNE	probedone
	// Wait (bounded) for the child thread's verdict.
	MOVD	R0, Record_ProbeRet(R21)
	MOVD	$1000000, R25
cwait:
	MOVD	·hplan+Plan_ProbeFlag(SB), R10
	CBNZ	R10, cwaited
	MOVD	$const_sysSchedYield, R8
	SVC
	SUB	$1, R25
	CBNZ	R25, cwait
cwaited:
	MOVD	Record_ProbeRet(R21), R0
	B	probedone
pexec:
	// Leave the handler's signal mask behind: execve keeps the mask.
	MOVD	$const_sysRtSigprocmsk, R8
	MOVD	$const_SigSetmask, R0
	MOVD	$·zeroSigset(SB), R1
	MOVD	$0, R2
	MOVD	$8, R3
	SVC
	MOVD	$const_sysExecve, R8
	MOVD	·hplan+Plan_ExecPath(SB), R0
	MOVD	·hplan+Plan_ExecArgv(SB), R1
	MOVD	·hplan+Plan_ExecEnvp(SB), R2
	SVC
	// execve failed (rt_sigreturn restores the mask).
probedone:
	MOVD	R0, Record_ProbeRet(R21)
	MOVD	R0, UC_REG(0)(R20)
	B	result

// Probe children: one getpid(ChildMagic), then the verdict in R12. The
// plan is cleared first so that, were the child armed, the nested SIGSYS
// would only be recorded; the child sees the counter move either way. No
// stack is used (the vfork child shares the parent's).
forkchild:
	MOVD	ZR, ·hplan+Plan_Flags(SB)
	MOVD	ZR, ·hplan+Plan_Probe(SB)
	MOVD	·hcount(SB), R10
	MOVD	$const_sysGetpid, R8
	MOVD	·hplan+Plan_ChildMagic(SB), R0
	SVC
	MOVD	·hcount(SB), R11
	MOVD	$const_ProbeNotIntercepted, R12
	CMP	R10, R11
	BEQ	fcounted
	MOVD	$const_ProbeIntercepted, R12
fcounted:
	CMP	$0, R0
	BGT	fpidok
	MOVD	$const_ProbeGetpidFailed, R12
fpidok:
	MOVD	R12, R0
	MOVD	$const_sysExitGroup, R8
	SVC
	B	fpidok
clonechild:
	MOVD	ZR, ·hplan+Plan_Flags(SB)
	MOVD	ZR, ·hplan+Plan_Probe(SB)
	MOVD	·hcount(SB), R10
	MOVD	$const_sysGetpid, R8
	MOVD	·hplan+Plan_ChildMagic(SB), R0
	SVC
	MOVD	·hcount(SB), R11
	MOVD	$const_ProbeNotIntercepted, R12
	CMP	R10, R11
	BEQ	ccounted
	MOVD	$const_ProbeIntercepted, R12
ccounted:
	CMP	$0, R0
	BGT	cpidok
	MOVD	$const_ProbeGetpidFailed, R12
cpidok:
	MOVD	R12, ·hplan+Plan_ProbeFlag(SB)
cexit:
	MOVD	$const_sysExit, R8
	MOVD	$0, R0
	SVC
	B	cexit

// func usr1Handler()
// A SIGUSR1 handler that performs usr1Op (a system call made from an
// unrelated signal handler) and counts its runs. LR (the restorer) is
// kept in R23 around the BL.
TEXT ·usr1Handler(SB),NOSPLIT|NOFRAME,$0-0
	MOVD	$·usr1Op(SB), R21
	MOVD	(Op_Args+0)(R21), R0
	MOVD	(Op_Args+8)(R21), R1
	MOVD	(Op_Args+16)(R21), R2
	MOVD	(Op_Args+24)(R21), R3
	MOVD	(Op_Args+32)(R21), R4
	MOVD	(Op_Args+40)(R21), R5
	MOVD	Op_Nr(R21), R8
	MOVD	R30, R23
	BL	·sysSite(SB)
	MOVD	R23, R30
	MOVD	R0, Op_Ret(R21)
	MOVD	$·usr1Count(SB), R10
uadd:
	LDAXR	(R10), R11
	ADD	$1, R11
	STLXR	R11, (R10), R12
	CBNZ	R12, uadd
	RET

// func armHandler()
// A signal handler that arms its thread and returns: the signal return
// (rt_sigreturn) then runs armed.
TEXT ·armHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOVD	$const_sysPtrace, R8
	MOVD	$const_PtraceSelfOn, R0
	MOVD	$0, R1
	MOVD	$0, R2
	MOVD	$0, R3
	SVC
	MOVD	R0, ·armHandlerRet(SB)
	MOVD	$·armHandlerCount(SB), R10
aadd:
	LDAXR	(R10), R11
	ADD	$1, R11
	STLXR	R11, (R10), R12
	CBNZ	R12, aadd
	RET

TEXT ·handlerPC(SB),NOSPLIT,$0-8
	MOVD	$·sigsysHandler(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·restorerPC(SB),NOSPLIT,$0-8
	MOVD	$·sigreturnTramp(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·usr1HandlerPC(SB),NOSPLIT,$0-8
	MOVD	$·usr1Handler(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·armHandlerPC(SB),NOSPLIT,$0-8
	MOVD	$·armHandler(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·sysSitePC(SB),NOSPLIT,$0-8
	MOVD	$·sysSite(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·sysSiteImmPC(SB),NOSPLIT,$0-8
	MOVD	$·sysSiteImm(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·performSitePC(SB),NOSPLIT,$0-8
	MOVD	$·performSite(SB), R0
	MOVD	R0, ret+0(FP)
	RET
