package vm

import (
	"context"
	"os/exec"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// QEMUVersion returns "QEMU 8.2.2" from the emulator's --version, or "" if
// it cannot be run.
func QEMUVersion(ctx context.Context, a arch.Spec) string {
	out, err := exec.CommandContext(ctx, a.QEMU, "--version").Output()
	if err != nil {
		return ""
	}
	return parseQEMUVersion(string(out))
}

func parseQEMUVersion(out string) string {
	first, _, _ := strings.Cut(out, "\n")
	if _, v, ok := strings.Cut(first, "version "); ok {
		if f := strings.Fields(v); len(f) > 0 {
			return "QEMU " + f[0]
		}
	}
	return strings.TrimSpace(first)
}
