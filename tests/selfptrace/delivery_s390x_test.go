package selfptrace_test

import (
	"testing"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// TestDeliverySvcImmediate intercepts "svc 20" (getpid with the number in
// the instruction, r1 = 0xffff as a decoy). Contract: intercepted call 3
// ("number is in the svc immediate or r1 for svc 0", registers rolled back)
// and 4 (si_syscall is the number, si_call_addr the address after the
// instruction).
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
		t.Errorf("si_syscall = %d, want %d (from the svc immediate, not r1)", r.Syscall(), unix.SYS_GETPID)
	}
	if want := uint64(sp.SvcImmSitePC) + 2; r.CallAddr() != want || r.PC != want {
		t.Errorf("si_call_addr = %#x, pc = %#x, want %#x", r.CallAddr(), r.PC, want)
	}
	if r.Nr != 0xffff {
		t.Errorf("r1 = %#x, want 0xffff (untouched)", r.Nr)
	}
	for i, a := range args {
		if r.Args[i] != a {
			t.Errorf("r%d = %#x, want %#x", i+2, r.Args[i], a)
		}
	}
	wantRet(t, "intercepted svc 20", ops[1], args[0])
	if bad := r.NonZeroInfoTail(); len(bad) != 0 {
		t.Errorf("siginfo not cleared: non-zero bytes at offsets %v", bad)
	}
}

// TestSvcImmediatePerformed has the handler perform an intercepted "svc 20"
// (it uses si_syscall as the number): the caller gets its pid.
func TestSvcImmediatePerformed(t *testing.T) {
	s := sp.Begin(t)
	s.Plan(sp.Plan{Flags: sp.FlagPerform})
	ops := s.Run(sp.On(), sp.Op{Nr: sp.OpSvcImm})
	wantOn(t, ops[0])
	wantRecords(t, 1)
	wantRet(t, "svc 20 performed by the handler", ops[1], uint64(unix.Getpid()))
}
