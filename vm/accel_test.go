package vm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
)

func TestChooseAccel(t *testing.T) {
	x86, _ := arch.Lookup("x86_64")
	s390, _ := arch.Lookup("s390x")
	ok := func() error { return nil }
	broken := func() error { return errors.New("opening /dev/kvm: permission denied") }
	tests := []struct {
		name    string
		spec    arch.Spec
		want    Accel
		host    string
		probe   func() error
		accel   Accel
		reason  string
		wantErr string
	}{
		{"auto native usable", x86, AccelAuto, "amd64", ok, AccelKVM, "usable", ""},
		{"auto native unusable", x86, AccelAuto, "amd64", broken, AccelTCG, "permission denied", ""},
		{"auto foreign", s390, AccelAuto, "amd64", nil, AccelTCG, "s390x guest on amd64 host", ""},
		{"auto s390 on s390", s390, AccelAuto, "s390x", ok, AccelKVM, "usable", ""},
		{"tcg forced", x86, AccelTCG, "amd64", nil, AccelTCG, "requested", ""},
		{"kvm forced usable", x86, AccelKVM, "amd64", ok, AccelKVM, "requested", ""},
		{"kvm forced unusable", x86, AccelKVM, "amd64", broken, "", "", "use --accel tcg"},
		{"kvm forced foreign", s390, AccelKVM, "amd64", nil, "", "", "needs a s390x host"},
		{"bad", x86, "hax", "amd64", nil, "", "", "want auto"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probe := tc.probe
			if probe == nil {
				probe = func() error { t.Fatal("probe called although KVM is no candidate"); return nil }
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
