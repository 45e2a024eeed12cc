package selfptrace_test

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// stackPattern fills the kernel stack before an interception, so that a
// siginfo the kernel forgets to clear carries bytes that cannot be zero.
const stackPattern = 0xa5a5_a5a5_a5a5_a5a5

// TestSiginfoCleared fills the kernel stack with a pattern right before
// each interception, through calls that copy user memory into large local
// arrays (ppoll's pollfd array, pselect6's fd sets), then checks every
// byte of the siginfo the handler receives: everything but si_signo,
// si_errno, si_code and the _sigsys fields must be zero, and si_errno too.
// The guest kernels leave stack variables uninitialised
// (CONFIG_INIT_STACK_NONE), so a kernel that does not clear its
// kernel_siginfo shows the stale bytes here. Contract: intercepted call 4
// "with a siginfo that is cleared first and then holds ...".
func TestSiginfoCleared(t *testing.T) {
	s := sp.Begin(t)
	// ppoll: pollfds with a negative fd are ignored (revents = 0).
	var pollfds [32]uint64
	for i := range pollfds {
		pollfds[i] = stackPattern
	}
	var zeroTime [2]uint64
	// pselect6: three 1024-bit fd sets full of pattern; the call fails with
	// EBADF after copying them in.
	var fdsets [3][16]uint64
	for i := range fdsets {
		for j := range fdsets[i] {
			fdsets[i][j] = stackPattern
		}
	}
	sprays := []sp.Op{
		sp.Syscall(unix.SYS_PPOLL, ptr(&pollfds), uint64(len(pollfds)), ptr(&zeroTime), 0, 8),
		sp.Syscall(unix.SYS_PSELECT6, 1024, ptr(&fdsets[0]), ptr(&fdsets[1]), ptr(&fdsets[2]), ptr(&zeroTime), 0),
	}
	// Intercepted calls with different numbers and argument counts.
	calls := []sp.Op{
		sp.Syscall(unix.SYS_GETPID, 0x5161),
		sp.Syscall(unix.SYS_WRITE, ^uint64(0), 0, 0),
		sp.Syscall(unix.SYS_PPOLL, ptr(&pollfds), uint64(len(pollfds)), ptr(&zeroTime), 0, 8),
		sp.Syscall(unix.SYS_GETPPID, stackPattern, stackPattern, stackPattern, stackPattern, stackPattern, stackPattern),
	}
	type want struct {
		nr   uint64
		args []uint64
	}
	var ops []sp.Op
	var wants []want
	for round := 0; round < 8; round++ {
		for _, spray := range sprays {
			for _, c := range calls {
				ops = append(ops, spray, sp.On(), c)
				wants = append(wants, want{c.Nr, c.Args[:]})
			}
		}
	}
	ops = s.Run(ops...)
	runtime.KeepAlive(&pollfds)
	runtime.KeepAlive(&fdsets)
	runtime.KeepAlive(&zeroTime)
	for i := 0; i < len(ops); i += 3 {
		wantOn(t, ops[i+1])
	}
	recs := wantRecords(t, len(wants))
	dirty := 0
	for i := range recs {
		before := t.Failed()
		if recs[i].Errno() != 0 || len(recs[i].NonZeroInfoTail()) != 0 {
			dirty++
		}
		checkIntercept(t, &recs[i], wants[i].nr, wants[i].args)
		if t.Failed() && !before {
			t.Logf("interception %d: %v", i, recs[i].String())
			break // one detailed report is enough
		}
	}
	if dirty != 0 {
		t.Errorf("%d of %d siginfos had stale bytes where the contract wants zero", dirty, len(recs))
	}
}
