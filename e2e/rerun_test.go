package e2e

import (
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/internal/shellquote"
)

// TestPrintedArgvIsWhatRanAndRerunWorks fails a run on purpose (a guest
// test that hangs past --timeout): the QEMU command -v prints is the one the JSON keeps,
// QMP socket and console wiring included, and the "reproduce
// interactively" line of the summary, pasted into a shell from another
// directory, boots the same image to a shell that answers.
func TestPrintedArgvIsWhatRanAndRerunWorks(t *testing.T) {
	e := needEnv(t)
	out := t.TempDir()
	js := filepath.Join(out, "r.json")
	r := e.run(t, 20*time.Minute, "test", "--arch", "x86_64", "--accel", "tcg", "-v",
		"--tests", "./tests/faults", "--run", "^TestHang$", "--timeout", "2s", "--json", js, "--out", out)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (a test timed out)\n%s", r.code, tailOf(r.stderr, 20))
	}
	run := readResults(t, js).Runs[0]
	printed := regexp.MustCompile(`(?m)^\[x86_64\] qemu: (.*)$`).FindStringSubmatch(r.stderr)
	if printed == nil {
		t.Fatalf("-v printed no QEMU command:\n%s", tailOf(r.stderr, 20))
	}
	if want := shellquote.Join(run.QEMU); printed[1] != want {
		t.Errorf("-v printed\n  %s\nthe JSON keeps\n  %s", printed[1], want)
	}
	if argv := strings.Join(run.QEMU, " "); !strings.Contains(argv, "-qmp unix:") || !strings.Contains(argv, "-serial stdio") {
		t.Errorf("the argv kept lacks the QMP socket or the console: %s", argv)
	}
	m := regexp.MustCompile(`(?m)^\s*reproduce interactively: (.*)$`).FindStringSubmatch(r.stdout)
	if m == nil || m[1] != run.Rerun {
		t.Fatalf("summary reproduce line %q, JSON rerun %q\n%s", m, run.Rerun, r.stdout)
	}

	cmd := exec.Command("bash", "-c", m[1])
	cmd.Dir = t.TempDir()
	c := startConsoleCmd(t, cmd)
	_, off := c.expect(t, 0, regexp.MustCompile(`info shell /`), 5*time.Minute)
	time.Sleep(2 * time.Second) // let the shell draw its prompt
	io.WriteString(c.stdin, "echo pasted-$((6*7))\n")
	c.expect(t, off, regexp.MustCompile(`pasted-42`), 2*time.Minute)
	io.WriteString(c.stdin, "exit\n")
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("the pasted command ended with %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the pasted QEMU did not end after exit")
	}
}
