// Package smoke_test checks the guest itself before the self-ptrace suite
// is trusted: the kernel runs on the expected architecture, /proc is
// mounted, and a process can fork and exec.
package smoke_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const helperEnv = "SMOKE_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "exec" {
		// Re-executed by TestForkExec.
		fmt.Printf("smoke helper: pid %d ppid %d\n", os.Getpid(), os.Getppid())
		os.Exit(7)
	}
	os.Exit(m.Run())
}

// machines maps GOARCH to what uname(2) reports.
var machines = map[string]string{"amd64": "x86_64", "s390x": "s390x", "arm64": "aarch64", "riscv64": "riscv64"}

func TestMachineMatchesGOARCH(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatalf("uname: %v", err)
	}
	machine := unix.ByteSliceToString(u.Machine[:])
	want, ok := machines[runtime.GOARCH]
	if !ok {
		t.Fatalf("GOARCH %s is not a guest architecture of this project", runtime.GOARCH)
	}
	if machine != want {
		t.Fatalf("uname machine %q, want %q for GOARCH=%s", machine, want, runtime.GOARCH)
	}
	t.Logf("%s %s %s", unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Release[:]), machine)
}

func TestProcMounted(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatalf("reading /proc/self/stat: %v (is /proc mounted?)", err)
	}
	pid, _, _ := strings.Cut(string(b), " ")
	if pid != strconv.Itoa(os.Getpid()) {
		t.Fatalf("/proc/self/stat starts with %q, want our pid %d", pid, os.Getpid())
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/proc", &st); err != nil {
		t.Fatalf("statfs /proc: %v", err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		t.Fatalf("/proc has filesystem type %#x, want proc (%#x)", st.Type, unix.PROC_SUPER_MAGIC)
	}
}

func TestForkExec(t *testing.T) {
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=exec")
	cmd.Stdin = strings.NewReader("") // a pipe: no dependence on /dev/null
	out, err := cmd.Output()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 7 {
		t.Fatalf("re-executing the test binary: %v, output %q; want exit status 7", err, out)
	}
	want := fmt.Sprintf("smoke helper: pid %d ppid %d\n", cmd.Process.Pid, os.Getpid())
	if string(out) != want {
		t.Fatalf("child printed %q, want %q", out, want)
	}
}
