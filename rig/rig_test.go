package rig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/report"
	"github.com/selfptrace/selfptrace-vm/vm"
)

const goodLog = `Linux version 6.12.117
# selfptrace-vm: info runner arch=s390x
KTAP version 1
1..2
# selfptrace-vm: start 1 selfptrace.TestA
# === RUN   TestA
# time: 0.250s
ok 1 selfptrace.TestA
# selfptrace-vm: start 2 selfptrace.TestB
    KTAP version 1
    1..1
    ok 1 sub
# time: 0.100s
ok 2 selfptrace.TestB
# selfptrace-vm: summary pass=2 fail=0 skip=0 timeout=0 total=2
`

func judgeLog(t *testing.T, log string, outcome vm.Outcome, mode plan.Mode) *Result {
	t.Helper()
	p := filepath.Join(t.TempDir(), "console.log")
	os.WriteFile(p, []byte(log), 0o644)
	res := &Result{ExitStatus: -1}
	judge(res, vm.Result{Verdict: vm.Verdict{Outcome: outcome, Excerpt: []string{"x"}}}, p, mode)
	return res
}

func TestJudgePass(t *testing.T) {
	res := judgeLog(t, goodLog, vm.OutcomePass, plan.Suite)
	r := res.Run
	if r.Outcome != vm.OutcomePass || r.Excerpt != "" {
		t.Fatalf("outcome %s (%s)", r.Outcome, r.Error)
	}
	if len(r.Tests) != 3 || r.Tests[0].Name != "selfptrace.TestA" || r.Tests[0].Duration != 0.25 || r.Tests[2].Name != "selfptrace.TestB/sub" {
		t.Errorf("tests %+v", r.Tests)
	}
	if strings.Contains(r.Tests[0].Output, "time:") {
		t.Errorf("time diagnostic kept in the output: %q", r.Tests[0].Output)
	}
}

func TestJudgeMissingResultFails(t *testing.T) {
	// The guest stopped after announcing test 2: the planned test is
	// missing, so the run fails although nothing said "not ok".
	log := goodLog[:strings.Index(goodLog, "    KTAP")]
	res := judgeLog(t, log, vm.OutcomePass, plan.Suite)
	if res.Run.Outcome != vm.OutcomeFail {
		t.Fatalf("outcome %s, want fail", res.Run.Outcome)
	}
	var missing bool
	for _, tc := range res.Run.Tests {
		if tc.Name == "selfptrace.TestB" && tc.Status == report.Fail && strings.Contains(tc.Output, "never reported") {
			missing = true
		}
	}
	if !missing {
		t.Errorf("missing test not reported as a failure: %+v", res.Run.Tests)
	}
}

func TestJudgeNoTestsFails(t *testing.T) {
	res := judgeLog(t, "Linux\n# selfptrace-vm: info runner\nKTAP version 1\n1..0\n# selfptrace-vm: summary pass=0 fail=0 skip=0 timeout=0 total=0\n", vm.OutcomePass, plan.Suite)
	if res.Run.Outcome != vm.OutcomeFail {
		t.Errorf("a run without tests is %s, want fail", res.Run.Outcome)
	}
}

func TestJudgeKeepsKernelOutcome(t *testing.T) {
	res := judgeLog(t, goodLog, vm.OutcomePanic, plan.Suite)
	if res.Run.Outcome != vm.OutcomePanic || res.Run.Excerpt == "" {
		t.Errorf("outcome %s excerpt %q", res.Run.Outcome, res.Run.Excerpt)
	}
}

func TestJudgeRunMode(t *testing.T) {
	res := judgeLog(t, "# selfptrace-vm: info run x\nhello\n# selfptrace-vm: exit status=3\n", vm.OutcomePass, plan.Run)
	if res.ExitStatus != 3 || res.Run.Outcome != vm.OutcomeFail {
		t.Errorf("exit %d outcome %s", res.ExitStatus, res.Run.Outcome)
	}
	res = judgeLog(t, "# selfptrace-vm: info run x\n", vm.OutcomePass, plan.Run)
	if res.Run.Outcome != vm.OutcomeFail || !strings.Contains(res.Run.Error, "exit marker") {
		t.Errorf("missing exit marker: outcome %s error %q", res.Run.Outcome, res.Run.Error)
	}
}

func TestRerunArgv(t *testing.T) {
	argv := []string{"qemu-system-s390x", "-machine", "s390-ccw-virtio", "-serial", "stdio", "-kernel", "k", "-initrd", "i",
		"-qmp", "unix:/tmp/x/qmp.sock,server=on,wait=off", "-append", "panic=-1 console=ttysclp0"}
	got := strings.Join(RerunArgv(argv), " ")
	want := "qemu-system-s390x -machine s390-ccw-virtio -serial mon:stdio -kernel k -initrd i -append panic=-1 console=ttysclp0 selfptrace.mode=shell"
	if got != want {
		t.Errorf("RerunArgv:\n got %s\nwant %s", got, want)
	}
}

func TestJudgeKernelWarningFails(t *testing.T) {
	p := filepath.Join(t.TempDir(), "console.log")
	os.WriteFile(p, []byte(goodLog), 0o644)
	res := &Result{ExitStatus: -1}
	judge(res, vm.Result{Verdict: vm.Verdict{Outcome: vm.OutcomeFail, Reason: "kernel warning: WARNING: CPU: 0 PID: 1 at kernel/x.c:1", Excerpt: []string{"WARNING: CPU: 0"}}}, p, plan.Suite)
	if res.Run.Outcome != vm.OutcomeFail || !strings.Contains(res.Run.Error, "WARNING") || res.Run.Excerpt == "" {
		t.Errorf("a kernel warning with passing tests: outcome %s error %q excerpt %q", res.Run.Outcome, res.Run.Error, res.Run.Excerpt)
	}
}

// TestJudgeCombinesWithWorse: the run's outcome is vm.Worse of the VM's
// verdict and the tests', for every pair.
func TestJudgeCombinesWithWorse(t *testing.T) {
	failing := strings.Replace(goodLog, "ok 1 selfptrace.TestA", "not ok 1 selfptrace.TestA", 1)
	for _, vmOut := range []vm.Outcome{vm.OutcomePass, vm.OutcomeFail, vm.OutcomeTimeout, vm.OutcomePanic, vm.OutcomeBootFail, vm.OutcomeQEMUError} {
		for log, tests := range map[string]vm.Outcome{goodLog: vm.OutcomePass, failing: vm.OutcomeFail} {
			res := judgeLog(t, log, vmOut, plan.Suite)
			if want := vm.Worse(vmOut, tests); res.Run.Outcome != want {
				t.Errorf("vm %s, tests %s: outcome %s, want %s", vmOut, tests, res.Run.Outcome, want)
			}
		}
	}
	if vm.Worse(vm.OutcomePass, "bogus") != "bogus" {
		t.Error("an unknown outcome must not count as a pass")
	}
}

// TestKselftestSeries checks where a vanilla run takes self_ptrace/ from:
// the checkout's series, whose last patch adds it.
func TestKselftestSeries(t *testing.T) {
	if s, err := kselftestSeries(kbuild.Options{Vanilla: true}); s != nil || err != nil {
		t.Errorf("no series directory: %d patches, %v", len(s), err)
	}
	s, err := kselftestSeries(kbuild.Options{Vanilla: true, SeriesDir: filepath.Join("..", "patches", "linux-6.12")})
	if err != nil {
		t.Fatal(err)
	}
	var adds bool
	for _, p := range s {
		adds = adds || strings.Contains(string(p.Content), "+++ b/tools/testing/selftests/self_ptrace/self_ptrace_test.c\n")
	}
	if !adds {
		t.Errorf("no patch of the %d of the series adds self_ptrace_test.c", len(s))
	}
	if _, err := kselftestSeries(kbuild.Options{SeriesDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "self_ptrace kselftest") {
		t.Errorf("a directory without a series file: %v", err)
	}
}
