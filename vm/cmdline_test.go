package vm

import (
	"slices"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// hasPair reports whether argv holds flag immediately followed by value.
func hasPair(argv []string, flag, value string) bool {
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == flag && argv[i+1] == value {
			return true
		}
	}
	return false
}

// countFlag counts occurrences of flag in argv.
func countFlag(argv []string, flag string) int {
	n := 0
	for _, a := range argv {
		if a == flag {
			n++
		}
	}
	return n
}

// kernelArgs returns the -append value split into a set.
func kernelArgs(t *testing.T, argv []string) map[string]bool {
	t.Helper()
	if countFlag(argv, "-append") != 1 {
		t.Fatalf("want exactly one -append in %q", argv)
	}
	i := slices.Index(argv, "-append")
	set := map[string]bool{}
	for _, a := range strings.Fields(argv[i+1]) {
		set[a] = true
	}
	return set
}

// containsSeq reports whether seq appears contiguously in argv.
func containsSeq(argv, seq []string) bool {
	for i := 0; i+len(seq) <= len(argv); i++ {
		if slices.Equal(argv[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}

func TestArchTableRowsComplete(t *testing.T) {
	for _, s := range arch.All() {
		if err := CheckSpec(s); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
	if err := CheckSpec(arch.Spec{Name: "broken", Machine: []string{"-machine q35"}}); err == nil {
		t.Error("CheckSpec accepted an incomplete row with a space-joined Machine")
	} else {
		for _, want := range []string{"QEMU", "Console", "KVMHostArch", "one argument per element"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("CheckSpec error %q does not name %s", err, want)
			}
		}
	}
}

func TestCmdlineBase(t *testing.T) {
	for _, spec := range arch.All() {
		t.Run(spec.Name, func(t *testing.T) {
			argv, err := Cmdline(spec, "/k/bzImage", "/k/initrd.cpio")
			if err != nil {
				t.Fatal(err)
			}
			if argv[0] != spec.QEMU {
				t.Errorf("argv[0] = %q, want %q", argv[0], spec.QEMU)
			}
			if !containsSeq(argv, spec.Machine) {
				t.Errorf("machine args %q not in %q", spec.Machine, argv)
			}
			for _, p := range [][2]string{
				{"-accel", "tcg"}, {"-m", DefaultMemory}, {"-smp", "2"}, {"-display", "none"},
				{"-serial", "stdio"}, {"-kernel", "/k/bzImage"}, {"-initrd", "/k/initrd.cpio"},
			} {
				if !hasPair(argv, p[0], p[1]) {
					t.Errorf("missing %s %s in %q", p[0], p[1], argv)
				}
			}
			for _, f := range []string{"-nodefaults", "-no-reboot"} {
				if countFlag(argv, f) != 1 {
					t.Errorf("want one %s in %q", f, argv)
				}
			}
			for _, f := range []string{"-S", "-gdb", "-qmp", "-chardev"} {
				if countFlag(argv, f) != 0 {
					t.Errorf("unexpected %s in %q", f, argv)
				}
			}
			k := kernelArgs(t, argv)
			if !k["console="+spec.Console] || !k["panic=-1"] || len(k) != 2 {
				t.Errorf("kernel args = %v, want console=%s panic=-1", k, spec.Console)
			}
		})
	}
}

func TestCmdlineOptions(t *testing.T) {
	for _, spec := range arch.All() {
		t.Run(spec.Name, func(t *testing.T) {
			argv, err := Cmdline(spec, "/k", "",
				WithAccel(AccelKVM),
				WithMemory("2G"),
				WithSMP(2),
				WithKernelArgs("selfptrace.test=all", "quiet"),
				WithGDB(1234, true),
				WithQMP("/tmp/vm-qmp-1/qmp.sock"),
				WithConsole(ConsoleInteractive),
				WithQEMUArgs("-d", "guest_errors"),
				WithQEMUBinary("/opt/qemu/bin/qemu"),
				// Empty values are no-ops.
				WithMemory(""), WithSMP(0), WithQMP(""), WithGDB(0, false), WithAccel(AccelAuto),
			)
			if err != nil {
				t.Fatal(err)
			}
			if argv[0] != "/opt/qemu/bin/qemu" {
				t.Errorf("argv[0] = %q", argv[0])
			}
			for _, p := range [][2]string{
				{"-accel", "kvm"}, {"-m", "2G"}, {"-smp", "2"}, {"-gdb", "tcp::1234"},
				{"-qmp", "unix:/tmp/vm-qmp-1/qmp.sock,server=on,wait=off"},
				{"-chardev", "stdio,id=con0,mux=on,signal=off"}, {"-serial", "chardev:con0"},
				{"-mon", "chardev=con0,mode=readline"}, {"-d", "guest_errors"},
			} {
				if !hasPair(argv, p[0], p[1]) {
					t.Errorf("missing %s %s in %q", p[0], p[1], argv)
				}
			}
			if countFlag(argv, "-S") != 1 || countFlag(argv, "-serial") != 1 || countFlag(argv, "-initrd") != 0 {
				t.Errorf("bad flag counts in %q", argv)
			}
			k := kernelArgs(t, argv)
			for _, want := range []string{"console=" + spec.Console, "panic=-1", "nokaslr", "selfptrace.test=all", "quiet"} {
				if !k[want] {
					t.Errorf("kernel args %v lack %s", k, want)
				}
			}
		})
	}
}

func TestCmdlineRejects(t *testing.T) {
	spec, err := arch.Lookup("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		kernel string
		opts   []Option
		want   string
	}{
		{"no kernel", "", nil, "no kernel"},
		{"bad memory", "/k", []Option{WithMemory("lots")}, "memory size"},
		{"memory twice", "/k", []Option{WithMemory("1G"), WithMemory("2G")}, "twice"},
		{"smp negative", "/k", []Option{WithSMP(-1)}, "SMP"},
		{"smp twice", "/k", []Option{WithSMP(2), WithSMP(4)}, "twice"},
		{"console= owned", "/k", []Option{WithKernelArgs("console=tty0")}, "set by the rig"},
		{"panic= owned", "/k", []Option{WithKernelArgs("panic=10")}, "set by the rig"},
		{"empty kernel arg", "/k", []Option{WithKernelArgs(" ")}, "empty"},
		{"newline in kernel arg", "/k", []Option{WithKernelArgs("a\nb")}, "control character"},
		{"gdb wait without port", "/k", []Option{WithGDB(0, true)}, "gdb port"},
		{"gdb port range", "/k", []Option{WithGDB(70000, false)}, "gdb port"},
		{"gdb two ports", "/k", []Option{WithGDB(1, false), WithGDB(2, false)}, "twice"},
		{"qmp comma", "/k", []Option{WithQMP("/tmp/a,b/qmp.sock")}, "comma"},
		{"qmp too long", "/k", []Option{WithQMP("/" + strings.Repeat("x", 120))}, "107"},
		{"qmp twice", "/k", []Option{WithQMP("/a"), WithQMP("/b")}, "twice"},
		{"bad accel", "/k", []Option{WithAccel("hvf")}, "accelerator"},
		{"accel twice", "/k", []Option{WithAccel(AccelKVM), WithAccel(AccelTCG)}, "twice"},
		{"owned qemu arg", "/k", []Option{WithQEMUArgs("-m", "1G")}, "WithMemory"},
		{"nographic", "/k", []Option{WithQEMUArgs("-nographic")}, "WithConsole"},
		{"console twice", "/k", []Option{WithConsole(ConsoleStdio), WithConsole(ConsoleInteractive)}, "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			argv, err := Cmdline(spec, tc.kernel, "", tc.opts...)
			if err == nil {
				t.Fatalf("accepted: %q", argv)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
