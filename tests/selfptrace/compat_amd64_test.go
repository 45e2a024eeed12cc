package selfptrace_test

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// The 32-bit program: freestanding C for i386 (Debian's gcc-i686-linux-gnu;
// no libc, so it is small and needs no libc6-dev-i386-cross at run time).
//go:generate i686-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 -Wall -s -Wl,--build-id=none -o testdata/ia32-selfptrace testdata/ia32_selfptrace.c

//go:embed testdata/ia32-selfptrace
var ia32Program []byte

// TestCompatIA32 runs a static i386 program (testdata/ia32_selfptrace.c)
// in the guest, an ia32 task on the x86_64 kernel (CONFIG_IA32_EMULATION).
// Armed, its getpid is intercepted with si_arch AUDIT_ARCH_I386, the
// number and six arguments rolled back into the ia32 ucontext, si_call_addr
// after its int $0x80, the rest of the siginfo zero, and the result its
// handler stores; the ia32 numbers of ptrace (26), rt_sigreturn (173) and
// sigreturn (119) are exempt, the native numbers 15 and 101 (chmod and
// ioperm for ia32) are not. Contract: "si_arch = ... (the compat values for
// 32/31-bit tasks)"; "Every system call is intercepted except ptrace ...
// and rt_sigreturn / sigreturn".
func TestCompatIA32(t *testing.T) {
	sp.Require(t)
	p := filepath.Join(t.TempDir(), "ia32-selfptrace")
	if err := os.WriteFile(p, ia32Program, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p)
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	out, err := cmd.CombinedOutput()
	timer.Stop()
	if err != nil || !strings.Contains(string(out), "ia32: ok\n") {
		t.Fatalf("the ia32 program: %v (an exec format error means no CONFIG_IA32_EMULATION)\noutput:\n%s", err, out)
	}
	t.Logf("%s", out)
}
