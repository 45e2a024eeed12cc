package selfptrace_test

import (
	_ "embed"
	"testing"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// The 32-bit program: freestanding C for RV32 (Debian's riscv64-linux-gnu-gcc
// with -march=rv32imac -mabi=ilp32; Debian has no 32-bit riscv libc, and the
// program needs none).
//go:generate riscv64-linux-gnu-gcc -march=rv32imac -mabi=ilp32 -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 -Wall -s -Wl,--build-id=none -Wl,--no-relax -o testdata/rv32-selfptrace testdata/rv32_selfptrace.c

//go:embed testdata/rv32-selfptrace
var rv32Program []byte

// TestCompatRV32 runs a static RV32 program (testdata/rv32_selfptrace.c,
// checks in testdata/compat.h) in the guest, a compat task on the riscv64
// kernel (CONFIG_COMPAT, QEMU's sstatus.UXL = 32). Armed, its getpid is
// intercepted with si_arch AUDIT_ARCH_RISCV32, si_call_addr after its
// ecall, the rest of the siginfo zero, a7 and the six arguments rolled back
// (first arguments that look like -ERESTARTSYS and friends and -ENOSYS
// included, a0 being also the return register) and the result its handler
// stores; an intercepted write is never executed; ptrace (117) and
// rt_sigreturn (139, a handler that re-arms and returns through the compat
// vDSO) are exempt. Contract: "si_arch = ... (the compat values for
// 32/31-bit tasks)"; "Every system call is intercepted except ptrace ...
// and rt_sigreturn / sigreturn".
func TestCompatRV32(t *testing.T) {
	sp.Require(t)
	runCompatProgram(t, "rv32-selfptrace", rv32Program, "rv32: ok\n", "CONFIG_COMPAT")
}
