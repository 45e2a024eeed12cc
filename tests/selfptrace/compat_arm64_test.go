package selfptrace_test

import (
	_ "embed"
	"testing"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// The 32-bit program: freestanding C for AArch32 (Debian's
// gcc-arm-linux-gnueabihf; no libc, so it needs nothing at run time).
//go:generate arm-linux-gnueabihf-gcc -marm -march=armv7-a+fp -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 -Wall -s -Wl,--build-id=none -o testdata/arm32-selfptrace testdata/arm32_selfptrace.c

//go:embed testdata/arm32-selfptrace
var arm32Program []byte

// TestCompatAArch32 runs a static AArch32 program
// (testdata/arm32_selfptrace.c, checks in testdata/compat.h) in the guest,
// a compat task on the arm64 kernel (CONFIG_COMPAT). Armed, its getpid is
// intercepted with si_arch AUDIT_ARCH_ARM, si_call_addr after its svc, the
// rest of the siginfo zero, r7 and the six arguments rolled back (first
// arguments that look like -ERESTARTSYS and friends and -ENOSYS included,
// r0 being also the return register) and the result its handler stores;
// an intercepted write is never executed; the AArch32 numbers of ptrace
// (26), rt_sigreturn (173, an SA_SIGINFO handler that re-arms) and
// sigreturn (119, an old-style handler that re-arms) are exempt; arm64's
// own ptrace (117) and rt_sigreturn (139) numbers and the ARM private call
// 0xf0005 are not. Contract: "si_arch = ... (the compat values for
// 32/31-bit tasks)"; "Every system call is intercepted except ptrace ...
// and rt_sigreturn / sigreturn".
func TestCompatAArch32(t *testing.T) {
	sp.Require(t)
	runCompatProgram(t, "arm32-selfptrace", arm32Program, "arm32: ok\n", "CONFIG_COMPAT")
}
