// Package selfptrace_test is the guest-side conformance suite of self-ptrace
// (PTRACE_SELF_ON / PTRACE_SELF_OFF). Each test names the sentences of
// /work/shared/selfptrace-contract.md that it checks.
//
// Every test first checks that the kernel supports the requests and fails,
// never skips, with "PTRACE_SELF_ON not supported by this kernel: <errno>"
// on a kernel without them.
//
// Some tests run parts of themselves in a child process: the test binary
// re-executes itself (/proc/self/exe) with SELFPTRACE_TEST_HELPER naming a
// helper mode, which TestMain runs instead of the tests.
package selfptrace_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

const helperEnv = "SELFPTRACE_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	if err := ensureEnvironment(); err != nil {
		fmt.Fprintf(os.Stderr, "selfptrace tests: setting up: %v\n", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// ensureEnvironment mounts /proc and /sys and creates the temporary
// directory when they are missing, so that the binary also works as the
// /init of a bare initramfs (the guest runner mounts them itself).
func ensureEnvironment() error {
	mounts := []struct{ probe, target, fstype string }{
		{"/proc/self/stat", "/proc", "proc"},
		{"/sys/kernel", "/sys", "sysfs"},
		{"/dev/null", "/dev", "devtmpfs"},
	}
	for _, mt := range mounts {
		if _, err := os.Stat(mt.probe); err == nil {
			continue
		}
		if err := os.MkdirAll(mt.target, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", mt.target, err)
		}
		if err := unix.Mount(mt.fstype, mt.target, mt.fstype, 0, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", mt.fstype, mt.target, err)
		}
	}
	if err := os.MkdirAll(os.TempDir(), 0o1777); err != nil {
		return fmt.Errorf("mkdir %s: %w", os.TempDir(), err)
	}
	return nil
}

// helperCmd returns a command that runs this test binary in helper mode.
func helperCmd(mode string, env ...string) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode), env...)
	return cmd
}

// runHelperProcess runs a helper to its end (60 s at most) and returns its
// combined output and wait status.
func runHelperProcess(t *testing.T, mode string, env ...string) (string, syscall.WaitStatus) {
	t.Helper()
	return runToEnd(t, helperCmd(mode, env...), "helper "+mode)
}

// runToEnd runs cmd to its end (60 s at most) and returns its combined
// output and wait status; what names it in a failure.
func runToEnd(t *testing.T, cmd *exec.Cmd, what string) (string, syscall.WaitStatus) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", what, err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return out.String(), cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// Values chosen to break a careless implementation: all ones, sign bits,
// the kernel's internal restart codes (-ERESTARTSYS -512, -ERESTARTNOINTR
// -513, -ERESTARTNOHAND -514, -ENOIOCTLCMD -515, -ERESTART_RESTARTBLOCK
// -516), huge numbers and errno-looking values.
var nasty = []uint64{
	^uint64(0),
	1 << 63,
	neg(512), neg(513), neg(514), neg(515), neg(516),
	0x7fffffffffffffff,
	0xdeadbeefcafebabe,
	0xffffffff,
	0x100000000,
	neg(4095),
	0,
}

func neg(v int64) uint64 { return uint64(-v) }

func ptr[T any](p *T) uint64 { return uint64(uintptr(unsafe.Pointer(p))) }

func bufPtr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

// checkIntercept checks the siginfo and registers of a self-ptrace
// interception of a call made by runSeq (contract: "What an armed thread's
// next system call does", 3 and 4).
func checkIntercept(t *testing.T, r *sp.Record, nr uint64, args []uint64) {
	t.Helper()
	if r.Signo() != sp.SIGSYS {
		t.Errorf("si_signo = %d, want SIGSYS (%d)", r.Signo(), sp.SIGSYS)
	}
	if r.Code() != sp.SysSelfPtrace {
		t.Errorf("si_code = %d, want SYS_SELF_PTRACE (%d)", r.Code(), sp.SysSelfPtrace)
	}
	if r.Errno() != 0 {
		t.Errorf("si_errno = %d, want 0", r.Errno())
	}
	if want := sp.SiSyscall(nr); r.Syscall() != want {
		t.Errorf("si_syscall = %d, want %d (number register %#x)", r.Syscall(), want, nr)
	}
	if r.Arch() != sp.AuditArch {
		t.Errorf("si_arch = %#x, want %#x", r.Arch(), uint32(sp.AuditArch))
	}
	want := uint64(sp.SysSitePC) + sp.SyscallInsnLen
	if r.CallAddr() != want {
		t.Errorf("si_call_addr = %#x, want %#x (just after the system call instruction at %#x)",
			r.CallAddr(), want, sp.SysSitePC)
	}
	if r.PC != want {
		t.Errorf("ucontext pc = %#x, want %#x (return address of the call)", r.PC, want)
	}
	if sp.NumberInRegister && r.Nr != nr {
		t.Errorf("number register = %#x, want %#x (rolled back)", r.Nr, nr)
	}
	for i, a := range args {
		if r.Args[i] != a {
			t.Errorf("argument %d = %#x, want %#x (rolled back)", i+1, r.Args[i], a)
		}
	}
	if bad := r.NonZeroInfoTail(); len(bad) != 0 {
		t.Errorf("siginfo not cleared: non-zero bytes at offsets %v", bad)
	}
}

// wantRecords fails the test unless exactly n interceptions happened.
func wantRecords(t *testing.T, n int) []sp.Record {
	t.Helper()
	recs := sp.Records()
	if uint64(len(recs)) != sp.Count() || len(recs) != n {
		var b strings.Builder
		for i := range recs {
			fmt.Fprintf(&b, "\n  %v", recs[i].String())
		}
		t.Fatalf("%d SIGSYS recorded (counter %d), want %d:%s", len(recs), sp.Count(), n, b.String())
	}
	return recs
}

// wantRet fails the test if op's result is not want.
func wantRet(t *testing.T, what string, op sp.Op, want uint64) {
	t.Helper()
	if op.Ret != want {
		t.Errorf("%s returned %#x (%d), want %#x (%d)", what, op.Ret, int64(op.Ret), want, int64(want))
	}
}

// wantOn fails the test now if PTRACE_SELF_ON did not return 0.
func wantOn(t *testing.T, op sp.Op) {
	t.Helper()
	if op.Ret != 0 {
		if e := op.Errno(); e != 0 {
			t.Fatalf("PTRACE_SELF_ON not supported by this kernel: %s", sp.ErrnoName(e))
		}
		t.Fatalf("PTRACE_SELF_ON returned %#x, want 0", op.Ret)
	}
}

// onNewThread runs f on a new OS thread that is never given back to the
// Go runtime (the goroutine exits locked, so the thread ends): for state
// that cannot be undone, such as a seccomp filter.
func onNewThread(f func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer close(done)
		f()
	}()
	<-done
}

// runMasked is sp.RunMasked: for threads that are not the test's goroutine.
func runMasked(ops []sp.Op, unblocked uint64) error { return sp.RunMasked(ops, unblocked) }

// cstr returns a NUL-terminated copy of s.
func cstr(s string) []byte { return append([]byte(s), 0) }

// cstrv returns a NULL-terminated array of pointers to NUL-terminated
// strings, and the strings (to keep alive).
func cstrv(ss []string) ([]uintptr, [][]byte) {
	keep := make([][]byte, len(ss))
	v := make([]uintptr, len(ss)+1)
	for i, s := range ss {
		keep[i] = cstr(s)
		v[i] = uintptr(unsafe.Pointer(&keep[i][0]))
	}
	return v, keep
}
