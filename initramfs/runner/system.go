//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// mount is one file system the tests need.
type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

var mounts = []mount{
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
}

// isMountPoint reports whether dir is a mount point: it is on another
// device than its parent. This works before /proc is mounted, and tells a
// tmpfs mounted on /tmp from a rootfs that is itself a tmpfs.
func isMountPoint(dir string) (bool, error) {
	var st, parent unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return false, err
	}
	if err := unix.Stat(filepath.Dir(dir), &parent); err != nil {
		return false, err
	}
	return st.Dev != parent.Dev, nil
}

// setupMounts mounts what is not mounted yet (u-root's init mounts most of
// it already) and returns one message per action or failure. A failure is
// not fatal: the tests that need the file system will say so.
func setupMounts() []string { return mountUnder("") }

// mountUnder mounts the file systems of mounts under root ("" for /): a
// userland's root gets its own proc, sys, dev and tmp.
func mountUnder(root string) []string {
	var msgs []string
	for _, m := range mounts {
		m.target = root + m.target
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			msgs = append(msgs, fmt.Sprintf("warning: creating %s: %v", m.target, err))
			continue
		}
		mounted, err := isMountPoint(m.target)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("warning: checking %s: %v", m.target, err))
			continue
		}
		if mounted {
			continue
		}
		if err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
			msgs = append(msgs, fmt.Sprintf("warning: mounting %s on %s: %v", m.fstype, m.target, err))
			continue
		}
		msgs = append(msgs, fmt.Sprintf("mounted %s on %s", m.fstype, m.target))
	}
	return msgs
}

// canPowerOff guesses whether the kernel can power the machine off. The
// reboot system call turns a power-off that the kernel cannot do into a halt
// and never returns, so the fallback to a reset must be chosen before the
// call: on x86 power-off goes through ACPI, elsewhere (s390x) the platform
// always can.
func canPowerOff() bool {
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "386" {
		_, err := os.Stat("/sys/firmware/acpi")
		return err == nil
	}
	return true
}

// shutdown powers the machine off, or resets it when it cannot (QEMU runs
// with -no-reboot, so a reset ends it too). It returns only on failure.
func shutdown(out io.Writer) error {
	unix.Sync()
	var errs []error
	if canPowerOff() {
		info(out, "power off")
		errs = append(errs, fmt.Errorf("power off: %w", unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)))
	} else {
		info(out, "no ACPI, resetting instead of powering off")
	}
	errs = append(errs, fmt.Errorf("reboot: %w", unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)))
	return errors.Join(errs...)
}

// memInfo is MemTotal and MemAvailable from /proc/meminfo, for the log:
// what the image leaves to the guest.
func memInfo() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	var parts []string
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "MemTotal" || k == "MemAvailable") {
			parts = append(parts, k+" "+strings.Join(strings.Fields(v), " "))
		}
	}
	return strings.Join(parts, ", ")
}
