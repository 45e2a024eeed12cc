package selfptrace_test

import (
	_ "embed"
	"testing"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// The 32-bit program: freestanding C for i386 (Debian's gcc-i686-linux-gnu;
// no libc, so it is small and needs no libc6-dev-i386-cross at run time).
//go:generate i686-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 -Wall -s -Wl,--build-id=none -o testdata/ia32-selfptrace testdata/ia32_selfptrace.c

//go:embed testdata/ia32-selfptrace
var ia32Program []byte

// TestCompatIA32 runs a static i386 program (testdata/ia32_selfptrace.c,
// checks in testdata/compat.h) in the guest, an ia32 task on the x86_64
// kernel (CONFIG_IA32_EMULATION). Armed, its getpid is intercepted with
// si_arch AUDIT_ARCH_I386, si_call_addr after its int $0x80, the rest of
// the siginfo zero, eax and the six arguments rolled back into the ia32
// ucontext (hurtful values included) and the result its handler stores; an
// intercepted write is never executed; the ia32 numbers of ptrace (26),
// rt_sigreturn (173, an SA_SIGINFO handler that re-arms) and sigreturn
// (119, an old-style handler that re-arms) are exempt, the native numbers
// 15 and 101 (chmod and ioperm for ia32) are not. Contract: "si_arch = ...
// (the compat values for 32/31-bit tasks)"; "Every system call is
// intercepted except ptrace ... and rt_sigreturn / sigreturn".
func TestCompatIA32(t *testing.T) {
	sp.Require(t)
	runCompatProgram(t, "ia32-selfptrace", ia32Program, "ia32: ok\n", "CONFIG_IA32_EMULATION")
}
