// Package guest holds what the guest test packages (tests/selfptrace,
// tests/userland, tests/tracer, tests/tracerbench) share that is not about
// the feature: how a child ended, a buffer a child writes while the test
// reads it, and (root.go) the Debian root filesystem that programs run
// chrooted into, its work directories and the outcome of a run.
package guest

import (
	"bytes"
	"fmt"
	"sync"
	"syscall"
)

// DescribeStatus says how a child ended, for failure messages.
func DescribeStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exited with status %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Sprintf("killed by signal %d (%v)", ws.Signal(), ws.Signal())
	default:
		return fmt.Sprintf("wait status %#x", uint32(ws))
	}
}

// SyncBuffer is a bytes.Buffer that a child process writes (through
// exec's copying goroutine) while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
