// Self-ptrace test support for x86_64: SIGSYS handler, signal return
// trampoline and the system call sequence runner.
//
// Kernel layouts (verified against Linux 6.12 uapi headers):
//   ucontext (asm-generic/ucontext.h): uc_flags@0, uc_link@8, uc_stack@16
//   (stack_t: ss_sp, ss_flags + pad, ss_size = 24 bytes), uc_mcontext@40.
//   struct sigcontext (x86 uapi sigcontext.h, 64-bit): r8 r9 r10 r11 r12 r13
//   r14 r15 rdi rsi rbp rbx rdx rax rcx rsp rip, 8 bytes each.
//   siginfo: si_signo@0 si_errno@4 si_code@8, _sigsys: _call_addr@16,
//   _syscall@24 (int), _arch@28 (u32).
// Handler entry (C ABI): DI = signo, SI = &siginfo, DX = &ucontext, the
// return address on the stack is sa_restorer.
//
// The handler must not touch the Go runtime: no Go calls, no g, no stack
// growth. It may clobber every register: rt_sigreturn restores them all from
// the ucontext. It avoids BP, R14 and R15 only out of habit (go vet's frame
// pointer check, Go's g register).

#include "go_asm.h"
#include "textflag.h"

#define UC_R8	40
#define UC_R9	48
#define UC_R10	56
#define UC_RDI	104
#define UC_RSI	112
#define UC_RDX	136
#define UC_RAX	144
#define UC_RSP	160
#define UC_RIP	168

#define REC_A(i) (Record_Args+8*(i))
#define REC_P(i) (Record_PerfArgs+8*(i))

// func sysSite()
// Its first instruction is the system call of runSeq, so that the address
// after it (si_call_addr) is sysSitePC()+2.
TEXT ·sysSite(SB),NOSPLIT|NOFRAME,$0-0
	SYSCALL
	RET

// func performSite()
// The system call instruction of the handler's "perform" action, so that
// the handler can recognise a SIGSYS for its own call.
TEXT ·performSite(SB),NOSPLIT|NOFRAME,$0-0
	SYSCALL
	RET

// func runSeq(ops *Op, n uintptr)
// R12 = current op, R13 = ops left: the kernel preserves them across a
// system call and the signal handlers restore them.
TEXT ·runSeq(SB),NOSPLIT,$0-16
	MOVQ	ops+0(FP), R12
	MOVQ	n+8(FP), R13
next:
	TESTQ	R13, R13
	JZ	done
	MOVQ	Op_Nr(R12), AX
	MOVQ	$const_OpSpin, BX
	CMPQ	AX, BX
	JEQ	spin
	MOVQ	$const_OpStore8, BX
	CMPQ	AX, BX
	JEQ	store8
	MOVQ	$const_OpSvcImm, BX
	CMPQ	AX, BX
	JEQ	svcimm
	MOVQ	$const_OpLoop, BX
	CMPQ	AX, BX
	JEQ	loop
	MOVQ	(Op_Args+0)(R12), DI
	MOVQ	(Op_Args+8)(R12), SI
	MOVQ	(Op_Args+16)(R12), DX
	MOVQ	(Op_Args+24)(R12), R10
	MOVQ	(Op_Args+32)(R12), R8
	MOVQ	(Op_Args+40)(R12), R9
	CALL	·sysSite(SB)
	MOVQ	AX, Op_Ret(R12)
advance:
	ADDQ	$Op__size, R12
	DECQ	R13
	JMP	next
spin:
	MOVQ	(Op_Args+0)(R12), DI
	MOVL	$1, (DI)
	MOVQ	(Op_Args+8)(R12), SI
	MOVQ	(Op_Args+16)(R12), CX
	XORQ	AX, AX
spinloop:
	MOVL	(SI), DX
	TESTL	DX, DX
	JNZ	released
	PAUSE
	DECQ	CX
	JNZ	spinloop
	JMP	spinout
released:
	MOVQ	$1, AX
spinout:
	MOVQ	AX, Op_Ret(R12)
	JMP	advance
svcimm:
	MOVQ	$-38, Op_Ret(R12)	// -ENOSYS: s390x only
	JMP	advance
loop:
	// BX counts down: the kernel preserves it across the system call and
	// rt_sigreturn restores it after a SIGSYS handler.
	MOVQ	(Op_Args+16)(R12), BX
	XORQ	AX, AX
	TESTQ	BX, BX
	JZ	loopdone
loopnext:
	MOVQ	(Op_Args+0)(R12), AX
	MOVQ	(Op_Args+8)(R12), DI
	CALL	·sysSite(SB)
	DECQ	BX
	JNZ	loopnext
loopdone:
	MOVQ	AX, Op_Ret(R12)
	JMP	advance
store8:
	MOVQ	(Op_Args+0)(R12), DI
	MOVQ	(Op_Args+8)(R12), SI
	MOVB	SI, (DI)
	MOVQ	$0, Op_Ret(R12)
	JMP	advance
done:
	RET

// func sigreturnTramp()
// sa_restorer: rt_sigreturn. It loops so that, should the kernel wrongly
// intercept rt_sigreturn, the nested SIGSYS is recorded (nr 15) and the
// original frame is still returned from.
TEXT ·sigreturnTramp(SB),NOSPLIT|NOFRAME,$0-0
again:
	MOVQ	$const_sysRtSigreturn, AX
	SYSCALL
	JMP	again

// func sigsysHandler()
// Register use: R12 = this interception's record, R13 = ucontext,
// BX = actions to take (Flag* bits, actForeign).
TEXT ·sigsysHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	DX, R13
	// Reserve a record: BX = sequence number.
	MOVQ	$1, BX
	LOCK
	XADDQ	BX, ·hcount(SB)
	MOVQ	BX, AX
	CMPQ	AX, $(const_MaxRecords-1)
	JBE	slot
	MOVQ	$(const_MaxRecords-1), AX
slot:
	IMULQ	$Record__size, AX
	LEAQ	·hrecords(SB), R12
	ADDQ	AX, R12

	// The raw siginfo.
	MOVQ	0(SI), AX
	MOVQ	AX, (Record_Info+0)(R12)
	MOVQ	8(SI), AX
	MOVQ	AX, (Record_Info+8)(R12)
	MOVQ	16(SI), AX
	MOVQ	AX, (Record_Info+16)(R12)
	MOVQ	24(SI), AX
	MOVQ	AX, (Record_Info+24)(R12)
	MOVQ	32(SI), AX
	MOVQ	AX, (Record_Info+32)(R12)
	MOVQ	40(SI), AX
	MOVQ	AX, (Record_Info+40)(R12)
	MOVQ	48(SI), AX
	MOVQ	AX, (Record_Info+48)(R12)
	MOVQ	56(SI), AX
	MOVQ	AX, (Record_Info+56)(R12)
	MOVQ	64(SI), AX
	MOVQ	AX, (Record_Info+64)(R12)
	MOVQ	72(SI), AX
	MOVQ	AX, (Record_Info+72)(R12)
	MOVQ	80(SI), AX
	MOVQ	AX, (Record_Info+80)(R12)
	MOVQ	88(SI), AX
	MOVQ	AX, (Record_Info+88)(R12)
	MOVQ	96(SI), AX
	MOVQ	AX, (Record_Info+96)(R12)
	MOVQ	104(SI), AX
	MOVQ	AX, (Record_Info+104)(R12)
	MOVQ	112(SI), AX
	MOVQ	AX, (Record_Info+112)(R12)
	MOVQ	120(SI), AX
	MOVQ	AX, (Record_Info+120)(R12)

	// The registers as the kernel rolled them back.
	MOVQ	UC_RAX(R13), AX
	MOVQ	AX, Record_Nr(R12)
	MOVQ	UC_RDI(R13), AX
	MOVQ	AX, REC_A(0)(R12)
	MOVQ	AX, REC_P(0)(R12)
	MOVQ	UC_RSI(R13), AX
	MOVQ	AX, REC_A(1)(R12)
	MOVQ	AX, REC_P(1)(R12)
	MOVQ	UC_RDX(R13), AX
	MOVQ	AX, REC_A(2)(R12)
	MOVQ	AX, REC_P(2)(R12)
	MOVQ	UC_R10(R13), AX
	MOVQ	AX, REC_A(3)(R12)
	MOVQ	AX, REC_P(3)(R12)
	MOVQ	UC_R8(R13), AX
	MOVQ	AX, REC_A(4)(R12)
	MOVQ	AX, REC_P(4)(R12)
	MOVQ	UC_R9(R13), AX
	MOVQ	AX, REC_A(5)(R12)
	MOVQ	AX, REC_P(5)(R12)
	MOVQ	UC_RIP(R13), AX
	MOVQ	AX, Record_PC(R12)
	MOVQ	UC_RSP(R13), AX
	MOVQ	AX, Record_SP(R12)
	MOVQ	BX, Record_Seq(R12)
	XORQ	AX, AX
	MOVQ	AX, Record_Flags(R12)
	MOVQ	AX, Record_RearmRet(R12)
	MOVQ	AX, Record_ProbeRet(R12)

	// Syscall User Dispatch test: switch the selector to ALLOW so that the
	// handler's own calls and its return are not dispatched.
	MOVQ	·hplan+Plan_SelectorAddr(SB), AX
	TESTQ	AX, AX
	JZ	nosel
	MOVB	$0, (AX)
nosel:
	// Only a self-ptrace SIGSYS gets the plan, unless FlagAnyCode.
	MOVQ	·hplan+Plan_Flags(SB), BX
	MOVL	(Record_Info+8)(R12), AX
	CMPL	AX, $const_SysSelfPtrace
	JEQ	codeok
	TESTQ	$const_FlagAnyCode, BX
	JNZ	codeok
	XORQ	BX, BX
	ORQ	$const_RecOtherCode, Record_Flags(R12)
	JMP	result
codeok:
	// A self-ptrace SIGSYS for a call that the handler makes itself (from
	// performSite or from its own code) means that the interception did
	// not disarm the thread: record it only, or the handler would repeat
	// its action (perform, probe) forever.
	MOVQ	(Record_Info+16)(R12), CX
	MOVQ	$·performSite(SB), AX
	ADDQ	$2, AX
	CMPQ	AX, CX
	JEQ	nested
	MOVQ	$·sigsysHandler(SB), AX
	CMPQ	CX, AX
	JB	notnested
	CMPQ	CX, ·hHandlerEnd(SB)
	JAE	notnested
nested:
	XORQ	BX, BX
	ORQ	$const_RecNested, Record_Flags(R12)
	JMP	result
notnested:
	TESTQ	$const_FlagMatchNr, BX
	JZ	matched
	MOVL	(Record_Info+24)(R12), AX
	CMPL	AX, ·hplan+Plan_MatchNr(SB)
	JEQ	matched
	MOVQ	$(const_FlagPerform|const_FlagRearm|const_actForeign), BX
	ORQ	$const_RecForeign, Record_Flags(R12)
matched:
	// The sigreturn family is never performed nor re-armed after (if the
	// kernel intercepted it, re-arming would loop forever).
	MOVL	(Record_Info+24)(R12), AX
	CMPL	AX, $const_sysRtSigreturn
	JEQ	sigret
	MOVL	Record_Nr(R12), AX
	CMPL	AX, $const_sysRtSigreturn
	JNE	notsigret
sigret:
	ANDQ	$~(const_FlagPerform|const_FlagRearm), BX
	ORQ	$const_RecRefused, Record_Flags(R12)
	JMP	result
notsigret:
	TESTQ	$const_actForeign, BX
	JNZ	noprobe
	MOVQ	·hplan+Plan_Probe(SB), AX
	TESTQ	AX, AX
	JNZ	probe
noprobe:
	TESTQ	$const_FlagPerform, BX
	JZ	noperform
	// Never perform a call that creates a task or replaces the program:
	// checked on both si_syscall and the low 32 bits of rax.
	MOVL	(Record_Info+24)(R12), AX
	CALL	refusecheck<>(SB)
	JEQ	refuse
	MOVL	Record_Nr(R12), AX
	CALL	refusecheck<>(SB)
	JEQ	refuse
	TESTQ	$const_actForeign, BX
	JNZ	perform
	// Rewrite the selected arguments.
	MOVQ	·hplan+Plan_RewriteMask(SB), CX
	TESTQ	$1, CX
	JZ	rw1
	MOVQ	·hplan+(Plan_RewriteVal+0)(SB), AX
	MOVQ	AX, REC_P(0)(R12)
rw1:
	TESTQ	$2, CX
	JZ	rw2
	MOVQ	·hplan+(Plan_RewriteVal+8)(SB), AX
	MOVQ	AX, REC_P(1)(R12)
rw2:
	TESTQ	$4, CX
	JZ	rw3
	MOVQ	·hplan+(Plan_RewriteVal+16)(SB), AX
	MOVQ	AX, REC_P(2)(R12)
rw3:
	TESTQ	$8, CX
	JZ	rw4
	MOVQ	·hplan+(Plan_RewriteVal+24)(SB), AX
	MOVQ	AX, REC_P(3)(R12)
rw4:
	TESTQ	$16, CX
	JZ	rw5
	MOVQ	·hplan+(Plan_RewriteVal+32)(SB), AX
	MOVQ	AX, REC_P(4)(R12)
rw5:
	TESTQ	$32, CX
	JZ	perform
	MOVQ	·hplan+(Plan_RewriteVal+40)(SB), AX
	MOVQ	AX, REC_P(5)(R12)
perform:
	// The thread was disarmed by the interception: this call runs
	// normally (and passes through ptrace, seccomp and audit as usual).
	MOVQ	REC_P(0)(R12), DI
	MOVQ	REC_P(1)(R12), SI
	MOVQ	REC_P(2)(R12), DX
	MOVQ	REC_P(3)(R12), R10
	MOVQ	REC_P(4)(R12), R8
	MOVQ	REC_P(5)(R12), R9
	MOVQ	Record_Nr(R12), AX
	CALL	·performSite(SB)
	MOVQ	AX, UC_RAX(R13)
	ORQ	$const_RecPerformed, Record_Flags(R12)
	JMP	result
refuse:
	MOVQ	$-38, UC_RAX(R13)	// -ENOSYS
	ORQ	$const_RecRefused, Record_Flags(R12)
	JMP	result
noperform:
	TESTQ	$const_FlagSetResult, BX
	JZ	result
	MOVQ	·hplan+Plan_Result(SB), AX
	MOVQ	AX, UC_RAX(R13)
	ORQ	$const_RecResultSet, Record_Flags(R12)
result:
	MOVQ	UC_RAX(R13), AX
	MOVQ	AX, Record_Result(R12)
	TESTQ	$const_FlagRearm, BX
	JZ	out
	TESTQ	$const_actForeign, BX
	JNZ	rearm
	MOVQ	·hplan+Plan_RearmLimit(SB), AX
	TESTQ	AX, AX
	JZ	rearm
	MOVQ	Record_Seq(R12), CX
	INCQ	CX
	CMPQ	CX, AX
	JAE	out
rearm:
	// Last system call of the handler: only rt_sigreturn follows, which
	// is never intercepted.
	MOVQ	$const_sysPtrace, AX
	MOVQ	$const_PtraceSelfOn, DI
	XORQ	SI, SI
	XORQ	DX, DX
	XORQ	R10, R10
	SYSCALL
	MOVQ	AX, Record_RearmRet(R12)
	ORQ	$const_RecRearmed, Record_Flags(R12)
out:
	// Syscall User Dispatch benchmark: block again for the caller.
	MOVQ	·hplan+Plan_Flags(SB), AX
	TESTQ	$const_FlagReblock, AX
	JZ	reblocked
	MOVQ	·hplan+Plan_SelectorAddr(SB), AX
	TESTQ	AX, AX
	JZ	reblocked
	MOVB	$1, (AX)
reblocked:
	RET

probe:
	ORQ	$const_RecProbed, Record_Flags(R12)
	ANDQ	$~const_FlagRearm, BX
	CMPQ	AX, $const_ProbeFork
	JEQ	pfork
	CMPQ	AX, $const_ProbeVfork
	JEQ	pvfork
	CMPQ	AX, $const_ProbeClone
	JEQ	pclone
	CMPQ	AX, $const_ProbeExec
	JEQ	pexec
	MOVQ	$-22, AX	// -EINVAL: unknown probe
	JMP	probedone
pfork:
	MOVQ	$const_sysFork, AX
	SYSCALL
	TESTQ	AX, AX
	JZ	forkchild
	JMP	probedone
pvfork:
	MOVQ	$const_sysVfork, AX
	SYSCALL
	TESTQ	AX, AX
	JZ	forkchild
	JMP	probedone
pclone:
	MOVQ	$0, ·hplan+Plan_ProbeFlag(SB)
	MOVL	$1, ·hplan+Plan_CloneTid(SB)
	MOVQ	$const_sysClone, AX
	MOVQ	$const_cloneThreadFlags, DI
	MOVQ	·hplan+Plan_CloneStack(SB), SI
	XORQ	DX, DX
	LEAQ	·hplan+Plan_CloneTid(SB), R10
	XORQ	R8, R8
	MOVQ	·hcount(SB), R9
	SYSCALL
	TESTQ	AX, AX
	JZ	clonechild
	JL	probedone
	// Had the kernel intercepted this clone (the thread still armed), AX
	// would be the rolled-back number, not a tid: no child to wait for.
	CMPQ	R9, ·hcount(SB)
	JNE	probedone
	// Wait (bounded) for the child thread's verdict.
	MOVQ	AX, Record_ProbeRet(R12)
	MOVQ	$1000000, R8
cwait:
	MOVQ	·hplan+Plan_ProbeFlag(SB), AX
	TESTQ	AX, AX
	JNZ	cwaited
	MOVQ	$const_sysSchedYield, AX
	SYSCALL
	DECQ	R8
	JNZ	cwait
cwaited:
	MOVQ	Record_ProbeRet(R12), AX
	JMP	probedone
pexec:
	// Leave the handler's signal mask behind: execve keeps the mask.
	MOVQ	$const_sysRtSigprocmsk, AX
	MOVQ	$const_SigSetmask, DI
	LEAQ	·zeroSigset(SB), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL
	MOVQ	$const_sysExecve, AX
	MOVQ	·hplan+Plan_ExecPath(SB), DI
	MOVQ	·hplan+Plan_ExecArgv(SB), SI
	MOVQ	·hplan+Plan_ExecEnvp(SB), DX
	SYSCALL
	// execve failed (rt_sigreturn restores the mask).
probedone:
	MOVQ	AX, Record_ProbeRet(R12)
	MOVQ	AX, UC_RAX(R13)
	JMP	result

// Probe children: one getpid(ChildMagic), then the verdict. The plan is
// cleared first so that, were the child armed, the nested SIGSYS would only
// be recorded (the counter is shared with a thread or vfork child, and a
// copy in a fork child: either way the child sees it move).
forkchild:
	CALL	childcheck<>(SB)
	MOVQ	$const_sysExitGroup, AX
	SYSCALL
	JMP	forkchild
clonechild:
	CALL	childcheck<>(SB)
	MOVQ	DI, ·hplan+Plan_ProbeFlag(SB)
	MOVQ	$const_sysExit, AX
	XORQ	DI, DI
	SYSCALL
	JMP	clonechild

// childcheck returns the verdict in DI. It uses the new task's stack for
// its return address only (the vfork child shares the parent's stack, which
// the parent does not use until the child has exited).
TEXT childcheck<>(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	$0, ·hplan+Plan_Flags(SB)
	MOVQ	$0, ·hplan+Plan_Probe(SB)
	MOVQ	·hcount(SB), R8
	MOVQ	$const_sysGetpid, AX
	MOVQ	·hplan+Plan_ChildMagic(SB), DI
	SYSCALL
	MOVQ	·hcount(SB), R9
	MOVQ	$const_ProbeNotIntercepted, DI
	CMPQ	R8, R9
	JEQ	counted
	MOVQ	$const_ProbeIntercepted, DI
counted:
	TESTQ	AX, AX
	JG	pidok
	MOVQ	$const_ProbeGetpidFailed, DI
pidok:
	RET

// refusecheck sets ZF if AX (32 bits) is a call the handler must not perform.
TEXT refusecheck<>(SB),NOSPLIT|NOFRAME,$0-0
	CMPL	AX, $const_sysFork
	JEQ	yes
	CMPL	AX, $const_sysVfork
	JEQ	yes
	CMPL	AX, $const_sysClone
	JEQ	yes
	CMPL	AX, $const_sysClone3
	JEQ	yes
	CMPL	AX, $const_sysExecve
	JEQ	yes
	CMPL	AX, $const_sysExecveat
	JEQ	yes
	CMPL	AX, $const_sysRtSigreturn
yes:
	RET

// func usr1Handler()
// A SIGUSR1 handler that performs usr1Op (a system call made from an
// unrelated signal handler) and counts its runs.
TEXT ·usr1Handler(SB),NOSPLIT|NOFRAME,$0-0
	LEAQ	·usr1Op(SB), R12
	MOVQ	(Op_Args+0)(R12), DI
	MOVQ	(Op_Args+8)(R12), SI
	MOVQ	(Op_Args+16)(R12), DX
	MOVQ	(Op_Args+24)(R12), R10
	MOVQ	(Op_Args+32)(R12), R8
	MOVQ	(Op_Args+40)(R12), R9
	MOVQ	Op_Nr(R12), AX
	CALL	·sysSite(SB)
	MOVQ	AX, Op_Ret(R12)
	LOCK
	INCQ	·usr1Count(SB)
	RET

// func armHandler()
// A signal handler that arms its thread and returns: the signal return
// (rt_sigreturn, or sigreturn on s390x) then runs armed.
TEXT ·armHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	$const_sysPtrace, AX
	MOVQ	$const_PtraceSelfOn, DI
	XORQ	SI, SI
	XORQ	DX, DX
	XORQ	R10, R10
	SYSCALL
	MOVQ	AX, ·armHandlerRet(SB)
	LOCK
	INCQ	·armHandlerCount(SB)
	RET

TEXT ·handlerPC(SB),NOSPLIT,$0-8
	MOVQ	$·sigsysHandler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·restorerPC(SB),NOSPLIT,$0-8
	MOVQ	$·sigreturnTramp(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·usr1HandlerPC(SB),NOSPLIT,$0-8
	MOVQ	$·usr1Handler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·armHandlerPC(SB),NOSPLIT,$0-8
	MOVQ	$·armHandler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·sysSitePC(SB),NOSPLIT,$0-8
	MOVQ	$·sysSite(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·performSitePC(SB),NOSPLIT,$0-8
	MOVQ	$·performSite(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
