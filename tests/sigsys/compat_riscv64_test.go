package sigsys_test

import (
	"context"
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/tests/internal/audit"
)

// The 32-bit program: freestanding C for RV32 (Debian's riscv64-linux-gnu-gcc
// with -march=rv32imac -mabi=ilp32; Debian has no 32-bit riscv libc).
//go:generate riscv64-linux-gnu-gcc -march=rv32imac -mabi=ilp32 -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 -Wall -s -Wl,--build-id=none -Wl,--no-relax -o testdata/rv32-arch testdata/rv32_arch.c

//go:embed testdata/rv32-arch
var rv32Arch []byte

// AUDIT_ARCH_RISCV32 and AUDIT_ARCH_RISCV64.
const (
	auditArchRV32 = 0x400000f3
	auditArchRV64 = 0xc00000f3
)

// a0 of the rv32 program's audited getppid.
const rv32AuditA0 = 0x5e7a0d17

// TestCompatArchRV32 checks what a riscv64 kernel tells seccomp and audit
// about a 32-bit (rv32, compat) task: AUDIT_ARCH_RISCV32, as every other
// 64-bit architecture reports its compat tasks. Mainline reports
// AUDIT_ARCH_RISCV64 for them, so a filter written for riscv64 numbers
// applies to rv32 tasks, and an audit rule for riscv64 matches their calls;
// the series' riscv compat patch changes both. The program
// (testdata/rv32_arch.c) calls getppid under two audit rules, one per arch
// (keys "rv64" and "rv32"), then under a seccomp filter that fails getppid
// with errno 32 or 64 after seccomp_data.arch.
func TestCompatArchRV32(t *testing.T) {
	a, err := audit.Open()
	if err != nil {
		t.Fatalf("taking the audit socket: %v", err)
	}
	defer func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, r := range []struct {
		arch uint32
		key  string
	}{{auditArchRV64, "rv64"}, {auditArchRV32, "rv32"}} {
		if err := a.AddSyscallRule(unix.SYS_GETPPID, r.arch, r.key); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "rv32-arch")
	if err := os.WriteFile(p, rv32Arch, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the rv32 program (an exec format error means no CONFIG_COMPAT): %v\noutput:\n%s", err, out)
	}
	pid := cmd.Process.Pid
	// The program's getppid is its only call the rules match: its record
	// is the one to read. (This test's own calls leave none: a process
	// started before audit was enabled has no audit context.)
	recs, err := a.SyscallRecords(audit.FieldIs("pid", uint64(pid)), audit.FieldIs("a0", rv32AuditA0), 30*time.Second)
	if err != nil {
		t.Fatalf("no audit record of the rv32 getppid(%#x): neither the riscv64 nor the riscv32 rule matched it (%v; records of pid %d: %q)", rv32AuditA0, err, pid, recs)
	}
	mine := recs[len(recs)-1]
	arch, _ := audit.Field(mine, "arch")
	key, _ := audit.StringField(mine, "key")
	t.Logf("audit: arch=%x key=%s", arch, key)
	if arch != auditArchRV32 || key != "rv32" {
		t.Errorf("audit record of the rv32 task: arch=%x key=%q, want arch=%x key=\"rv32\" (AUDIT_ARCH_RISCV32)", arch, key, auditArchRV32)
	}
	got := strings.TrimSpace(string(out))
	t.Logf("%s", got)
	if got != "seccomp arch: 32" {
		t.Errorf("the rv32 task's seccomp filter saw %q, want \"seccomp arch: 32\" (AUDIT_ARCH_RISCV32; 64 is AUDIT_ARCH_RISCV64)", got)
	}
}
