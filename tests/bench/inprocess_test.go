package bench_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/bench/benchfmt"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// Syscall User Dispatch selector values (include/uapi/linux/prctl.h).
const (
	sudAllow = 0 // SYSCALL_DISPATCH_FILTER_ALLOW
	sudBlock = 1 // SYSCALL_DISPATCH_FILTER_BLOCK
)

// allowMagic is the first argument with which the seccomp filter lets
// getpid through: the handler of the seccomp_trap benchmark performs the
// trapped call with it.
const allowMagic = 0x5afe

// notifStop is the first argument of the getpid that tells the
// notification supervisor to stop.
const notifStop = 0x5709

// pid is this process's id, read once: a getpid on a filtered thread
// would be intercepted.
var pid = os.Getpid()

// checkLoop checks the result of a Loop op: the pid.
func checkLoop(op sp.Op) error {
	if int(op.Ret) != pid {
		return fmt.Errorf("getpid returned %#x (%s), want the pid %d", op.Ret, sp.ErrnoName(op.Errno()), pid)
	}
	return nil
}

// checkIntercepted checks that the handler saw n more SIGSYS with si_code
// code since before, the last one for getpid, and performed it.
func checkIntercepted(before uint64, n int, code int32) error {
	got := sp.Count() - before
	if got != uint64(n) {
		return fmt.Errorf("%d SIGSYS for %d calls: not every call was intercepted", got, n)
	}
	last, ok := sp.LastRecord()
	if !ok {
		return errors.New("no SIGSYS record")
	}
	if last.Code() != code || last.Syscall() != unix.SYS_GETPID || last.Flags&sp.RecPerformed == 0 {
		return fmt.Errorf("last SIGSYS: want si_code %d for getpid, performed: %v", code, last.String())
	}
	return nil
}

// samples runs seq(n) k times on the calling thread, with check after each.
func samples(n, k int, seq func(n int) []sp.Op, check func(ops []sp.Op) error) ([]time.Duration, error) {
	var ds []time.Duration
	for range k {
		ops := seq(n)
		d, err := runMasked(ops)
		if err != nil {
			return nil, err
		}
		if err := check(ops); err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// benchBaseline: getpid, nothing armed.
func benchBaseline() mechanism {
	return mechanism{sample: func(n, k int) ([]time.Duration, error) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		return samples(n, k,
			func(n int) []sp.Op { return []sp.Op{sp.Loop(unix.SYS_GETPID, 0, uint64(n))} },
			func(ops []sp.Op) error { return checkLoop(ops[0]) })
	}}
}

// withHandler installs the assembly SIGSYS handler with plan p for the
// duration of f.
func withHandler(p sp.Plan, f func() ([]time.Duration, error)) ([]time.Duration, error) {
	sp.Reset()
	restore, err := sp.InstallHandler()
	if err != nil {
		return nil, err
	}
	sp.SetPlan(p)
	ds, err := f()
	sp.Reset()
	if rerr := restore(); rerr != nil && err == nil {
		err = fmt.Errorf("restoring the SIGSYS action: %w", rerr)
	}
	return ds, err
}

// benchSelfPtrace: PTRACE_SELF_ON, then each getpid is intercepted; the
// handler performs it (the thread is disarmed by the interception) and
// re-arms before returning. The sequence ends with PTRACE_SELF_OFF.
func benchSelfPtrace() mechanism {
	return mechanism{sample: func(n, k int) ([]time.Duration, error) {
		if err := sp.Probe(); err != nil {
			return nil, err
		}
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		return withHandler(sp.Plan{Flags: sp.FlagPerform | sp.FlagRearm}, func() ([]time.Duration, error) {
			var before uint64
			return samples(n, k,
				func(n int) []sp.Op {
					before = sp.Count()
					return []sp.Op{sp.On(), sp.Loop(unix.SYS_GETPID, 0, uint64(n)), sp.Off()}
				},
				func(ops []sp.Op) error {
					if ops[0].Ret != 0 || ops[2].Ret != 0 {
						return fmt.Errorf("PTRACE_SELF_ON returned %#x, PTRACE_SELF_OFF %#x", ops[0].Ret, ops[2].Ret)
					}
					if err := checkLoop(ops[1]); err != nil {
						return err
					}
					return checkIntercepted(before, n, sp.SysSelfPtrace)
				})
		})
	}}
}

// benchSUD: Syscall User Dispatch with the selector on BLOCK; the handler
// switches it to ALLOW (at entry), performs the call and switches it back
// to BLOCK (FlagReblock). The signal return trampoline is the region that
// dispatch always allows.
//
// arm64 has no Syscall User Dispatch in Linux 6.12: the prctl fails with
// EINVAL and the result is n/a.
func benchSUD() mechanism {
	return mechanism{finish: func(r *benchfmt.Result) {
		if !hasSUD && strings.Contains(r.Error, "EINVAL") {
			*r = benchfmt.Result{Mech: r.Mech, NA: "Linux 6.12 has no Syscall User Dispatch on " + runtime.GOARCH + " (prctl: EINVAL)"}
		}
	}, sample: func(n, k int) ([]time.Duration, error) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		selector := new(byte)
		*selector = sudAllow
		defer runtime.KeepAlive(selector)
		p := sp.Plan{
			Flags:        sp.FlagAnyCode | sp.FlagPerform | sp.FlagReblock,
			SelectorAddr: uint64(uintptr(unsafe.Pointer(selector))),
		}
		return withHandler(p, func() ([]time.Duration, error) {
			if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_ON,
				sp.RestorerPC, 16, uintptr(unsafe.Pointer(selector)), 0); e != 0 {
				return nil, fmt.Errorf("prctl(PR_SET_SYSCALL_USER_DISPATCH, ON): %s", sp.ErrnoName(e))
			}
			var before uint64
			ds, err := samples(n, k,
				func(n int) []sp.Op {
					before = sp.Count()
					return []sp.Op{sp.Store8(selector, sudBlock), sp.Loop(unix.SYS_GETPID, 0, uint64(n)), sp.Store8(selector, sudAllow)}
				},
				func(ops []sp.Op) error {
					if err := checkLoop(ops[1]); err != nil {
						return err
					}
					return checkIntercepted(before, n, sp.SysUserDispatch)
				})
			*selector = sudAllow
			if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_OFF,
				0, 0, 0, 0); e != 0 && err == nil {
				err = fmt.Errorf("prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF): %s", sp.ErrnoName(e))
			}
			return ds, err
		})
	}}
}

// onDyingThread runs f on a new OS thread that ends with it (the goroutine
// exits locked), for a seccomp filter, which cannot be removed.
func onDyingThread(f func() ([]time.Duration, error)) ([]time.Duration, error) {
	type result struct {
		ds  []time.Duration
		err error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		ds, err := f()
		res <- result{ds, err}
	}()
	r := <-res
	return r.ds, r.err
}

// benchSeccompTrap: a filter traps getpid unless its first argument is
// allowMagic; the handler performs the call with allowMagic. Each sampling
// uses a new thread, which the filter dies with.
func benchSeccompTrap() mechanism {
	magic := uint32(allowMagic)
	p := sp.Plan{Flags: sp.FlagAnyCode | sp.FlagPerform, RewriteMask: 1, RewriteVal: [6]uint64{allowMagic}}
	return mechanism{
		sample: func(n, k int) ([]time.Duration, error) {
			return withHandler(p, func() ([]time.Duration, error) {
				return onDyingThread(func() ([]time.Duration, error) {
					err := sp.InstallSeccompFilter([]sp.SeccompRule{
						{Nr: unix.SYS_GETPID, ArgLo0: &magic, Ret: unix.SECCOMP_RET_ALLOW},
						{Nr: unix.SYS_GETPID, Ret: unix.SECCOMP_RET_TRAP},
					})
					if err != nil {
						return nil, err
					}
					var before uint64
					return samples(n, k,
						func(n int) []sp.Op {
							before = sp.Count()
							return []sp.Op{sp.Loop(unix.SYS_GETPID, 0, uint64(n))}
						},
						func(ops []sp.Op) error {
							if err := checkLoop(ops[0]); err != nil {
								return err
							}
							return checkIntercepted(before, n, sp.SysSeccomp)
						})
				})
			})
		},
		finish: func(r *benchfmt.Result) {
			r.Note = fmt.Sprintf("the filter allows getpid(%#x); the handler performs the trapped getpid with that argument", allowMagic)
		},
	}
}

// seccompNotif is struct seccomp_notif (include/uapi/linux/seccomp.h).
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

// seccompNotifResp is struct seccomp_notif_resp.
type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// supervise answers every notification on fd with CONTINUE until the
// getpid(notifStop), counting the answered ones. It uses raw system calls
// on a locked thread: it keeps its P while it waits, so the target, which
// holds another one while it waits in the kernel, never starves it.
func supervise(fd int, answered *uint64) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		var n seccompNotif
		if _, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&n))); e != 0 {
			if e == unix.EINTR {
				continue
			}
			return fmt.Errorf("SECCOMP_IOCTL_NOTIF_RECV: %s", sp.ErrnoName(e))
		}
		stop := n.Nr == unix.SYS_GETPID && n.Args[0] == notifStop
		if !stop {
			// Counted before the answer, which lets the target go on.
			atomic.AddUint64(answered, 1)
		}
		resp := seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
		if _, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp))); e != 0 {
			return fmt.Errorf("SECCOMP_IOCTL_NOTIF_SEND: %s", sp.ErrnoName(e))
		}
		if stop {
			return nil
		}
	}
}

// benchSeccompNotif: a filter sends every getpid to a supervisor thread of
// the same process, which answers SECCOMP_USER_NOTIF_FLAG_CONTINUE: the
// kernel then performs the call. Each sampling uses a new filtered thread
// and a new supervisor.
func benchSeccompNotif() mechanism {
	return mechanism{
		sample: func(n, k int) ([]time.Duration, error) {
			return onDyingThread(func() ([]time.Duration, error) { return notifSamples(n, k) })
		},
		finish: func(r *benchfmt.Result) {
			r.Note = "a supervisor thread in the same process answers SECCOMP_USER_NOTIF_FLAG_CONTINUE"
		},
	}
}

// notifSamples installs the notifying filter on the calling thread, starts
// the supervisor, takes the samples and stops the supervisor.
func notifSamples(n, k int) ([]time.Duration, error) {
	fd, err := sp.InstallSeccompListener([]sp.SeccompRule{{Nr: unix.SYS_GETPID, Ret: unix.SECCOMP_RET_USER_NOTIF}})
	if err != nil {
		return nil, err
	}
	// Closing the listener fails the calls that wait for an answer
	// (ENOSYS), so a supervisor that fails closes it at once.
	var closeOnce sync.Once
	closeFd := func() { closeOnce.Do(func() { unix.Close(fd) }) }
	defer closeFd()
	var answered uint64
	done := make(chan error, 1)
	go func() {
		err := supervise(fd, &answered)
		if err != nil {
			closeFd()
		}
		done <- err
	}()
	var before uint64
	ds, err := samples(n, k,
		func(n int) []sp.Op {
			before = atomic.LoadUint64(&answered)
			return []sp.Op{sp.Loop(unix.SYS_GETPID, 0, uint64(n))}
		},
		func(ops []sp.Op) error {
			if err := checkLoop(ops[0]); err != nil {
				return err
			}
			if got := atomic.LoadUint64(&answered) - before; got != uint64(n) {
				return fmt.Errorf("the supervisor answered %d notifications for %d calls", got, n)
			}
			return nil
		})
	sp.RunRaw([]sp.Op{sp.Syscall(unix.SYS_GETPID, notifStop)})
	select {
	case serr := <-done:
		if serr != nil && err == nil {
			err = fmt.Errorf("supervisor: %w", serr)
		}
	case <-time.After(time.Minute):
		if err == nil {
			err = errors.New("the supervisor did not stop")
		}
	}
	return ds, err
}
