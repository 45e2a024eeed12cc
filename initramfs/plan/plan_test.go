package plan

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func valid() *Plan {
	return &Plan{
		Version: FormatVersion,
		Mode:    Suite,
		Timeout: Duration(90 * time.Second),
		Env:     []string{"GODEBUG=asyncpreemptoff=1"},
		Binaries: []Binary{
			{Name: "smoke", Path: TestDir + "/smoke.test", Dir: TestDir + "/smoke"},
			{Name: "selfptrace", Path: TestDir + "/selfptrace.test", Timeout: Duration(10 * time.Minute), Args: []string{"-test.short"}},
		},
	}
}

func TestEncodeDecode(t *testing.T) {
	p := valid()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"timeout": "1m30s"`) {
		t.Errorf("durations are not written as text:\n%s", b)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, p)
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, js := range map[string]string{
		"unknown field": `{"version":1,"mode":"shell","bogus":1}`,
		"bad duration":  `{"version":1,"mode":"shell","timeout":"soon"}`,
		"old version":   `{"version":0,"mode":"shell"}`,
		"not json":      `version: 1`,
	} {
		if _, err := Decode([]byte(js)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Plan)
		want string
	}{
		{"mode", func(p *Plan) { p.Mode = "fast" }, `mode "fast"`},
		{"no binaries", func(p *Plan) { p.Binaries = nil }, "at least one test binary"},
		{"run without command", func(p *Plan) { p.Mode = Run }, "needs a command"},
		{"bad filter", func(p *Plan) { p.Filter = "(" }, "filter"},
		{"bad env", func(p *Plan) { p.Env = []string{"NOEQUALS"} }, "not KEY=VALUE"},
		{"bad binary env", func(p *Plan) { p.Binaries[0].Env = []string{"=x"} }, "binary smoke env"},
		{"duplicate name", func(p *Plan) { p.Binaries[1].Name = "smoke" }, "used twice"},
		{"bad name", func(p *Plan) { p.Binaries[0].Name = "a b" }, `name "a b"`},
		{"relative path", func(p *Plan) { p.Binaries[0].Path = "smoke.test" }, "not absolute"},
		{"relative dir", func(p *Plan) { p.Binaries[0].Dir = "smoke" }, "not absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.mod(p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tc.want)
			}
		})
	}
	if err := valid().Validate(); err != nil {
		t.Errorf("valid plan: %v", err)
	}
	shell := &Plan{Version: FormatVersion, Mode: Shell}
	if err := shell.Validate(); err != nil {
		t.Errorf("shell plan: %v", err)
	}
}

func TestTestTimeout(t *testing.T) {
	p := valid()
	if got := p.TestTimeout(p.Binaries[0]); got != 90*time.Second {
		t.Errorf("plan timeout: %v", got)
	}
	if got := p.TestTimeout(p.Binaries[1]); got != 10*time.Minute {
		t.Errorf("binary timeout: %v", got)
	}
	p.Timeout = 0
	if got := p.TestTimeout(p.Binaries[0]); got != DefaultTimeout {
		t.Errorf("default timeout: %v", got)
	}
}

func TestSplitCmdline(t *testing.T) {
	got := SplitCmdline(`console=ttyS0  selfptrace.run="^Test(A|B)$ x" quiet "a b"c` + "\n")
	want := []string{"console=ttyS0", "selfptrace.run=^Test(A|B)$ x", "quiet", "a bc"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SplitCmdline = %q, want %q", got, want)
	}
	if got := SplitCmdline(`x=""`); !reflect.DeepEqual(got, []string{"x="}) {
		t.Errorf("empty quoted value: %q", got)
	}
}

func TestApplyCmdline(t *testing.T) {
	p := valid()
	applied, err := p.ApplyCmdline("console=ttyS0 panic=-1 selfptrace.timeout=30s selfptrace.run=^TestArm$ selfptrace.poweroff=0 selfptrace.mode=suite\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 4 {
		t.Errorf("applied %q", applied)
	}
	if p.Timeout != Duration(30*time.Second) || p.Binaries[1].Timeout != 0 {
		t.Errorf("timeout not overridden everywhere: %v, %v", p.Timeout, p.Binaries[1].Timeout)
	}
	if p.Filter != "^TestArm$" || !p.NoPowerOff {
		t.Errorf("filter %q, no power off %v", p.Filter, p.NoPowerOff)
	}

	p = valid()
	if _, err := p.ApplyCmdline("selfptrace.mode=shell"); err != nil || p.Mode != Shell {
		t.Errorf("mode override: %v, %v", p.Mode, err)
	}
	for _, bad := range []string{"selfptrace.timeout=soon", "selfptrace.poweroff=maybe", "selfptrace.mode=run", "selfptrace.run=("} {
		p := valid()
		if _, err := p.ApplyCmdline(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
