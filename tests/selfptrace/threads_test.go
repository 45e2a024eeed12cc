package selfptrace_test

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// spinMax bounds the assembly spin loops (a test that goes wrong must not
// hang the guest): about half a minute under QEMU's TCG, a few seconds
// on hardware.
const spinMax = 1 << 28

// armedThread arms a fresh locked thread that then spins, without a system
// call, until release is set, and makes one getpid(magic). The results are
// sent on the returned channel. The thread keeps every signal but SIGSYS and
// unblocked blocked.
func armedThread(armed, release *uint32, magic uint64, unblocked uint64) (<-chan []sp.Op, <-chan int) {
	res := make(chan []sp.Op, 1)
	tid := make(chan int, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		ops := []sp.Op{sp.On(), sp.Spin(armed, release, spinMax), sp.Syscall(unix.SYS_GETPID, magic), sp.Off()}
		if err := runMasked(ops, unblocked); err != nil {
			panic(err)
		}
		res <- ops
	}()
	return res, tid
}

// enoughProcs raises GOMAXPROCS for a test in which a goroutine spins in
// assembly: such a goroutine cannot be preempted and keeps its P, so with a
// single P (a one-CPU guest) no other goroutine would run until the spin
// ends. It returns a function that restores the previous value.
func enoughProcs() func() {
	old := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(old, 4))
	return func() { runtime.GOMAXPROCS(old) }
}

func waitFlag(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestThreads arms thread A, then lets thread B make calls (including
// PTRACE_SELF_OFF and PTRACE_SELF_ON/OFF of its own) while A is armed: B's
// calls run normally and A stays armed. Contract: "The armed state belongs
// to one thread. Other threads of the process are never affected" and
// "Neither request can act on another task".
func TestThreads(t *testing.T) {
	s := sp.Begin(t) // thread B: the test's own locked thread
	defer enoughProcs()()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var armed, release uint32
	const magicA, magicB = 0xa0a0, 0xb0b0
	res, tidCh := armedThread(&armed, &release, magicA, 0)
	tidA := <-tidCh
	waitFlag(t, "thread A to arm", func() bool { return atomic.LoadUint32(&armed) != 0 })

	opsB := s.Run(
		sp.Syscall(unix.SYS_GETPID, magicB),
		sp.Off(),
		sp.Syscall(unix.SYS_GETPPID, magicB),
		sp.On(), sp.Off(),
		sp.Syscall(unix.SYS_GETPID, magicB))
	if n := sp.Count(); n != 0 {
		atomic.StoreUint32(&release, 1)
		<-res
		t.Fatalf("thread B's calls were intercepted while thread A was armed: %v", sp.Records())
	}
	wantRet(t, "B: getpid", opsB[0], uint64(os.Getpid()))
	wantRet(t, "B: PTRACE_SELF_OFF", opsB[1], 0)
	wantRet(t, "B: getppid", opsB[2], uint64(os.Getppid()))
	wantRet(t, "B: PTRACE_SELF_ON", opsB[3], 0)
	wantRet(t, "B: PTRACE_SELF_OFF", opsB[4], 0)
	wantRet(t, "B: getpid", opsB[5], uint64(os.Getpid()))

	atomic.StoreUint32(&release, 1)
	opsA := <-res
	wantOn(t, opsA[0])
	if opsA[1].Ret != 1 {
		t.Fatalf("thread A's spin timed out")
	}
	recs := wantRecords(t, 1)
	checkIntercept(t, &recs[0], unix.SYS_GETPID, []uint64{magicA})
	wantRet(t, "A: intercepted getpid", opsA[2], sp.RolledBackResult(unix.SYS_GETPID, [6]uint64{magicA}))
	t.Logf("thread A (tid %d) stayed armed while thread B (tid %d) ran", tidA, unix.Gettid())
}
