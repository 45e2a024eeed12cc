package vm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

// Accel is a QEMU accelerator.
type Accel string

const (
	// AccelAuto lets ChooseAccel decide.
	AccelAuto Accel = ""
	AccelKVM  Accel = "kvm"
	AccelTCG  Accel = "tcg"
)

// TCGSlowdown is the factor by which timeouts grow when the guest is
// emulated by TCG instead of run by KVM.
const TCGSlowdown = 5

// ProbeTimeout bounds a KVM probe. A vCPU that runs writes the firmware's
// first bytes within milliseconds; QEMU's own start takes a fraction of a
// second even on a loaded host.
const ProbeTimeout = 5 * time.Second

// ParseAccel parses a --accel value: "auto" (or empty), "kvm" or "tcg".
func ParseAccel(s string) (Accel, error) {
	switch s {
	case "", "auto":
		return AccelAuto, nil
	case "kvm":
		return AccelKVM, nil
	case "tcg":
		return AccelTCG, nil
	}
	return AccelAuto, fmt.Errorf("accelerator %q: want auto, kvm or tcg", s)
}

// Scale returns d scaled for the accelerator: TCGSlowdown times longer
// under TCG, unchanged under KVM.
func (a Accel) Scale(d time.Duration) time.Duration {
	if a == AccelKVM {
		return d
	}
	return d * TCGSlowdown
}

// AccelChoice is the accelerator picked for a run and why.
type AccelChoice struct {
	Accel  Accel
	Reason string
}

func (c AccelChoice) String() string { return string(c.Accel) + " (" + c.Reason + ")" }

// KVMVerdict is what a KVM probe found.
type KVMVerdict struct {
	// Usable is set when the guest was seen running under KVM.
	Usable bool
	// Reason says what was seen, or what went wrong.
	Reason string
	// Took is how long the probe ran (for a cached verdict: the probe
	// that made it).
	Took time.Duration
	// Cached is set when the verdict comes from the cache of this boot.
	Cached bool
}

// ChooseAccel picks the accelerator for a guest of spec on a host whose
// GOARCH is host. want forces a choice; AccelKVM fails with the reason
// when KVM cannot be used. AccelAuto takes KVM only when the guest
// architecture is the host's and probeKVM (normally CheckKVM) saw a guest
// run under it, TCG otherwise. probeKVM is only called when KVM is a
// candidate and spec has a KVMProbe; its error (canceled, QEMU missing) is
// returned, not turned into a choice.
//
// An arch without a KVMProbe runs under TCG with --accel auto, and under
// KVM unprobed with --accel kvm.
func ChooseAccel(spec arch.Spec, want Accel, host string, probeKVM func() (KVMVerdict, error)) (AccelChoice, error) {
	switch want {
	case AccelTCG:
		return AccelChoice{AccelTCG, "tcg requested"}, nil
	case AccelKVM, AccelAuto:
	default:
		return AccelChoice{}, fmt.Errorf("accelerator %q: want auto, kvm or tcg", want)
	}
	if spec.KVMHostArch != host {
		why := fmt.Sprintf("%s guest on %s host: KVM runs %s guests only on %s hosts", spec.Name, host, spec.Name, spec.KVMHostArch)
		if want == AccelKVM {
			return AccelChoice{}, fmt.Errorf("cannot use KVM: %s; use --accel tcg", why)
		}
		return AccelChoice{AccelTCG, why}, nil
	}
	if spec.KVMProbe.Expect == "" {
		if want == AccelKVM {
			return AccelChoice{AccelKVM, "kvm requested; not probed: no kernel-free KVM probe for " + spec.Name}, nil
		}
		return AccelChoice{AccelTCG, "no kernel-free KVM probe for " + spec.Name + " in the arch table: --accel kvm forces KVM"}, nil
	}
	v, err := probeKVM()
	if err != nil {
		return AccelChoice{}, fmt.Errorf("probing KVM: %w", err)
	}
	if !v.Usable {
		if want == AccelKVM {
			return AccelChoice{}, fmt.Errorf("cannot use KVM: %s; use --accel tcg", v.Reason)
		}
		return AccelChoice{AccelTCG, "KVM unusable: " + v.Reason}, nil
	}
	why := v.Reason
	if want == AccelKVM {
		why = "kvm requested; " + why
	}
	return AccelChoice{AccelKVM, why}, nil
}

// SelectAccel is ChooseAccel on this host, with the KVM probe's verdict
// cached under cacheDir (see CheckKVM).
func SelectAccel(ctx context.Context, spec arch.Spec, want Accel, cacheDir string) (AccelChoice, error) {
	return ChooseAccel(spec, want, runtime.GOARCH, func() (KVMVerdict, error) {
		return CheckKVM(ctx, spec, cacheDir)
	})
}

// ProbeArgv is the QEMU command line of spec's KVM probe: the arch's
// machine under KVM, no kernel, the firmware's output on stdout.
func ProbeArgv(spec arch.Spec, qemu string) []string {
	argv := []string{firstNonEmpty(qemu, spec.QEMU)}
	argv = append(argv, spec.Machine...)
	argv = append(argv, "-accel", "kvm", "-m", "64M", "-nodefaults", "-display", "none", "-no-reboot")
	return append(argv, spec.KVMProbe.Args...)
}

// ProbeKVM runs ProbeArgv and waits up to timeout for spec.KVMProbe.Expect
// on QEMU's stdout. Only a running guest writes it: a KVM that opens and
// starts a guest that never executes (no vmx/svm under a broken nested
// setup) is caught here, as is a QEMU that refuses -accel kvm (no
// /dev/kvm, no permission: QEMU is the judge). QEMU is killed before
// ProbeKVM returns. The error is for a probe that could not be made
// (canceled, QEMU not startable); every other result is a verdict.
func ProbeKVM(ctx context.Context, spec arch.Spec, qemu string, timeout time.Duration) (KVMVerdict, error) {
	start := time.Now()
	argv := ProbeArgv(spec, qemu)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return KVMVerdict{}, fmt.Errorf("KVM probe: %w", err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return KVMVerdict{}, fmt.Errorf("starting the KVM probe %s: %w", argv[0], err)
	}
	found := make(chan struct{})
	eof := make(chan struct{})
	go func() {
		defer close(eof)
		signal := found
		var seen []byte
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			if signal != nil && n > 0 {
				seen = append(seen, buf[:n]...)
				if bytes.Contains(seen, []byte(spec.KVMProbe.Expect)) {
					close(signal)
					signal = nil
				} else if len(seen) > 64<<10 {
					seen = seen[len(seen)-len(spec.KVMProbe.Expect):]
				}
			}
			if err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var v KVMVerdict
	var probeErr error
	exited := false
	ran := func() KVMVerdict {
		return KVMVerdict{Usable: true, Reason: fmt.Sprintf("KVM ran guest firmware (its %q output seen after %s)", spec.KVMProbe.Expect, roundMS(time.Since(start)))}
	}
	select {
	case <-found:
		v = ran()
	case <-eof:
		// The firmware may have spoken and QEMU ended (s390x: no boot
		// device): found is closed before eof.
		select {
		case <-found:
			v = ran()
		default:
			exited = true
		}
	case <-timer.C:
		v = KVMVerdict{Reason: fmt.Sprintf("QEMU started a KVM guest that ran no code within %s (no %q from the firmware): KVM opens but does not execute guests", timeout, spec.KVMProbe.Expect)}
	case <-ctx.Done():
		probeErr = fmt.Errorf("KVM probe: %w", context.Cause(ctx))
	}
	unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
	<-eof
	waitErr := cmd.Wait()
	if exited {
		msg := firstLine(stderr.String())
		if msg == "" {
			msg = "no message"
		}
		v = KVMVerdict{Reason: fmt.Sprintf("%s -accel kvm ended before the guest ran (%v): %s", filepath.Base(argv[0]), waitErr, msg)}
	}
	v.Took = time.Since(start)
	return v, probeErr
}

func roundMS(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// lockedBuffer is a bytes.Buffer that exec's copying goroutine and the
// caller may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 16<<10 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// BootIDPath holds the host's boot id: KVM verdicts are cached per boot.
const BootIDPath = "/proc/sys/kernel/random/boot_id"

// QEMUIdentity names one QEMU binary: a verdict is cached per binary.
type QEMUIdentity struct {
	Path    string // resolved: absolute, symlinks followed
	Size    int64
	ModTime time.Time
}

// IdentifyQEMU finds name in PATH and identifies the file that runs.
func IdentifyQEMU(name string) (QEMUIdentity, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return QEMUIdentity{}, err
	}
	if p, err = filepath.Abs(p); err != nil {
		return QEMUIdentity{}, err
	}
	if p, err = filepath.EvalSymlinks(p); err != nil {
		return QEMUIdentity{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return QEMUIdentity{}, err
	}
	return QEMUIdentity{Path: p, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// KVMDevicePath is the KVM device; its state is part of the cache key.
const KVMDevicePath = "/dev/kvm"

// kvmDeviceState describes the KVM device node: absent, or its mode,
// owner and device number, so that loading the module or changing the
// node's permissions within a boot makes a new cache key.
func kvmDeviceState(path string) string {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "absent"
	}
	return fmt.Sprintf("mode=%o uid=%d gid=%d rdev=%d", st.Mode, st.Uid, st.Gid, st.Rdev)
}

// KVMCacheKey is the cache key of a KVM verdict: the host's boot and the
// state of its KVM device, the QEMU binary, and the probe itself (arch,
// machine, arguments, expected output). A reboot, a new /dev/kvm, a QEMU
// upgrade or a changed probe makes a new key.
func KVMCacheKey(bootID, kvmDevice string, q QEMUIdentity, spec arch.Spec) string {
	h := sha256.New()
	for _, f := range []string{
		"kvm-verdict-v1", strings.TrimSpace(bootID), kvmDevice,
		q.Path, strconv.FormatInt(q.Size, 10), strconv.FormatInt(q.ModTime.UnixNano(), 10),
		spec.Name, strings.Join(spec.Machine, " "), strings.Join(spec.KVMProbe.Args, " "), spec.KVMProbe.Expect,
		ProbeTimeout.String(),
	} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// kvmCacheEntry is the file a verdict is cached in.
type kvmCacheEntry struct {
	Key          string    `json:"key"`
	Arch         string    `json:"arch"`
	QEMU         string    `json:"qemu"`
	Usable       bool      `json:"usable"`
	Reason       string    `json:"reason"`
	ProbeSeconds float64   `json:"probe_s"`
	ProbedAt     time.Time `json:"probed_at"`
}

// KVMCachePath is where the verdict with key is cached under cacheDir.
func KVMCachePath(cacheDir string, spec arch.Spec, key string) string {
	return filepath.Join(cacheDir, "accel", spec.Name+"-"+key[:24]+".json")
}

// readKVMCache returns the cached verdict, or false if there is none or
// the file is damaged or belongs to another key.
func readKVMCache(path, key string) (KVMVerdict, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return KVMVerdict{}, false
	}
	var e kvmCacheEntry
	if json.Unmarshal(b, &e) != nil || e.Key != key || e.Reason == "" {
		return KVMVerdict{}, false
	}
	return KVMVerdict{
		Usable: e.Usable,
		Reason: e.Reason + " (cached probe of this boot and QEMU binary)",
		Took:   time.Duration(e.ProbeSeconds * float64(time.Second)),
		Cached: true,
	}, true
}

// CheckKVM says whether a guest of spec runs under KVM here: ProbeKVM's
// verdict, cached under cacheDir/accel per host boot and QEMU binary, so
// that later runs pay nothing. A damaged cache file is ignored and the
// probe made again; when the boot id cannot be read nothing is cached.
// Failing to write the cache is not an error: the verdict stands.
func CheckKVM(ctx context.Context, spec arch.Spec, cacheDir string) (KVMVerdict, error) {
	q, err := IdentifyQEMU(spec.QEMU)
	if err != nil {
		return KVMVerdict{}, fmt.Errorf("finding %s: %w", spec.QEMU, err)
	}
	bootID, idErr := os.ReadFile(BootIDPath)
	var key, path string
	if idErr == nil && cacheDir != "" {
		key = KVMCacheKey(string(bootID), kvmDeviceState(KVMDevicePath), q, spec)
		path = KVMCachePath(cacheDir, spec, key)
		if v, ok := readKVMCache(path, key); ok {
			return v, nil
		}
	}
	v, err := ProbeKVM(ctx, spec, q.Path, ProbeTimeout)
	if err != nil || path == "" {
		return v, err
	}
	b, err := json.MarshalIndent(kvmCacheEntry{
		Key: key, Arch: spec.Name, QEMU: q.Path, Usable: v.Usable, Reason: v.Reason,
		ProbeSeconds: v.Took.Seconds(), ProbedAt: time.Now().UTC(),
	}, "", "  ")
	if err == nil {
		err = fsutil.WriteFileAtomic(path, append(b, '\n'), 0o644)
	}
	if err != nil {
		v.Reason += fmt.Sprintf(" (not cached: %v)", err)
	}
	return v, nil
}
