package selfptrace_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

// runHelper runs a helper mode in a child process (see helperCmd) and
// returns its exit status.
func runHelper(mode string) int {
	switch mode {
	case "sleep":
		time.Sleep(5 * time.Minute)
		return 0
	case "exit":
		return 0
	case "forced-blocked", "forced-ignored", "forced-default", "forced-handled":
		return helperForced(mode)
	case "armed-creation":
		return helperArmedCreation()
	case "exec-probe":
		return helperExecProbe()
	case "check-disarmed":
		return helperCheckDisarmed()
	case "exec-must-not-run":
		fmt.Println("EXECUTED: an intercepted execve ran")
		return 5
	case "tracee":
		return helperTracee()
	case "visibility-target":
		return helperVisibilityTarget()
	case "exec-tracee":
		return helperExecTracee()
	}
	if name, ok := strings.CutPrefix(mode, "create-tracee:"); ok {
		return helperCreateTracee(name)
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 3
}

// helperForced arms itself and makes a call with SIGSYS blocked, ignored,
// left at its default action, or handled (the control case).
func helperForced(mode string) int {
	runtime.LockOSThread()
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		fmt.Printf("setrlimit(RLIMIT_CORE): %v\n", err)
		return 3
	}
	if err := sp.Probe(); err != nil {
		fmt.Println(err)
		return 3
	}
	sp.Reset()
	mask := ^uint64(0) &^ sp.SigBit(sp.SIGSYS)
	var err error
	switch mode {
	case "forced-blocked":
		// Our handler is installed: only the block can stop delivery.
		_, err = sp.InstallHandler()
		mask = ^uint64(0)
	case "forced-ignored":
		err = sp.RtSigaction(sp.SIGSYS, &sp.Sigaction{Handler: sp.SigIgn}, nil)
	case "forced-default":
		err = sp.RtSigaction(sp.SIGSYS, &sp.Sigaction{Handler: sp.SigDfl}, nil)
	case "forced-handled":
		_, err = sp.InstallHandler()
	}
	if err != nil {
		fmt.Println(err)
		return 3
	}
	if _, err := sp.Sigprocmask(sp.SigSetmask, mask); err != nil {
		fmt.Println(err)
		return 3
	}
	ops := []sp.Op{sp.On(), sp.Syscall(unix.SYS_GETPID, 0xf0), sp.Off()}
	sp.RunRaw(ops)
	fmt.Printf("survived: PTRACE_SELF_ON=%#x getpid=%#x interceptions=%d\n", ops[0].Ret, ops[1].Ret, sp.Count())
	if mode == "forced-handled" && ops[0].Ret == 0 && sp.Count() == 1 {
		return 0
	}
	return 4
}

// helperArmedCreation makes every process-creating call armed: each must be
// intercepted and not executed. It runs in its own process because a
// wrongly executed fork would duplicate whatever runs it.
func helperArmedCreation() int {
	runtime.LockOSThread()
	if code := helperInstall(); code != 0 {
		return code
	}
	pid := unix.Getpid()
	path := cstr("/proc/self/exe")
	argv, keepArgv := cstrv([]string{"/proc/self/exe", "-test.run=^$"})
	envp, keepEnvp := cstrv(append(withoutHelperEnv(), helperEnv+"=exec-must-not-run"))
	// struct clone_args (CLONE_ARGS_SIZE_VER2 = 88 bytes): flags, pidfd,
	// child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
	// set_tid_size, cgroup.
	cl3 := [11]uint64{4: uint64(unix.SIGCHLD)}
	threadFlags := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM)
	calls := append(append([]creationCall(nil), legacyCreation...),
		creationCall{"clone", sp.Syscall(unix.SYS_CLONE, cloneArgs(uint64(unix.SIGCHLD))...)},
		creationCall{"clone vfork", sp.Syscall(unix.SYS_CLONE, cloneArgs(uint64(unix.CLONE_VM|unix.CLONE_VFORK|unix.SIGCHLD))...)},
		creationCall{"clone3", sp.Syscall(unix.SYS_CLONE3, ptr(&cl3), 88)},
		creationCall{"execve", sp.Syscall(unix.SYS_EXECVE, bufPtr(path), ptr(&argv[0]), ptr(&envp[0]))},
		creationCall{"execveat", sp.Syscall(unix.SYS_EXECVEAT, neg(-unix.AT_FDCWD), bufPtr(path), ptr(&argv[0]), ptr(&envp[0]), 0)},
		creationCall{"clone thread", sp.Syscall(unix.SYS_CLONE, cloneArgs(threadFlags)...)},
	)
	failed := false
	for _, c := range calls {
		sp.Reset()
		ops := []sp.Op{sp.On(), c.op, sp.Off()}
		if err := runMasked(ops, 0); err != nil {
			fmt.Println(err)
			return 3
		}
		if unix.Getpid() != pid {
			unix.Exit(99) // a child that must not exist: leave at once
		}
		recs := sp.Records()
		var ws unix.WaitStatus
		_, werr := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		switch {
		case ops[0].Ret != 0:
			fmt.Printf("FAIL %s: PTRACE_SELF_ON returned %#x\n", c.name, ops[0].Ret)
		case len(recs) != 1:
			fmt.Printf("FAIL %s: %d interceptions, want 1\n", c.name, len(recs))
		case recs[0].Code() != sp.SysSelfPtrace || recs[0].Syscall() != sp.SiSyscall(c.op.Nr):
			fmt.Printf("FAIL %s: wrong interception %v\n", c.name, recs[0].String())
		case werr != unix.ECHILD:
			fmt.Printf("FAIL %s: a child exists after the intercepted call (wait4: %v, status %#x)\n", c.name, werr, uint32(ws))
		case ops[1].Ret != recs[0].Result:
			fmt.Printf("FAIL %s: caller got %#x, handler left %#x\n", c.name, ops[1].Ret, recs[0].Result)
		default:
			fmt.Printf("ok %s\n", c.name)
			continue
		}
		failed = true
	}
	runtime.KeepAlive(path)
	runtime.KeepAlive(keepArgv)
	runtime.KeepAlive(keepEnvp)
	runtime.KeepAlive(&cl3)
	if failed {
		return 1
	}
	return 0
}

// helperExecProbe has the SIGSYS handler run execve right after an
// interception; the new program (helper check-disarmed) must start
// disarmed.
func helperExecProbe() int {
	runtime.LockOSThread()
	if code := helperInstall(); code != 0 {
		return code
	}
	sp.Reset()
	path := cstr("/proc/self/exe")
	argv, keepArgv := cstrv([]string{"/proc/self/exe", "-test.run=^$"})
	envp, keepEnvp := cstrv(append(withoutHelperEnv(), helperEnv+"=check-disarmed"))
	sp.SetPlan(sp.Plan{Probe: sp.ProbeExec, ExecPath: bufPtr(path), ExecArgv: ptr(&argv[0]), ExecEnvp: ptr(&envp[0])})
	fmt.Println("exec-probe: arming, the handler will execve")
	ops := []sp.Op{sp.On(), sp.Syscall(unix.SYS_GETPID, 0xe8ec), sp.Off()}
	if err := runMasked(ops, 0); err != nil {
		fmt.Println(err)
		return 3
	}
	runtime.KeepAlive(path)
	runtime.KeepAlive(keepArgv)
	runtime.KeepAlive(keepEnvp)
	// Only reached when execve did not happen.
	fmt.Printf("exec-probe: no execve: PTRACE_SELF_ON=%#x getpid=%#x records:\n", ops[0].Ret, ops[1].Ret)
	for _, r := range sp.Records() {
		fmt.Printf("  %v probe_ret=%#x\n", r.String(), r.ProbeRet)
	}
	return 1
}

// helperCheckDisarmed is the program execve'd by the exec probe. Had it
// started armed, its first system call (in the Go runtime's start-up) would
// have been intercepted with SIGSYS at its default action, killing it; it
// also checks explicitly that a call is not intercepted.
func helperCheckDisarmed() int {
	runtime.LockOSThread()
	if _, err := sp.InstallHandler(); err != nil {
		fmt.Println(err)
		return 3
	}
	sp.Reset()
	ops := []sp.Op{sp.Syscall(unix.SYS_GETPID, 0xd15a)}
	if err := runMasked(ops, 0); err != nil {
		fmt.Println(err)
		return 3
	}
	if sp.Count() != 0 || int(ops[0].Ret) != unix.Getpid() {
		fmt.Printf("check-disarmed: FAIL: %d interceptions, getpid=%#x\n", sp.Count(), ops[0].Ret)
		return 1
	}
	fmt.Println("check-disarmed: ok")
	return 0
}

func withoutHelperEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, helperEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// helperInstall is the prologue of a helper process: check that the kernel
// has the feature and install the SIGSYS handler. It prints why and returns
// exit status 3 when either fails, 0 otherwise.
func helperInstall() int {
	if err := sp.Prepare(); err != nil {
		fmt.Println(err)
		return 3
	}
	return 0
}

// runCompatProgram writes a static 32/31-bit test program to a temporary
// file, runs it as a compat task and fails the test unless it exits 0 and
// prints ok. config names the kernel option that compat tasks need: an
// exec format error means it is missing.
func runCompatProgram(t *testing.T, name string, program []byte, ok, config string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, program, 0o755); err != nil {
		t.Fatal(err)
	}
	out, ws := runToEnd(t, exec.Command(p), "the compat program "+name+" (an exec format error means no "+config+")")
	if !ws.Exited() || ws.ExitStatus() != 0 || !strings.Contains(out, ok) {
		t.Fatalf("the compat program %s: %s\noutput:\n%s", name, guest.DescribeStatus(ws), out)
	}
	t.Logf("%s", out)
}
