// Package userland_test runs real Debian programs, chrooted into the root
// filesystem named by SELFPTRACE_VM_USERLAND, natively and under the real
// strace, and checks their output, exit status and files.
//
// Every test fails, never skips, when SELFPTRACE_VM_USERLAND is unset or
// names a directory without /usr/bin/strace. TestStraceArmedThread also
// fails on a kernel without self-ptrace; all the others pass on any kernel.
//
// TestStraceArmedThread runs part of itself in a child process: the test
// binary re-executes itself (not chrooted) with SELFPTRACE_USERLAND_HELPER
// naming a helper mode, which TestMain runs instead of the tests.
package userland_test

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/tests/internal/guest"
)

const (
	helperEnv = "SELFPTRACE_USERLAND_HELPER"

	// cmdTimeout bounds every command. Guests run under software
	// emulation: no test asserts a duration.
	cmdTimeout = 120 * time.Second
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// userland is the Debian root filesystem, by its path on the test's side.
type userland struct{ guest.Root }

// requireUserland fails the test unless SELFPTRACE_VM_USERLAND names a
// Debian root with strace.
func requireUserland(t *testing.T) userland {
	t.Helper()
	return userland{guest.RequireRoot(t, cmdTimeout, "strace", "usr/bin/strace")}
}

// workdir creates a fresh work directory, removed at the end of the test.
func (u userland) workdir(t *testing.T) guest.Workdir {
	t.Helper()
	return u.Workdir(t, "userland-")
}

// start starts argv chrooted into the root (argv[0] resolved by LookPath,
// which also becomes the program's argv[0]), in its own process group,
// with stdin (/dev/null when empty).
func (u userland) start(t *testing.T, argv []string, stdin string) *guest.Proc {
	t.Helper()
	var in io.Reader
	if stdin != "" {
		in = strings.NewReader(stdin)
	}
	return u.Start(t, argv, in)
}

// run runs argv chrooted to its end (see start).
func (u userland) run(t *testing.T, argv []string, stdin string) guest.Outcome {
	t.Helper()
	return u.start(t, argv, stdin).Wait(t)
}
