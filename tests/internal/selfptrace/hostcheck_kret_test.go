//go:build hostcheck && !amd64

// x86_64 requires SA_RESTORER: it has no kernel-chosen signal return.
package selfptrace

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHostKernelReturn runs ArmHandlerKernelRetPC as a SIGUSR2 handler
// installed without SA_RESTORER (where the arch has a vDSO signal return):
// it must come back to the interrupted sequence. Its PTRACE_SELF_ON fails
// on a kernel without self-ptrace, which is all the same here.
func TestHostKernelReturn(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	Reset()
	act := HandlerAction(ArmHandlerKernelRetPC)
	act.Flags &^= SaRestorer
	act.Restorer = 0
	restore, err := InstallAction(int(unix.SIGUSR2), act)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	old, _ := Sigprocmask(SigSetmask, ^uint64(0)&^SigBit(SIGSYS)&^SigBit(int(unix.SIGUSR2)))
	ops := []Op{Syscall(unix.SYS_TGKILL, uint64(os.Getpid()), uint64(unix.Gettid()), uint64(unix.SIGUSR2)), Syscall(unix.SYS_GETPID)}
	RunRaw(ops)
	Sigprocmask(SigSetmask, old)
	if n, _ := ArmHandlerResult(); n != 1 || ops[0].Ret != 0 || int(ops[1].Ret) != os.Getpid() {
		t.Errorf("handler ran %d times, tgkill %#x, getpid %#x", n, ops[0].Ret, ops[1].Ret)
	}
}
