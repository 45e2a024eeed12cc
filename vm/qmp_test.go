package vm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const qmpGreeting = `{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}`

// fakeQMP serves one connection on a unix socket; handle gets each
// command name and returns the reply line ("" for none).
func fakeQMP(t *testing.T, greet bool, handle func(cmd string) string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 1)
	t.Cleanup(func() {
		l.Close()
		select {
		case c := <-conns:
			c.Close()
		default:
		}
	})
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		conns <- c
		if !greet {
			return
		}
		c.Write([]byte(qmpGreeting + "\n"))
		// go-qemu sends commands without a newline, as QEMU's streaming
		// parser allows.
		dec := json.NewDecoder(c)
		for {
			var cmd struct {
				Execute string `json:"execute"`
			}
			if err := dec.Decode(&cmd); err != nil {
				return
			}
			r := handle(cmd.Execute)
			if r == "" && cmd.Execute == "qmp_capabilities" {
				r = `{"return": {}}`
			}
			if r != "" {
				c.Write([]byte(r + "\n"))
			}
		}
	}()
	return path
}

func TestMonitorCalls(t *testing.T) {
	path := fakeQMP(t, true, func(cmd string) string {
		switch cmd {
		case "qmp_capabilities":
			return `{"return": {}}`
		case "query-status":
			return `{"return": {"status": "running", "singlestep": false, "running": true}}`
		case "human-monitor-command":
			return `{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}` + "\n" +
				`{"return": "RIP=ffffffff81000000\r\nRSP=0000000000000000\r\n"}`
		case "quit":
			return `{"return": {}}`
		}
		return `{"error": {"class": "CommandNotFound", "desc": "The command ` + cmd + ` has not been found"}}`
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mon, err := DialMonitor(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	st, err := mon.Status(ctx)
	if err != nil || st.Status != "running" || !st.Running {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	regs, err := mon.Registers(ctx)
	if err != nil || !strings.Contains(regs, "RIP=ffffffff81000000") {
		t.Fatalf("Registers = %q, %v", regs, err)
	}
	if err := mon.Quit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMonitorEventsInterleaved: events before the capabilities reply and
// between replies never shift replies (go-qemu#210), and every reply is
// intact after later messages arrive (go-qemu#226).
func TestMonitorEventsInterleaved(t *testing.T) {
	const ev = `{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RTC_CHANGE", "data": {"offset": 0}}`
	n := 0
	path := fakeQMP(t, true, func(cmd string) string {
		switch cmd {
		case "qmp_capabilities":
			return ev + "\n" + `{"return": {}}`
		case "query-status":
			n++
			status := fmt.Sprintf(`{"return": {"status": "running-%d", "running": true}}`, n)
			// Many events right after the reply overwrite any reused buffer.
			return status + "\n" + strings.Repeat(ev+"\n", 200)
		}
		return ""
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mon, err := DialMonitor(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	for i := 1; i <= 20; i++ {
		st, err := mon.Status(ctx)
		if want := fmt.Sprintf("running-%d", i); err != nil || st.Status != want {
			t.Fatalf("Status #%d = %+v, %v; want %s", i, st, err, want)
		}
	}
}

func TestMonitorDialBounded(t *testing.T) {
	// No socket at all.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := DialMonitor(ctx, filepath.Join(t.TempDir(), "absent.sock"))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("absent socket: %v after %v", err, time.Since(start))
	}

	// A server that accepts but never greets.
	path := fakeQMP(t, false, nil)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, err = DialMonitor(ctx2, path)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("silent server: %v after %v", err, time.Since(start))
	}
}

func TestMonitorCallBounded(t *testing.T) {
	path := fakeQMP(t, true, func(string) string { return "" }) // never answers
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mon, err := DialMonitor(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = mon.Status(short)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("Status: %v after %v", err, time.Since(start))
	}
	// The monitor was closed to end the call; later calls fail at once.
	if _, err := mon.Status(ctx); err == nil {
		t.Error("Status on a closed monitor succeeded")
	}
	mon.Close() // idempotent
}

// TestMonitorRealQEMU talks to a real QEMU that runs no guest.
func TestMonitorRealQEMU(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	path := filepath.Join(t.TempDir(), "q.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-machine", "none", "-nodefaults", "-display", "none",
		"-qmp", "unix:"+path+",server=on,wait=off")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	mon, err := DialMonitor(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	st, err := mon.Status(ctx)
	if err != nil || st.Status == "" {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	out, err := mon.HumanCommand(ctx, "info version")
	if err != nil || !strings.Contains(out, ".") {
		t.Fatalf("info version = %q, %v", out, err)
	}
	mon.Quit(ctx) // QEMU may close the socket before it replies
	if err := cmd.Wait(); err != nil {
		t.Errorf("QEMU after quit: %v", err)
	}
}
