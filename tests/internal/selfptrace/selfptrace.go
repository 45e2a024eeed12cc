// Package selfptrace is the guest-side support library of the self-ptrace
// conformance suite (see /work/shared/selfptrace-contract.md in the project).
//
// It provides:
//
//   - raw PTRACE_SELF_ON / PTRACE_SELF_OFF requests and a support probe that
//     tells a kernel without the feature apart with a clear message;
//   - a SIGSYS handler written in assembly (handler_$GOARCH.s: amd64, s390x,
//     arm64, riscv64),
//     because it has to read and write the interrupted thread's ucontext and
//     must not depend on the Go runtime (it runs on the signal stack, maybe
//     between a PTRACE_SELF_ON and the call it is meant to catch, and it may
//     perform system calls that the Go runtime must never see);
//   - a "plan" in plain memory that tells the handler what to do with an
//     interception (record only, rewrite arguments, perform the call, set a
//     result, re-arm, or run one of the fork/vfork/clone/execve probes), and
//     a fixed array of records that the handler fills;
//   - an assembly sequence runner (runSeq) that performs a list of system
//     calls back to back from one known instruction, so that no Go runtime
//     system call can slip into an armed window and si_call_addr can be
//     checked exactly.
package selfptrace

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ABI of the feature (contract, "ABI").
const (
	PtraceSelfOn  = 0x4281 // ptrace(PTRACE_SELF_ON, 0, 0, 0): arm the calling thread
	PtraceSelfOff = 0x4282 // ptrace(PTRACE_SELF_OFF, 0, 0, 0): disarm it

	// A tracer's access to a stopped tracee's armed state (the series'
	// Documentation, "Tracers and checkpoint/restore"): addr is the size
	// of struct ptrace_self_ptrace_config { __u64 mode; }, data points to
	// it, mode is PtraceSelfOn or PtraceSelfOff.
	PtraceSetSelfPtraceConfig = 0x4283
	PtraceGetSelfPtraceConfig = 0x4284

	SysSeccomp      = 1 // si_code of a seccomp SECCOMP_RET_TRAP SIGSYS
	SysUserDispatch = 2 // si_code of a Syscall User Dispatch SIGSYS
	SysSelfPtrace   = 3 // si_code of a self-ptrace SIGSYS

	SIGSYS = 31

	AuditArchX86_64  = 0xc000003e
	AuditArchS390X   = 0x80000016
	AuditArchAArch64 = 0xc00000b7
	AuditArchRiscv64 = 0xc00000f3
)

// Signal action flags and signal mask operations (identical on the four
// arches: asm-generic/signal-defs.h, SA_RESTORER from each arch's uapi;
// riscv64 has no SA_RESTORER and toKsigaction clears it).
const (
	SaSiginfo  = 0x00000004
	SaRestart  = 0x10000000
	SaRestorer = 0x04000000
	SaOnstack  = 0x08000000
	SaNodefer  = 0x40000000

	SigBlock   = 0
	SigUnblock = 1
	SigSetmask = 2
)

// SigBit returns the bit of signal sig in a 64-bit kernel sigset.
func SigBit(sig int) uint64 { return 1 << (uint(sig) - 1) }

// Ptrace performs a raw ptrace system call and returns the kernel's result
// and errno, without any of the library wrappers' interpretation.
func Ptrace(req, pid, addr, data uintptr) (uintptr, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_PTRACE, req, pid, addr, data, 0, 0)
	return r, e
}

// Arm calls ptrace(PTRACE_SELF_ON, 0, 0, 0) for the calling thread. The very
// next system call of the thread is intercepted, so a caller from Go must
// hold runtime.LockOSThread and know exactly which call comes next; the
// tests use Run with an On op instead, which leaves no room for the Go
// runtime.
func Arm() error {
	if _, e := Ptrace(PtraceSelfOn, 0, 0, 0); e != 0 {
		return &UnsupportedError{Errno: e}
	}
	return nil
}

// Disarm calls ptrace(PTRACE_SELF_OFF, 0, 0, 0) for the calling thread.
func Disarm() error {
	if _, e := Ptrace(PtraceSelfOff, 0, 0, 0); e != 0 {
		return fmt.Errorf("PTRACE_SELF_OFF: %s", unix.ErrnoName(e))
	}
	return nil
}

// UnsupportedError reports that PTRACE_SELF_ON failed, which is what an
// unpatched ("vanilla") kernel does: its ptrace() looks pid 0 up and fails
// with ESRCH (or EIO for an unknown request).
type UnsupportedError struct{ Errno unix.Errno }

func (e *UnsupportedError) Error() string {
	return "PTRACE_SELF_ON not supported by this kernel: " + ErrnoName(e.Errno)
}

// ErrnoName is unix.ErrnoName with a numeric fallback.
func ErrnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", uintptr(e))
}

// Probe checks that the kernel implements PTRACE_SELF_ON/OFF: it runs ON and
// OFF back to back from assembly (OFF is a ptrace call, which is never
// intercepted), so nothing is left armed and no handler is needed.
func Probe() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ops := []Op{On(), Off()}
	runSeq(&ops[0], uintptr(len(ops)))
	if e := ops[0].Errno(); e != 0 {
		return &UnsupportedError{Errno: e}
	}
	if ops[0].Ret != 0 {
		return fmt.Errorf("PTRACE_SELF_ON returned %#x, want 0", ops[0].Ret)
	}
	if e := ops[1].Errno(); e != 0 || ops[1].Ret != 0 {
		return fmt.Errorf("PTRACE_SELF_OFF after PTRACE_SELF_ON returned %#x (%s), want 0",
			ops[1].Ret, ErrnoName(e))
	}
	return nil
}

// IsUnsupported tells whether err comes from a kernel without the feature.
func IsUnsupported(err error) bool {
	var u *UnsupportedError
	return errors.As(err, &u)
}

// Sigprocmask changes the calling thread's signal mask with a raw
// rt_sigprocmask (the Go runtime does not track it; callers restore it before
// unlocking the thread) and returns the previous mask.
func Sigprocmask(how int, set uint64) (uint64, error) {
	var old uint64
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, uintptr(how),
		uintptr(unsafe.Pointer(&set)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	if e != 0 {
		return 0, fmt.Errorf("rt_sigprocmask(%d, %#x): %s", how, set, ErrnoName(e))
	}
	return old, nil
}

// Gettid returns the calling thread's id.
func Gettid() int { return unix.Gettid() }

// loadCount returns the number of interceptions the handler started.
func loadCount() uint64 { return atomic.LoadUint64(&hcount) }
