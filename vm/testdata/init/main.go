// Command init is a tiny PID 1 for the vm package's integration tests. It is
// cross-compiled by the test (CGO_ENABLED=0) and packed alone into an
// initramfs. The kernel passes unknown "key=value" command-line arguments to
// init as environment variables; vmtest_mode selects what this init does.
package main

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Marker is printed first: the tests use it as the boot marker.
const marker = "VMTEST INIT STARTED"

func main() {
	mode := os.Getenv("vmtest_mode")
	fmt.Printf("%s mode=%q pid=%d\n", marker, mode, os.Getpid())
	switch mode {
	case "poweroff":
		fmt.Println("VMTEST DONE")
		powerOff()
	case "exit":
		fmt.Println("VMTEST init exiting")
		os.Exit(0)
	case "sysrq":
		if err := os.MkdirAll("/proc", 0o755); err != nil {
			fail("mkdir /proc: %v", err)
		}
		if err := unix.Mount("proc", "/proc", "proc", 0, ""); err != nil {
			fail("mount /proc: %v", err)
		}
		fmt.Println("VMTEST triggering sysrq crash")
		if err := os.WriteFile("/proc/sysrq-trigger", []byte("c"), 0); err != nil {
			fail("write /proc/sysrq-trigger: %v", err)
		}
		fail("still alive after sysrq-trigger")
	case "hang":
		fmt.Println("VMTEST hanging")
		for {
			time.Sleep(time.Hour)
		}
	case "echo":
		echo()
		powerOff()
	default:
		fail("unknown vmtest_mode %q", mode)
	}
}

// echo is a minimal interactive loop: it prints a prompt without a newline
// and answers each input line, until it reads "quit".
func echo() {
	in := bufio.NewScanner(os.Stdin)
	for {
		fmt.Print("vmtest> ")
		if !in.Scan() {
			fmt.Printf("\nVMTEST stdin closed: %v\n", in.Err())
			return
		}
		line := in.Text()
		if line == "quit" {
			fmt.Println("VMTEST bye")
			return
		}
		fmt.Printf("echo: %s\n", line)
	}
}

func powerOff() {
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fail("power off: %v", err)
	}
	for {
		time.Sleep(time.Hour)
	}
}

func fail(format string, args ...any) {
	fmt.Printf("VMTEST FAILURE: "+format+"\n", args...)
	// Returning from PID 1 panics the kernel, which the test notices.
	os.Exit(1)
}
