package selfptrace_test

import (
	_ "embed"
	"testing"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// The 31-bit program: freestanding C for s390 (Debian's s390x-linux-gnu-gcc
// with -m31; Debian has no 31-bit libc, and the program needs none).
//go:generate s390x-linux-gnu-gcc -m31 -mzarch -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 -Wall -s -Wl,--build-id=none -o testdata/s390-31-selfptrace testdata/s390_31_selfptrace.c

//go:embed testdata/s390-31-selfptrace
var s390Compat31Program []byte

// TestCompat31Bit runs a static 31-bit program (testdata/s390_31_selfptrace.c,
// checks in testdata/compat.h) in the guest, a compat task on the s390x
// kernel (CONFIG_COMPAT). Armed, its getpid is intercepted with si_arch
// AUDIT_ARCH_S390, si_call_addr after its svc, the rest of the siginfo
// zero, the six arguments rolled back into the 31-bit ucontext (first
// arguments that look like -ERESTARTSYS and friends and -ENOSYS included,
// r2 being also the return register) and the result its handler stores; an
// intercepted write (fd -ERESTARTSYS, then 1) is never executed; the 31-bit
// numbers of ptrace, rt_sigreturn (an SA_SIGINFO handler that re-arms) and
// sigreturn (an old-style handler that re-arms) are exempt. Contract:
// "si_arch = ... (the compat values for 32/31-bit tasks)"; "Every system
// call is intercepted except ptrace ... and rt_sigreturn / sigreturn"; "The
// number and the arguments reach the handler intact whatever their values
// are".
func TestCompat31Bit(t *testing.T) {
	sp.Require(t)
	runCompatProgram(t, "s390-31-selfptrace", s390Compat31Program, "s390-31: ok\n", "CONFIG_COMPAT")
}
