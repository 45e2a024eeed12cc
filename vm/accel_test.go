package vm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

func TestChooseAccel(t *testing.T) {
	x86, _ := arch.Lookup("x86_64")
	s390, _ := arch.Lookup("s390x")
	noProbe := x86
	noProbe.KVMProbe = arch.Probe{}
	ran := func() (KVMVerdict, error) { return KVMVerdict{Usable: true, Reason: "KVM ran guest firmware"}, nil }
	hung := func() (KVMVerdict, error) {
		return KVMVerdict{Reason: "QEMU started a KVM guest that ran no code within 5s"}, nil
	}
	canceled := func() (KVMVerdict, error) { return KVMVerdict{}, context.Canceled }
	tests := []struct {
		name    string
		spec    arch.Spec
		want    Accel
		host    string
		probe   func() (KVMVerdict, error)
		accel   Accel
		reason  string
		wantErr string
	}{
		{"auto native runs", x86, AccelAuto, "amd64", ran, AccelKVM, "ran guest firmware", ""},
		{"auto native hangs", x86, AccelAuto, "amd64", hung, AccelTCG, "KVM unusable: QEMU started a KVM guest that ran no code", ""},
		{"auto probe canceled", x86, AccelAuto, "amd64", canceled, "", "", "context canceled"},
		{"auto foreign", s390, AccelAuto, "amd64", nil, AccelTCG, "s390x guest on amd64 host", ""},
		{"auto s390 on s390", s390, AccelAuto, "s390x", ran, AccelKVM, "ran guest firmware", ""},
		{"auto no probe in the table", noProbe, AccelAuto, "amd64", nil, AccelTCG, "no kernel-free KVM probe", ""},
		{"kvm no probe in the table", noProbe, AccelKVM, "amd64", nil, AccelKVM, "not probed", ""},
		{"tcg forced", x86, AccelTCG, "amd64", nil, AccelTCG, "requested", ""},
		{"kvm forced runs", x86, AccelKVM, "amd64", ran, AccelKVM, "kvm requested; KVM ran guest firmware", ""},
		{"kvm forced hangs", x86, AccelKVM, "amd64", hung, "", "", "cannot use KVM: QEMU started a KVM guest that ran no code within 5s; use --accel tcg"},
		{"kvm forced foreign", s390, AccelKVM, "amd64", nil, "", "", "KVM runs s390x guests only on s390x hosts"},
		{"bad", x86, "hax", "amd64", nil, "", "", "want auto"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probe := tc.probe
			if probe == nil {
				probe = func() (KVMVerdict, error) {
					t.Fatal("probe called although KVM is no candidate")
					return KVMVerdict{}, nil
				}
			}
			c, err := ChooseAccel(tc.spec, tc.want, tc.host, probe)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Accel != tc.accel || !strings.Contains(c.Reason, tc.reason) {
				t.Errorf("got %s, want %s with reason containing %q", c, tc.accel, tc.reason)
			}
		})
	}
}

func TestParseAccelAndScale(t *testing.T) {
	for in, want := range map[string]Accel{"": AccelAuto, "auto": AccelAuto, "kvm": AccelKVM, "tcg": AccelTCG} {
		if got, err := ParseAccel(in); err != nil || got != want {
			t.Errorf("ParseAccel(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAccel("xen"); err == nil {
		t.Error("ParseAccel(xen) succeeded")
	}
	if got := AccelKVM.Scale(time.Minute); got != time.Minute {
		t.Errorf("kvm scale: %v", got)
	}
	if got := AccelTCG.Scale(time.Minute); got != TCGSlowdown*time.Minute {
		t.Errorf("tcg scale: %v", got)
	}
	got := Timeouts{Boot: time.Second, Run: 2 * time.Second}.scaled(AccelTCG)
	if got.Boot != TCGSlowdown*time.Second || got.Run != 2*TCGSlowdown*time.Second || got.NoOutput != 0 {
		t.Errorf("scaled timeouts: %+v", got)
	}
}

func TestProbeArgv(t *testing.T) {
	for _, spec := range arch.All() {
		if spec.KVMProbe.Expect == "" || len(spec.KVMProbe.Args) == 0 {
			t.Errorf("%s: no KVM probe in the arch table", spec.Name)
			continue
		}
		argv := ProbeArgv(spec, "")
		if argv[0] != spec.QEMU || !slices.Contains(argv, "kvm") || slices.Contains(argv, "-kernel") {
			t.Errorf("%s: probe argv %q: want %s, -accel kvm, no kernel", spec.Name, argv, spec.QEMU)
		}
		if i := slices.Index(argv, "-accel"); i < 0 || argv[i+1] != "kvm" {
			t.Errorf("%s: probe argv %q does not ask for KVM", spec.Name, argv)
		}
		if got := ProbeArgv(spec, "/x/qemu")[0]; got != "/x/qemu" {
			t.Errorf("binary override ignored: %s", got)
		}
	}
}

// probeSpec is an arch row whose QEMU is this test binary in a fake mode.
func probeSpec(t *testing.T, mode string) arch.Spec {
	t.Setenv("VM_FAKE_QEMU", mode)
	spec, err := fakeSpec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestProbeKVM(t *testing.T) {
	ctx := context.Background()
	t.Run("guest runs", func(t *testing.T) {
		v, err := ProbeKVM(ctx, probeSpec(t, "firmware"), "", time.Minute)
		if err != nil || !v.Usable || !strings.Contains(v.Reason, "SeaBIOS") {
			t.Fatalf("got %+v, %v; want usable", v, err)
		}
		if v.Took > 30*time.Second {
			t.Errorf("probe took %s although the firmware spoke at once", v.Took)
		}
	})
	t.Run("guest runs and QEMU ends", func(t *testing.T) {
		v, err := ProbeKVM(ctx, probeSpec(t, "firmware-exit"), "", time.Minute)
		if err != nil || !v.Usable {
			t.Fatalf("got %+v, %v; want usable", v, err)
		}
	})
	t.Run("guest never runs", func(t *testing.T) {
		start := time.Now()
		v, err := ProbeKVM(ctx, probeSpec(t, "silent"), "", 300*time.Millisecond)
		if err != nil || v.Usable || !strings.Contains(v.Reason, "ran no code within 300ms") {
			t.Fatalf("got %+v, %v; want unusable, no code run", v, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("a hanging probe took %s: not bounded by its timeout", d)
		}
	})
	t.Run("QEMU refuses", func(t *testing.T) {
		v, err := ProbeKVM(ctx, probeSpec(t, "exit1"), "", time.Minute)
		if err != nil || v.Usable || !strings.Contains(v.Reason, "could not open kernel file") || !strings.Contains(v.Reason, "exit status 1") {
			t.Fatalf("got %+v, %v; want unusable with QEMU's message", v, err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := ProbeKVM(ctx, probeSpec(t, "silent"), "", time.Minute); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("no binary", func(t *testing.T) {
		spec := probeSpec(t, "silent")
		if _, err := ProbeKVM(ctx, spec, filepath.Join(t.TempDir(), "none"), time.Minute); err == nil {
			t.Fatal("a missing QEMU gave a verdict, want an error")
		}
	})
}

func TestKVMCacheKey(t *testing.T) {
	spec, _ := arch.Lookup("x86_64")
	q := QEMUIdentity{Path: "/usr/bin/qemu-system-x86_64", Size: 100, ModTime: time.Unix(1000, 0)}
	base := KVMCacheKey("boot-1\n", "absent", q, spec)
	if base != KVMCacheKey("boot-1", "absent", q, spec) {
		t.Error("the boot id's newline changes the key")
	}
	other := spec
	other.KVMProbe.Expect = "other"
	q2, q3, q4 := q, q, q
	q2.Path = "/tmp/fake/qemu-system-x86_64"
	q3.Size = 101
	q4.ModTime = time.Unix(1001, 0)
	for name, k := range map[string]string{
		"another boot":  KVMCacheKey("boot-2", "absent", q, spec),
		"another path":  KVMCacheKey("boot-1", "absent", q2, spec),
		"another size":  KVMCacheKey("boot-1", "absent", q3, spec),
		"another mtime": KVMCacheKey("boot-1", "absent", q4, spec),
		"another probe": KVMCacheKey("boot-1", "absent", q, other),
		"/dev/kvm made": KVMCacheKey("boot-1", "mode=20666 uid=0 gid=108 rdev=2792", q, spec),
	} {
		if k == base {
			t.Errorf("%s: same key", name)
		}
	}
}

func TestCheckKVMCache(t *testing.T) {
	if _, err := os.Stat(BootIDPath); err != nil {
		t.Skipf("no boot id here: %v", err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	spec := probeSpec(t, "firmware")
	first, err := CheckKVM(ctx, spec, dir)
	if err != nil || !first.Usable || first.Cached {
		t.Fatalf("first probe: %+v, %v; want a fresh usable verdict", first, err)
	}
	// A mode that would give another verdict: the cache must answer.
	t.Setenv("VM_FAKE_QEMU", "exit1")
	second, err := CheckKVM(ctx, spec, dir)
	if err != nil || !second.Usable || !second.Cached || !strings.Contains(second.Reason, "cached") {
		t.Fatalf("second probe: %+v, %v; want the cached verdict", second, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "accel", "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %q, want one", files)
	}
	// A damaged entry is ignored and the probe made again.
	if err := os.WriteFile(files[0], []byte(`{"key": "trunc`), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := CheckKVM(ctx, spec, dir)
	if err != nil || third.Usable || third.Cached || !strings.Contains(third.Reason, "could not open kernel file") {
		t.Fatalf("after damage: %+v, %v; want a fresh probe", third, err)
	}
	// Another QEMU binary: a new key, a new probe.
	bin := filepath.Join(t.TempDir(), "qemu")
	self, _ := os.Executable()
	if _, err := fsutil.CopyFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	spec.QEMU = bin
	t.Setenv("VM_FAKE_QEMU", "firmware")
	fourth, err := CheckKVM(ctx, spec, dir)
	if err != nil || !fourth.Usable || fourth.Cached {
		t.Fatalf("another QEMU path: %+v, %v; want a fresh probe", fourth, err)
	}
}
