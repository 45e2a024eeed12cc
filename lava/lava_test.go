package lava

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// python is Debian's, with lava-common (make deps installs it); the pyenv
// python3 first on PATH does not see Debian's modules.
const python = "/usr/bin/python3"

func params(a arch.Spec) Params {
	return Params{Arch: a, KernelURL: "https://lab.example.org/" + a.Name + "/bzImage", RamdiskURL: "file:///srv/lava/initrd.cpio",
		KernelArgs: []string{"printk.time=1"}, JobMinutes: 30, TestMinutes: 20}
}

func validateJobs(t *testing.T, jobs map[string][]byte) (bool, string) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"testdata/validate-job.py"}
	for name, data := range jobs {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	out, err := exec.Command(python, args...).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok || strings.Contains(string(out), "ModuleNotFoundError") {
			t.Fatalf("cannot run lava-common's validator (apt-get install lava-common, or make deps): %v\n%s", err, out)
		}
		return false, string(out)
	}
	return true, string(out)
}

// TestJobsValidateAgainstLavaSchema checks the job of every architecture
// in the table with lava-common's strict schema.
func TestJobsValidateAgainstLavaSchema(t *testing.T) {
	jobs := map[string][]byte{}
	for _, a := range arch.All() {
		data, err := Marshal(NewJob(params(a)))
		if err != nil {
			t.Fatal(err)
		}
		jobs[a.Name] = data
		s := string(data)
		for _, want := range []string{"device_type: qemu", "to: tmpfs", "method: qemu", "console=" + a.Console, params(a).KernelURL, "monitors:"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s job lacks %q:\n%s", a.Name, want, s)
			}
		}
	}
	if ok, out := validateJobs(t, jobs); !ok {
		t.Fatalf("lava-common rejects the generated jobs:\n%s", out)
	}
}

// TestValidatorRejects proves the schema check can fail.
func TestValidatorRejects(t *testing.T) {
	a := arch.All()[0]
	for name, mutate := range map[string]func(map[string]any){
		"no-timeouts": func(j map[string]any) { delete(j, "timeouts") },
		"bad-deploy": func(j map[string]any) {
			j["actions"].([]any)[0].(map[string]any)["deploy"].(map[string]any)["to"] = "nowhere"
		},
		"bad-monitor": func(j map[string]any) {
			mon := j["actions"].([]any)[2].(map[string]any)["test"].(map[string]any)["monitors"].([]any)[0].(map[string]any)
			delete(mon, "pattern")
		},
	} {
		data, _ := Marshal(NewJob(params(a)))
		var j map[string]any
		if err := yaml.Unmarshal(data, &j); err != nil {
			t.Fatal(err)
		}
		mutate(j)
		bad, _ := Marshal(j)
		if ok, out := validateJobs(t, map[string][]byte{name: bad}); ok {
			t.Errorf("%s: an invalid job passed validation: %s", name, out)
		}
	}
}

// TestMonitorPattern runs the monitor's pattern through Python's re, as the
// dispatcher does, over a console in the runner's format: top-level results
// only, SKIP as skip, TIMEOUT as fail, subtests and nested KTAP ignored.
func TestMonitorPattern(t *testing.T) {
	console := strings.Join([]string{
		"Run /init as init process",
		"KTAP version 1",
		"1..6",
		"# selfptrace-vm: start 1 smoke.TestMachine",
		"# time: 0.010s",
		"ok 1 smoke.TestMachine",
		"# selfptrace-vm: start 2 selfptrace.TestArgs",
		"    KTAP version 1",
		"    1..2",
		"    ok 1 rdi",
		"    not ok 2 rsi",
		"not ok 2 selfptrace.TestArgs",
		"ok 3 selfptrace.TestSkipped # SKIP not on this arch",
		"not ok 4 selfptrace.TestHang # TIMEOUT",
		"ok 5 selfptrace.TestDelivery",
		"not ok 6 selfptrace.TestNotok",
		"# selfptrace-vm: summary pass=2 fail=2 skip=1 timeout=1 total=6",
		"reboot: Restarting system",
	}, "\r\n")
	fix, _ := json.Marshal(Fixup)
	// Whole, and streamed in reads of every size from 1 to 40 bytes: a
	// read that ends inside a result line must not give a partial name.
	for _, chunk := range []int{len(console) + 1, 1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 40} {
		cmd := exec.Command(python, "testdata/monitor.py", MonitorPattern, string(fix), strconv.Itoa(chunk))
		// A pty between QEMU and the dispatcher turns the guest's "\r\n" into "\r\r\n".
		cmd.Stdin = strings.NewReader(strings.ReplaceAll(console+"\r\n", "\r\n", "\r\r\n"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("monitor.py: %v\n%s", err, out)
		}
		checkMonitor(t, chunk, string(out))
	}
	if CaseID("selfptrace.TestArgs") != "selfptrace_testargs" {
		t.Errorf("CaseID = %q", CaseID("selfptrace.TestArgs"))
	}
}

func checkMonitor(t *testing.T, chunk int, out string) {
	t.Helper()
	want := strings.Join([]string{
		"smoke_testmachine pass",
		"selfptrace_testargs fail",
		"selfptrace_testskipped skip",
		"selfptrace_testhang fail",
		"selfptrace_testdelivery pass",
		"selfptrace_testnotok fail",
	}, "\n")
	if got := strings.TrimSpace(out); got != want {
		t.Errorf("reads of %d bytes: monitor results:\n%s\nwant:\n%s", chunk, got, want)
	}
}

func TestDeviceFromTable(t *testing.T) {
	for _, a := range arch.All() {
		data, err := Marshal(Device(a, "512M", 2))
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		for _, want := range []string{"command: " + a.QEMU, "- " + a.Machine[0] + " " + a.Machine[1], "- -no-reboot"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s device lacks %q:\n%s", a.Name, want, s)
			}
		}
	}
}

func TestParseLog(t *testing.T) {
	log := `- {"dt": "2026-11-30T02:00:00.000000", "lvl": "info", "msg": "ok: test case found"}
- {"dt": "2026-11-30T02:00:00.000001", "lvl": "results", "msg": {"definition": "selfptrace-vm", "case": "selfptrace_testdelivery", "level": "3.1", "result": "pass", "extra": {"test_case_id": "selfptrace.TestDelivery"}}}
- {"dt": "2026-11-30T02:00:00.000002", "lvl": "results", "msg": {"definition": "lava", "case": "job", "result": "pass"}}
`
	rs, err := ParseLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Case != "selfptrace_testdelivery" || rs[0].Result != "pass" || rs[0].Extra.TestCaseID != "selfptrace.TestDelivery" {
		t.Errorf("ParseLog = %+v", rs)
	}
}
