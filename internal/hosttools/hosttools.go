// Package hosttools is the one table of the host programs the rig runs:
// each program, the Debian package that provides it and the steps that
// need it. kbuild, kselftest and rig check their step's tools from it;
// doctor lists every row; the Makefile's DEB_PACKAGES covers it (a unit
// test checks that). The per-architecture rows (cross compiler, QEMU) come
// from the arch table, so a new architecture needs no edit here.
package hosttools

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// Step is a piece of work that runs host programs.
type Step string

// The steps, in the order a run meets them.
const (
	// KernelBuild extracts, patches, configures and builds a kernel (kbuild).
	KernelBuild Step = "kernel build"
	// KernelGit reads the identity of a --kernel-src git checkout (kbuild).
	KernelGit Step = "kernel source from git"
	// Kselftest builds the upstream kselftests statically (kselftest).
	Kselftest Step = "kselftest build"
	// Image compiles the guest binaries with the go command (initramfs).
	Image Step = "initramfs"
	// Boot runs the guest under QEMU (test, run, shell, bench).
	Boot Step = "boot"
	// Userland makes the guest's Debian root from Debian's packages
	// (--userland debian).
	Userland Step = "userland"
	// Selftrace compiles the selftrace tracer and its test programs for the
	// Debian userland (selftrace), whenever the userland is in the image.
	Selftrace Step = "selftrace build"
	// GDB attaches a debugger to QEMU's gdb stub (shell --gdb).
	GDB Step = "shell --gdb"
)

// Tool is one host program.
type Tool struct {
	// Name is the program, looked up in PATH.
	Name string
	// Package is the Debian package that provides it; empty when it does
	// not come from Debian (then Install says how to get it).
	Package string
	// Install is how to get a program that is not a Debian package.
	Install string
	// Steps are the steps that need it.
	Steps []Step
}

// InstallHint is what to run (or do) to get t.
func (t Tool) InstallHint() string {
	if t.Package != "" {
		return "apt-get install " + t.Package
	}
	return t.Install
}

// Needs reports whether step needs t.
func (t Tool) Needs(step Step) bool { return slices.Contains(t.Steps, step) }

// common are the rows that do not depend on the architecture.
func common() []Tool {
	return []Tool{
		{Name: "make", Package: "make", Steps: []Step{KernelBuild, Kselftest}},
		{Name: "gcc", Package: "gcc", Steps: []Step{KernelBuild}}, // HOSTCC, for every arch
		{Name: "flex", Package: "flex", Steps: []Step{KernelBuild}},
		{Name: "bison", Package: "bison", Steps: []Step{KernelBuild}},
		{Name: "bc", Package: "bc", Steps: []Step{KernelBuild}},
		{Name: "perl", Package: "perl", Steps: []Step{KernelBuild}},
		{Name: "patch", Package: "patch", Steps: []Step{KernelBuild, Kselftest}}, // the series' self_ptrace/ for a vanilla tree
		{Name: "tar", Package: "tar", Steps: []Step{KernelBuild}},
		{Name: "xz", Package: "xz-utils", Steps: []Step{KernelBuild}},
		{Name: "git", Package: "git", Steps: []Step{KernelGit}},
		{Name: "rsync", Package: "rsync", Steps: []Step{Kselftest}}, // headers_install copies with rsync
		{Name: "go", Install: "install Go 1.26 from go.dev", Steps: []Step{Image}},
		{Name: "mmdebstrap", Package: "mmdebstrap", Steps: []Step{Userland}},
		{Name: "gdb-multiarch", Package: "gdb-multiarch", Steps: []Step{GDB}},
	}
}

// forArch are the rows of one architecture, from the arch table.
func forArch(a arch.Spec) []Tool {
	return []Tool{
		{Name: a.CrossCompile + "gcc", Package: a.CrossPackage, Steps: []Step{KernelBuild, Kselftest, Selftrace}},
		{Name: a.QEMU, Package: a.QEMUPackage, Steps: []Step{Boot}},
	}
}

// merge adds t to tools, or its steps to the row of the same name.
func merge(tools []Tool, t Tool) []Tool {
	for i := range tools {
		if tools[i].Name == t.Name {
			for _, s := range t.Steps {
				if !tools[i].Needs(s) {
					tools[i].Steps = append(tools[i].Steps, s)
				}
			}
			return tools
		}
	}
	t.Steps = slices.Clone(t.Steps)
	return append(tools, t)
}

// All returns every row for every architecture in archs, one row per
// program: the common rows first, then each architecture's.
func All(archs []arch.Spec) []Tool {
	var out []Tool
	for _, t := range common() {
		out = merge(out, t)
	}
	for _, a := range archs {
		for _, t := range forArch(a) {
			out = merge(out, t)
		}
	}
	return out
}

// For returns the tools step needs for architecture a, in table order.
func For(step Step, a arch.Spec) []Tool {
	var out []Tool
	for _, t := range All([]arch.Spec{a}) {
		if t.Needs(step) {
			out = append(out, t)
		}
	}
	return out
}

// Packages returns the Debian packages of tools, sorted, each once.
func Packages(tools []Tool) []string {
	var out []string
	for _, t := range tools {
		if t.Package != "" && !slices.Contains(out, t.Package) {
			out = append(out, t.Package)
		}
	}
	slices.Sort(out)
	return out
}

// MissingError names the tools a step needs that are not in PATH and how
// to install them.
type MissingError struct {
	Step    Step
	Arch    string
	Missing []Tool
}

func (e *MissingError) Error() string {
	var names, hints []string
	for _, t := range e.Missing {
		names = append(names, t.Name)
		if t.Package == "" {
			hints = append(hints, t.Install)
		}
	}
	var how []string
	if pkgs := Packages(e.Missing); len(pkgs) > 0 {
		how = append(how, "apt-get install "+strings.Join(pkgs, " "))
	}
	how = append(how, hints...)
	return fmt.Sprintf("missing host tools for the %s %s: %s (install with: %s, or run make deps)",
		e.Arch, e.Step, strings.Join(names, ", "), strings.Join(how, "; "))
}

// LookPath finds a program; exec.LookPath in production.
type LookPath func(name string) (string, error)

// Check returns a *MissingError if a tool that step needs for a is not in
// PATH.
func Check(step Step, a arch.Spec) error { return CheckWith(exec.LookPath, step, a) }

// CheckWith is Check with another way of finding programs.
func CheckWith(look LookPath, step Step, a arch.Spec) error {
	var missing []Tool
	for _, t := range For(step, a) {
		if _, err := look(t.Name); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &MissingError{Step: step, Arch: a.Name, Missing: missing}
}
