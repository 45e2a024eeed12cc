package selfptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Op is one step of a sequence run by runSeq: a system call (Nr and Args
// loaded into the number and argument registers, then the call instruction
// at SysSitePC; Ret receives the raw result register) or one of the pseudo
// operations below, which make no system call. The layout is read by the
// assembly.
type Op struct {
	Nr   uint64
	Args [6]uint64
	Ret  uint64
}

// Pseudo operations (values no test uses as a system call number).
const (
	// OpSpin stores 1 in the uint32 at Args[0], then spins without any
	// system call until the uint32 at Args[1] is non-zero (Ret = 1) or
	// Args[2] iterations have passed (Ret = 0).
	OpSpin = 0x5350_0000_0000_0001
	// OpStore8 stores the byte Args[1] at address Args[0].
	OpStore8 = 0x5350_0000_0000_0002
	// OpSvcImm: on s390x, "svc 20" (getpid encoded in the instruction)
	// with r1 = 0xffff and r2..r7 = Args; on arm64, "svc #0x40" (write's
	// number as the immediate, which arm64 ignores) with x8 = getpid and
	// x0..x5 = Args. si_call_addr is SvcImmSitePC + SyscallInsnLen.
	// Elsewhere it returns -ENOSYS without a system call.
	OpSvcImm = 0x5350_0000_0000_0003
	// OpLoop performs system call Args[0] with first argument Args[1] (the
	// other argument registers are left as they are), Args[2] times in a
	// row from SysSitePC, without any other instruction that could make a
	// system call in between; Ret is the result of the last one (0 if
	// Args[2] is 0). For benchmarks.
	OpLoop = 0x5350_0000_0000_0004
)

// Errno returns the errno encoded in a raw result (-4095..-1), or 0.
func (o *Op) Errno() unix.Errno {
	if int64(o.Ret) < 0 && int64(o.Ret) >= -4095 {
		return unix.Errno(-int64(o.Ret))
	}
	return 0
}

// Syscall builds a system call op; missing arguments are 0.
func Syscall(nr uint64, args ...uint64) Op {
	var op Op
	op.Nr = nr
	copy(op.Args[:], args)
	return op
}

// On is ptrace(PTRACE_SELF_ON, 0, 0, 0).
func On() Op { return Syscall(unix.SYS_PTRACE, PtraceSelfOn) }

// Off is ptrace(PTRACE_SELF_OFF, 0, 0, 0).
func Off() Op { return Syscall(unix.SYS_PTRACE, PtraceSelfOff) }

// Spin is an OpSpin on armed/release with at most max iterations.
func Spin(armed, release *uint32, max uint64) Op {
	return Op{Nr: OpSpin, Args: [6]uint64{
		uint64(uintptr(unsafe.Pointer(armed))),
		uint64(uintptr(unsafe.Pointer(release))),
		max,
	}}
}

// Loop is an OpLoop: n calls of nr with first argument arg0.
func Loop(nr, arg0, n uint64) Op {
	return Op{Nr: OpLoop, Args: [6]uint64{nr, arg0, n}}
}

// Store8 is an OpStore8 of v at p.
func Store8(p *byte, v byte) Op {
	return Op{Nr: OpStore8, Args: [6]uint64{uint64(uintptr(unsafe.Pointer(p))), uint64(v)}}
}

// RunRaw runs ops back to back in assembly on the calling thread, exactly as
// given, and stores each result in its Ret. The caller must hold
// runtime.LockOSThread; pointers in Args must stay alive (use
// runtime.KeepAlive after the call).
func RunRaw(ops []Op) {
	if len(ops) == 0 {
		return
	}
	runSeq(&ops[0], uintptr(len(ops)))
}
