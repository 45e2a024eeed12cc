package selfptrace_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	sp "github.com/selfptrace/selfptrace-vm/tests/internal/selfptrace"
)

const atSysinfoEhdr = 33 // AT_SYSINFO_EHDR

// vdsoRange returns the vDSO mapping from /proc/self/maps and checks that
// the auxiliary vector announces it.
func vdsoRange(t *testing.T) (lo, hi uint64) {
	t.Helper()
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		t.Fatalf("reading /proc/self/auxv: %v", err)
	}
	var ehdr uint64
	for i := 0; i+16 <= len(auxv); i += 16 {
		if binary.NativeEndian.Uint64(auxv[i:]) == atSysinfoEhdr {
			ehdr = binary.NativeEndian.Uint64(auxv[i+8:])
		}
	}
	if ehdr == 0 {
		t.Fatalf("the kernel maps no vDSO (no AT_SYSINFO_EHDR in the auxiliary vector): the guest kernel config must enable it")
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatalf("opening /proc/self/maps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasSuffix(line, "[vdso]") {
			continue
		}
		a, b, _ := strings.Cut(strings.Fields(line)[0], "-")
		lo, _ = strconv.ParseUint(a, 16, 64)
		hi, _ = strconv.ParseUint(b, 16, 64)
	}
	if lo == 0 || ehdr < lo || ehdr >= hi {
		t.Fatalf("vDSO mapping [%#x, %#x) does not contain AT_SYSINFO_EHDR %#x", lo, hi, ehdr)
	}
	return lo, hi
}

// vdsoClocksource lists the clocksources whose reads the vDSO serves
// without entering the kernel.
var vdsoClocksource = map[string]bool{"tsc": true, "tod": true, "arch_sys_counter": true, "riscv_clocksource": true}

// TestVDSOTime reads the clock through the vDSO (time.Now) many times while
// armed, then makes a marker call. A vDSO read that does not enter the
// kernel cannot be intercepted; one that falls back to the real
// clock_gettime (when the clocksource has no vDSO support) is a system
// call and must be intercepted like any other, from inside the vDSO.
// Either way the marker is the first call of the window intercepted from
// outside the vDSO. Contract: "Every system call is intercepted" (and only
// system calls: the vDSO is ordinary user code).
func TestVDSOTime(t *testing.T) {
	s := sp.Begin(t)
	lo, hi := vdsoRange(t)
	clocksource, _ := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	// The Go code of the window could, rarely, make a runtime system call:
	// such "foreign" calls are performed and re-armed by the handler
	// (FlagMatchNr) and reported below.
	s.Plan(sp.Plan{Flags: sp.FlagMatchNr, MatchNr: uint64(unix.SYS_GETPID)})
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const reads = 100
	var stamps [reads]time.Time
	old, err := sp.Sigprocmask(sp.SigSetmask, ^uint64(0)&^sp.SigBit(sp.SIGSYS))
	if err != nil {
		t.Fatal(err)
	}
	on := []sp.Op{sp.On()}
	marker := []sp.Op{sp.Syscall(unix.SYS_GETPID, 0x7d50), sp.Off()}
	sp.RunRaw(on)
	for i := range stamps {
		stamps[i] = time.Now()
	}
	sp.RunRaw(marker)
	if _, err := sp.Sigprocmask(sp.SigSetmask, old); err != nil {
		t.Fatal(err)
	}
	wantOn(t, on[0])
	var matched, fallback, foreign int
	for _, r := range sp.Records() {
		switch {
		case r.Flags&sp.RecForeign == 0:
			matched++
			checkIntercept(t, &r, unix.SYS_GETPID, []uint64{0x7d50})
		case r.Syscall() == unix.SYS_CLOCK_GETTIME && r.CallAddr() >= lo && r.CallAddr() < hi:
			fallback++
		default:
			foreign++
			t.Logf("Go runtime system call in the armed window (passed through): %v", r.String())
		}
	}
	if matched != 1 {
		t.Errorf("marker getpid intercepted %d times, want 1", matched)
	}
	// Calls from outside the vDSO are the Go runtime's own (a futex wake,
	// say): they were system calls, rightly intercepted and passed through,
	// and say nothing about the vDSO.
	if foreign != 0 {
		t.Logf("%d Go runtime system calls intercepted and passed through during time.Now()", foreign)
	}
	cs := strings.TrimSpace(string(clocksource))
	switch {
	case fallback == 0:
		t.Logf("%d vDSO clock reads, none entered the kernel (clocksource %q)", reads, cs)
	case vdsoClocksource[cs]:
		t.Errorf("clocksource %q serves clock_gettime in the vDSO, yet %d clock reads were intercepted as system calls", cs, fallback)
	default:
		t.Logf("clocksource %q has no vDSO fast path: %d vDSO fallback clock_gettime calls, each intercepted from inside the vDSO [%#x, %#x)",
			cs, fallback, lo, hi)
	}
	if !stamps[reads-1].After(stamps[0]) && !stamps[reads-1].Equal(stamps[0]) {
		t.Errorf("clock went backwards: %v", fmt.Sprint(stamps[0], stamps[reads-1]))
	}
}
