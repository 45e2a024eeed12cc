package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/vm"
)

// hangingKVM is a qemu-system-x86_64 for the front of PATH that plays a
// host whose KVM opens and starts guests but never runs them (CPU flags
// without vmx or svm, yet a /dev/kvm): given -accel kvm it starts the real
// QEMU paused (-S, under TCG so that it needs no /dev/kvm), so no guest
// instruction ever runs; everything else passes through unchanged. Each
// -accel kvm call is logged to $FAKE_KVM_LOG.
const hangingKVM = `#!/bin/sh
real=%REAL%
n=$#
prev=
paused=
for a do
	if [ "$prev" = -accel ] && [ "$a" = kvm ]; then
		a=tcg
		paused=-S
		echo "-accel kvm: started paused" >> "$FAKE_KVM_LOG"
	fi
	set -- "$@" "$a"
	prev=$a
done
shift $n
exec "$real" "$@" $paused
`

// TestFallbackFromHangingKVM runs the suite on x86_64 with a KVM that
// starts a guest but never runs it, on any host (with or without a working
// KVM): --accel auto must notice within the probe's bound, say why, and
// pass under TCG; a second run takes the cached verdict; --accel kvm fails
// with the reason, before booting.
func TestFallbackFromHangingKVM(t *testing.T) {
	e := needEnv(t)
	real, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Fatalf("qemu-system-x86_64: %v (apt-get install qemu-system-x86)", err)
	}
	bin := t.TempDir()
	kvmLog := filepath.Join(bin, "kvm.log")
	script := strings.ReplaceAll(hangingKVM, "%REAL%", real)
	if err := os.WriteFile(filepath.Join(bin, "qemu-system-x86_64"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// The verdicts of this fake are keyed by its path, never used again.
	t.Cleanup(func() {
		files, _ := filepath.Glob(filepath.Join(e.cache, "accel", "*.json"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), bin) {
				os.Remove(f)
			}
		}
	})
	fakeEnv := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_KVM_LOG=" + kvmLog}
	probeTime := regexp.MustCompile(`\[x86_64\] accelerator done in ([0-9.]+m?s)`)

	var took [2]time.Duration
	for i, want := range []string{"fresh probe", "cached verdict"} {
		out := t.TempDir()
		js := filepath.Join(out, "r.json")
		r := e.runWith(t, 20*time.Minute, fakeEnv, "test", "--arch", "x86_64", "--json", js, "--out", out)
		noQEMULeft(t, out)
		if r.code != 0 {
			t.Fatalf("%s: exit %d, want 0 (TCG after the hanging KVM)\nstdout:\n%s\nstderr:\n%s", want, r.code, r.stdout, tailOf(r.stderr, 30))
		}
		rs := readResults(t, js)
		if len(rs.Runs) != 1 {
			t.Fatalf("%d runs, want 1", len(rs.Runs))
		}
		run := rs.Runs[0]
		if run.Outcome != vm.OutcomePass || run.Accel != "tcg" {
			t.Fatalf("%s: outcome %s accel %s, want pass under tcg (%s)", want, run.Outcome, run.Accel, run.Error)
		}
		if !strings.Contains(run.AccelReason, "KVM unusable") || !strings.Contains(run.AccelReason, "ran no code within") {
			t.Errorf("%s: accel_reason %q does not say that the KVM guest never ran", want, run.AccelReason)
		}
		if cached := strings.Contains(run.AccelReason, "cached"); cached != (i == 1) {
			t.Errorf("%s: accel_reason %q", want, run.AccelReason)
		}
		// The terminal says it too: the boot phase names the accelerator
		// and its reason, and so does the summary.
		if !strings.Contains(r.stderr, "boot and test under tcg (KVM unusable:") {
			t.Errorf("%s: the terminal does not show the choice and its reason:\n%s", want, tailOf(r.stderr, 20))
		}
		if !strings.Contains(r.stdout, "accelerator tcg: KVM unusable:") {
			t.Errorf("%s: the summary does not show the choice and its reason:\n%s", want, r.stdout)
		}
		// The run itself was TCG, with the TCG argv recorded.
		if argv := strings.Join(run.QEMU, " "); !strings.Contains(argv, "-accel tcg") || strings.Contains(argv, "-accel kvm") {
			t.Errorf("%s: QEMU argv %q, want -accel tcg", want, argv)
		}
		m := probeTime.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("%s: no accelerator phase on the terminal:\n%s", want, tailOf(r.stderr, 30))
		}
		took[i], _ = time.ParseDuration(m[1])
		t.Logf("%s: accelerator chosen in %s, whole run %s: %s", want, took[i], r.took.Round(time.Millisecond), run.AccelReason)
	}
	calls, _ := os.ReadFile(kvmLog)
	if n := strings.Count(string(calls), "-accel kvm"); n != 1 {
		t.Errorf("the fake KVM was started %d times, want once (one probe, then the cache):\n%s", n, calls)
	}
	if took[0] < vm.ProbeTimeout || took[0] > vm.ProbeTimeout+10*time.Second {
		t.Errorf("fresh probe took %s, want its bound %s (plus QEMU's start)", took[0], vm.ProbeTimeout)
	}
	if took[1] > time.Second {
		t.Errorf("the cached verdict took %s", took[1])
	}

	// --accel kvm fails hard, with the reason, before any boot.
	out := t.TempDir()
	r := e.runWith(t, 10*time.Minute, fakeEnv, "test", "--arch", "x86_64", "--accel", "kvm", "--out", out)
	if r.code != 3 {
		t.Errorf("--accel kvm: exit %d, want 3 (rig error)", r.code)
	}
	if !strings.Contains(r.stderr, "cannot use KVM:") || !strings.Contains(r.stderr, "ran no code within") {
		t.Errorf("--accel kvm: the error does not give the reason:\n%s", tailOf(r.stderr, 20))
	}
	if _, err := os.Stat(filepath.Join(out, "x86_64", "console.log")); err == nil {
		t.Error("--accel kvm booted a guest although KVM does not run guests")
	}
}
