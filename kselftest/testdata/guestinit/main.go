// Command guestinit is a throwaway /init for checking kselftest binaries by
// hand in a guest (see the kselftest package comment): it mounts /proc,
// /sys, /dev and /tmp, runs every executable in /kselftest in name order
// with its output on the console, prints its exit status, and reboots (which ends a QEMU started with -no-reboot).
//
// Build it with CGO_ENABLED=0 GOARCH=<arch.GOARCH> go build -o init.
// Each binary's timeout is read from /kselftest/<name>.timeout (seconds,
// 45 when absent, as the kselftest runner does). Linked as /bin/true and
// /bin/sleep, it also acts as those two programs.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func mount(src, dst, fstype string) {
	os.MkdirAll(dst, 0o755)
	if err := syscall.Mount(src, dst, fstype, 0, ""); err != nil && !errors.Is(err, syscall.EBUSY) {
		fmt.Printf("# guestinit: mount %s on %s: %v\n", fstype, dst, err)
	}
}

func timeout(path string) time.Duration {
	data, err := os.ReadFile(path + ".timeout")
	if err != nil {
		return 45 * time.Second
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n <= 0 {
		return 45 * time.Second
	}
	return time.Duration(n) * time.Second
}

func run(path string) {
	name := filepath.Base(path)
	d := timeout(path)
	fmt.Printf("# guestinit: start %s (timeout %s)\n", name, d)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Dir = "/tmp"
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stdout
	cmd.Env = []string{"PATH=/kselftest:/bin", "HOME=/tmp"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	err := cmd.Run()
	status := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = 128 + int(ws.Signal())
		} else {
			status = ee.ExitCode()
		}
	default:
		fmt.Printf("# guestinit: %s: %v\n", name, err)
		status = -1
	}
	timedOut := ctx.Err() != nil
	fmt.Printf("# guestinit: done %s status=%d timeout=%t elapsed=%s\n", name, status, timedOut, time.Since(start).Round(time.Millisecond))
}

// applet runs the init binary as "true" or "sleep N", the two programs
// ptrace/vmaccess execs (it finds them in PATH).
func applet() bool {
	switch filepath.Base(os.Args[0]) {
	case "true":
		os.Exit(0)
	case "sleep":
		if len(os.Args) > 1 {
			if n, err := strconv.ParseFloat(os.Args[1], 64); err == nil {
				time.Sleep(time.Duration(n * float64(time.Second)))
			}
		}
		os.Exit(0)
	}
	return false
}

func main() {
	applet()
	mount("proc", "/proc", "proc")
	mount("sysfs", "/sys", "sysfs")
	mount("devtmpfs", "/dev", "devtmpfs")
	mount("tmpfs", "/tmp", "tmpfs")
	var uts syscall.Utsname
	syscall.Uname(&uts)
	var rel []byte
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	fmt.Printf("# guestinit: kernel %s\n", rel)
	ents, err := os.ReadDir("/kselftest")
	if err != nil {
		fmt.Printf("# guestinit: %v\n", err)
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && !strings.Contains(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		run(filepath.Join("/kselftest", n))
	}
	fmt.Printf("# guestinit: all done\n")
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART) // QEMU runs with -no-reboot: this ends it
}
