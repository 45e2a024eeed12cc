package vm

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// DefaultMemory is the guest memory size when WithMemory is not given.
const DefaultMemory = "512M"

// DefaultSMP is the number of virtual CPUs when WithSMP is not given: two,
// so that every run exercises the entry paths on SMP.
const DefaultSMP = 2

// MaxSMP is the most virtual CPUs WithSMP accepts.
const MaxSMP = 256

// ConsoleMode says how the guest's console is wired to QEMU's stdio.
type ConsoleMode int

const (
	// ConsoleStdio connects the console to QEMU's stdout; stdin is unused.
	ConsoleStdio ConsoleMode = iota
	// ConsoleInteractive multiplexes the console and the QEMU monitor on
	// stdio (Ctrl-A c switches, Ctrl-A x quits) and passes Ctrl-C to the
	// guest instead of killing QEMU.
	ConsoleInteractive
)

// Cmd describes one QEMU invocation. Options fill it; Argv renders it.
// Fields left zero take the documented defaults.
type Cmd struct {
	Spec arch.Spec
	// QEMU overrides Spec.QEMU (the binary to run).
	QEMU   string
	Kernel string
	// Initrd is optional.
	Initrd string
	// Accel defaults to TCG.
	Accel Accel
	// Memory is a QEMU -m size such as "512M"; DefaultMemory when empty.
	Memory string
	// SMP is the number of virtual CPUs; DefaultSMP when zero.
	SMP        int
	KernelArgs []string
	// GDBPort, when non-zero, opens a gdb stub on tcp::GDBPort; GDBWait
	// also freezes the CPUs at startup until gdb continues them.
	GDBPort int
	GDBWait bool
	// QMPSocket, when set, is the path of a QMP unix socket QEMU listens on.
	QMPSocket string
	Console   ConsoleMode
	// ExtraQEMUArgs are appended verbatim; arguments the rig owns are
	// rejected (see ownedFlags).
	ExtraQEMUArgs []string

	memorySet, smpSet, accelSet, consoleSet bool
}

// Option adds one feature to a Cmd: its QEMU arguments and the kernel
// arguments it needs. An Option given an empty value is a no-op; an Option
// that conflicts with an earlier one returns an error.
type Option func(*Cmd) error

// WithMemory sets the guest memory size ("512M", "2G").
func WithMemory(size string) Option {
	return func(c *Cmd) error {
		if size == "" {
			return nil
		}
		if !memoryRE.MatchString(size) {
			return fmt.Errorf("memory size %q: want a number with an optional K, M, G or T suffix, e.g. 512M", size)
		}
		if c.memorySet && c.Memory != size {
			return fmt.Errorf("memory size given twice (%s and %s)", c.Memory, size)
		}
		c.Memory, c.memorySet = size, true
		return nil
	}
}

var memoryRE = regexp.MustCompile(`^[1-9][0-9]*[KMGT]?$`)

// WithSMP sets the number of virtual CPUs.
func WithSMP(n int) Option {
	return func(c *Cmd) error {
		if n == 0 {
			return nil
		}
		if n < 0 || n > MaxSMP {
			return fmt.Errorf("SMP %d: want 1 to %d CPUs", n, MaxSMP)
		}
		if c.smpSet && c.SMP != n {
			return fmt.Errorf("SMP given twice (%d and %d)", c.SMP, n)
		}
		c.SMP, c.smpSet = n, true
		return nil
	}
}

// WithAccel selects the accelerator (see ChooseAccel).
func WithAccel(a Accel) Option {
	return func(c *Cmd) error {
		if a == AccelAuto {
			return nil
		}
		if a != AccelKVM && a != AccelTCG {
			return fmt.Errorf("accelerator %q: want %q or %q", a, AccelKVM, AccelTCG)
		}
		if c.accelSet && c.Accel != a {
			return fmt.Errorf("accelerator given twice (%s and %s)", c.Accel, a)
		}
		c.Accel, c.accelSet = a, true
		return nil
	}
}

// WithKernelArgs appends kernel command-line arguments, one per element.
// console= and panic= belong to the rig and are rejected.
func WithKernelArgs(args ...string) Option {
	return func(c *Cmd) error {
		for _, a := range args {
			if strings.TrimSpace(a) == "" {
				return errors.New("empty kernel argument")
			}
			if strings.ContainsAny(a, "\n\r\x00") {
				return fmt.Errorf("kernel argument %q contains a control character", a)
			}
			key, _, _ := strings.Cut(a, "=")
			if key == "console" || key == "panic" {
				return fmt.Errorf("kernel argument %q: %s= is set by the rig (console from the arch table, panic=-1 so a panic ends the run)", a, key)
			}
			c.KernelArgs = append(c.KernelArgs, a)
		}
		return nil
	}
}

// WithGDB opens a gdb stub on tcp::port. With wait, QEMU starts with the
// CPUs stopped (-S) until gdb continues them. It adds nokaslr so that the
// symbols in vmlinux match the running kernel.
func WithGDB(port int, wait bool) Option {
	return func(c *Cmd) error {
		if port == 0 && !wait {
			return nil
		}
		if port <= 0 || port > 65535 {
			return fmt.Errorf("gdb port %d: want 1 to 65535", port)
		}
		if c.GDBPort != 0 && c.GDBPort != port {
			return fmt.Errorf("gdb port given twice (%d and %d)", c.GDBPort, port)
		}
		c.GDBPort = port
		c.GDBWait = c.GDBWait || wait
		return nil
	}
}

// WithQMP makes QEMU listen for QMP on a unix socket at path.
func WithQMP(path string) Option {
	return func(c *Cmd) error {
		if path == "" {
			return nil
		}
		if strings.Contains(path, ",") {
			return fmt.Errorf("QMP socket path %q: QEMU option syntax cannot take a comma; use another directory", path)
		}
		// sun_path holds 108 bytes including the terminating NUL.
		if len(path) > 107 {
			return fmt.Errorf("QMP socket path %q is %d bytes; unix sockets allow 107: use a shorter directory", path, len(path))
		}
		if c.QMPSocket != "" && c.QMPSocket != path {
			return fmt.Errorf("QMP socket given twice (%s and %s)", c.QMPSocket, path)
		}
		c.QMPSocket = path
		return nil
	}
}

// WithConsole selects how the console is wired (default ConsoleStdio).
func WithConsole(mode ConsoleMode) Option {
	return func(c *Cmd) error {
		if mode != ConsoleStdio && mode != ConsoleInteractive {
			return fmt.Errorf("unknown console mode %d", mode)
		}
		if c.consoleSet && c.Console != mode {
			return errors.New("console mode given twice with different values")
		}
		c.Console, c.consoleSet = mode, true
		return nil
	}
}

// WithQEMUBinary overrides the arch table's QEMU binary.
func WithQEMUBinary(path string) Option {
	return func(c *Cmd) error {
		if path == "" {
			return nil
		}
		if c.QEMU != "" && c.QEMU != path {
			return fmt.Errorf("QEMU binary given twice (%s and %s)", c.QEMU, path)
		}
		c.QEMU = path
		return nil
	}
}

// WithQEMUArgs appends raw QEMU arguments (devices, -d flags, ...).
// Arguments that the rig sets itself are rejected with the Option to use.
func WithQEMUArgs(args ...string) Option {
	return func(c *Cmd) error {
		for _, a := range args {
			if use, ok := ownedFlags[a]; ok {
				return fmt.Errorf("QEMU argument %q is set by the rig: %s", a, use)
			}
		}
		c.ExtraQEMUArgs = append(c.ExtraQEMUArgs, args...)
		return nil
	}
}

var ownedFlags = map[string]string{
	"-m":           "use WithMemory",
	"-smp":         "use WithSMP",
	"-accel":       "use WithAccel",
	"-enable-kvm":  "use WithAccel",
	"-machine":     "edit the arch table",
	"-M":           "edit the arch table",
	"-cpu":         "edit the arch table",
	"-kernel":      "pass the kernel to Cmdline",
	"-initrd":      "pass the initrd to Cmdline",
	"-append":      "use WithKernelArgs",
	"-serial":      "use WithConsole",
	"-nographic":   "use WithConsole",
	"-display":     "the rig always runs without a display",
	"-nodefaults":  "the rig always passes it",
	"-no-reboot":   "the rig always passes it (with panic=-1)",
	"-qmp":         "use WithQMP",
	"-gdb":         "use WithGDB",
	"-s":           "use WithGDB",
	"-S":           "use WithGDB(port, true)",
	"-daemonize":   "the rig owns QEMU's lifetime",
	"-pidfile":     "the rig owns QEMU's lifetime",
	"-no-shutdown": "the rig needs QEMU to exit when the guest powers off",
}

// Cmdline builds the QEMU argv for booting kernel (and initrd, if not
// empty) on spec with the given options. It has no side effects.
func Cmdline(spec arch.Spec, kernel, initrd string, opts ...Option) ([]string, error) {
	c := &Cmd{Spec: spec, Kernel: kernel, Initrd: initrd}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c.Argv()
}

// Argv validates c and renders it as a QEMU argv.
func (c *Cmd) Argv() ([]string, error) {
	if err := CheckSpec(c.Spec); err != nil {
		return nil, err
	}
	if c.Kernel == "" {
		return nil, errors.New("no kernel image given")
	}
	if c.GDBWait && c.GDBPort == 0 {
		return nil, errors.New("gdb wait (-S) needs a gdb port")
	}
	// Each block below emits the QEMU arguments and the kernel arguments of
	// one feature together.
	var q, k []string
	q = append(q, firstNonEmpty(c.QEMU, c.Spec.QEMU))
	q = append(q, c.Spec.Machine...)

	accel := c.Accel
	if accel == AccelAuto {
		accel = AccelTCG
	}
	q = append(q, "-accel", string(accel))
	q = append(q, "-m", firstNonEmpty(c.Memory, DefaultMemory))
	smp := c.SMP
	if smp == 0 {
		smp = DefaultSMP
	}
	q = append(q, "-smp", strconv.Itoa(smp))
	q = append(q, "-nodefaults", "-display", "none")

	// A panic reboots at once (panic=-1) and the reboot ends QEMU
	// (-no-reboot): a crashed guest never hangs until a timeout.
	q = append(q, "-no-reboot")
	k = append(k, "panic=-1")

	switch c.Console {
	case ConsoleInteractive:
		q = append(q,
			"-chardev", "stdio,id=con0,mux=on,signal=off",
			"-serial", "chardev:con0",
			"-mon", "chardev=con0,mode=readline")
	default:
		q = append(q, "-serial", "stdio")
	}
	k = append(k, "console="+c.Spec.Console)

	q = append(q, "-kernel", c.Kernel)
	if c.Initrd != "" {
		q = append(q, "-initrd", c.Initrd)
	}

	if c.GDBPort != 0 {
		q = append(q, "-gdb", "tcp::"+strconv.Itoa(c.GDBPort))
		if c.GDBWait {
			q = append(q, "-S")
		}
		k = append(k, "nokaslr")
	}

	if c.QMPSocket != "" {
		q = append(q, "-qmp", "unix:"+c.QMPSocket+",server=on,wait=off")
	}

	q = append(q, c.ExtraQEMUArgs...)
	k = append(k, c.KernelArgs...)
	q = append(q, "-append", strings.Join(k, " "))
	return q, nil
}

// CheckSpec reports the fields of an arch table row that the vm package
// needs and that are missing.
func CheckSpec(s arch.Spec) error {
	var missing []string
	if s.Name == "" {
		missing = append(missing, "Name")
	}
	if s.QEMU == "" {
		missing = append(missing, "QEMU")
	}
	if len(s.Machine) == 0 {
		missing = append(missing, "Machine")
	}
	if s.Console == "" {
		missing = append(missing, "Console")
	}
	if s.KVMHostArch == "" {
		missing = append(missing, "KVMHostArch")
	}
	for _, m := range s.Machine {
		if m == "" || strings.ContainsAny(m, " \t\n") {
			missing = append(missing, fmt.Sprintf("Machine element %q (one argument per element)", m))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("arch %q: incomplete table row: missing or bad %s", s.Name, strings.Join(missing, ", "))
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
