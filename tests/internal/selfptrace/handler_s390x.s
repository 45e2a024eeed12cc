// Self-ptrace test support for s390x: SIGSYS handler, signal return
// trampolines and the system call sequence runner.
//
// Kernel layouts (verified against Linux 6.12 uapi headers):
//   struct ucontext (s390 uapi ucontext.h): uc_flags@0, uc_link@8,
//   uc_stack@16 (24 bytes), uc_mcontext@40 = _sigregs: psw {mask, addr}
//   (16 bytes) then gprs[16], so psw.addr@48 and gpr n @ 56+8*n.
//   siginfo: si_signo@0 si_errno@4 si_code@8, _sigsys: _call_addr@16,
//   _syscall@24 (int), _arch@28 (u32); big-endian.
// Handler entry (arch/s390/kernel/signal.c setup_rt_frame): r2 = signo,
// r3 = &siginfo, r4 = &ucontext, r14 = sa_restorer, r15 = frame (with the
// 160-byte register save area the ABI gives a callee).
// System calls: "svc 0" with the number in r1 (or "svc NN"), arguments in
// r2..r7, result in r2; the kernel preserves every other register.
//
// Go's assembler uses R10 and R11 as temporaries (e.g. to address a
// symbol) and R0 as zero; R13 is g and R14 the link register. The handler
// keeps R14 (its return address) intact, zeroes R0, and keeps its state in
// R8 (actions), R9 (ucontext) and R12 (record). It may clobber every other
// register: rt_sigreturn restores them all from the ucontext.

#include "go_asm.h"
#include "textflag.h"

#define UC_PSWADDR	48
#define UC_GPR(n)	(56+8*(n))

#define REC_A(i) (Record_Args+8*(i))
#define REC_P(i) (Record_PerfArgs+8*(i))

// RECFLAG ORs f into the record's flags (clobbers R5; no BL, which would
// overwrite the handler's return address in R14).
#define RECFLAG(f) \
	MOVD	Record_Flags(R12), R5; \
	OR	$(f), R5; \
	MOVD	R5, Record_Flags(R12)

// func sysSite()
// Its first instruction is the system call of runSeq: si_call_addr of its
// calls is sysSitePC()+2.
TEXT ·sysSite(SB),NOSPLIT|NOFRAME,$0-0
	SYSCALL
	RET

// func performSite()
// The system call instruction of the handler's "perform" action, so that
// the handler can recognise a SIGSYS for its own call.
TEXT ·performSite(SB),NOSPLIT|NOFRAME,$0-0
	SYSCALL
	RET

// sysSiteImm: "svc 20" (getpid, number in the instruction), then a 2-byte
// nopr so that the next instruction is the return.
TEXT ·sysSiteImm(SB),NOSPLIT|NOFRAME,$0-0
	WORD	$0x0a140700
	RET

// func runSeq(ops *Op, n uintptr)
// R8 = current op, R9 = ops left: preserved by the kernel across system
// calls and restored by signal returns. Not NOFRAME: the assembler saves
// the link register in the prologue because of the BL.
TEXT ·runSeq(SB),NOSPLIT,$0-16
	MOVD	ops+0(FP), R8
	MOVD	n+8(FP), R9
next:
	CMPBEQ	R9, $0, done
	MOVD	Op_Nr(R8), R1
	MOVD	$const_OpSpin, R2
	CMPBEQ	R1, R2, spin
	MOVD	$const_OpStore8, R2
	CMPBEQ	R1, R2, store8
	MOVD	$const_OpLoop, R2
	CMPBEQ	R1, R2, loop
	MOVD	(Op_Args+0)(R8), R2
	MOVD	(Op_Args+8)(R8), R3
	MOVD	(Op_Args+16)(R8), R4
	MOVD	(Op_Args+24)(R8), R5
	MOVD	(Op_Args+32)(R8), R6
	MOVD	(Op_Args+40)(R8), R7
	MOVD	$const_OpSvcImm, R0
	CMPBEQ	R1, R0, svcimm
	XOR	R0, R0
	BL	·sysSite(SB)
	MOVD	R2, Op_Ret(R8)
advance:
	ADD	$Op__size, R8
	SUB	$1, R9
	BR	next
svcimm:
	XOR	R0, R0
	MOVD	$0xffff, R1	// must be ignored: the number is in the instruction
	BL	·sysSiteImm(SB)
	MOVD	R2, Op_Ret(R8)
	BR	advance
loop:
	// R12 counts down: the kernel preserves it across the system call and
	// rt_sigreturn restores it after a SIGSYS handler.
	MOVD	(Op_Args+16)(R8), R12
	MOVD	$0, R2
	CMPBEQ	R12, $0, loopdone
loopnext:
	MOVD	(Op_Args+0)(R8), R1
	MOVD	(Op_Args+8)(R8), R2
	XOR	R0, R0
	BL	·sysSite(SB)
	SUB	$1, R12
	CMPBNE	R12, $0, loopnext
loopdone:
	MOVD	R2, Op_Ret(R8)
	BR	advance
spin:
	MOVD	(Op_Args+0)(R8), R2
	MOVD	$1, R3
	MOVW	R3, 0(R2)
	MOVD	(Op_Args+8)(R8), R4
	MOVD	(Op_Args+16)(R8), R5
	MOVD	$0, R6
spinloop:
	MOVWZ	0(R4), R3
	CMPBNE	R3, $0, released
	SUB	$1, R5
	CMPBNE	R5, $0, spinloop
	BR	spinout
released:
	MOVD	$1, R6
spinout:
	MOVD	R6, Op_Ret(R8)
	BR	advance
store8:
	MOVD	(Op_Args+0)(R8), R2
	MOVD	(Op_Args+8)(R8), R3
	MOVB	R3, 0(R2)
	MOVD	$0, R3
	MOVD	R3, Op_Ret(R8)
	BR	advance
done:
	RET

// func sigreturnTramp()
// sa_restorer for SA_SIGINFO handlers: rt_sigreturn (the frame is at r15).
// It loops so that, should the kernel wrongly intercept rt_sigreturn, the
// nested SIGSYS is recorded and the original frame is still returned from.
TEXT ·sigreturnTramp(SB),NOSPLIT|NOFRAME,$0-0
again:
	MOVD	$const_sysRtSigreturn, R1
	SYSCALL
	BR	again

// func sigreturnTrampOld()
// sa_restorer for handlers without SA_SIGINFO: sigreturn (119).
TEXT ·sigreturnTrampOld(SB),NOSPLIT|NOFRAME,$0-0
again:
	MOVD	$const_sysSigreturn, R1
	SYSCALL
	BR	again

// func sigsysHandler()
TEXT ·sigsysHandler(SB),NOSPLIT|NOFRAME,$0-0
	XOR	R0, R0
	MOVD	R4, R9			// ucontext
	MOVD	R3, R8			// siginfo
	// Reserve a record: R6 = sequence number.
	MOVD	$·hcount(SB), R7
	MOVD	$1, R5
	LAAG	R5, R6, 0(R7)
	MOVD	R6, R5
	MOVD	$(const_MaxRecords-1), R7
	CMPUBLE	R5, R7, slot
	MOVD	R7, R5
slot:
	MULLD	$Record__size, R5
	MOVD	$·hrecords(SB), R12
	ADD	R5, R12

	// The raw siginfo.
	MOVD	0(R8), R5
	MOVD	R5, (Record_Info+0)(R12)
	MOVD	8(R8), R5
	MOVD	R5, (Record_Info+8)(R12)
	MOVD	16(R8), R5
	MOVD	R5, (Record_Info+16)(R12)
	MOVD	24(R8), R5
	MOVD	R5, (Record_Info+24)(R12)
	MOVD	32(R8), R5
	MOVD	R5, (Record_Info+32)(R12)
	MOVD	40(R8), R5
	MOVD	R5, (Record_Info+40)(R12)
	MOVD	48(R8), R5
	MOVD	R5, (Record_Info+48)(R12)
	MOVD	56(R8), R5
	MOVD	R5, (Record_Info+56)(R12)
	MOVD	64(R8), R5
	MOVD	R5, (Record_Info+64)(R12)
	MOVD	72(R8), R5
	MOVD	R5, (Record_Info+72)(R12)
	MOVD	80(R8), R5
	MOVD	R5, (Record_Info+80)(R12)
	MOVD	88(R8), R5
	MOVD	R5, (Record_Info+88)(R12)
	MOVD	96(R8), R5
	MOVD	R5, (Record_Info+96)(R12)
	MOVD	104(R8), R5
	MOVD	R5, (Record_Info+104)(R12)
	MOVD	112(R8), R5
	MOVD	R5, (Record_Info+112)(R12)
	MOVD	120(R8), R5
	MOVD	R5, (Record_Info+120)(R12)

	// The registers as the kernel rolled them back.
	MOVD	UC_GPR(1)(R9), R5
	MOVD	R5, Record_Nr(R12)
	MOVD	UC_GPR(2)(R9), R5
	MOVD	R5, REC_A(0)(R12)
	MOVD	R5, REC_P(0)(R12)
	MOVD	UC_GPR(3)(R9), R5
	MOVD	R5, REC_A(1)(R12)
	MOVD	R5, REC_P(1)(R12)
	MOVD	UC_GPR(4)(R9), R5
	MOVD	R5, REC_A(2)(R12)
	MOVD	R5, REC_P(2)(R12)
	MOVD	UC_GPR(5)(R9), R5
	MOVD	R5, REC_A(3)(R12)
	MOVD	R5, REC_P(3)(R12)
	MOVD	UC_GPR(6)(R9), R5
	MOVD	R5, REC_A(4)(R12)
	MOVD	R5, REC_P(4)(R12)
	MOVD	UC_GPR(7)(R9), R5
	MOVD	R5, REC_A(5)(R12)
	MOVD	R5, REC_P(5)(R12)
	MOVD	UC_PSWADDR(R9), R5
	MOVD	R5, Record_PC(R12)
	MOVD	UC_GPR(15)(R9), R5
	MOVD	R5, Record_SP(R12)
	MOVD	R6, Record_Seq(R12)
	MOVD	$0, R5
	MOVD	R5, Record_Flags(R12)
	MOVD	R5, Record_RearmRet(R12)
	MOVD	R5, Record_ProbeRet(R12)

	// Syscall User Dispatch test: switch the selector to ALLOW.
	MOVD	·hplan+Plan_SelectorAddr(SB), R5
	CMPBEQ	R5, $0, nosel
	MOVB	R0, 0(R5)
nosel:
	// Only a self-ptrace SIGSYS gets the plan, unless FlagAnyCode.
	MOVD	·hplan+Plan_Flags(SB), R8
	MOVW	(Record_Info+8)(R12), R5
	CMP	R5, $const_SysSelfPtrace
	BEQ	codeok
	MOVD	R8, R5
	AND	$const_FlagAnyCode, R5
	CMPBNE	R5, $0, codeok
	MOVD	$0, R8
	RECFLAG(const_RecOtherCode)
	BR	result
codeok:
	// A self-ptrace SIGSYS for a call that the handler makes itself (from
	// performSite or from its own code) means that the interception did
	// not disarm the thread: record it only, or the handler would repeat
	// its action (perform, probe) forever.
	MOVD	(Record_Info+16)(R12), R6
	MOVD	$·performSite(SB), R5
	ADD	$2, R5
	CMPBEQ	R5, R6, nested
	MOVD	$·sigsysHandler(SB), R5
	CMPUBLT	R6, R5, notnested
	MOVD	·hHandlerEnd(SB), R5
	CMPUBGE	R6, R5, notnested
nested:
	MOVD	$0, R8
	RECFLAG(const_RecNested)
	BR	result
notnested:
	MOVD	R8, R5
	AND	$const_FlagMatchNr, R5
	CMPBEQ	R5, $0, matched
	MOVW	(Record_Info+24)(R12), R5
	MOVD	·hplan+Plan_MatchNr(SB), R6
	CMPBEQ	R5, R6, matched
	MOVD	$(const_FlagPerform|const_FlagRearm|const_actForeign), R8
	RECFLAG(const_RecForeign)
matched:
	// The sigreturn family is never performed nor re-armed after.
	MOVW	(Record_Info+24)(R12), R5
	CMP	R5, $const_sysRtSigreturn
	BEQ	sigret
	CMP	R5, $const_sysSigreturn
	BEQ	sigret
	BR	notsigret
sigret:
	AND	$~(const_FlagPerform|const_FlagRearm), R8
	RECFLAG(const_RecRefused)
	BR	result
notsigret:
	MOVD	R8, R5
	AND	$const_actForeign, R5
	CMPBNE	R5, $0, noprobe
	MOVD	·hplan+Plan_Probe(SB), R5
	CMPBNE	R5, $0, probe
noprobe:
	MOVD	R8, R5
	AND	$const_FlagPerform, R5
	CMPBEQ	R5, $0, noperform
	// Never perform a call that creates a task or replaces the program.
	MOVW	(Record_Info+24)(R12), R5
	CMP	R5, $const_sysFork
	BEQ	refuse
	CMP	R5, $const_sysVfork
	BEQ	refuse
	CMP	R5, $const_sysClone
	BEQ	refuse
	MOVD	$const_sysClone3, R6
	CMPBEQ	R5, R6, refuse
	CMP	R5, $const_sysExecve
	BEQ	refuse
	MOVD	$const_sysExecveat, R6
	CMPBEQ	R5, R6, refuse
	MOVD	R8, R5
	AND	$const_actForeign, R5
	CMPBNE	R5, $0, perform
	// Rewrite the selected arguments.
	MOVD	·hplan+Plan_RewriteMask(SB), R6
	MOVD	R6, R5
	AND	$1, R5
	CMPBEQ	R5, $0, rw1
	MOVD	·hplan+(Plan_RewriteVal+0)(SB), R5
	MOVD	R5, REC_P(0)(R12)
rw1:
	MOVD	R6, R5
	AND	$2, R5
	CMPBEQ	R5, $0, rw2
	MOVD	·hplan+(Plan_RewriteVal+8)(SB), R5
	MOVD	R5, REC_P(1)(R12)
rw2:
	MOVD	R6, R5
	AND	$4, R5
	CMPBEQ	R5, $0, rw3
	MOVD	·hplan+(Plan_RewriteVal+16)(SB), R5
	MOVD	R5, REC_P(2)(R12)
rw3:
	MOVD	R6, R5
	AND	$8, R5
	CMPBEQ	R5, $0, rw4
	MOVD	·hplan+(Plan_RewriteVal+24)(SB), R5
	MOVD	R5, REC_P(3)(R12)
rw4:
	MOVD	R6, R5
	AND	$16, R5
	CMPBEQ	R5, $0, rw5
	MOVD	·hplan+(Plan_RewriteVal+32)(SB), R5
	MOVD	R5, REC_P(4)(R12)
rw5:
	MOVD	R6, R5
	AND	$32, R5
	CMPBEQ	R5, $0, perform
	MOVD	·hplan+(Plan_RewriteVal+40)(SB), R5
	MOVD	R5, REC_P(5)(R12)
perform:
	// The thread was disarmed by the interception: this call runs
	// normally. The number is si_syscall: "svc NN" has it in the
	// instruction, not in a register.
	MOVW	(Record_Info+24)(R12), R1
	MOVD	REC_P(0)(R12), R2
	MOVD	REC_P(1)(R12), R3
	MOVD	REC_P(2)(R12), R4
	MOVD	REC_P(3)(R12), R5
	MOVD	REC_P(4)(R12), R6
	MOVD	REC_P(5)(R12), R7
	MOVD	R14, g	// BL overwrites the return address; g (R13) is unused here
	BL	·performSite(SB)
	MOVD	g, R14
	MOVD	R2, UC_GPR(2)(R9)
	RECFLAG(const_RecPerformed)
	BR	result
refuse:
	MOVD	$-38, R5	// -ENOSYS
	MOVD	R5, UC_GPR(2)(R9)
	RECFLAG(const_RecRefused)
	BR	result
noperform:
	MOVD	R8, R5
	AND	$const_FlagSetResult, R5
	CMPBEQ	R5, $0, result
	MOVD	·hplan+Plan_Result(SB), R5
	MOVD	R5, UC_GPR(2)(R9)
	RECFLAG(const_RecResultSet)
result:
	MOVD	UC_GPR(2)(R9), R5
	MOVD	R5, Record_Result(R12)
	MOVD	R8, R5
	AND	$const_FlagRearm, R5
	CMPBEQ	R5, $0, out
	MOVD	R8, R5
	AND	$const_actForeign, R5
	CMPBNE	R5, $0, rearm
	MOVD	·hplan+Plan_RearmLimit(SB), R5
	CMPBEQ	R5, $0, rearm
	MOVD	Record_Seq(R12), R6
	ADD	$1, R6
	CMPUBGE	R6, R5, out
rearm:
	// Last system call of the handler: only rt_sigreturn follows.
	MOVD	$const_sysPtrace, R1
	MOVD	$const_PtraceSelfOn, R2
	MOVD	$0, R3
	MOVD	$0, R4
	MOVD	$0, R5
	SYSCALL
	MOVD	R2, Record_RearmRet(R12)
	RECFLAG(const_RecRearmed)
out:
	// Syscall User Dispatch benchmark: block again for the caller.
	MOVD	·hplan+Plan_Flags(SB), R5
	AND	$const_FlagReblock, R5
	CMPBEQ	R5, $0, reblocked
	MOVD	·hplan+Plan_SelectorAddr(SB), R5
	CMPBEQ	R5, $0, reblocked
	MOVD	$1, R6
	MOVB	R6, 0(R5)
reblocked:
	RET

probe:
	MOVD	R5, R7		// probe kind
	RECFLAG(const_RecProbed)
	AND	$~const_FlagRearm, R8
	CMP	R7, $const_ProbeFork
	BEQ	pfork
	CMP	R7, $const_ProbeVfork
	BEQ	pvfork
	CMP	R7, $const_ProbeClone
	BEQ	pclone
	CMP	R7, $const_ProbeExec
	BEQ	pexec
	MOVD	$-22, R2	// -EINVAL: unknown probe
	BR	probedone
pfork:
	MOVD	$const_sysFork, R1
	SYSCALL
	CMPBEQ	R2, $0, forkchild
	BR	probedone
pvfork:
	MOVD	$const_sysVfork, R1
	SYSCALL
	CMPBEQ	R2, $0, forkchild
	BR	probedone
pclone:
	MOVD	$0, R5
	MOVD	R5, ·hplan+Plan_ProbeFlag(SB)
	MOVD	$1, R5
	MOVW	R5, ·hplan+Plan_CloneTid(SB)
	// clone(newsp, flags, parent_tid, child_tid, tls) on s390.
	MOVD	$const_sysClone, R1
	MOVD	·hplan+Plan_CloneStack(SB), R2
	MOVD	$const_cloneThreadFlags, R3
	MOVD	$0, R4
	MOVD	$·hplan+Plan_CloneTid(SB), R5
	MOVD	$0, R6
	MOVD	·hcount(SB), g		// g (R13) is unused here
	SYSCALL
	CMPBEQ	R2, $0, clonechild
	CMPBLT	R2, $0, probedone
	// Had the kernel intercepted this clone (the thread still armed), r2
	// would be the rolled-back first argument, not a tid: no child to
	// wait for.
	MOVD	·hcount(SB), R5
	CMPBNE	R5, g, probedone
	// Wait (bounded) for the child thread's verdict.
	MOVD	R2, Record_ProbeRet(R12)
	MOVD	$1000000, R7
cwait:
	MOVD	·hplan+Plan_ProbeFlag(SB), R5
	CMPBNE	R5, $0, cwaited
	MOVD	$const_sysSchedYield, R1
	SYSCALL
	SUB	$1, R7
	CMPBNE	R7, $0, cwait
cwaited:
	MOVD	Record_ProbeRet(R12), R2
	BR	probedone
pexec:
	// Leave the handler's signal mask behind: execve keeps the mask.
	MOVD	$const_sysRtSigprocmsk, R1
	MOVD	$const_SigSetmask, R2
	MOVD	$·zeroSigset(SB), R3
	MOVD	$0, R4
	MOVD	$8, R5
	SYSCALL
	MOVD	$const_sysExecve, R1
	MOVD	·hplan+Plan_ExecPath(SB), R2
	MOVD	·hplan+Plan_ExecArgv(SB), R3
	MOVD	·hplan+Plan_ExecEnvp(SB), R4
	SYSCALL
	// execve failed (rt_sigreturn restores the mask).
probedone:
	MOVD	R2, Record_ProbeRet(R12)
	MOVD	R2, UC_GPR(2)(R9)
	BR	result

// Probe children: one getpid(ChildMagic), then the verdict in R3. The plan
// is cleared first so that, were the child armed, the nested SIGSYS would
// only be recorded; the child sees the counter move either way. No stack
// is used (the vfork child shares the parent's).
forkchild:
	MOVD	$0, R5
	MOVD	R5, ·hplan+Plan_Flags(SB)
	MOVD	R5, ·hplan+Plan_Probe(SB)
	MOVD	·hcount(SB), R6
	MOVD	$const_sysGetpid, R1
	MOVD	·hplan+Plan_ChildMagic(SB), R2
	SYSCALL
	MOVD	·hcount(SB), R7
	MOVD	$const_ProbeNotIntercepted, R3
	CMPBEQ	R6, R7, fcounted
	MOVD	$const_ProbeIntercepted, R3
fcounted:
	CMPBGT	R2, $0, fpidok
	MOVD	$const_ProbeGetpidFailed, R3
fpidok:
	MOVD	R3, R2
	MOVD	$const_sysExitGroup, R1
	SYSCALL
	BR	fpidok
clonechild:
	MOVD	$0, R5
	MOVD	R5, ·hplan+Plan_Flags(SB)
	MOVD	R5, ·hplan+Plan_Probe(SB)
	MOVD	·hcount(SB), R6
	MOVD	$const_sysGetpid, R1
	MOVD	·hplan+Plan_ChildMagic(SB), R2
	SYSCALL
	MOVD	·hcount(SB), R7
	MOVD	$const_ProbeNotIntercepted, R3
	CMPBEQ	R6, R7, ccounted
	MOVD	$const_ProbeIntercepted, R3
ccounted:
	CMPBGT	R2, $0, cpidok
	MOVD	$const_ProbeGetpidFailed, R3
cpidok:
	MOVD	R3, ·hplan+Plan_ProbeFlag(SB)
cexit:
	MOVD	$const_sysExit, R1
	MOVD	$0, R2
	SYSCALL
	BR	cexit

// func usr1Handler()
// A SIGUSR1 handler that performs usr1Op and counts its runs.
TEXT ·usr1Handler(SB),NOSPLIT|NOFRAME,$0-0
	XOR	R0, R0
	MOVD	$·usr1Op(SB), R12
	MOVD	(Op_Args+0)(R12), R2
	MOVD	(Op_Args+8)(R12), R3
	MOVD	(Op_Args+16)(R12), R4
	MOVD	(Op_Args+24)(R12), R5
	MOVD	(Op_Args+32)(R12), R6
	MOVD	(Op_Args+40)(R12), R7
	MOVD	Op_Nr(R12), R1
	SYSCALL
	MOVD	R2, Op_Ret(R12)
	MOVD	$·usr1Count(SB), R7
	MOVD	$1, R5
	LAAG	R5, R6, 0(R7)
	RET

// func armHandler()
// A signal handler that arms its thread and returns: the signal return
// (rt_sigreturn, or sigreturn without SA_SIGINFO) then runs armed.
TEXT ·armHandler(SB),NOSPLIT|NOFRAME,$0-0
	XOR	R0, R0
	MOVD	$const_sysPtrace, R1
	MOVD	$const_PtraceSelfOn, R2
	MOVD	$0, R3
	MOVD	$0, R4
	MOVD	$0, R5
	SYSCALL
	MOVD	R2, ·armHandlerRet(SB)
	MOVD	$·armHandlerCount(SB), R7
	MOVD	$1, R5
	LAAG	R5, R6, 0(R7)
	RET

TEXT ·handlerPC(SB),NOSPLIT,$0-8
	MOVD	$·sigsysHandler(SB), R1
	MOVD	R1, ret+0(FP)
	RET

TEXT ·restorerPC(SB),NOSPLIT,$0-8
	MOVD	$·sigreturnTramp(SB), R1
	MOVD	R1, ret+0(FP)
	RET

TEXT ·oldRestorerPC(SB),NOSPLIT,$0-8
	MOVD	$·sigreturnTrampOld(SB), R1
	MOVD	R1, ret+0(FP)
	RET

TEXT ·usr1HandlerPC(SB),NOSPLIT,$0-8
	MOVD	$·usr1Handler(SB), R1
	MOVD	R1, ret+0(FP)
	RET

TEXT ·armHandlerPC(SB),NOSPLIT,$0-8
	MOVD	$·armHandler(SB), R1
	MOVD	R1, ret+0(FP)
	RET

TEXT ·sysSitePC(SB),NOSPLIT,$0-8
	MOVD	$·sysSite(SB), R1
	MOVD	R1, ret+0(FP)
	RET

TEXT ·sysSiteImmPC(SB),NOSPLIT,$0-8
	MOVD	$·sysSiteImm(SB), R1
	MOVD	R1, ret+0(FP)
	RET

TEXT ·performSitePC(SB),NOSPLIT,$0-8
	MOVD	$·performSite(SB), R1
	MOVD	R1, ret+0(FP)
	RET
