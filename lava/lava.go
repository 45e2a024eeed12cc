// Package lava writes LAVA job definitions and qemu device descriptions
// for the rig's guest image, derived from the arch table, and reads back
// the results a LAVA dispatcher logged. The job deploys the kernel and
// the initramfs to tmpfs, boots them with QEMU and turns the guest
// runner's top-level KTAP result lines into LAVA test cases with a test
// monitor.
package lava

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/ktap"
)

// Suite is the LAVA test definition name the monitor reports under.
const Suite = "selfptrace-vm"

// Monitor strings. The runner starts its document with a KTAP header and
// ends it with the summary marker; between them, a top-level result is a
// line that starts with "ok" or "not ok" (subtests are indented). The
// pattern names the test in a lookahead, then takes the verdict from the
// SKIP directive when there is one, else from "ok"/"not ok".
const (
	MonitorStart = "KTAP version 1"
	MonitorEnd   = "# " + ktap.MarkerPrefix + "summary"
	// A timeout is "not ok ... # TIMEOUT": fail.
	// The lookahead requires the whole line, up to its newline: the
	// dispatcher matches while the console streams in, and a name cut at
	// the end of a read must not match.
	MonitorPattern = `\n(?=(?:not ok|ok) \d+ (?P<test_case_id>[^\s#]+)(?: #[^\r\n]*)?\r*\n)(?:ok \d+ [^\s#]+ # (?=SKIP))?(?P<result>not ok|ok|SKIP)`
)

// Fixup maps the pattern's result text to LAVA's result words.
var Fixup = map[string]string{"ok": "pass", "not ok": "fail", "SKIP": "skip"}

// Params are the job's variable parts.
type Params struct {
	Arch arch.Spec
	// KernelURL and RamdiskURL are where the dispatcher downloads the
	// kernel image and the initramfs (file://, http://, ...).
	KernelURL  string
	RamdiskURL string
	// KernelArgs are the kernel command line, without console= and panic=.
	KernelArgs []string
	// Memory is QEMU's -m.
	Memory string
	// JobTimeout bounds the whole job; TestTimeout the test action.
	JobMinutes, TestMinutes int
}

type timeout struct {
	Minutes int `yaml:"minutes"`
}

// Job is a LAVA job definition (the parts this rig uses).
type Job struct {
	DeviceType string            `yaml:"device_type"`
	JobName    string            `yaml:"job_name"`
	Timeouts   map[string]any    `yaml:"timeouts"`
	Priority   string            `yaml:"priority"`
	Visibility string            `yaml:"visibility"`
	Context    map[string]string `yaml:"context"`
	Actions    []map[string]any  `yaml:"actions"`
}

// qemuArch is LAVA's qemu "arch" context value (its device-type template
// picks the emulator from it); the arch table's name serves.
func qemuArch(a arch.Spec) string { return a.Name }

// NewJob builds the job for p.
func NewJob(p Params) Job {
	a := p.Arch
	cmdline := append([]string{"console=" + a.Console, "panic=-1"}, p.KernelArgs...)
	return Job{
		DeviceType: "qemu",
		JobName:    "selfptrace-vm " + a.Name,
		Timeouts: map[string]any{
			"job":        timeout{p.JobMinutes},
			"action":     timeout{p.TestMinutes},
			"connection": timeout{2},
		},
		Priority:   "medium",
		Visibility: "public",
		Context:    map[string]string{"arch": qemuArch(a)},
		Actions: []map[string]any{
			{"deploy": map[string]any{
				"to":      "tmpfs",
				"timeout": timeout{5},
				"images": map[string]any{
					"kernel": map[string]string{
						"image_arg": fmt.Sprintf("-kernel {kernel} -append %q", strings.Join(cmdline, " ")),
						"url":       p.KernelURL,
					},
					"ramdisk": map[string]string{
						"image_arg": "-initrd {ramdisk}",
						"url":       p.RamdiskURL,
					},
				},
			}},
			{"boot": map[string]any{
				"method":  "qemu",
				"media":   "tmpfs",
				"timeout": timeout{5},
			}},
			{"test": map[string]any{
				"timeout": timeout{p.TestMinutes},
				"monitors": []map[string]any{{
					"name":      Suite,
					"start":     MonitorStart,
					"end":       MonitorEnd,
					"pattern":   MonitorPattern,
					"fixupdict": Fixup,
				}},
			}},
		},
	}
}

// Device is a rendered qemu device description for a local dispatcher
// (lava-run --device): the emulator and machine from the arch table.
func Device(a arch.Spec, memory string, smp int) map[string]any {
	opts := machineOptions(a.Machine)
	opts = append(opts, "-accel tcg", "-m "+memory, fmt.Sprintf("-smp %d", smp), "-nographic", "-nodefaults", "-serial stdio", "-no-reboot")
	return map[string]any{
		"device_type":             "qemu",
		"available_architectures": arch.Names(),
		"constants": map[string]any{
			"posix": map[string]string{
				"lava_test_sh_cmd":      "/bin/sh",
				"lava_test_results_dir": "/lava-%s",
				"lava_test_shell_file":  "~/.bashrc",
			},
			"shutdown-message":     "The system is going down for reboot NOW",
			"kernel-start-message": "Linux version [0-9]",
			"default-shell-prompt": "lava-test: # ",
			"spawn_maxread":        "4092",
			"failure_retry":        1,
			"boot_retry":           1,
		},
		"commands": map[string]any{"connections": map[string]any{}},
		"actions": map[string]any{
			"deploy": map[string]any{
				"connections": map[string]any{"serial": nil},
				"methods": map[string]any{
					"tmpfs": nil,
					"image": map[string]any{"parameters": map[string]any{
						"guest": map[string]any{"size": 512, "interface": "virtio", "driveid": "lavatest"},
					}},
				},
			},
			"boot": map[string]any{
				"connections": map[string]any{"serial": nil},
				"methods": map[string]any{
					"qemu": map[string]any{"parameters": map[string]any{
						"command":      a.QEMU,
						"boot_options": map[string]any{},
						"options":      opts,
					}},
				},
			},
		},
		"timeouts": map[string]any{
			"actions":     map[string]any{"apply-overlay-image": timeout{2}},
			"connections": map[string]any{},
		},
	}
}

// machineOptions pairs the table's one-argument-per-element machine
// arguments into "-flag value" options.
func machineOptions(m []string) []string {
	var out []string
	for i := 0; i < len(m); i++ {
		if strings.HasPrefix(m[i], "-") && i+1 < len(m) && !strings.HasPrefix(m[i+1], "-") {
			out = append(out, m[i]+" "+m[i+1])
			i++
			continue
		}
		out = append(out, m[i])
	}
	return out
}

// Marshal renders v as YAML.
func Marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), enc.Close()
}

// Result is one test case a dispatcher logged.
type Result struct {
	Definition string `yaml:"definition"`
	Case       string `yaml:"case"`
	Result     string `yaml:"result"`
	Extra      struct {
		TestCaseID string `yaml:"test_case_id"`
	} `yaml:"extra"`
}

type logLine struct {
	Level string    `yaml:"lvl"`
	Msg   yaml.Node `yaml:"msg"`
}

// ParseLog reads lava-run's YAML log (one "- {dt, lvl, msg}" entry per
// line) and returns the results of the monitor's test definition.
func ParseLog(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "- ")
		if !strings.Contains(line, `lvl: results`) && !strings.Contains(line, `"lvl": "results"`) {
			continue
		}
		var l logLine
		if err := yaml.Unmarshal([]byte(line), &l); err != nil {
			return nil, fmt.Errorf("parsing LAVA log line %q: %w", line, err)
		}
		var res Result
		if err := l.Msg.Decode(&res); err != nil {
			return nil, fmt.Errorf("parsing LAVA result %q: %w", line, err)
		}
		if res.Definition == Suite {
			out = append(out, res)
		}
	}
	return out, sc.Err()
}

// CaseID is the id LAVA gives a test case named name: lower case, runs of
// non-word characters replaced by '_'.
func CaseID(name string) string {
	return nonWord.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "_")
}

var nonWord = regexp.MustCompile(`\W+`)
