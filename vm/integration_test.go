package vm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/shellquote"
)

// The marker printed first by testdata/init.
const initMarker = "VMTEST INIT STARTED"

// TestBootRealKernel boots a real kernel for every architecture that has
// one here, with the tiny init of testdata/init, and checks each kind of
// outcome end to end. Kernels are looked up in this order:
//
//   - $SELFPTRACE_TEST_KERNEL_<ARCH> (e.g. SELFPTRACE_TEST_KERNEL_X86_64)
//   - /boot/vmlinuz-* when the guest architecture is the host's
//     (apt-get install linux-image-amd64 provides one)
//   - <user cache>/selfptrace-vm/.../<arch.Spec.KernelImage>
//   - ~/dev/build-*/<arch.Spec.KernelImage>
func TestBootRealKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("boots kernels under QEMU; skipped with -short")
	}
	for _, spec := range arch.All() {
		t.Run(spec.Name, func(t *testing.T) {
			kernel, config := findKernel(spec)
			if kernel == "" {
				t.Skipf("no %s kernel found (set SELFPTRACE_TEST_KERNEL_%s)", spec.Name, envArch(spec))
			}
			if _, err := exec.LookPath(spec.QEMU); err != nil {
				t.Skipf("%s not installed (%s)", spec.QEMU, spec.QEMUPackage)
			}
			accel, err := SelectAccel(context.Background(), spec, AccelAuto, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("kernel %s, accel %s", kernel, accel)
			b := &bootEnv{spec: spec, kernel: kernel, initrd: buildInitramfs(t, spec), accel: accel}
			b.runAll(t, config)
		})
	}
}

type bootEnv struct {
	spec           arch.Spec
	kernel, initrd string
	accel          AccelChoice
}

func (b *bootEnv) config(t *testing.T, mode string, timeouts Timeouts, opts ...Option) Config {
	if mode != "" {
		opts = append(opts, WithKernelArgs("vmtest_mode="+mode))
	}
	return Config{
		Spec:     b.spec,
		Kernel:   b.kernel,
		Initrd:   b.initrd,
		Accel:    b.accel,
		Options:  opts,
		LogPath:  filepath.Join(t.TempDir(), "console.log"),
		Detect:   DetectConfig{BootMarker: initMarker},
		Timeouts: timeouts,
		Logf:     t.Logf,
	}
}

// logResult reports a run for the test log: timings and the quoted argv.
func logResult(t *testing.T, res Result) {
	t.Helper()
	t.Logf("%s: %s (%s); boot %v, total %v", res.Outcome, res.Reason, res.Exit.Stop, res.BootTime.Round(time.Millisecond), res.Duration.Round(time.Millisecond))
	if t.Failed() {
		t.Logf("argv: %s", shellquote.Join(res.Argv))
		if log, err := os.ReadFile(res.LogPath); err == nil {
			t.Logf("console log:\n%s", log)
		}
	}
}

func excerptHas(v Verdict, s string) bool {
	return slices.ContainsFunc(v.Excerpt, func(l string) bool { return strings.Contains(l, s) })
}

func (b *bootEnv) runAll(t *testing.T, kconfig map[string]string) {
	normal := Timeouts{Boot: 60 * time.Second, Run: 120 * time.Second}

	t.Run("completed", func(t *testing.T) {
		res, err := Run(context.Background(), b.config(t, "poweroff", normal))
		defer logResult(t, res)
		if err != nil || res.Outcome != OutcomePass {
			t.Fatalf("got %v", err)
		}
		if !res.Booted || res.BootTime <= 0 || res.BootTime > res.Duration {
			t.Errorf("boot time %v of %v", res.BootTime, res.Duration)
		}
		if res.Exit.Shutdown != "guest-shutdown" {
			t.Errorf("QMP shutdown reason %q, want guest-shutdown (notes %q)", res.Exit.Shutdown, res.Notes)
		}
		// The QMP socket's temporary directory is gone.
		i := slices.Index(res.Argv, "-qmp")
		if i < 0 {
			t.Fatalf("no -qmp in %q", res.Argv)
		}
		sock := strings.TrimPrefix(strings.Split(res.Argv[i+1], ",")[0], "unix:")
		if _, err := os.Stat(filepath.Dir(sock)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("QMP directory %s left behind: %v", filepath.Dir(sock), err)
		}
		log, _ := os.ReadFile(res.LogPath)
		if !bytes.Contains(log, []byte("VMTEST DONE\n")) || bytes.Contains(log, []byte("\r")) {
			t.Errorf("console log lacks the guest's line or keeps \\r")
		}
	})

	t.Run("panic_init_exits", func(t *testing.T) {
		res, err := Run(context.Background(), b.config(t, "exit", normal))
		defer logResult(t, res)
		var ke *KernelError
		if !errors.As(err, &ke) || res.Outcome != OutcomePanic {
			t.Fatalf("got %v", err)
		}
		if !strings.Contains(res.Title, "Attempted to kill init") || !excerptHas(res.Verdict, "VMTEST init exiting") {
			t.Errorf("title %q, excerpt %q", res.Title, res.Excerpt)
		}
	})

	t.Run("panic_sysrq", func(t *testing.T) {
		if v, ok := kconfig["CONFIG_MAGIC_SYSRQ"]; ok && v != "y" {
			t.Skip("kernel built without CONFIG_MAGIC_SYSRQ")
		}
		res, err := Run(context.Background(), b.config(t, "sysrq", normal))
		defer logResult(t, res)
		if res.Outcome != OutcomePanic || err == nil {
			t.Fatalf("got %v", err)
		}
		if !strings.Contains(res.Title, "sysrq triggered crash") {
			t.Errorf("title %q", res.Title)
		}
	})

	t.Run("timeout_hang", func(t *testing.T) {
		cfg := b.config(t, "hang", Timeouts{Boot: 60 * time.Second, NoOutput: 2 * time.Second})
		m, err := Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Accel.Accel.Scale(60*time.Second))
		defer cancel()
		if _, err := m.Console().ExpectString(ctx, "VMTEST hanging"); err != nil {
			t.Fatal(err)
		}
		mon, err := m.Monitor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := mon.Status(ctx); err != nil || st.Status != "running" {
			t.Errorf("QMP status %+v, %v", st, err)
		}
		res, err := m.Wait()
		defer logResult(t, res)
		if res.Outcome != OutcomeTimeout || res.Exit.Stop != StopNoOutput || err == nil {
			t.Fatalf("got %v", err)
		}
		if res.RegistersPath != RegistersPath(cfg.LogPath) {
			t.Fatalf("no register dump (notes %q)", res.Notes)
		}
		regs, err := os.ReadFile(res.RegistersPath)
		if err != nil || !bytes.Contains(regs, []byte("CPU#0")) {
			t.Errorf("register dump %q, %v", regs, err)
		}
		t.Logf("register dump: %d bytes, first line %q", len(regs), strings.SplitN(string(regs), "\n", 2)[0])
		waitGone(t, m.Pid())
	})

	t.Run("boot_fail_rdinit", func(t *testing.T) {
		res, err := Run(context.Background(), b.config(t, "", normal, WithKernelArgs("rdinit=/nonexistent")))
		defer logResult(t, res)
		if res.Outcome != OutcomeBootFail || err == nil {
			t.Fatalf("got %v", err)
		}
		if res.Kind != CrashBootFailure || res.Exit.Stop != StopNone {
			t.Errorf("kind %q, stop %q: want the kernel's own boot failure, not a timer", res.Kind, res.Exit.Stop)
		}
	})

	t.Run("qemu_killed_from_outside", func(t *testing.T) {
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
			t.Run(signalName(sig), func(t *testing.T) {
				m, err := Start(context.Background(), b.config(t, "hang", normal))
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), b.accel.Accel.Scale(60*time.Second))
				defer cancel()
				if _, err := m.Console().ExpectString(ctx, "VMTEST hanging"); err != nil {
					t.Fatal(err)
				}
				// SIGTERM is told apart through QMP: wait until it is up.
				if _, err := m.Monitor(ctx); err != nil {
					t.Fatal(err)
				}
				if err := syscall.Kill(m.Pid(), sig); err != nil {
					t.Fatal(err)
				}
				res, err := m.Wait()
				defer logResult(t, res)
				var ie *InfraError
				if res.Outcome != OutcomeQEMUError || !errors.As(err, &ie) {
					t.Fatalf("got %v", err)
				}
			})
		}
	})

	t.Run("interactive", func(t *testing.T) {
		cfg := b.config(t, "echo", Timeouts{Boot: 60 * time.Second})
		inR, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer inR.Close()
		defer inW.Close()
		cfg.Stdin = inR
		var out syncBuffer
		cfg.Output = &out
		m, err := Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.accel.Accel.Scale(60*time.Second))
		defer cancel()
		con := m.Console()
		if _, err := con.ExpectString(ctx, "vmtest> "); err != nil {
			m.Stop()
			t.Fatal(err)
		}
		fmt.Fprint(inW, "hello\n")
		if _, err := con.ExpectString(ctx, "echo: hello"); err != nil {
			m.Stop()
			t.Fatal(err)
		}
		fmt.Fprint(inW, "quit\n")
		res, err := m.Wait()
		defer logResult(t, res)
		if err != nil || res.Outcome != OutcomePass {
			t.Fatalf("got %v", err)
		}
		if !strings.Contains(out.String(), "vmtest> ") {
			t.Errorf("raw output lacks the prompt")
		}
	})

	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		m, err := Start(ctx, b.config(t, "hang", normal))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Console().ExpectString(ctx, "VMTEST hanging"); err != nil {
			t.Fatal(err)
		}
		cancel()
		res, err := m.Wait()
		defer logResult(t, res)
		if res.Outcome != OutcomeCanceled || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		waitGone(t, m.Pid())
	})
}

func envArch(spec arch.Spec) string {
	return strings.ToUpper(strings.NewReplacer("-", "_").Replace(spec.Name))
}

// findKernel returns a bootable kernel for spec and its config (nil if
// unknown), or "".
func findKernel(spec arch.Spec) (string, map[string]string) {
	if p := os.Getenv("SELFPTRACE_TEST_KERNEL_" + envArch(spec)); p != "" {
		return p, nil
	}
	if spec.KVMHostArch == runtime.GOARCH {
		if p := newest("/boot/vmlinuz-*"); p != "" {
			return p, readKconfig("/boot/config-" + strings.TrimPrefix(filepath.Base(p), "vmlinuz-"))
		}
	}
	var patterns []string
	if dir, err := os.UserCacheDir(); err == nil {
		base := filepath.Join(dir, "selfptrace-vm")
		patterns = append(patterns,
			filepath.Join(base, spec.KernelImage),
			filepath.Join(base, "*", spec.KernelImage),
			filepath.Join(base, "*", "*", spec.KernelImage))
	}
	if home, err := os.UserHomeDir(); err == nil {
		patterns = append(patterns, filepath.Join(home, "dev", "build-*", spec.KernelImage))
	}
	for _, pat := range patterns {
		if p := newest(pat); p != "" {
			root := strings.TrimSuffix(p, spec.KernelImage)
			return p, readKconfig(filepath.Join(root, ".config"))
		}
	}
	return "", nil
}

func newest(pattern string) string {
	matches, _ := filepath.Glob(pattern) // only ErrBadPattern, for fixed patterns
	best, bestTime := "", time.Time{}
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if best == "" || fi.ModTime().After(bestTime) {
			best, bestTime = m, fi.ModTime()
		}
	}
	return best
}

func readKconfig(path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	cfg := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "CONFIG_") {
			cfg[k] = v
		}
	}
	return cfg
}

// buildInitramfs cross-compiles testdata/init for spec and packs it alone
// (with /dev/console) into a newc cpio archive.
func buildInitramfs(t *testing.T, spec arch.Spec) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "init")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", bin, "./testdata/init")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+spec.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building init for %s: %v\n%s", spec.GOARCH, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var w cpioWriter
	w.add("dev", 0o040755, 0, 0, nil)
	w.add("dev/console", 0o020600, 5, 1, nil)
	w.add("init", 0o100755, 0, 0, data)
	path := filepath.Join(dir, "initramfs.cpio")
	if err := os.WriteFile(path, w.finish(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cpioWriter writes the "newc" cpio format that the kernel unpacks.
type cpioWriter struct {
	buf bytes.Buffer
	ino int
}

func (w *cpioWriter) add(name string, mode, rdevMajor, rdevMinor int, data []byte) {
	w.ino++
	nlink := 1
	if mode&0o170000 == 0o040000 {
		nlink = 2
	}
	fmt.Fprintf(&w.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		w.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	w.buf.WriteString(name)
	w.buf.WriteByte(0)
	w.pad()
	w.buf.Write(data)
	w.pad()
}

func (w *cpioWriter) pad() {
	for w.buf.Len()%4 != 0 {
		w.buf.WriteByte(0)
	}
}

func (w *cpioWriter) finish() []byte {
	w.add("TRAILER!!!", 0, 0, 0, nil)
	return w.buf.Bytes()
}
