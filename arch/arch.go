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
	// Config is the arch-specific kernel config fragment under configs/.
	Config string
	// GDBArch is gdb's "set architecture" name.
	GDBArch string
	// KernelArgs are added to every guest's kernel command line.
	KernelArgs []string
}

var specs = []Spec{
	{
		Name:         "x86_64",
		Aliases:      []string{"amd64", "x86-64"},
		GOARCH:       "amd64",
		KernelArch:   "x86_64",
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
		Config:       "x86_64.config",
		GDBArch:      "i386:x86-64",
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
		Config:       "s390x.config",
		GDBArch:      "s390:64-bit",
	},
	{
		Name:         "arm64",
		Aliases:      []string{"aarch64"},
		GOARCH:       "arm64",
		KernelArch:   "arm64",
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
		Config:       "arm64.config",
		GDBArch:      "aarch64",
	},
	{
		Name:         "riscv64",
		Aliases:      []string{"riscv"},
		GOARCH:       "riscv64",
		KernelArch:   "riscv",
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
		Config:       "riscv64.config",
		GDBArch:      "riscv:rv64",
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
// architecture, otherwise a comma-separated list of names.
func Parse(value string) ([]Spec, error) {
	if value == "" || value == "all" {
		return All(), nil
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
