// Package progress reports the phases of a long command to a person.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Reporter receives the phases of a run and short progress messages.
// Implementations must be safe for concurrent use.
type Reporter interface {
	// Phase starts a named phase (extract, patch, config, build, pack,
	// boot, test) for an architecture.
	Phase(arch, name string)
	// Update says the current phase is moving, e.g. "1234 objects, CC kernel/fork.o".
	Update(arch, msg string)
	// Done ends the current phase of an architecture.
	Done(arch string, err error)
}

// Discard is a Reporter that prints nothing.
type Discard struct{}

func (Discard) Phase(string, string)  {}
func (Discard) Update(string, string) {}
func (Discard) Done(string, error)    {}

// Text writes one line per phase start and end, and throttled updates, to W.
// It suits both terminals and CI logs.
type Text struct {
	W        io.Writer
	Interval time.Duration // minimum time between two updates of one arch; 0 means 10s

	mu     sync.Mutex
	phase  map[string]string
	start  map[string]time.Time
	lastUp map[string]time.Time
}

func (t *Text) init() {
	if t.phase == nil {
		t.phase = map[string]string{}
		t.start = map[string]time.Time{}
		t.lastUp = map[string]time.Time{}
	}
}

// Phase implements Reporter.
func (t *Text) Phase(arch, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.init()
	t.phase[arch] = name
	t.start[arch] = time.Now()
	t.lastUp[arch] = time.Now()
	fmt.Fprintf(t.W, "[%s] %s ...\n", arch, name)
}

// Update implements Reporter.
func (t *Text) Update(arch, msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.init()
	iv := t.Interval
	if iv == 0 {
		iv = 10 * time.Second
	}
	if time.Since(t.lastUp[arch]) < iv {
		return
	}
	t.lastUp[arch] = time.Now()
	fmt.Fprintf(t.W, "[%s] %s %s: %s\n", arch, t.phase[arch], elapsed(t.start[arch]), msg)
}

// Done implements Reporter.
func (t *Text) Done(arch string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.init()
	name := t.phase[arch]
	if name == "" {
		return
	}
	if err != nil {
		fmt.Fprintf(t.W, "[%s] %s failed after %s\n", arch, name, elapsed(t.start[arch]))
	} else {
		fmt.Fprintf(t.W, "[%s] %s done in %s\n", arch, name, elapsed(t.start[arch]))
	}
	delete(t.phase, arch)
}

func elapsed(since time.Time) string {
	return time.Since(since).Round(100 * time.Millisecond).String()
}
