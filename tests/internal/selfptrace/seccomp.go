package selfptrace

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SeccompRule makes the filter return Ret for system call Nr. If ArgLo0 is
// set, the rule only applies when the low 32 bits of the first argument
// equal *ArgLo0.
type SeccompRule struct {
	Nr     uint32
	ArgLo0 *uint32
	Ret    uint32
}

// seccomp_data offsets (include/uapi/linux/seccomp.h): nr@0, arch@4,
// instruction_pointer@8, args[6]@16. A 32-bit load of the low half of args[0]
// is at 16 on little-endian and 20 on big-endian machines.
const (
	seccompDataNr   = 0
	seccompDataArch = 4
)

func argLo0Offset() uint32 {
	var x uint16 = 1
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return 16
	}
	return 20
}

// InstallSeccompFilter sets no_new_privs and installs a filter on the
// calling thread only (no SECCOMP_FILTER_FLAG_TSYNC): calls of this
// architecture matching a rule get its return value, everything else is
// allowed. The filter cannot be removed: the caller's goroutine must hold
// runtime.LockOSThread and exit without unlocking, so that the Go runtime
// ends the thread.
func InstallSeccompFilter(rules []SeccompRule) error {
	_, err := installSeccomp(rules, 0)
	return err
}

// InstallSeccompListener is InstallSeccompFilter with
// SECCOMP_FILTER_FLAG_NEW_LISTENER: it returns the user-notification file
// descriptor through which a supervisor answers the calls for which a rule
// returns SECCOMP_RET_USER_NOTIF. The same thread rules apply.
func InstallSeccompListener(rules []SeccompRule) (fd int, err error) {
	r, err := installSeccomp(rules, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER)
	return int(r), err
}

func installSeccomp(rules []SeccompRule, flags uintptr) (uintptr, error) {
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jump := func(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
	}
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
	)
	prog := []unix.SockFilter{
		stmt(ldAbs, seccompDataArch),
		jump(jeq, AuditArch, 1, 0),
		stmt(ret, unix.SECCOMP_RET_ALLOW),
	}
	for _, r := range rules {
		prog = append(prog, stmt(ldAbs, seccompDataNr))
		if r.ArgLo0 == nil {
			prog = append(prog, jump(jeq, r.Nr, 0, 1), stmt(ret, r.Ret))
			continue
		}
		prog = append(prog,
			jump(jeq, r.Nr, 0, 3),
			stmt(ldAbs, argLo0Offset()),
			jump(jeq, *r.ArgLo0, 0, 1),
			stmt(ret, r.Ret))
	}
	prog = append(prog, stmt(ret, unix.SECCOMP_RET_ALLOW))

	if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
		return 0, fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %s", ErrnoName(e))
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags,
		uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return 0, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, %#x): %s", flags, ErrnoName(e))
	}
	return r, nil
}
