package initramfs

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/ktap"
)

var elfMachine = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"s390x":   elf.EM_S390,
	"arm64":   elf.EM_AARCH64,
	"riscv64": elf.EM_RISCV,
}

func checkELF(t *testing.T, name string, e entry, goarch string) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(e.data))
	if err != nil {
		t.Errorf("%s: not an ELF file: %v", name, err)
		return
	}
	if want := elfMachine[goarch]; f.Machine != want {
		t.Errorf("%s: ELF machine %v, want %v", name, f.Machine, want)
	}
	if e.mode&0o111 == 0 {
		t.Errorf("%s: not executable (mode %#o)", name, e.mode)
	}
}

func smokeOpts(t *testing.T, a arch.Spec, cache string) Opts {
	return Opts{
		Arch: a,
		Tests: []TestPackage{{
			Pkg: "./testdata/guestsmoke",
			Env: []string{"GUESTSMOKE=1"},
		}},
		Plan: plan.Plan{
			Mode:    plan.Suite,
			Timeout: plan.Duration(5 * time.Minute),
			Env:     []string{"GODEBUG=asyncpreemptoff=1"},
		},
		Output:   filepath.Join(t.TempDir(), "initrd-"+a.Name+".cpio"),
		CacheDir: cache,
		Progress: func(phase, msg string) { t.Logf("%s: %s", phase, msg) },
	}
}

// TestBuildImage builds real images for every architecture, cold and then
// with the base cached, and checks what they hold. With
// SELFPTRACE_VM_KERNEL_<ARCH> (e.g. SELFPTRACE_VM_KERNEL_X86_64) naming a
// kernel image, it also boots the image under QEMU and checks the verdict.
func TestBuildImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds real images with mkuimage, about half a minute per architecture")
	}
	// SELFPTRACE_VM_TEST_CACHE keeps base images between runs; by default
	// every run builds them cold.
	cache := os.Getenv("SELFPTRACE_VM_TEST_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	for _, a := range arch.All() {
		t.Run(a.Name, func(t *testing.T) {
			ctx := context.Background()
			opts := smokeOpts(t, a, cache)
			cold, err := Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if cold.BaseCached && os.Getenv("SELFPTRACE_VM_TEST_CACHE") == "" {
				t.Error("first build: base image reported as cached")
			}
			t.Logf("first build: %+v", cold.Timings)

			warm, err := Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !warm.BaseCached || warm.Base != cold.Base {
				t.Errorf("second build did not reuse the base image: %+v", warm)
			}
			t.Logf("second build: %+v", warm.Timings)

			files, archives := readNewcFile(t, opts.Output)
			if archives != 2 {
				t.Errorf("%d archives in the image, want 2 (base and overlay)", archives)
			}
			links := map[string]string{
				"init":          "bbin/init",
				"bin/uinit":     "selfptrace-runner",
				"bin/defaultsh": "../bbin/gosh",
				"bbin/gosh":     "bb",
				"bbin/ls":       "bb",
			}
			for name, target := range links {
				e, ok := files[name]
				if !ok || !e.isLink() || string(e.data) != target {
					t.Errorf("%s: %v %q, want a link to %q", name, e, e.data, target)
				}
			}
			for _, name := range []string{"bbin/bb", "bin/selfptrace-runner", "selfptrace-vm/tests/guestsmoke.test"} {
				e, ok := files[name]
				if !ok {
					t.Errorf("%s missing", name)
					continue
				}
				checkELF(t, name, e, a.GOARCH)
			}
			if e := files["dev/console"]; e.mode&0o170000 != 0o020000 {
				t.Errorf("dev/console: %v", e)
			}
			if e := files["selfptrace-vm/tests/guestsmoke/testdata/hello.txt"]; string(e.data) != "hello from the host\n" {
				t.Errorf("testdata/hello.txt: %q", e.data)
			}
			p, err := plan.Decode(files["etc/selfptrace-vm/plan.json"].data)
			if err != nil {
				t.Fatalf("plan in the image: %v", err)
			}
			if len(p.Binaries) != 1 || p.Binaries[0].Path != "/selfptrace-vm/tests/guestsmoke.test" || p.Binaries[0].Dir != "/selfptrace-vm/tests/guestsmoke" {
				t.Errorf("plan binaries: %+v", p.Binaries)
			}

			kernel := os.Getenv("SELFPTRACE_VM_KERNEL_" + strings.ToUpper(a.Name))
			if kernel == "" {
				t.Logf("not booting: SELFPTRACE_VM_KERNEL_%s is not set", strings.ToUpper(a.Name))
				return
			}
			bootSmoke(t, a, kernel, opts.Output)

			// Run mode: one command, its output, its exit status.
			opts.Plan = plan.Plan{
				Mode:    plan.Run,
				Command: []string{"/selfptrace-vm/tests/guestsmoke.test", "-test.run=^TestUname$", "-test.v"},
			}
			opts.Output = filepath.Join(t.TempDir(), "run.cpio")
			if _, err := Build(ctx, opts); err != nil {
				t.Fatal(err)
			}
			console := boot(t, a, kernel, opts.Output, "run")
			rep, err := ktap.Parse(bytes.NewReader(console))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Exit == nil || *rep.Exit != (ktap.Exit{}) || !bytes.Contains(console, []byte("--- PASS: TestUname")) {
				t.Errorf("run mode: exit %+v\n%s", rep.Exit, console)
			}
		})
	}
}

// boot boots the image under QEMU and returns the console output. With
// SELFPTRACE_VM_SAVE_CONSOLE naming a directory, it keeps the console log
// and the image there.
func boot(t *testing.T, a arch.Spec, kernel, initrd, name string) []byte {
	t.Helper()
	if _, err := exec.LookPath(a.QEMU); err != nil {
		t.Skipf("%s not installed", a.QEMU)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append([]string{}, a.Machine...)
	args = append(args, "-m", "512M", "-nodefaults", "-display", "none", "-no-reboot",
		"-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
		"-append", "console="+a.Console+" panic=-1")
	cmd := exec.CommandContext(ctx, a.QEMU, args...)
	var console bytes.Buffer
	cmd.Stdout, cmd.Stderr = &console, &console
	t0 := time.Now()
	err := cmd.Run()
	t.Logf("%s ran %v: %v", a.QEMU, time.Since(t0), err)
	if dir := os.Getenv("SELFPTRACE_VM_SAVE_CONSOLE"); dir != "" {
		base := filepath.Join(dir, name+"-"+a.Name)
		_ = os.WriteFile(base+".console", console.Bytes(), 0o644)
		if b, err := os.ReadFile(initrd); err == nil {
			_ = os.WriteFile(base+".cpio", b, 0o644)
		}
	}
	return console.Bytes()
}

// bootSmoke boots the image and checks that the smoke suite passes.
func bootSmoke(t *testing.T, a arch.Spec, kernel, initrd string) {
	console := boot(t, a, kernel, initrd, "suite")
	rep, err := ktap.Parse(bytes.NewReader(console))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Check(); err != nil {
		t.Fatalf("console does not account for every test: %v\n%s", err, console)
	}
	if c := rep.Counts(); c.Failed() || c.Skip != 1 || c.Total != 5 {
		t.Errorf("counts %v, want 4 passed and 1 skipped\n%s", c, console)
	}
}
