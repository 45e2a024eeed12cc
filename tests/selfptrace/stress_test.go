package selfptrace_test

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// Stress parameters: stressThreads armed threads each make stressCalls
// intercepted calls per round (all of a round's records fit in the
// handler's array, so every interception of every round is checked one
// by one), for stressRounds rounds at least, and on until stressForks
// fork+exec have run alongside (stressMaxRounds at most).
const (
	stressThreads   = 4
	stressCalls     = 500
	stressRounds    = 8
	stressForks     = 3
	stressMaxRounds = 400
)

// stressMagic is the first argument of thread i's calls: it tells the
// records of the threads apart.
func stressMagic(i int) uint64 { return 0x5e1f_0000_0000 + uint64(i)<<16 }

// TestStressSMP runs stressThreads threads at once (on every vCPU of the
// guest) that arm, are intercepted, have the handler perform the call and
// re-arm, stressCalls times in a row, round after round, while other
// threads fork and exec helper processes and send signals to the process
// and to the armed threads. Every interception must be accounted for: each
// thread's calls are intercepted exactly once each (none lost, none
// duplicated), in that thread (the handler's gettid is the caller's tid),
// and each call returns what the handler performed. The kernel log must
// stay free of warnings (the rig fails a run whose console has one).
// Contract: "The armed state belongs to one thread. Other threads of the
// process are never affected", one-shot disarm and re-arming.
func TestStressSMP(t *testing.T) {
	sp.Begin(t)
	defer enoughProcs()()
	cpus := runtime.NumCPU()
	if want, err := strconv.Atoi(os.Getenv(plan.SMPEnv)); err == nil && cpus < want {
		t.Fatalf("the guest was booted with %d vCPUs but only %d are online: the kernel did not bring the others up", want, cpus)
	}
	if cpus < 2 {
		t.Logf("only %d CPU online: the threads interleave, but do not run in parallel (boot with --smp 2 or more)", cpus)
	}

	stop := make(chan struct{})
	var bg sync.WaitGroup
	var forks, signals atomic.Uint64
	var bgErr atomic.Value
	tids := make([]atomic.Int64, stressThreads)

	// Disturbers: fork+exec, and signals to the process and to the armed
	// threads (which block them while armed: they stay pending until the
	// round ends, and then run Go's handler).
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)
	bg.Add(3)
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			case <-sigs:
			}
		}
	}()
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, err := helperCmd("exit").CombinedOutput()
			if err != nil {
				bgErr.CompareAndSwap(nil, fmt.Errorf("fork+exec of a helper during the stress: %v: %s", err, out))
				return
			}
			forks.Add(1)
		}
	}()
	go func() {
		defer bg.Done()
		pid := unix.Getpid()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
			if i%2 == 0 {
				_ = unix.Kill(pid, unix.SIGUSR1)
			} else if tid := tids[i/2%stressThreads].Load(); tid != 0 {
				_ = unix.Tgkill(pid, int(tid), unix.SIGUSR2)
			}
			signals.Add(1)
		}
	}()
	defer func() {
		close(stop)
		bg.Wait()
		if err, _ := bgErr.Load().(error); err != nil {
			t.Error(err)
		}
	}()

	start := time.Now()
	total := 0
	rounds := 0
	for ; rounds < stressRounds || (forks.Load() < stressForks && rounds < stressMaxRounds); rounds++ {
		round := rounds
		sp.Reset()
		sp.SetPlan(sp.Plan{Flags: sp.FlagMatchNr | sp.FlagPerform | sp.FlagRearm, MatchNr: unix.SYS_GETTID})
		results := make([][]sp.Op, stressThreads)
		var ready, wg sync.WaitGroup
		var release atomic.Bool
		ready.Add(stressThreads)
		wg.Add(stressThreads)
		for i := range stressThreads {
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				tids[i].Store(int64(unix.Gettid()))
				ops := make([]sp.Op, 0, stressCalls+2)
				ops = append(ops, sp.On())
				for range stressCalls {
					ops = append(ops, sp.Syscall(unix.SYS_GETTID, stressMagic(i)))
				}
				ops = append(ops, sp.Off())
				ready.Done()
				for !release.Load() {
					runtime.Gosched()
				}
				if err := runMasked(ops, 0); err != nil {
					bgErr.CompareAndSwap(nil, fmt.Errorf("thread %d: %v", i, err))
				}
				results[i] = ops
			}()
		}
		ready.Wait()
		release.Store(true)
		wg.Wait()
		total += stressThreads * stressCalls
		if !checkStressRound(t, round, results, tids) {
			return
		}
	}
	elapsed := time.Since(start)
	t.Logf("stress: %d threads on %d CPUs, %d rounds, %d interceptions in %v (%.0f/s), %d fork+exec and %d signals alongside",
		stressThreads, cpus, rounds, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), forks.Load(), signals.Load())
	if forks.Load() < stressForks || signals.Load() == 0 {
		t.Errorf("the disturbers did not run (%d fork+exec, %d signals): the stress proved nothing about them", forks.Load(), signals.Load())
	}
}

// checkStressRound accounts for every interception of one round.
func checkStressRound(t *testing.T, round int, results [][]sp.Op, tids []atomic.Int64) bool {
	t.Helper()
	want := uint64(stressThreads * stressCalls)
	if n := sp.Count(); n != want {
		t.Errorf("round %d: %d interceptions, want %d (%d threads x %d calls): some were lost or duplicated", round, n, want, stressThreads, stressCalls)
		return false
	}
	perThread := make([]int, stressThreads)
	ok := true
	for k, r := range sp.Records() {
		i := -1
		for j := range stressThreads {
			if r.Args[0] == stressMagic(j) {
				i = j
			}
		}
		bad := ""
		switch {
		case i < 0:
			bad = "first argument belongs to no thread"
		case r.Code() != sp.SysSelfPtrace || r.Signo() != sp.SIGSYS:
			bad = fmt.Sprintf("si_signo %d si_code %d", r.Signo(), r.Code())
		case int64(r.Syscall()) != unix.SYS_GETTID:
			bad = fmt.Sprintf("si_syscall %d, want gettid", r.Syscall())
		case r.Flags&(sp.RecPerformed|sp.RecRearmed) != sp.RecPerformed|sp.RecRearmed || r.Flags&(sp.RecForeign|sp.RecNested|sp.RecOtherCode) != 0:
			bad = fmt.Sprintf("handler flags %#x, want performed and re-armed", r.Flags)
		case r.Result != uint64(tids[i].Load()):
			bad = fmt.Sprintf("the handler ran on tid %d, but the call was thread %d's (tid %d): delivered to the wrong thread", r.Result, i, tids[i].Load())
		case r.RearmRet != 0:
			bad = fmt.Sprintf("re-arming returned %#x", r.RearmRet)
		}
		if bad != "" {
			t.Errorf("round %d, record %d: %s: %v", round, k, bad, r.String())
			ok = false
			continue
		}
		perThread[i]++
	}
	for i, ops := range results {
		if n := perThread[i]; n != stressCalls {
			t.Errorf("round %d: thread %d was intercepted %d times, want %d", round, i, n, stressCalls)
			ok = false
		}
		if len(ops) != stressCalls+2 {
			t.Errorf("round %d: thread %d did not run its sequence", round, i)
			ok = false
			continue
		}
		if ops[0].Ret != 0 || ops[len(ops)-1].Ret != 0 {
			t.Errorf("round %d: thread %d: PTRACE_SELF_ON returned %#x, PTRACE_SELF_OFF %#x, want 0 and 0", round, i, ops[0].Ret, ops[len(ops)-1].Ret)
			ok = false
		}
		for k, op := range ops[1 : len(ops)-1] {
			if op.Ret != uint64(tids[i].Load()) {
				t.Errorf("round %d: thread %d, call %d returned %#x, want its tid %d (what the handler performed)", round, i, k, op.Ret, tids[i].Load())
				ok = false
				break
			}
		}
	}
	return ok
}
