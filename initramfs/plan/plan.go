// Package plan is the contract between the image packer and the guest
// runner: what to run, how long to wait, in which environment. The packer
// writes a Plan as JSON into the image at Path; the runner reads it, applies
// overrides from the kernel command line, and follows it.
//
// The package depends on the standard library only, so that it costs the
// guest runner nothing.
package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Guest paths fixed by the image layout.
const (
	// Path is where the plan is in the guest.
	Path = "/etc/selfptrace-vm/plan.json"
	// RunnerPath is the guest runner binary; /bin/uinit links to it.
	RunnerPath = "/bin/selfptrace-runner"
	// TestDir holds the test binaries, as TestDir/NAME.test, and their
	// working directories, TestDir/NAME (with the package's testdata).
	TestDir = "/selfptrace-vm/tests"
)

// FormatVersion is the version of the JSON encoding; the runner refuses a
// plan of another version.
const FormatVersion = 1

// SMPEnv is set in every guest test's environment to the number of vCPUs
// the guest booted with, so that a test can check the kernel brought them
// all up.
const SMPEnv = "SELFPTRACE_VM_SMP"

// UserlandEnv is set in every guest test's environment to Plan.Userland
// when the plan has a userland.
const UserlandEnv = "SELFPTRACE_VM_USERLAND"

// DefaultTimeout is the per-test timeout in suite mode when the plan gives
// none.
const DefaultTimeout = 5 * time.Minute

// Mode says what the runner does.
type Mode string

// Modes.
const (
	// Suite lists and runs every test of every binary and reports KTAP.
	Suite Mode = "suite"
	// Run runs one command, streams its output and reports its exit status
	// with an exit marker.
	Run Mode = "run"
	// Shell starts an interactive shell on the console.
	Shell Mode = "shell"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == Suite || m == Run || m == Shell }

// Duration is a time.Duration that is written in JSON as a string such as
// "90s" or "5m0s".
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("negative duration %s", v)
	}
	*d = Duration(v)
	return nil
}

// Plan tells the guest runner what to do.
type Plan struct {
	// Version is FormatVersion.
	Version int  `json:"version"`
	Mode    Mode `json:"mode"`
	// Timeout bounds each top-level test in suite mode (DefaultTimeout if
	// zero) and the command in run mode (no limit if zero).
	Timeout Duration `json:"timeout,omitempty"`
	// Env is added to the environment of every test and command, as
	// KEY=VALUE (e.g. GODEBUG=asyncpreemptoff=1).
	Env []string `json:"env,omitempty"`
	// Args are added to the command line of every test binary.
	Args []string `json:"args,omitempty"`
	// Filter is a regular expression that selects top-level tests by name,
	// as go test -run does at the top level. Empty runs every test.
	Filter string `json:"filter,omitempty"`
	// Binaries are the test binaries of suite mode, run in this order.
	Binaries []Binary `json:"binaries,omitempty"`
	// Command is the argv of run mode.
	Command []string `json:"command,omitempty"`
	// Shell is the shell of shell mode; the runner tries /bin/defaultsh
	// and /bin/sh when it is empty.
	Shell string `json:"shell,omitempty"`
	// Userland is the guest path of a root file system of another
	// distribution (the Debian userland, "/debian"): the runner mounts
	// proc, sys, dev and a tmpfs on tmp inside it, runs the command of run
	// mode and the shell chrooted into it, and tells suite tests where it
	// is (UserlandEnv). Empty: none.
	Userland string `json:"userland,omitempty"`
	// NoPowerOff makes the runner exit instead of powering the machine off
	// when it is done; u-root's init then starts a shell.
	NoPowerOff bool `json:"no_power_off,omitempty"`
}

// Binary is one test binary, compiled with go test -c.
type Binary struct {
	// Name prefixes its tests in the results: NAME.TestX.
	Name string `json:"name"`
	// Path is the binary in the guest.
	Path string `json:"path"`
	// Dir is the working directory of its tests; "/" if empty.
	Dir string `json:"dir,omitempty"`
	// Timeout overrides Plan.Timeout for this binary's tests.
	Timeout Duration `json:"timeout,omitempty"`
	// Args and Env are added after Plan.Args and Plan.Env.
	Args []string `json:"args,omitempty"`
	Env  []string `json:"env,omitempty"`
	// Kind is KindGoTest (empty) for a go test -c binary, or KindKselftest
	// for a program that prints (K)TAP itself: it is run once, as one test
	// whose output is passed through as its subtests.
	Kind string `json:"kind,omitempty"`
}

// Binary kinds.
const (
	KindGoTest    = ""
	KindKselftest = "kselftest"
)

// TestTimeout is the timeout of each top-level test of b under p.
func (p *Plan) TestTimeout(b Binary) time.Duration {
	switch {
	case b.Timeout > 0:
		return time.Duration(b.Timeout)
	case p.Timeout > 0:
		return time.Duration(p.Timeout)
	}
	return DefaultTimeout
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)

// Validate reports what is wrong with p, all at once.
func (p *Plan) Validate() error {
	var errs []error
	if p.Version != FormatVersion {
		errs = append(errs, fmt.Errorf("plan format version %d, want %d (packer and runner come from different builds?)", p.Version, FormatVersion))
	}
	if !p.Mode.Valid() {
		errs = append(errs, fmt.Errorf("mode %q: want %q, %q or %q", p.Mode, Suite, Run, Shell))
	}
	if p.Filter != "" {
		if _, err := regexp.Compile(p.Filter); err != nil {
			errs = append(errs, fmt.Errorf("filter: %w", err))
		}
	}
	errs = append(errs, checkEnv("env", p.Env))
	switch p.Mode {
	case Suite:
		if len(p.Binaries) == 0 {
			errs = append(errs, errors.New("suite mode needs at least one test binary"))
		}
	case Run:
		if len(p.Command) == 0 || p.Command[0] == "" {
			errs = append(errs, errors.New("run mode needs a command"))
		}
	}
	if p.Userland != "" && (!strings.HasPrefix(p.Userland, "/") || p.Userland == "/") {
		errs = append(errs, fmt.Errorf("userland %q: want an absolute path other than /", p.Userland))
	}
	seen := map[string]bool{}
	for i, b := range p.Binaries {
		if !namePattern.MatchString(b.Name) {
			errs = append(errs, fmt.Errorf("binary %d: name %q: use letters, digits and _.+- only", i, b.Name))
		}
		if seen[b.Name] {
			errs = append(errs, fmt.Errorf("binary %d: name %q used twice", i, b.Name))
		}
		seen[b.Name] = true
		if !strings.HasPrefix(b.Path, "/") {
			errs = append(errs, fmt.Errorf("binary %q: path %q is not absolute", b.Name, b.Path))
		}
		if b.Dir != "" && !strings.HasPrefix(b.Dir, "/") {
			errs = append(errs, fmt.Errorf("binary %q: dir %q is not absolute", b.Name, b.Dir))
		}
		errs = append(errs, checkEnv("binary "+b.Name+" env", b.Env))
	}
	return errors.Join(errs...)
}

func checkEnv(what string, env []string) error {
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("%s: %q is not KEY=VALUE", what, kv)
		}
	}
	return nil
}

// Encode returns p as indented JSON, after validating it.
func (p *Plan) Encode() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("invalid plan: %w", err)
	}
	b, err := json.MarshalIndent(p, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Decode parses and validates a plan. Unknown fields are errors.
func Decode(b []byte) (*Plan, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decoding plan: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("invalid plan: %w", err)
	}
	return &p, nil
}

// Read reads and decodes the plan file at path.
func Read(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	p, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Kernel command line parameters that override the plan.
const (
	ParamMode     = "selfptrace.mode"     // suite, run or shell
	ParamTimeout  = "selfptrace.timeout"  // per-test timeout, e.g. 90s
	ParamRun      = "selfptrace.run"      // test filter regexp
	ParamPowerOff = "selfptrace.poweroff" // 0 keeps the machine up
)

// SplitCmdline splits a kernel command line into parameters the way the
// kernel does: on spaces, with double quotes grouping (and removed).
func SplitCmdline(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, have = !inQuote, true
		case !inQuote && (r == ' ' || r == '\t' || r == '\n'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// ApplyCmdline applies the selfptrace.* parameters of a kernel command line
// to p and validates the result. It returns the parameters it applied.
func (p *Plan) ApplyCmdline(cmdline string) ([]string, error) {
	var applied []string
	var errs []error
	for _, param := range SplitCmdline(cmdline) {
		k, v, _ := strings.Cut(param, "=")
		switch k {
		case ParamMode:
			p.Mode = Mode(v)
		case ParamTimeout:
			var d Duration
			if err := d.UnmarshalText([]byte(v)); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", param, err))
				continue
			}
			p.Timeout = d
			for i := range p.Binaries {
				p.Binaries[i].Timeout = 0
			}
		case ParamRun:
			p.Filter = v
		case ParamPowerOff:
			on, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", param, err))
				continue
			}
			p.NoPowerOff = !on
		default:
			continue
		}
		applied = append(applied, param)
	}
	if err := errors.Join(errs...); err != nil {
		return applied, fmt.Errorf("kernel command line: %w", err)
	}
	if err := p.Validate(); err != nil {
		return applied, fmt.Errorf("plan after kernel command line %q: %w", strings.Join(applied, " "), err)
	}
	return applied, nil
}
