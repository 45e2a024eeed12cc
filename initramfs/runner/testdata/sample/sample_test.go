// Package sample has tests of every shape the runner must report: it is
// compiled with go test -c by the runner's tests and run under the runner on
// the host. Tests that hang, crash or leak only do so when
// SAMPLE_MISBEHAVE=1, so that running the package by hand is harmless.
package sample

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func misbehave(t *testing.T) {
	t.Helper()
	if os.Getenv("SAMPLE_MISBEHAVE") != "1" {
		t.Skip("set SAMPLE_MISBEHAVE=1")
	}
}

func TestPass(t *testing.T) {
	t.Log("all good")
}

func TestFail(t *testing.T) {
	t.Errorf("got %d, want %d", 1, 2)
	t.Log("second line")
}

func TestSkip(t *testing.T) {
	t.Skip("needs CONFIG_SECCOMP")
}

func TestSub(t *testing.T) {
	t.Run("pass", func(t *testing.T) {})
	t.Run("fail", func(t *testing.T) {
		t.Error("sub failure")
	})
	t.Run("skip", func(t *testing.T) { t.Skip("not here") })
	t.Run("nested", func(t *testing.T) {
		t.Run("deep pass", func(t *testing.T) {})
		t.Run("deep/slash", func(t *testing.T) {})
		t.Run("dup", func(t *testing.T) {})
		t.Run("dup", func(t *testing.T) {})
	})
}

func TestParallel(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint("p", i), func(t *testing.T) {
			t.Parallel()
			time.Sleep(time.Duration(4-i) * 10 * time.Millisecond)
			t.Logf("parallel %d", i)
			if i == 2 {
				t.Error("p2 fails")
			}
		})
	}
}

func TestEnv(t *testing.T) {
	if got := os.Getenv("GODEBUG"); got != "asyncpreemptoff=1" {
		t.Errorf("GODEBUG = %q", got)
	}
	if got := os.Getenv("SAMPLE_BINARY_ENV"); got != "yes" {
		t.Errorf("SAMPLE_BINARY_ENV = %q", got)
	}
}

func TestPanic(t *testing.T) {
	misbehave(t)
	t.Run("inner", func(t *testing.T) {
		panic("boom")
	})
}

func TestExit(t *testing.T) {
	misbehave(t)
	os.Exit(3)
}

func TestSignal(t *testing.T) {
	misbehave(t)
	// The Go runtime catches SIGSYS; SIGKILL stands for a signal that kills.
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Minute)
}

func TestHang(t *testing.T) {
	misbehave(t)
	t.Run("spin", func(t *testing.T) {
		select {}
	})
}

// TestLeak leaves a child behind that holds the output pipe open.
func TestLeak(t *testing.T) {
	misbehave(t)
	cmd := exec.Command("sleep", "600")
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func FuzzSeeds(f *testing.F) {
	f.Add(1)
	f.Add(2)
	f.Fuzz(func(t *testing.T, n int) {})
}

func Example_hello() {
	fmt.Println("hello")
	// Output: hello
}

func BenchmarkNothing(b *testing.B) {
	for b.Loop() {
	}
}
