// Self-ptrace test support for riscv64: SIGSYS handler, signal return
// trampoline and the system call sequence runner.
//
// Kernel layouts (verified against Linux 6.12 uapi headers and with the
// cross compiler's offsetof):
//   struct ucontext (riscv uapi ucontext.h): uc_flags@0, uc_link@8,
//   uc_stack@16 (24 bytes), uc_sigmask@40 (8 bytes), __unused[120]@48,
//   uc_mcontext@176 (struct sigcontext is 16-byte aligned by its
//   __riscv_q_ext_state): sc_regs = struct user_regs_struct {pc, ra, sp,
//   gp, tp, t0..t2, s0, s1, a0..a7, s2..s11, t3..t6}, so pc@176 and x_n
//   (n >= 1) @ 176+8*n: sp@192, a0@256, a7@312.
//   siginfo: si_signo@0 si_errno@4 si_code@8, _sigsys: _call_addr@16,
//   _syscall@24 (int), _arch@28 (u32).
// Handler entry (arch/riscv/kernel/signal.c setup_rt_frame): a0 = signo,
// a1 = &siginfo, a2 = &ucontext, sp = the frame, ra = the vDSO's
// rt_sigreturn (riscv has no SA_RESTORER). The handlers of this file do
// not return to ra: they jump to sigreturnTramp, whose rt_sigreturn finds
// the frame at sp as the vDSO's would, so that every arch returns through
// the one trampoline at RestorerPC (which Syscall User Dispatch tests allow).
// System calls: "ecall" with the number in a7, arguments in a0..a5, result
// in a0; the kernel preserves every other register.
//
// The handler must not touch the Go runtime: no Go calls, no g (X27), no
// stack. It may clobber every register: rt_sigreturn restores them all
// from the ucontext. It avoids GP, TP and g, and leaves X31 to the
// assembler (its temporary).
// Register use: S2 = siginfo, S3 = ucontext, S4 = record, S5 = actions
// (Flag* bits, actForeign), S6 = saved RA around a CALL, S7 and S8 state
// kept across system calls, A7 and A0..A5 the system call registers,
// T0..T2 scratch.

#include "go_asm.h"
#include "textflag.h"

#define UC_PC	176
#define UC_REG(n)	(176+8*(n))
#define UC_SP	UC_REG(2)
#define UC_A(n)	UC_REG(10+(n))

#define REC_A(i) (Record_Args+8*(i))
#define REC_P(i) (Record_PerfArgs+8*(i))

// RECFLAG ORs f into the record's flags (clobbers T0, T1).
#define RECFLAG(f) \
	MOV	Record_Flags(S4), T0; \
	MOV	$(f), T1; \
	OR	T1, T0, T0; \
	MOV	T0, Record_Flags(S4)

// func sysSite()
// Its first instruction is the system call of runSeq: si_call_addr of its
// calls is sysSitePC()+4.
TEXT ·sysSite(SB),NOSPLIT|NOFRAME,$0-0
	ECALL
	RET

// func performSite()
// The system call instruction of the handler's "perform" action, so that
// the handler can recognise a SIGSYS for its own call.
TEXT ·performSite(SB),NOSPLIT|NOFRAME,$0-0
	ECALL
	RET

// func runSeq(ops *Op, n uintptr)
// S2 = current op, S3 = ops left, S4 = OpLoop counter: preserved by the
// kernel across system calls and restored by signal returns. Not NOFRAME:
// the assembler saves RA in the prologue because of the CALL.
TEXT ·runSeq(SB),NOSPLIT,$0-16
	MOV	ops+0(FP), S2
	MOV	n+8(FP), S3
next:
	BEQZ	S3, done
	MOV	Op_Nr(S2), A7
	MOV	$const_OpSpin, T0
	BEQ	A7, T0, spin
	MOV	$const_OpStore8, T0
	BEQ	A7, T0, store8
	MOV	$const_OpSvcImm, T0
	BEQ	A7, T0, svcimm
	MOV	$const_OpLoop, T0
	BEQ	A7, T0, loop
	MOV	(Op_Args+0)(S2), A0
	MOV	(Op_Args+8)(S2), A1
	MOV	(Op_Args+16)(S2), A2
	MOV	(Op_Args+24)(S2), A3
	MOV	(Op_Args+32)(S2), A4
	MOV	(Op_Args+40)(S2), A5
	CALL	·sysSite(SB)
	MOV	A0, Op_Ret(S2)
advance:
	ADD	$Op__size, S2
	ADD	$-1, S3
	JMP	next
svcimm:
	MOV	$-38, A0	// -ENOSYS: s390x only
	MOV	A0, Op_Ret(S2)
	JMP	advance
loop:
	MOV	(Op_Args+16)(S2), S4
	MOV	$0, A0
	BEQZ	S4, loopdone
loopnext:
	MOV	(Op_Args+0)(S2), A7
	MOV	(Op_Args+8)(S2), A0
	CALL	·sysSite(SB)
	ADD	$-1, S4
	BNEZ	S4, loopnext
loopdone:
	MOV	A0, Op_Ret(S2)
	JMP	advance
spin:
	MOV	(Op_Args+0)(S2), A0
	MOV	$1, A1
	MOVW	A1, (A0)
	MOV	(Op_Args+8)(S2), A1
	MOV	(Op_Args+16)(S2), A2
	MOV	$0, A3
spinloop:
	MOVWU	(A1), A4
	BNEZ	A4, released
	ADD	$-1, A2
	BNEZ	A2, spinloop
	JMP	spinout
released:
	MOV	$1, A3
spinout:
	MOV	A3, Op_Ret(S2)
	JMP	advance
store8:
	MOV	(Op_Args+0)(S2), A0
	MOV	(Op_Args+8)(S2), A1
	MOVB	A1, (A0)
	MOV	ZERO, Op_Ret(S2)
	JMP	advance
done:
	RET

// func sigreturnTramp()
// The signal return of every handler of this file: rt_sigreturn (the frame
// is at sp). It loops so that, should the kernel wrongly intercept
// rt_sigreturn, the nested SIGSYS is recorded and the original frame is
// still returned from.
TEXT ·sigreturnTramp(SB),NOSPLIT|NOFRAME,$0-0
again:
	MOV	$const_sysRtSigreturn, A7
	ECALL
	JMP	again

// func sigsysHandler()
TEXT ·sigsysHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOV	A1, S2			// siginfo
	MOV	A2, S3			// ucontext
	// Reserve a record: S7 = sequence number.
	MOV	$·hcount(SB), T1
	MOV	$1, T0
	AMOADDD	T0, (T1), S7
	MOV	S7, T0
	MOV	$(const_MaxRecords-1), T1
	BLEU	T0, T1, slot
	MOV	T1, T0
slot:
	MOV	$Record__size, T1
	MUL	T1, T0, T0
	MOV	$·hrecords(SB), S4
	ADD	T0, S4, S4

	// The raw siginfo.
	MOV	0(S2), T0
	MOV	T0, (Record_Info+0)(S4)
	MOV	8(S2), T0
	MOV	T0, (Record_Info+8)(S4)
	MOV	16(S2), T0
	MOV	T0, (Record_Info+16)(S4)
	MOV	24(S2), T0
	MOV	T0, (Record_Info+24)(S4)
	MOV	32(S2), T0
	MOV	T0, (Record_Info+32)(S4)
	MOV	40(S2), T0
	MOV	T0, (Record_Info+40)(S4)
	MOV	48(S2), T0
	MOV	T0, (Record_Info+48)(S4)
	MOV	56(S2), T0
	MOV	T0, (Record_Info+56)(S4)
	MOV	64(S2), T0
	MOV	T0, (Record_Info+64)(S4)
	MOV	72(S2), T0
	MOV	T0, (Record_Info+72)(S4)
	MOV	80(S2), T0
	MOV	T0, (Record_Info+80)(S4)
	MOV	88(S2), T0
	MOV	T0, (Record_Info+88)(S4)
	MOV	96(S2), T0
	MOV	T0, (Record_Info+96)(S4)
	MOV	104(S2), T0
	MOV	T0, (Record_Info+104)(S4)
	MOV	112(S2), T0
	MOV	T0, (Record_Info+112)(S4)
	MOV	120(S2), T0
	MOV	T0, (Record_Info+120)(S4)

	// The registers as the kernel rolled them back.
	MOV	UC_A(7)(S3), T0
	MOV	T0, Record_Nr(S4)
	MOV	UC_A(0)(S3), T0
	MOV	T0, REC_A(0)(S4)
	MOV	T0, REC_P(0)(S4)
	MOV	UC_A(1)(S3), T0
	MOV	T0, REC_A(1)(S4)
	MOV	T0, REC_P(1)(S4)
	MOV	UC_A(2)(S3), T0
	MOV	T0, REC_A(2)(S4)
	MOV	T0, REC_P(2)(S4)
	MOV	UC_A(3)(S3), T0
	MOV	T0, REC_A(3)(S4)
	MOV	T0, REC_P(3)(S4)
	MOV	UC_A(4)(S3), T0
	MOV	T0, REC_A(4)(S4)
	MOV	T0, REC_P(4)(S4)
	MOV	UC_A(5)(S3), T0
	MOV	T0, REC_A(5)(S4)
	MOV	T0, REC_P(5)(S4)
	MOV	UC_PC(S3), T0
	MOV	T0, Record_PC(S4)
	MOV	UC_SP(S3), T0
	MOV	T0, Record_SP(S4)
	MOV	S7, Record_Seq(S4)
	MOV	ZERO, Record_Flags(S4)
	MOV	ZERO, Record_RearmRet(S4)
	MOV	ZERO, Record_ProbeRet(S4)

	// Syscall User Dispatch test: switch the selector to ALLOW so that the
	// handler's own calls and its return are not dispatched.
	MOV	·hplan+Plan_SelectorAddr(SB), T0
	BEQZ	T0, nosel
	MOVB	ZERO, (T0)
nosel:
	// Only a self-ptrace SIGSYS gets the plan, unless FlagAnyCode.
	MOV	·hplan+Plan_Flags(SB), S5
	MOVW	(Record_Info+8)(S4), T0
	MOV	$const_SysSelfPtrace, T1
	BEQ	T0, T1, codeok
	AND	$const_FlagAnyCode, S5, T0
	BNEZ	T0, codeok
	MOV	$0, S5
	RECFLAG(const_RecOtherCode)
	JMP	result
codeok:
	// A self-ptrace SIGSYS for a call that the handler makes itself (from
	// performSite or from its own code) means that the interception did
	// not disarm the thread: record it only, or the handler would repeat
	// its action (perform, probe) forever.
	MOV	(Record_Info+16)(S4), T2
	MOV	$·performSite(SB), T0
	ADD	$4, T0
	BEQ	T0, T2, nested
	MOV	$·sigsysHandler(SB), T0
	BLTU	T2, T0, notnested
	MOV	·hHandlerEnd(SB), T0
	BGEU	T2, T0, notnested
nested:
	MOV	$0, S5
	RECFLAG(const_RecNested)
	JMP	result
notnested:
	AND	$const_FlagMatchNr, S5, T0
	BEQZ	T0, matched
	MOVW	(Record_Info+24)(S4), T0
	MOV	·hplan+Plan_MatchNr(SB), T1
	BEQ	T0, T1, matched
	MOV	$(const_FlagPerform|const_FlagRearm|const_actForeign), S5
	RECFLAG(const_RecForeign)
matched:
	// The sigreturn family is never performed nor re-armed after (if the
	// kernel intercepted it, re-arming would loop forever): checked on
	// si_syscall and on a7.
	MOV	$const_sysRtSigreturn, T1
	MOVW	(Record_Info+24)(S4), T0
	BEQ	T0, T1, sigret
	MOV	Record_Nr(S4), T0
	BNE	T0, T1, notsigret
sigret:
	MOV	$~(const_FlagPerform|const_FlagRearm), T0
	AND	T0, S5, S5
	RECFLAG(const_RecRefused)
	JMP	result
notsigret:
	MOV	$const_actForeign, T0
	AND	S5, T0, T0
	BNEZ	T0, noprobe
	MOV	·hplan+Plan_Probe(SB), T0
	BNEZ	T0, probe
noprobe:
	AND	$const_FlagPerform, S5, T0
	BEQZ	T0, noperform
	// Never perform a call that creates a task or replaces the program:
	// checked on si_syscall and on the low 32 bits of a7.
	MOVW	(Record_Info+24)(S4), T0
	MOVW	Record_Nr(S4), T2
	MOV	$const_sysClone, T1
	BEQ	T0, T1, refuse
	BEQ	T2, T1, refuse
	MOV	$const_sysClone3, T1
	BEQ	T0, T1, refuse
	BEQ	T2, T1, refuse
	MOV	$const_sysExecve, T1
	BEQ	T0, T1, refuse
	BEQ	T2, T1, refuse
	MOV	$const_sysExecveat, T1
	BEQ	T0, T1, refuse
	BEQ	T2, T1, refuse
	MOV	$const_actForeign, T0
	AND	S5, T0, T0
	BNEZ	T0, perform
	// Rewrite the selected arguments.
	MOV	·hplan+Plan_RewriteMask(SB), T2
	AND	$1, T2, T0
	BEQZ	T0, rw1
	MOV	·hplan+(Plan_RewriteVal+0)(SB), T0
	MOV	T0, REC_P(0)(S4)
rw1:
	AND	$2, T2, T0
	BEQZ	T0, rw2
	MOV	·hplan+(Plan_RewriteVal+8)(SB), T0
	MOV	T0, REC_P(1)(S4)
rw2:
	AND	$4, T2, T0
	BEQZ	T0, rw3
	MOV	·hplan+(Plan_RewriteVal+16)(SB), T0
	MOV	T0, REC_P(2)(S4)
rw3:
	AND	$8, T2, T0
	BEQZ	T0, rw4
	MOV	·hplan+(Plan_RewriteVal+24)(SB), T0
	MOV	T0, REC_P(3)(S4)
rw4:
	AND	$16, T2, T0
	BEQZ	T0, rw5
	MOV	·hplan+(Plan_RewriteVal+32)(SB), T0
	MOV	T0, REC_P(4)(S4)
rw5:
	AND	$32, T2, T0
	BEQZ	T0, perform
	MOV	·hplan+(Plan_RewriteVal+40)(SB), T0
	MOV	T0, REC_P(5)(S4)
perform:
	// The thread was disarmed by the interception: this call runs
	// normally (and passes through ptrace, seccomp and audit as usual).
	MOV	REC_P(0)(S4), A0
	MOV	REC_P(1)(S4), A1
	MOV	REC_P(2)(S4), A2
	MOV	REC_P(3)(S4), A3
	MOV	REC_P(4)(S4), A4
	MOV	REC_P(5)(S4), A5
	MOV	Record_Nr(S4), A7
	MOV	RA, S6		// CALL overwrites RA
	CALL	·performSite(SB)
	MOV	S6, RA
	MOV	A0, UC_A(0)(S3)
	RECFLAG(const_RecPerformed)
	JMP	result
refuse:
	MOV	$-38, T0	// -ENOSYS
	MOV	T0, UC_A(0)(S3)
	RECFLAG(const_RecRefused)
	JMP	result
noperform:
	AND	$const_FlagSetResult, S5, T0
	BEQZ	T0, result
	MOV	·hplan+Plan_Result(SB), T0
	MOV	T0, UC_A(0)(S3)
	RECFLAG(const_RecResultSet)
result:
	MOV	UC_A(0)(S3), T0
	MOV	T0, Record_Result(S4)
	AND	$const_FlagRearm, S5, T0
	BEQZ	T0, out
	MOV	$const_actForeign, T0
	AND	S5, T0, T0
	BNEZ	T0, rearm
	MOV	·hplan+Plan_RearmLimit(SB), T0
	BEQZ	T0, rearm
	MOV	Record_Seq(S4), T1
	ADD	$1, T1
	BGEU	T1, T0, out
rearm:
	// Last system call of the handler: only rt_sigreturn follows, which
	// is never intercepted.
	MOV	$const_sysPtrace, A7
	MOV	$const_PtraceSelfOn, A0
	MOV	$0, A1
	MOV	$0, A2
	MOV	$0, A3
	ECALL
	MOV	A0, Record_RearmRet(S4)
	RECFLAG(const_RecRearmed)
out:
	// Syscall User Dispatch benchmark: block again for the caller.
	MOV	·hplan+Plan_Flags(SB), T0
	AND	$const_FlagReblock, T0, T0
	BEQZ	T0, reblocked
	MOV	·hplan+Plan_SelectorAddr(SB), T0
	BEQZ	T0, reblocked
	MOV	$1, T1
	MOVB	T1, (T0)
reblocked:
	JMP	·sigreturnTramp(SB)

probe:
	MOV	T0, S8			// probe kind
	RECFLAG(const_RecProbed)
	MOV	$~const_FlagRearm, T0
	AND	T0, S5, S5
	MOV	$const_ProbeFork, T0
	BEQ	S8, T0, pfork
	MOV	$const_ProbeVfork, T0
	BEQ	S8, T0, pvfork
	MOV	$const_ProbeClone, T0
	BEQ	S8, T0, pclone
	MOV	$const_ProbeExec, T0
	BEQ	S8, T0, pexec
	MOV	$-22, A0	// -EINVAL: unknown probe
	JMP	probedone
pfork:
	// No fork system call: clone(SIGCHLD, 0, 0, 0, 0).
	MOV	$const_sysClone, A7
	MOV	$const_cloneForkFlags, A0
	MOV	$0, A1
	MOV	$0, A2
	MOV	$0, A3
	MOV	$0, A4
	ECALL
	BEQZ	A0, forkchild
	JMP	probedone
pvfork:
	// No vfork system call: clone(CLONE_VM|CLONE_VFORK|SIGCHLD, 0, ...).
	MOV	$const_sysClone, A7
	MOV	$const_cloneVforkFlags, A0
	MOV	$0, A1
	MOV	$0, A2
	MOV	$0, A3
	MOV	$0, A4
	ECALL
	BEQZ	A0, forkchild
	JMP	probedone
pclone:
	MOV	ZERO, ·hplan+Plan_ProbeFlag(SB)
	MOV	$1, T0
	MOVW	T0, ·hplan+Plan_CloneTid(SB)
	// clone(flags, newsp, parent_tid, tls, child_tid).
	MOV	$const_sysClone, A7
	MOV	$const_cloneThreadFlags, A0
	MOV	·hplan+Plan_CloneStack(SB), A1
	MOV	$0, A2
	MOV	$0, A3
	MOV	$·hplan+Plan_CloneTid(SB), A4
	MOV	·hcount(SB), S7
	ECALL
	BEQZ	A0, clonechild
	BLT	A0, ZERO, probedone
	// Had the kernel intercepted this clone (the thread still armed), a0
	// would be the rolled-back first argument, not a tid: no child to
	// wait for.
	MOV	·hcount(SB), T0
	BNE	T0, S7, probedone
	// Wait (bounded) for the child thread's verdict.
	MOV	A0, Record_ProbeRet(S4)
	MOV	$1000000, S8
cwait:
	MOV	·hplan+Plan_ProbeFlag(SB), T0
	BNEZ	T0, cwaited
	MOV	$const_sysSchedYield, A7
	ECALL
	ADD	$-1, S8
	BNEZ	S8, cwait
cwaited:
	MOV	Record_ProbeRet(S4), A0
	JMP	probedone
pexec:
	// Leave the handler's signal mask behind: execve keeps the mask.
	MOV	$const_sysRtSigprocmsk, A7
	MOV	$const_SigSetmask, A0
	MOV	$·zeroSigset(SB), A1
	MOV	$0, A2
	MOV	$8, A3
	ECALL
	MOV	$const_sysExecve, A7
	MOV	·hplan+Plan_ExecPath(SB), A0
	MOV	·hplan+Plan_ExecArgv(SB), A1
	MOV	·hplan+Plan_ExecEnvp(SB), A2
	ECALL
	// execve failed (rt_sigreturn restores the mask).
probedone:
	MOV	A0, Record_ProbeRet(S4)
	MOV	A0, UC_A(0)(S3)
	JMP	result

// Probe children: one getpid(ChildMagic), then the verdict in T2. The plan
// is cleared first so that, were the child armed, the nested SIGSYS would
// only be recorded; the child sees the counter move either way. No stack
// is used (the vfork child shares the parent's).
forkchild:
	MOV	ZERO, ·hplan+Plan_Flags(SB)
	MOV	ZERO, ·hplan+Plan_Probe(SB)
	MOV	·hcount(SB), T0
	MOV	$const_sysGetpid, A7
	MOV	·hplan+Plan_ChildMagic(SB), A0
	ECALL
	MOV	·hcount(SB), T1
	MOV	$const_ProbeNotIntercepted, T2
	BEQ	T0, T1, fcounted
	MOV	$const_ProbeIntercepted, T2
fcounted:
	BLT	ZERO, A0, fpidok
	MOV	$const_ProbeGetpidFailed, T2
fpidok:
	MOV	T2, A0
	MOV	$const_sysExitGroup, A7
	ECALL
	JMP	fpidok
clonechild:
	MOV	ZERO, ·hplan+Plan_Flags(SB)
	MOV	ZERO, ·hplan+Plan_Probe(SB)
	MOV	·hcount(SB), T0
	MOV	$const_sysGetpid, A7
	MOV	·hplan+Plan_ChildMagic(SB), A0
	ECALL
	MOV	·hcount(SB), T1
	MOV	$const_ProbeNotIntercepted, T2
	BEQ	T0, T1, ccounted
	MOV	$const_ProbeIntercepted, T2
ccounted:
	BLT	ZERO, A0, cpidok
	MOV	$const_ProbeGetpidFailed, T2
cpidok:
	MOV	T2, ·hplan+Plan_ProbeFlag(SB)
cexit:
	MOV	$const_sysExit, A7
	MOV	$0, A0
	ECALL
	JMP	cexit

// func usr1Handler()
// A SIGUSR1 handler that performs usr1Op (a system call made from an
// unrelated signal handler) and counts its runs.
TEXT ·usr1Handler(SB),NOSPLIT|NOFRAME,$0-0
	MOV	$·usr1Op(SB), S4
	MOV	(Op_Args+0)(S4), A0
	MOV	(Op_Args+8)(S4), A1
	MOV	(Op_Args+16)(S4), A2
	MOV	(Op_Args+24)(S4), A3
	MOV	(Op_Args+32)(S4), A4
	MOV	(Op_Args+40)(S4), A5
	MOV	Op_Nr(S4), A7
	CALL	·sysSite(SB)
	MOV	A0, Op_Ret(S4)
	MOV	$·usr1Count(SB), T1
	MOV	$1, T0
	AMOADDD	T0, (T1), T2
	JMP	·sigreturnTramp(SB)

// func armHandler()
// A signal handler that arms its thread and returns: the signal return
// (rt_sigreturn) then runs armed.
TEXT ·armHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOV	$const_sysPtrace, A7
	MOV	$const_PtraceSelfOn, A0
	MOV	$0, A1
	MOV	$0, A2
	MOV	$0, A3
	ECALL
	MOV	A0, ·armHandlerRet(SB)
	MOV	$·armHandlerCount(SB), T1
	MOV	$1, T0
	AMOADDD	T0, (T1), T2
	JMP	·sigreturnTramp(SB)

// func armHandlerKRet()
// armHandler that returns to ra like a C handler: through the vDSO's
// rt_sigreturn, the kernel's own signal return path on riscv64.
TEXT ·armHandlerKRet(SB),NOSPLIT|NOFRAME,$0-0
	MOV	$const_sysPtrace, A7
	MOV	$const_PtraceSelfOn, A0
	MOV	$0, A1
	MOV	$0, A2
	MOV	$0, A3
	ECALL
	MOV	A0, ·armHandlerRet(SB)
	MOV	$·armHandlerCount(SB), T1
	MOV	$1, T0
	AMOADDD	T0, (T1), T2
	RET

TEXT ·armHandlerKRetPC(SB),NOSPLIT,$0-8
	MOV	$·armHandlerKRet(SB), A0
	MOV	A0, ret+0(FP)
	RET

TEXT ·handlerPC(SB),NOSPLIT,$0-8
	MOV	$·sigsysHandler(SB), A0
	MOV	A0, ret+0(FP)
	RET

TEXT ·restorerPC(SB),NOSPLIT,$0-8
	MOV	$·sigreturnTramp(SB), A0
	MOV	A0, ret+0(FP)
	RET

TEXT ·usr1HandlerPC(SB),NOSPLIT,$0-8
	MOV	$·usr1Handler(SB), A0
	MOV	A0, ret+0(FP)
	RET

TEXT ·armHandlerPC(SB),NOSPLIT,$0-8
	MOV	$·armHandler(SB), A0
	MOV	A0, ret+0(FP)
	RET

TEXT ·sysSitePC(SB),NOSPLIT,$0-8
	MOV	$·sysSite(SB), A0
	MOV	A0, ret+0(FP)
	RET

TEXT ·performSitePC(SB),NOSPLIT,$0-8
	MOV	$·performSite(SB), A0
	MOV	A0, ret+0(FP)
	RET
