package selfptrace

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Plan flags: what the handler does with a self-ptrace interception (si_code
// SYS_SELF_PTRACE; other SIGSYS, from seccomp or Syscall User Dispatch, are
// only recorded unless FlagAnyCode is set).
const (
	// FlagPerform: perform the call for real from the handler (the thread is
	// disarmed at that point, so it runs normally), with the arguments of
	// the ucontext except those selected by RewriteMask, and store its
	// result in the ucontext's result register. The handler refuses (and
	// stores -ENOSYS) for fork, vfork, clone, clone3, execve and execveat,
	// and for the sigreturn family.
	FlagPerform = 1 << 0
	// FlagSetResult: store Plan.Result in the result register.
	FlagSetResult = 1 << 1
	// FlagRearm: call PTRACE_SELF_ON just before returning, while the number
	// of interceptions so far is below RearmLimit (0: no limit). Never done
	// for the sigreturn family.
	FlagRearm = 1 << 2
	// FlagMatchNr: only si_syscall == MatchNr gets the planned actions; any
	// other interception is "foreign" (the Go runtime's, in windows where Go
	// code runs armed): it is performed as is and re-armed, so that the
	// runtime does not notice, and recorded with RecForeign.
	FlagMatchNr = 1 << 3
	// FlagAnyCode: apply the plan to every SIGSYS, whatever its si_code
	// (used to validate the handler with seccomp's SECCOMP_RET_TRAP on a
	// kernel without self-ptrace).
	FlagAnyCode = 1 << 4
	// FlagReblock: if Plan.SelectorAddr is set, store 1
	// (SYSCALL_DISPATCH_FILTER_BLOCK) there just before the handler returns,
	// whatever it did: the handler of a Syscall User Dispatch benchmark
	// performs the call with the selector on ALLOW (set at entry) and
	// blocks again for the caller's next call. The sa_restorer must lie in
	// the region that dispatch always allows.
	FlagReblock = 1 << 5

	// actForeign is the handler's internal marker for a foreign call.
	actForeign = 1 << 20
)

// Probe kinds: instead of performing the intercepted call, the handler
// creates a task right after the interception and reports whether that task
// starts disarmed. The child makes one getpid(ChildMagic) call and compares
// the interception counter before and after it: exit status (fork, vfork) or
// ProbeFlag (clone thread) 42 means "not intercepted", 43 "intercepted", 44
// "getpid failed".
const (
	ProbeNone  = 0
	ProbeFork  = 1
	ProbeVfork = 2
	ProbeClone = 3 // CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_CHILD_CLEARTID
	ProbeExec  = 4 // execve(ExecPath, ExecArgv, ExecEnvp) with an empty signal mask

	ProbeNotIntercepted = 42
	ProbeIntercepted    = 43
	ProbeGetpidFailed   = 44

	cloneThreadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_CHILD_CLEARTID
)

// Record flags: what the handler did.
const (
	RecPerformed = 1 << 0 // performed the call (Result is the real result)
	RecResultSet = 1 << 1 // stored Plan.Result
	RecRearmed   = 1 << 2 // called PTRACE_SELF_ON (RearmRet is its result)
	RecForeign   = 1 << 3 // did not match MatchNr: passed through
	RecRefused   = 1 << 4 // would not perform (process creation, sigreturn family)
	RecProbed    = 1 << 5 // ran the Plan.Probe (ProbeRet is its result)
	RecOtherCode = 1 << 6 // si_code was not SYS_SELF_PTRACE: recorded only
	RecNested    = 1 << 7 // self-ptrace SIGSYS for the handler's own call (the kernel did not disarm): recorded only
)

// MaxRecords is the size of the record array; further interceptions
// overwrite the last slot (the counter still counts them).
const MaxRecords = 2048

// Plan drives the handler. Its layout is read by the assembly through
// go_asm.h offsets; every field is a uint64 so that it has one layout.
type Plan struct {
	Flags        uint64
	MatchNr      uint64 // compared with si_syscall (sign-extended)
	RewriteMask  uint64 // bit i: perform with RewriteVal[i] as argument i
	RewriteVal   [6]uint64
	Result       uint64 // FlagSetResult
	RearmLimit   uint64 // FlagRearm only while seq+1 < RearmLimit (0: always)
	SelectorAddr uint64 // if non-zero: byte stored 0 (SYSCALL_DISPATCH_FILTER_ALLOW) at entry
	Probe        uint64 // Probe* kind
	ExecPath     uint64 // ProbeExec: char *
	ExecArgv     uint64 // ProbeExec: char **
	ExecEnvp     uint64 // ProbeExec: char **
	CloneStack   uint64 // ProbeClone: top of the child's stack
	ProbeFlag    uint64 // ProbeClone: verdict written by the child thread
	CloneTid     uint64 // ProbeClone: first 32 bits are the CLONE_CHILD_CLEARTID word
	ChildMagic   uint64 // argument of the probe child's getpid, to recognise it
}

// Record is what the handler stores for one SIGSYS.
type Record struct {
	Info     Siginfo   // the raw 128-byte siginfo
	Nr       uint64    // number register of the ucontext: amd64 rax, s390x r1, arm64 x8, riscv64 a7
	Args     [6]uint64 // argument registers of the ucontext (amd64 rdi rsi rdx r10 r8 r9, s390x r2..r7, arm64 x0..x5, riscv64 a0..a5)
	PerfArgs [6]uint64 // arguments the handler performed the call with
	PC       uint64    // ucontext rip / psw.addr / pc / pc
	SP       uint64    // ucontext rsp / r15 / sp / sp
	Result   uint64    // result register (rax / r2 / x0 / a0) when the handler returned
	Flags    uint64    // Rec* flags
	RearmRet uint64    // result of the handler's PTRACE_SELF_ON
	Seq      uint64    // interception number (0 for the first)
	ProbeRet uint64    // result of the probe's fork/vfork/clone/execve
	_        [4]uint64
}

// Siginfo is a raw 128-byte siginfo_t.
type Siginfo [16]uint64

func (si *Siginfo) bytes() *[128]byte { return (*[128]byte)(unsafe.Pointer(si)) }

func (si *Siginfo) u32(off int) uint32 { return binary.NativeEndian.Uint32(si.bytes()[off:]) }

// Signo is si_signo.
func (si *Siginfo) Signo() int32 { return int32(si.u32(0)) }

// Errno is si_errno.
func (si *Siginfo) Errno() int32 { return int32(si.u32(4)) }

// Code is si_code.
func (si *Siginfo) Code() int32 { return int32(si.u32(8)) }

// CallAddr is si_call_addr (_sigsys at offset 16 on 64-bit).
func (si *Siginfo) CallAddr() uint64 { return binary.NativeEndian.Uint64(si.bytes()[16:]) }

// Syscall is si_syscall.
func (si *Siginfo) Syscall() int32 { return int32(si.u32(24)) }

// Arch is si_arch.
func (si *Siginfo) Arch() uint32 { return si.u32(28) }

// NonZeroTail returns the offsets of the non-zero bytes outside si_signo,
// si_errno, si_code and _sigsys: the kernel must clear the siginfo before
// filling it.
func (si *Siginfo) NonZeroTail() []int {
	var bad []int
	b := si.bytes()
	for i := 12; i < 128; i++ {
		if i >= 16 && i < 32 {
			continue
		}
		if b[i] != 0 {
			bad = append(bad, i)
		}
	}
	return bad
}

// Signo is si_signo.
func (r *Record) Signo() int32 { return r.Info.Signo() }

// Errno is si_errno.
func (r *Record) Errno() int32 { return r.Info.Errno() }

// Code is si_code.
func (r *Record) Code() int32 { return r.Info.Code() }

// CallAddr is si_call_addr.
func (r *Record) CallAddr() uint64 { return r.Info.CallAddr() }

// Syscall is si_syscall.
func (r *Record) Syscall() int32 { return r.Info.Syscall() }

// Arch is si_arch.
func (r *Record) Arch() uint32 { return r.Info.Arch() }

// NonZeroInfoTail is Info.NonZeroTail.
func (r *Record) NonZeroInfoTail() []int { return r.Info.NonZeroTail() }

func (r *Record) String() string {
	return fmt.Sprintf("seq=%d signo=%d errno=%d code=%d syscall=%d arch=%#x call_addr=%#x pc=%#x nr=%#x args=%#x result=%#x flags=%#x",
		r.Seq, r.Signo(), r.Errno(), r.Code(), r.Syscall(), r.Arch(), r.CallAddr(), r.PC, r.Nr, r.Args, r.Result, r.Flags)
}

// Package-level state shared with the assembly handler.
//
// The handler is entered by the kernel, not called by Go: it cannot receive
// pointers to Go objects, and it may run while no Go code can be asked
// anything. It therefore finds its plan and stores its records in package
// variables, which live in the binary's data/BSS segments: they never move,
// contain no pointers the garbage collector would follow, and the assembly
// can address them by symbol. There is one handler per process (SIGSYS
// dispositions are process-wide), so one plan per process is not a
// limitation; tests use them one at a time (none of the tests is parallel).
var (
	hplan    Plan
	hrecords [MaxRecords]Record
	hcount   uint64 // interceptions started; reserved atomically by the handler
	// hHandlerEnd is the end of sigsysHandler's code: a self-ptrace SIGSYS
	// for a call made from [HandlerPC, hHandlerEnd) or from performSite is
	// for the handler's own call (nesting guard, see RecNested).
	hHandlerEnd uint64
	zeroSigset  uint64 // empty signal mask for the exec probe

	// usr1Op is the system call that usr1Handler performs (test of a
	// syscall made by an unrelated signal handler while armed).
	usr1Op    Op
	usr1Count uint64

	// armHandlerRet/Count: results of armHandler's PTRACE_SELF_ON.
	armHandlerRet   uint64
	armHandlerCount uint64

	// cloneStack is the stack of the ProbeClone child thread.
	cloneStack [64 << 10]byte
)

// SetPlan replaces the plan. Call it only while no thread is armed.
func SetPlan(p Plan) {
	if p.Probe == ProbeClone && p.CloneStack == 0 {
		top := uintptr(unsafe.Pointer(&cloneStack[len(cloneStack)-1])) + 1
		p.CloneStack = uint64(top &^ 15)
	}
	hplan = p
}

// Reset clears the plan, the records and the counters.
func Reset() {
	hplan = Plan{}
	hrecords = [MaxRecords]Record{}
	atomic.StoreUint64(&hcount, 0)
	usr1Op = Op{}
	atomic.StoreUint64(&usr1Count, 0)
	atomic.StoreUint64(&armHandlerRet, 0)
	atomic.StoreUint64(&armHandlerCount, 0)
}

// Count is the number of SIGSYS the handler has seen since Reset.
func Count() uint64 { return loadCount() }

// Records returns a copy of the records of the SIGSYS seen since Reset.
func Records() []Record {
	n := loadCount()
	if n > MaxRecords {
		n = MaxRecords
	}
	out := make([]Record, n)
	copy(out, hrecords[:n])
	return out
}

// LastRecord returns a copy of the record of the latest SIGSYS since Reset
// (the last slot once more than MaxRecords were seen), without copying the
// whole array as Records does.
func LastRecord() (Record, bool) {
	n := loadCount()
	if n == 0 {
		return Record{}, false
	}
	return hrecords[min(n, MaxRecords)-1], true
}

// CurrentPlan returns a copy of the plan (the handler and probe children may
// write ProbeFlag and CloneTid).
func CurrentPlan() Plan { return hplan }

// CloneTidWord returns the CLONE_CHILD_CLEARTID word of the clone probe: 1
// while the child thread lives, 0 after the kernel cleared it at its exit.
func CloneTidWord() uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&hplan.CloneTid)))
}

// ProbeFlagValue returns the clone probe child's verdict (0 while pending).
func ProbeFlagValue() uint64 { return atomic.LoadUint64(&hplan.ProbeFlag) }

// SetUsr1Op sets the call that usr1Handler performs.
func SetUsr1Op(op Op) { usr1Op = op }

// Usr1Result returns usr1Handler's count of runs and its last call's result.
func Usr1Result() (count uint64, ret uint64) {
	return atomic.LoadUint64(&usr1Count), atomic.LoadUint64(&usr1Op.Ret)
}

// ArmHandlerResult returns armHandler's count of runs and its last
// PTRACE_SELF_ON result.
func ArmHandlerResult() (count uint64, ret uint64) {
	return atomic.LoadUint64(&armHandlerCount), atomic.LoadUint64(&armHandlerRet)
}

// Addresses of the assembly entry points.
var (
	// HandlerPC is the SIGSYS handler.
	HandlerPC = handlerPC()
	// RestorerPC is the rt_sigreturn trampoline used as sa_restorer.
	RestorerPC = restorerPC()
	// SysSitePC is the system call instruction of runSeq: si_call_addr of
	// every call made by runSeq is SysSitePC + SyscallInsnLen.
	SysSitePC = sysSitePC()
	// Usr1HandlerPC is the SIGUSR1 handler that performs usr1Op.
	Usr1HandlerPC = usr1HandlerPC()
	// ArmHandlerPC is a handler that calls PTRACE_SELF_ON and returns.
	ArmHandlerPC = armHandlerPC()
	// PerformSitePC is the system call instruction with which the handler
	// performs a call: si_call_addr of a SIGSYS for such a call is
	// PerformSitePC + SyscallInsnLen.
	PerformSitePC = performSitePC()
)

func init() { hHandlerEnd = uint64(funcEnd(HandlerPC)) }

// funcEnd returns the first address after the function that contains pc,
// from the runtime's function table (which covers assembly functions).
func funcEnd(pc uintptr) uintptr {
	f := runtime.FuncForPC(pc)
	if f == nil {
		return pc
	}
	end := pc
	for g := f; g != nil && g.Entry() == f.Entry(); g = runtime.FuncForPC(end) {
		end++
	}
	return end
}

// Sigaction is a signal action as the tests see it: {handler, flags,
// restorer, mask}, which is also the kernel's struct sigaction on x86_64,
// s390x and arm64 (include/linux/signal_types.h with __ARCH_HAS_SA_RESTORER).
// riscv64 has no SA_RESTORER: its kernel struct has no restorer field (see
// ksigaction), the kernel returns from a handler through the vDSO, and the
// assembly handlers of this package return through RestorerPC themselves.
type Sigaction struct {
	Handler  uintptr
	Flags    uint64
	Restorer uintptr
	Mask     uint64
}

// Special handler values.
const (
	SigDfl = 0
	SigIgn = 1
)

// RtSigaction is a raw rt_sigaction(sig, act, old, 8).
func RtSigaction(sig int, act, old *Sigaction) error {
	var kact, kold ksigaction
	var pact, pold unsafe.Pointer
	if act != nil {
		kact = toKsigaction(act)
		pact = unsafe.Pointer(&kact)
	}
	if old != nil {
		pold = unsafe.Pointer(&kold)
	}
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(pact), uintptr(pold), 8, 0, 0)
	if e != 0 {
		return fmt.Errorf("rt_sigaction(%d): %s", sig, ErrnoName(e))
	}
	if old != nil {
		*old = fromKsigaction(&kold)
	}
	return nil
}

// HandlerAction returns a sigaction for one of the assembly handlers:
// SA_SIGINFO so that it gets siginfo and ucontext, SA_ONSTACK so that it
// runs on the Go thread's signal stack, SA_RESTORER with our own
// rt_sigreturn trampoline, SA_NODEFER so that a SIGSYS raised by a call the
// handler performs (seccomp trap) or by a wrongly intercepted rt_sigreturn is
// recorded instead of killing the process. All other signals are blocked
// while it runs, so that no Go signal handler nests inside it.
func HandlerAction(pc uintptr) Sigaction {
	return Sigaction{
		Handler:  pc,
		Flags:    SaSiginfo | SaOnstack | SaRestorer | SaNodefer,
		Restorer: RestorerPC,
		Mask:     ^uint64(0) &^ SigBit(SIGSYS),
	}
}

// InstallHandler makes the assembly handler the SIGSYS action and returns a
// function that restores the previous one.
func InstallHandler() (restore func() error, err error) {
	return InstallAction(SIGSYS, HandlerAction(HandlerPC))
}

// Prepare is the prologue of a helper process that arms a thread: it
// checks that the kernel has the feature and installs the handler for the
// rest of the process.
func Prepare() error {
	if err := Probe(); err != nil {
		return err
	}
	_, err := InstallHandler()
	return err
}

// InstallAction sets sig's action and returns a function that restores the
// previous one.
func InstallAction(sig int, act Sigaction) (restore func() error, err error) {
	var old Sigaction
	if err := RtSigaction(sig, &act, &old); err != nil {
		return nil, err
	}
	return func() error { return RtSigaction(sig, &old, nil) }, nil
}
