package vm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// The test binary doubles as a fake QEMU (VM_FAKE_QEMU=mode) and as a
// parent process that dies (VM_PARENT_HELPER=1), so that the Machine's
// process handling can be tested without a kernel.
func TestMain(m *testing.M) {
	if mode := os.Getenv("VM_FAKE_QEMU"); mode != "" {
		fakeQEMU(mode)
		return
	}
	if os.Getenv("VM_PARENT_HELPER") != "" {
		parentHelper()
		return
	}
	os.Exit(m.Run())
}

const fakeMarker = "FAKE INIT STARTED"

func fakeQEMU(mode string) {
	out := func(s string) { os.Stdout.WriteString(s) }
	if mode != "hang-ignore-term" {
		// QEMU exits 0 on SIGTERM after saying so on stderr.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		go func() {
			<-sig
			fmt.Fprintln(os.Stderr, "qemu-fake: terminating on signal 15")
			os.Exit(0)
		}()
	} else {
		signal.Ignore(syscall.SIGTERM)
	}
	hang := func() {
		for {
			time.Sleep(time.Hour)
		}
	}
	if p := os.Getenv("VM_FAKE_ARGS"); p != "" {
		os.WriteFile(p, []byte(strings.Join(os.Args, "\x00")), 0o644)
	}
	out("[    0.000000] Linux version 6.12.0-fake\r\n")
	switch mode {
	case "poweroff":
		out(fakeMarker + "\r\nok 1 fake\r\n[    1.000000] reboot: Power down\r\n")
		os.Exit(0)
	case "split":
		out(fakeMarker + "\r\n[    1.0] Kernel pa")
		time.Sleep(50 * time.Millisecond)
		out("nic - not syncing: split across")
		time.Sleep(50 * time.Millisecond)
		out(" writes\r\n[    1.1] ---[ end Kernel panic ]---\r\n")
		os.Exit(0)
	case "exit1":
		fmt.Fprintln(os.Stderr, "qemu-fake: -kernel /nope: could not open kernel file")
		os.Exit(1)
	case "silent":
		hang()
	case "firmware":
		// A KVM probe whose guest runs: the firmware's first words.
		out("SeaBIOS (version fake)\n")
		hang()
	case "firmware-exit":
		// The firmware speaks and finds nothing to boot (s390x).
		out("SeaBIOS (version fake)\n")
		os.Exit(0)
	case "hang", "hang-ignore-term":
		out(fakeMarker + "\r\nhanging\r\n")
		hang()
	case "panic-no-exit":
		out(fakeMarker + "\r\n[    1.0] Kernel panic - not syncing: stuck\r\n")
		hang()
	case "echo":
		out(fakeMarker + "\r\n")
		in := bufio.NewScanner(os.Stdin)
		for {
			out("fake> ")
			if !in.Scan() {
				os.Exit(0)
			}
			if in.Text() == "quit" {
				out("\r\nbye\r\n")
				os.Exit(0)
			}
			out("got: " + in.Text() + "\r\n")
		}
	}
	fmt.Fprintln(os.Stderr, "qemu-fake: unknown mode", mode)
	os.Exit(2)
}

// fakeSpec is an arch row whose "QEMU" is this test binary.
func fakeSpec() (arch.Spec, error) {
	spec, err := arch.Lookup("x86_64")
	if err != nil {
		return spec, err
	}
	spec.QEMU, err = os.Executable()
	return spec, err
}

func fakeConfig(t *testing.T, mode string) Config {
	t.Setenv("VM_FAKE_QEMU", mode)
	spec, err := fakeSpec()
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Spec:    spec,
		Kernel:  "/fake/bzImage",
		LogPath: filepath.Join(t.TempDir(), "console.log"),
		// KVM speed: no TCG scaling of the short test timeouts.
		Accel:     AccelChoice{AccelKVM, "test"},
		Detect:    DetectConfig{BootMarker: fakeMarker},
		NoQMP:     true,
		KillGrace: 500 * time.Millisecond,
		Logf:      t.Logf,
	}
}

// processGone reports whether pid has exited (absent or a zombie).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("QEMU (pid %d) still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMachineCompleted(t *testing.T) {
	cfg := fakeConfig(t, "poweroff")
	var out syncBuffer
	cfg.Output = &out
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v (%+v)", err, res)
	}
	if res.Outcome != OutcomePass || !res.Booted || res.BootTime <= 0 || res.Exit.Code != 0 {
		t.Errorf("result %+v", res)
	}
	log, err := os.ReadFile(res.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	want := "[    0.000000] Linux version 6.12.0-fake\n" + fakeMarker + "\nok 1 fake\n[    1.000000] reboot: Power down\n"
	if string(log) != want {
		t.Errorf("log = %q, want %q", log, want)
	}
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
	if res.Argv[0] != cfg.Spec.QEMU || !hasPair(res.Argv, "-accel", "kvm") {
		t.Errorf("argv %q", res.Argv)
	}
}

func TestMachineLineSplitAcrossWrites(t *testing.T) {
	res, err := Run(context.Background(), fakeConfig(t, "split"))
	var ke *KernelError
	if !errors.As(err, &ke) || res.Outcome != OutcomePanic {
		t.Fatalf("got %v, %+v", err, res)
	}
	if res.Title != "Kernel panic - not syncing: split across writes" {
		t.Errorf("title %q", res.Title)
	}
}

func TestMachineQEMUFails(t *testing.T) {
	res, err := Run(context.Background(), fakeConfig(t, "exit1"))
	var ie *InfraError
	if !errors.As(err, &ie) || res.Outcome != OutcomeQEMUError || res.Exit.Code != 1 {
		t.Fatalf("got %v, %+v", err, res)
	}
	if !strings.Contains(res.Reason, "could not open kernel file") {
		t.Errorf("reason %q lacks QEMU's message", res.Reason)
	}
}

func TestMachineStartFailure(t *testing.T) {
	cfg := fakeConfig(t, "poweroff")
	cfg.Spec.QEMU = filepath.Join(t.TempDir(), "no-such-qemu")
	res, err := Run(context.Background(), cfg)
	var ie *InfraError
	if !errors.As(err, &ie) || res.Outcome != OutcomeQEMUError || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, %+v", err, res)
	}
	if log, _ := os.ReadFile(cfg.LogPath); !strings.Contains(string(log), "starting QEMU") {
		t.Errorf("log %q does not record the start failure", log)
	}
}

func TestMachineConfigErrors(t *testing.T) {
	cfg := fakeConfig(t, "poweroff")
	cfg.LogPath = ""
	if _, err := Start(context.Background(), cfg); err == nil {
		t.Error("Start without a log path succeeded")
	}
	cfg = fakeConfig(t, "poweroff")
	cfg.Options = []Option{WithKernelArgs("panic=5")}
	_, err := Start(context.Background(), cfg)
	var ie *InfraError
	if err == nil || errors.As(err, &ie) {
		t.Errorf("bad option: got %v, want a plain configuration error", err)
	}
}

func TestMachineBootTimeout(t *testing.T) {
	cfg := fakeConfig(t, "silent")
	cfg.Timeouts = Timeouts{Boot: 300 * time.Millisecond, Run: time.Minute}
	start := time.Now()
	m, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Wait()
	var ke *KernelError
	if !errors.As(err, &ke) || res.Outcome != OutcomeBootFail || res.Exit.Stop != StopBootTimeout {
		t.Fatalf("got %v, %+v", err, res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	waitGone(t, m.Pid())
}

func TestMachineNoOutputTimeout(t *testing.T) {
	cfg := fakeConfig(t, "hang")
	cfg.Timeouts = Timeouts{NoOutput: 300 * time.Millisecond}
	res, err := Run(context.Background(), cfg)
	if res.Outcome != OutcomeTimeout || res.Exit.Stop != StopNoOutput || err == nil {
		t.Fatalf("got %v, %+v", err, res)
	}
	if !strings.Contains(res.Reason, "no console output for 300ms") {
		t.Errorf("reason %q", res.Reason)
	}
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "no register dump") {
		t.Errorf("notes %q should say the register dump was skipped", res.Notes)
	}
}

// TestMachineQMPUnavailable: a QEMU that never opens its QMP socket is run
// without QMP; the run still ends with its proper verdict.
func TestMachineQMPUnavailable(t *testing.T) {
	cfg := fakeConfig(t, "hang")
	cfg.NoQMP = false
	cfg.QMPTimeout = 300 * time.Millisecond
	cfg.Timeouts = Timeouts{Run: time.Second}
	res, _ := Run(context.Background(), cfg)
	if res.Outcome != OutcomeTimeout {
		t.Fatalf("%+v", res)
	}
	joined := strings.Join(res.Notes, "\n")
	if !strings.Contains(joined, "QMP unavailable") {
		t.Errorf("notes %q", joined)
	}
	if _, err := os.Stat(RegistersPath(cfg.LogPath)); err == nil {
		t.Error("register dump written without QMP")
	}
}

func TestMachineKillEscalation(t *testing.T) {
	cfg := fakeConfig(t, "hang-ignore-term")
	cfg.Timeouts = Timeouts{Run: 300 * time.Millisecond}
	cfg.KillGrace = 300 * time.Millisecond
	start := time.Now()
	m, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := m.Wait()
	if res.Outcome != OutcomeTimeout || res.Exit.Signal != syscall.SIGKILL {
		t.Fatalf("%+v", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	waitGone(t, m.Pid())
}

func TestMachineCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := Start(ctx, fakeConfig(t, "hang"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Console().ExpectString(ctx, "hanging"); err != nil {
		t.Fatal(err)
	}
	cancel()
	res, err := m.Wait()
	var ce *CanceledError
	if res.Outcome != OutcomeCanceled || !errors.As(err, &ce) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, %+v", err, res)
	}
	waitGone(t, m.Pid())
}

func TestMachineStop(t *testing.T) {
	ctx := context.Background()
	m, err := Start(ctx, fakeConfig(t, "hang"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Console().ExpectString(ctx, "hanging"); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	m.Stop() // idempotent
	res, err := m.Wait()
	if res.Outcome != OutcomeCanceled || !errors.Is(err, errStopped) {
		t.Fatalf("got %v, %+v", err, res)
	}
	if res2, _ := m.Wait(); res2.Outcome != res.Outcome {
		t.Error("second Wait differs")
	}
}

func TestMachineKilledFromOutside(t *testing.T) {
	ctx := context.Background()
	cfg := fakeConfig(t, "hang")
	cfg.Timeouts = Timeouts{Run: time.Minute}
	m, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Console().ExpectString(ctx, "hanging"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(m.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	res, err := m.Wait()
	var ie *InfraError
	if res.Outcome != OutcomeQEMUError || !errors.As(err, &ie) {
		t.Fatalf("got %v, %+v", err, res)
	}
	if !strings.Contains(res.Reason, "killed by signal SIGKILL from outside") {
		t.Errorf("reason %q", res.Reason)
	}
}

func TestMachineStopsAfterCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the crash grace period")
	}
	cfg := fakeConfig(t, "panic-no-exit")
	res, err := Run(context.Background(), cfg)
	if res.Outcome != OutcomePanic || res.Exit.Stop != StopAfterCrash || err == nil {
		t.Fatalf("got %v, %+v", err, res)
	}
	if res.Title != "Kernel panic - not syncing: stuck" {
		t.Errorf("title %q", res.Title)
	}
}

func TestMachineInteractive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := fakeConfig(t, "echo")
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inW.Close()
	defer inR.Close()
	cfg.Stdin = inR
	var out syncBuffer
	cfg.Output = &out
	m, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !hasPair(m.Argv(), "-chardev", "stdio,id=con0,mux=on,signal=off") {
		t.Errorf("interactive argv %q", m.Argv())
	}
	con := m.Console()
	if _, err := con.ExpectString(ctx, "fake> "); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(inW, "hello")
	if _, err := con.ExpectString(ctx, "got: hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := con.ExpectString(ctx, "fake> "); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(inW, "quit")
	res, err := m.Wait()
	if err != nil || res.Outcome != OutcomePass {
		t.Fatalf("got %v, %+v", err, res)
	}
	// The raw stream keeps the unterminated prompt and the \r.
	if !strings.Contains(out.String(), "fake> got: hello\r\n") {
		t.Errorf("raw output %q", out.String())
	}
	log, _ := os.ReadFile(cfg.LogPath)
	if !strings.Contains(string(log), "fake> got: hello\n") {
		t.Errorf("log %q", log)
	}
}

// parentHelper starts a hanging fake QEMU, prints its pid and waits to be
// killed.
func parentHelper() {
	spec, err := fakeSpec()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Setenv("VM_FAKE_QEMU", "hang")
	m, err := Start(context.Background(), Config{
		Spec: spec, Kernel: "/fake", LogPath: os.Getenv("VM_PARENT_HELPER_LOG"),
		Detect: DetectConfig{BootMarker: fakeMarker}, NoQMP: true,
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if _, err := m.Console().ExpectString(context.Background(), "hanging"); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("pid", m.Pid())
	select {}
}

// TestMachineDiesWithParent: QEMU gets SIGKILL when the process that
// started it dies (Pdeathsig), even without any cleanup running.
func TestMachineDiesWithParent(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	helper := exec.Command(exe)
	helper.Env = append(os.Environ(), "VM_PARENT_HELPER=1", "VM_PARENT_HELPER_LOG="+filepath.Join(t.TempDir(), "c.log"))
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatalf("helper said nothing: %v", sc.Err())
	}
	f := strings.Fields(sc.Text())
	if len(f) != 2 || f[0] != "pid" {
		t.Fatalf("helper said %q", sc.Text())
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	if processGone(pid) {
		t.Fatal("QEMU not running before the parent died")
	}
	helper.Process.Kill()
	helper.Wait()
	waitGone(t, pid)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMachineArgvIsWhatRan: the argv handed to OnStart (what -v prints),
// Result.Argv (what the JSON keeps) and the argv QEMU received are one,
// the QMP socket and the console wiring included.
func TestMachineArgvIsWhatRan(t *testing.T) {
	for _, interactive := range []bool{false, true} {
		cfg := fakeConfig(t, "poweroff")
		got := filepath.Join(t.TempDir(), "args")
		t.Setenv("VM_FAKE_ARGS", got)
		cfg.NoQMP = false
		cfg.QMPTimeout = 300 * time.Millisecond
		if interactive {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			cfg.Stdin = r
		}
		var printed []string
		cfg.OnStart = func(argv []string) { printed = argv }
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("interactive=%v: %v", interactive, err)
		}
		b, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		ran := strings.Split(string(b), "\x00")
		if !slices.Equal(printed, res.Argv) || !slices.Equal(ran, res.Argv) {
			t.Fatalf("interactive=%v:\nprinted %q\nresult  %q\nran     %q", interactive, printed, res.Argv, ran)
		}
		joined := strings.Join(ran, " ")
		wantConsole := "-serial stdio"
		if interactive {
			wantConsole = "-serial chardev:con0"
		}
		if !strings.Contains(joined, "-qmp unix:") || !strings.Contains(joined, wantConsole) || !strings.Contains(joined, "-accel kvm") {
			t.Errorf("interactive=%v: argv %q lacks the QMP socket, %q or the accelerator", interactive, joined, wantConsole)
		}
	}
}
