package vm

import (
	"strings"
)

// Stream says where a console line came from.
type Stream uint8

const (
	// StreamConsole is QEMU's stdout: the guest's serial console.
	StreamConsole Stream = iota
	// StreamQEMU is QEMU's stderr: QEMU's own messages.
	StreamQEMU
)

func (s Stream) String() string {
	if s == StreamQEMU {
		return "qemu"
	}
	return "console"
}

// Line is one whole line of output, without its line ending.
type Line struct {
	Text   string
	Stream Stream
}

// CrashKind names a kind of kernel report found on the console.
type CrashKind string

const (
	CrashPanic         CrashKind = "panic"
	CrashOops          CrashKind = "oops"
	CrashBUG           CrashKind = "bug"
	CrashGPF           CrashKind = "general protection fault"
	CrashFault         CrashKind = "kernel fault"
	CrashStackOverflow CrashKind = "stack overflow"
	CrashBootFailure   CrashKind = "boot failure"
	CrashWarning       CrashKind = "warning"
	CrashStall         CrashKind = "stall"
)

// fatal reports whether a crash of this kind means the kernel itself is
// broken (the run is a panic), rather than a warning it survived.
func (k CrashKind) fatal() bool {
	return k != CrashWarning && k != CrashStall && k != ""
}

// A crashPattern recognises one kind of report by the prefix of a console
// line (after the printk timestamp). Prefix matching keeps the scan cheap
// and avoids matching the same words inside user-space output.
type crashPattern struct {
	prefix string
	kind   CrashKind
	// refine, if set, may change the kind from the whole (stripped) line.
	refine func(text string) CrashKind
}

// The order matters: the first matching prefix wins.
var crashPatterns = []crashPattern{
	{prefix: "Kernel panic - not syncing", kind: CrashPanic, refine: refinePanic},
	{prefix: "VFS: Unable to mount root fs", kind: CrashBootFailure},
	{prefix: "VFS: Cannot open root device", kind: CrashBootFailure},
	{prefix: "general protection fault", kind: CrashGPF},
	{prefix: "Oops: general protection fault", kind: CrashGPF},
	{prefix: "Oops: ", kind: CrashOops},
	{prefix: "Oops[", kind: CrashOops},
	{prefix: "Internal error: Oops", kind: CrashOops},
	{prefix: "kernel BUG at ", kind: CrashBUG},
	{prefix: "BUG: ", kind: CrashBUG, refine: refineBUG},
	{prefix: "watchdog: BUG: soft lockup", kind: CrashStall},
	{prefix: "Unable to handle kernel ", kind: CrashFault},
	{prefix: "Kernel stack overflow", kind: CrashStackOverflow},
	// s390x register dump of a kernel-mode fault; usually follows an
	// "Oops:" line, but some s390 reports (low-address protection,
	// program checks in early code) only have the dump.
	{prefix: "Krnl PSW ", kind: CrashFault},
	{prefix: "WARNING: ", kind: CrashWarning},
	{prefix: "UBSAN: ", kind: CrashWarning},
	{prefix: "INFO: task ", kind: CrashStall},
	{prefix: "INFO: rcu", kind: CrashStall},
	{prefix: "rcu: INFO: ", kind: CrashStall},
}

// bootFailurePanics are panic messages that mean the kernel could not hand
// over to user space: the image or its command line is wrong.
var bootFailurePanics = []string{
	"VFS: Unable to mount root fs",
	"No working init found",
	"Requested init ",
	"Unable to mount root fs",
	"No init found",
}

func refinePanic(text string) CrashKind {
	for _, s := range bootFailurePanics {
		if strings.Contains(text, s) {
			return CrashBootFailure
		}
	}
	return CrashPanic
}

func refineBUG(text string) CrashKind {
	if strings.Contains(text, "soft lockup") || strings.Contains(text, "workqueue lockup") {
		return CrashStall
	}
	return CrashBUG
}

// stripPrintkPrefix removes a leading printk timestamp ("[    1.234567] ")
// and caller id ("[    T1] ") so that patterns can match at the start.
func stripPrintkPrefix(s string) string {
	for range 2 {
		if len(s) < 3 || s[0] != '[' {
			return s
		}
		end := strings.IndexByte(s, ']')
		if end < 0 || end > 24 {
			return s
		}
		inner := strings.TrimSpace(s[1:end])
		if !isPrintkField(inner) {
			return s
		}
		s = strings.TrimPrefix(s[end+1:], " ")
	}
	return s
}

// isPrintkField accepts "12.345678", "T1" and "C0".
func isPrintkField(f string) bool {
	if f == "" {
		return false
	}
	if f[0] == 'T' || f[0] == 'C' {
		f = f[1:]
		if f == "" {
			return false
		}
	}
	for i := 0; i < len(f); i++ {
		if (f[i] < '0' || f[i] > '9') && f[i] != '.' {
			return false
		}
	}
	return true
}

// matchCrash returns the crash kind of one console line and its title
// (the line without the printk prefix), or "" if the line is not the start
// of a kernel report.
func matchCrash(line string) (CrashKind, string) {
	text := stripPrintkPrefix(line)
	if text == "" {
		return "", ""
	}
	// Fast path: every prefix starts with one of these bytes.
	switch text[0] {
	case 'K', 'V', 'g', 'O', 'I', 'k', 'B', 'w', 'U', 'W', 'r':
	default:
		return matchPanicAnywhere(line)
	}
	for _, p := range crashPatterns {
		if strings.HasPrefix(text, p.prefix) {
			kind := p.kind
			if p.refine != nil {
				kind = p.refine(text)
			}
			return kind, strings.TrimSpace(text)
		}
	}
	return matchPanicAnywhere(line)
}

// matchPanicAnywhere catches a panic message printed after unterminated
// user-space output on the same line.
func matchPanicAnywhere(line string) (CrashKind, string) {
	i := strings.Index(line, "Kernel panic - not syncing")
	if i < 0 {
		return "", ""
	}
	text := line[i:]
	return refinePanic(text), strings.TrimSpace(text)
}
