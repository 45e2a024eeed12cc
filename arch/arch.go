// Package arch holds every per-architecture fact the rig needs, in one
// table. Adding an architecture is adding a row to specs.
package arch

import (
	"fmt"
	"sort"
	"strings"
)

// Spec describes one guest architecture.
type Spec struct {
	// Name is the canonical name used on the command line and in results.
	Name string
	// Aliases are other accepted spellings (e.g. "amd64").
	Aliases []string
	// GOARCH is the Go architecture of guest binaries.
	GOARCH string
	// KernelArch is the kernel's ARCH= value.
	KernelArch string
	// KernelDir is the arch's directory under arch/ in the kernel tree
	// (the kernel's SRCARCH).
	KernelDir string
	// CrossCompile is the CROSS_COMPILE= prefix; empty for a native build.
	CrossCompile string
	// CrossPackage is the Debian package with the cross compiler.
	CrossPackage string
	// KernelImage is the path of the bootable image inside the build tree.
	KernelImage string
	// QEMU is the emulator binary and QEMUPackage the Debian package with it.
	QEMU        string
	QEMUPackage string
	// Machine holds the -machine, -cpu and related arguments, one per element.
	Machine []string
	// Console is the console= value for the kernel command line.
	Console string
	// AuditArch is the AUDIT_ARCH_* value the kernel reports for this arch.
	AuditArch uint32
	// UnameMachine is what uname -m prints in the guest.
	UnameMachine string
	// KVMHostArch is the host GOARCH on which /dev/kvm can run this guest.
	KVMHostArch string
	// KVMProbe shows that KVM really runs guest code on this host, without
	// our kernel: QEMU boots its own firmware (x86_64, s390x) or a few
	// instructions its loader device puts in RAM (arm64, riscv64), and
	// their first output is awaited (see vm.ProbeKVM). A row without one (zero
	// KVMProbe) gets TCG from --accel auto: a KVM that starts but never
	// runs the guest cannot be told from a slow boot before the kernel's
	// first line, so only --accel kvm uses it, unprobed.
	KVMProbe Probe
	// Config is the arch-specific kernel config fragment under configs/.
	Config string
	// GDBArch is gdb's "set architecture" name.
	GDBArch string
	// KernelArgs are added to every guest's kernel command line.
	KernelArgs []string
	// DebianArch is Debian's name of the architecture (dpkg
	// --print-architecture) and DebianSuite the release whose packages make
	// the guest's Debian userland (--userland debian).
	DebianArch  string
	DebianSuite string
	// FreestandingCFlags are added to the compiler command of code built
	// without the C library (-nostdlib: selftrace's preload library).
	FreestandingCFlags []string
}

// Probe is a kernel-free boot whose output only running guest code can
// produce.
type Probe struct {
	// Args are added to the arch's Machine arguments, a small -m, and
	// -nodefaults -display none -no-reboot; they wire the firmware's
	// output to QEMU's stdout.
	Args []string
	// Expect is a substring of that output.
	Expect string
}

var specs = []Spec{
	{
		Name:         "x86_64",
		Aliases:      []string{"amd64", "x86-64"},
		GOARCH:       "amd64",
		KernelArch:   "x86_64",
		KernelDir:    "x86",
		CrossCompile: "",
		CrossPackage: "gcc",
		KernelImage:  "arch/x86/boot/bzImage",
		QEMU:         "qemu-system-x86_64",
		QEMUPackage:  "qemu-system-x86",
		Machine:      []string{"-machine", "q35", "-cpu", "max"},
		Console:      "ttyS0",
		AuditArch:    0xc000003e,
		UnameMachine: "x86_64",
		KVMHostArch:  "amd64",
		// SeaBIOS, QEMU's default x86 firmware, logs to the debug port
		// 0x402 from its first instructions.
		KVMProbe: Probe{
			Args:   []string{"-chardev", "stdio,id=fw", "-device", "isa-debugcon,iobase=0x402,chardev=fw"},
			Expect: "SeaBIOS",
		},
		Config:      "x86_64.config",
		GDBArch:     "i386:x86-64",
		DebianArch:  "amd64",
		DebianSuite: "bookworm",
		// TCG's TSC is monotonic: trust it at once, so that the clock is
		// read in the vDSO (refined-jiffies has no vDSO fast path, which
		// would make every time.Now a system call).
		KernelArgs: []string{"tsc=reliable"},
	},
	{
		Name:         "s390x",
		Aliases:      []string{"s390"},
		GOARCH:       "s390x",
		KernelArch:   "s390",
		KernelDir:    "s390",
		CrossCompile: "s390x-linux-gnu-",
		CrossPackage: "gcc-s390x-linux-gnu",
		KernelImage:  "arch/s390/boot/bzImage",
		QEMU:         "qemu-system-s390x",
		QEMUPackage:  "qemu-system-misc",
		Machine:      []string{"-machine", "s390-ccw-virtio", "-cpu", "max"},
		Console:      "ttysclp0",
		AuditArch:    0x80000016,
		UnameMachine: "s390x",
		KVMHostArch:  "s390x",
		// The s390-ccw firmware prints its load parameter on the SCLP
		// console before it looks for a boot device (there is none).
		KVMProbe: Probe{
			Args:   []string{"-serial", "stdio"},
			Expect: "LOADPARM",
		},
		Config:      "s390x.config",
		GDBArch:     "s390:64-bit",
		DebianArch:  "s390x",
		DebianSuite: "bookworm",
	},
	{
		Name:         "arm64",
		Aliases:      []string{"aarch64"},
		GOARCH:       "arm64",
		KernelArch:   "arm64",
		KernelDir:    "arm64",
		CrossCompile: "aarch64-linux-gnu-",
		CrossPackage: "gcc-aarch64-linux-gnu",
		KernelImage:  "arch/arm64/boot/Image",
		QEMU:         "qemu-system-aarch64",
		QEMUPackage:  "qemu-system-arm",
		Machine:      []string{"-machine", "virt", "-cpu", "max"},
		Console:      "ttyAMA0",
		AuditArch:    0xc00000b7,
		UnameMachine: "aarch64",
		KVMHostArch:  "arm64",
		// No firmware: QEMU's loader writes four instructions into RAM
		// (past the device tree at its start) and points the vCPU at
		// them: x0 = 0x09000000 (the PL011), w1 = 'K', strb w1, [x0],
		// b . — only a vCPU that runs prints the K.
		KVMProbe: Probe{
			Args: []string{"-serial", "stdio",
				"-device", "loader,addr=0x41000000,data=0x52800961D2A12000,data-len=8",
				"-device", "loader,addr=0x41000008,data=0x1400000039000001,data-len=8",
				"-device", "loader,addr=0x41000000,cpu-num=0"},
			Expect: "K",
		},
		Config:      "arm64.config",
		GDBArch:     "aarch64",
		DebianArch:  "arm64",
		DebianSuite: "bookworm",
		// gcc's default outline atomics call into libgcc, whose
		// initialisation (lse-init.o) needs the C library's __getauxval.
		FreestandingCFlags: []string{"-mno-outline-atomics"},
	},
	{
		Name:         "riscv64",
		Aliases:      []string{"riscv"},
		GOARCH:       "riscv64",
		KernelArch:   "riscv",
		KernelDir:    "riscv",
		CrossCompile: "riscv64-linux-gnu-",
		CrossPackage: "gcc-riscv64-linux-gnu",
		KernelImage:  "arch/riscv/boot/Image",
		QEMU:         "qemu-system-riscv64",
		QEMUPackage:  "qemu-system-misc",
		// QEMU 7.2 has no "-cpu max" for riscv64: its default CPU has the
		// extensions the kernel needs. -bios default is OpenSBI from the
		// qemu-system-misc package (opensbi).
		Machine:      []string{"-machine", "virt", "-bios", "default"},
		Console:      "ttyS0",
		AuditArch:    0xc00000f3,
		UnameMachine: "riscv64",
		KVMHostArch:  "riscv64",
		// QEMU's loader writes four instructions into RAM and points the
		// vCPU at them (under KVM there is no OpenSBI): t0 = 0x10000000
		// (the 16550), t1 = 'K', sb t1, 0(t0), j . — only a vCPU that
		// runs prints the K.
		KVMProbe: Probe{
			Args: []string{"-serial", "stdio",
				"-device", "loader,addr=0x82000000,data=0x04B00313100002B7,data-len=8",
				"-device", "loader,addr=0x82000008,data=0x0000006F00628023,data-len=8",
				"-device", "loader,addr=0x82000000,cpu-num=0"},
			Expect: "K",
		},
		Config:  "riscv64.config",
		GDBArch: "riscv:rv64",
		// bookworm has no riscv64 port; trixie is the first release with it.
		DebianArch:  "riscv64",
		DebianSuite: "trixie",
	},
}

// All returns every supported architecture, in table order.
func All() []Spec {
	out := make([]Spec, len(specs))
	copy(out, specs)
	return out
}

// Names returns the canonical names of all architectures.
func Names() []string {
	var n []string
	for _, s := range specs {
		n = append(n, s.Name)
	}
	return n
}

// Lookup finds an architecture by canonical name or alias.
func Lookup(name string) (Spec, error) {
	for _, s := range specs {
		if s.Name == name {
			return s, nil
		}
		for _, a := range s.Aliases {
			if a == name {
				return s, nil
			}
		}
	}
	return Spec{}, fmt.Errorf("unknown architecture %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Parse turns a --arch value into a list of specs: "all" gives every
// architecture, otherwise a comma-separated list of names. An empty value
// (an unset variable in a script) is an error, not every architecture:
// four cold kernel builds are not what a typo should start.
func Parse(value string) ([]Spec, error) {
	if value == "all" {
		return All(), nil
	}
	if strings.TrimSpace(value) == "" {
		return nil, fmt.Errorf("empty architecture (known: %s, or all)", strings.Join(Names(), ", "))
	}
	seen := map[string]bool{}
	var out []Spec
	for _, part := range strings.Split(value, ",") {
		s, err := Lookup(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Usage is the value of --arch in a usage line: the canonical names
// separated by "|", then "all" if several architectures may be given.
func Usage(multi bool) string {
	names := Names()
	if multi {
		names = append(names, "all")
	}
	return strings.Join(names, "|")
}

// AliasNote says which other spellings are accepted, e.g. "amd64 and
// x86-64 are accepted for x86_64; s390 for s390x"; empty if none.
func AliasNote() string {
	var parts []string
	for _, s := range specs {
		switch n := len(s.Aliases); {
		case n == 1:
			parts = append(parts, s.Aliases[0]+" is accepted for "+s.Name)
		case n > 1:
			parts = append(parts, strings.Join(s.Aliases[:n-1], ", ")+" and "+s.Aliases[n-1]+" are accepted for "+s.Name)
		}
	}
	return strings.Join(parts, "; ")
}
