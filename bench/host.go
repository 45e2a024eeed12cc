package bench

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// HostInfo describes the machine the emulators run on.
func HostInfo() Host {
	h := Host{NProc: runtime.NumCPU(), GoVersion: runtime.Version(), CPUModel: "unknown CPU"}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		h.CPUModel = CPUModel(string(data))
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return h
}
