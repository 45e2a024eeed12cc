package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// console drives an interactive selfptrace-vm through pipes.
type console struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	out   strings.Builder // stdout and stderr, merged
	more  chan struct{}
	done  chan error
}

func (e *env) startConsole(t *testing.T, args ...string) *console {
	t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "SELFPTRACE_VM_CACHE="+e.cache)
	return startConsoleCmd(t, cmd)
}

// startConsoleCmd starts cmd with its input and merged output on pipes.
func startConsoleCmd(t *testing.T, cmd *exec.Cmd) *console {
	t.Helper()
	c := &console{cmd: cmd, more: make(chan struct{}, 1), done: make(chan error, 1)}
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	c.cmd.Stdout, c.cmd.Stderr = pw, pw
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r := bufio.NewReader(pr)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			c.mu.Lock()
			c.out.Write(buf[:n])
			c.mu.Unlock()
			select {
			case c.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { c.done <- c.cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { c.cmd.Process.Kill() })
	return c
}

// expect waits until the output after offset from matches re, and returns
// the match and the new offset.
func (c *console) expect(t *testing.T, from int, re *regexp.Regexp, timeout time.Duration) ([]string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		c.mu.Lock()
		s := c.out.String()
		c.mu.Unlock()
		if loc := re.FindStringSubmatchIndex(s[from:]); loc != nil {
			m := re.FindStringSubmatch(s[from:])
			return m, from + loc[1]
		}
		select {
		case <-c.more:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("no match for %s within %s; output:\n%s", re, timeout, tailOf(s, 30))
		}
	}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// TestShell boots the interactive shell on every arch, asks uname -m,
// reads the answer and leaves with exit.
func TestShell(t *testing.T) {
	e := needEnv(t)
	for _, a := range arches {
		t.Run(a, func(t *testing.T) {
			spec, err := arch.Lookup(a)
			if err != nil {
				t.Fatal(err)
			}
			machine := spec.UnameMachine
			c := e.startConsole(t, "shell", "--arch", a)
			_, off := c.expect(t, 0, regexp.MustCompile(`info shell /`), 10*time.Minute)
			time.Sleep(2 * time.Second) // let the shell draw its prompt
			io.WriteString(c.stdin, "uname -m\n")
			_, after := c.expect(t, off, regexp.MustCompile(`(?m)^[^\n]*`+regexp.QuoteMeta(machine)+`\s*$`), 2*time.Minute)
			// Type the next command at the next prompt, not ahead of it:
			// a line editor that resets the terminal for its prompt may
			// drop what was typed before.
			c.expect(t, after, regexp.MustCompile(`> `), 2*time.Minute)
			time.Sleep(time.Second)
			io.WriteString(c.stdin, "exit\n")
			c.expect(t, off, regexp.MustCompile(`exit status=0`), 2*time.Minute)
			select {
			case err := <-c.done:
				if err != nil {
					t.Errorf("shell exited with %v", err)
				}
			case <-time.After(2 * time.Minute):
				t.Fatal("shell did not end after exit")
			}
			c.mu.Lock()
			out := ansi.ReplaceAllString(c.out.String(), "")
			c.mu.Unlock()
			if !strings.Contains(out, machine) {
				t.Errorf("uname -m answer %q not in the output", machine)
			}
		})
	}
}

// TestGDB boots with --gdb, runs the gdb command line the rig prints in
// gdb-multiarch batch mode, and reads the program counter.
func TestGDB(t *testing.T) {
	e := needEnv(t)
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Fatalf("gdb-multiarch missing (make deps installs it): %v", err)
	}
	for _, a := range arches {
		t.Run(a, func(t *testing.T) {
			c := e.startConsole(t, "shell", "--arch", a, "--gdb")
			m, _ := c.expect(t, 0, regexp.MustCompile(`connect with:\n\s*(gdb-multiarch [^\n]+)\n`), 10*time.Minute)
			line := m[1]
			batch := strings.Replace(line, "gdb-multiarch -q", "gdb-multiarch -q -batch", 1)
			batch = regexp.MustCompile(`(-ex 'target remote [^']+')`).ReplaceAllString(batch, "$1 -ex 'info registers pc'")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "bash", "-c", batch).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", batch, err, out)
			}
			if !regexp.MustCompile(`(?m)^pc\s+0x[0-9a-f]+`).Match(out) {
				t.Errorf("gdb did not read pc:\n%s", out)
			}
			t.Logf("gdb: %s", strings.TrimSpace(regexp.MustCompile(`(?m)^pc.*$`).FindString(string(out))))
			io.WriteString(c.stdin, "exit\n")
		})
	}
}
