package selfptrace_test

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// TestDeliverySvcImmediate intercepts "svc #0x40" with x8 = getpid: arm64
// takes the number from x8 only (0x40, write, in the immediate is ignored).
// Contract: intercepted call 3 ("arm64 x8 = number, x0..x5 = arguments",
// registers rolled back) and 4 (si_syscall is the number, si_call_addr the
// address just after the 4-byte svc).
func TestDeliverySvcImmediate(t *testing.T) {
	s := sp.Begin(t)
	args := []uint64{0x1001, 0x1002, 0x1003, 0x1004, 0x1005, 0x1006}
	imm := sp.Op{Nr: sp.OpSvcImm}
	copy(imm.Args[:], args)
	ops := s.Run(sp.On(), imm)
	wantOn(t, ops[0])
	recs := wantRecords(t, 1)
	r := &recs[0]
	if r.Signo() != sp.SIGSYS || r.Code() != sp.SysSelfPtrace || r.Errno() != 0 || r.Arch() != sp.AuditArch {
		t.Errorf("siginfo: %v", r.String())
	}
	if r.Syscall() != unix.SYS_GETPID {
		t.Errorf("si_syscall = %d, want %d (from x8, not the svc immediate)", r.Syscall(), unix.SYS_GETPID)
	}
	if want := uint64(sp.SvcImmSitePC) + sp.SyscallInsnLen; r.CallAddr() != want || r.PC != want {
		t.Errorf("si_call_addr = %#x, pc = %#x, want %#x", r.CallAddr(), r.PC, want)
	}
	if r.Nr != unix.SYS_GETPID {
		t.Errorf("x8 = %#x, want %#x", r.Nr, unix.SYS_GETPID)
	}
	for i, a := range args {
		if r.Args[i] != a {
			t.Errorf("x%d = %#x, want %#x", i, r.Args[i], a)
		}
	}
	wantRet(t, "intercepted svc #0x40", ops[1], args[0])
	if bad := r.NonZeroInfoTail(); len(bad) != 0 {
		t.Errorf("siginfo not cleared: non-zero bytes at offsets %v", bad)
	}
}

// TestSvcImmediatePerformed has the handler perform an intercepted
// "svc #0x40" with x8 = getpid: the caller gets its pid.
func TestSvcImmediatePerformed(t *testing.T) {
	s := sp.Begin(t)
	s.Plan(sp.Plan{Flags: sp.FlagPerform})
	ops := s.Run(sp.On(), sp.Op{Nr: sp.OpSvcImm})
	wantOn(t, ops[0])
	wantRecords(t, 1)
	wantRet(t, "svc #0x40 performed by the handler", ops[1], uint64(os.Getpid()))
}
