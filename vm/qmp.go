package vm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
)

// socketMonitor implements go-qemu's qmp.Monitor on a unix socket.
//
// go-qemu's own qmp.SocketMonitor is not used because (1) Run returns
// bytes that alias its reader's bufio.Scanner buffer, which the next QMP
// message overwrites (digitalocean/go-qemu#226; the race detector reports
// it in this package's integration test); (2) an event that arrives during
// the capabilities handshake is taken for its reply and every later reply
// is then off by one (go-qemu#210); (3) it has no deadlines. This one reads
// each message into its own memory, skips events during the handshake, and
// bounds every call by a context.
type socketMonitor struct {
	conn    net.Conn
	version qmp.Version

	mu      sync.Mutex // one command at a time
	replies chan json.RawMessage
	events  chan qmp.Event
	// subscribed makes the reader deliver events instead of dropping them.
	subscribed atomic.Bool
	closing    chan struct{}
	closeOnce  sync.Once
	// done is closed when the reader exits; readErr says why.
	done    chan struct{}
	readErr error
}

var _ qmp.Monitor = (*socketMonitor)(nil)

func newSocketMonitor(conn net.Conn) *socketMonitor {
	return &socketMonitor{
		conn:    conn,
		replies: make(chan json.RawMessage, 1),
		events:  make(chan qmp.Event, 16),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// connect reads QEMU's greeting and negotiates capabilities, bounded by ctx.
func (s *socketMonitor) connect(ctx context.Context) error {
	// A deadline in the past unblocks a pending read or write at once.
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	dec := json.NewDecoder(s.conn)
	var greeting struct {
		QMP *struct {
			Version qmp.Version `json:"version"`
		} `json:"QMP"`
	}
	if err := dec.Decode(&greeting); err != nil {
		return ctxErr(ctx, fmt.Errorf("reading QMP greeting: %w", err))
	}
	if greeting.QMP == nil {
		return errors.New("no QMP greeting: is this a QMP socket?")
	}
	s.version = greeting.QMP.Version
	if _, err := s.conn.Write([]byte(`{"execute":"qmp_capabilities"}` + "\n")); err != nil {
		return ctxErr(ctx, fmt.Errorf("sending qmp_capabilities: %w", err))
	}
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return ctxErr(ctx, fmt.Errorf("reading qmp_capabilities reply: %w", err))
		}
		if isEvent(raw) {
			continue // an event may come before the reply (go-qemu#210)
		}
		if err := replyError(raw); err != nil {
			return fmt.Errorf("qmp_capabilities: %w", err)
		}
		break
	}
	if !stop() {
		return ctxErr(ctx, context.Cause(ctx))
	}
	s.conn.SetDeadline(time.Time{})
	go s.read(dec)
	return nil
}

// ctxErr prefers the context's error when the context ended, since that
// is why an I/O call failed.
func ctxErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return fmt.Errorf("%w (%v)", cause, err)
	}
	return err
}

// read is the one reader of the connection after the handshake.
func (s *socketMonitor) read(dec *json.Decoder) {
	defer close(s.done)
	defer close(s.events)
	for {
		var raw json.RawMessage // fresh memory for every message
		if err := dec.Decode(&raw); err != nil {
			s.readErr = err
			return
		}
		if isEvent(raw) {
			if !s.subscribed.Load() {
				continue
			}
			var ev qmp.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				continue
			}
			select {
			case s.events <- ev:
			case <-s.closing:
				return
			}
			continue
		}
		select {
		case s.replies <- raw:
		case <-s.closing:
			return
		}
	}
}

func isEvent(raw json.RawMessage) bool {
	var probe struct {
		Event string `json:"event"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Event != ""
}

func replyError(raw json.RawMessage) error {
	var r struct {
		Error *struct {
			Class string `json:"class"`
			Desc  string `json:"desc"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("decoding reply %q: %w", raw, err)
	}
	if r.Error != nil {
		return fmt.Errorf("%s: %s", r.Error.Class, r.Error.Desc)
	}
	return nil
}

// run sends one command and waits for its reply, bounded by ctx. If ctx
// ends first the connection is closed: a late reply would otherwise be
// taken for the reply to the next command.
func (s *socketMonitor) run(ctx context.Context, command []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return nil, fmt.Errorf("QMP connection closed: %v", s.readErr)
	default:
	}
	stop := context.AfterFunc(ctx, func() { s.conn.SetWriteDeadline(time.Unix(1, 0)) })
	_, err := s.conn.Write(command)
	if !stop() {
		// The context ended: the write deadline is now in the past.
		s.Disconnect()
		return nil, context.Cause(ctx)
	}
	if err != nil {
		s.Disconnect()
		return nil, ctxErr(ctx, fmt.Errorf("sending command: %w", err))
	}
	select {
	case raw := <-s.replies:
		return raw, replyError(raw)
	case <-s.done:
		select {
		case raw := <-s.replies:
			return raw, replyError(raw)
		default:
		}
		return nil, fmt.Errorf("QMP connection closed: %v", s.readErr)
	case <-ctx.Done():
		s.Disconnect()
		return nil, context.Cause(ctx)
	}
}

// Connect implements qmp.Monitor.
func (s *socketMonitor) Connect() error { return s.connect(context.Background()) }

// Run implements qmp.Monitor.
func (s *socketMonitor) Run(command []byte) ([]byte, error) {
	return s.run(context.Background(), command)
}

// Events implements qmp.Monitor: events are delivered from now on; the
// channel must be drained until it is closed (when the connection ends).
func (s *socketMonitor) Events(context.Context) (<-chan qmp.Event, error) {
	s.subscribed.Store(true)
	return s.events, nil
}

// Disconnect implements qmp.Monitor. It is safe to call more than once.
func (s *socketMonitor) Disconnect() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		err = s.conn.Close()
	})
	return err
}

// Monitor is a QMP connection to one QEMU. Every call is bounded by its
// context. Safe for concurrent use (calls are serialised).
type Monitor struct {
	s *socketMonitor
}

// DialMonitor connects to the QMP unix socket at path, retrying until the
// socket accepts or ctx ends (QEMU creates it shortly after it starts).
func DialMonitor(ctx context.Context, path string) (*Monitor, error) {
	var d net.Dialer
	var conn net.Conn
	for {
		var err error
		conn, err = d.DialContext(ctx, "unix", path)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("dialing QMP socket %s: %w", path, ctxErr(ctx, err))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("dialing QMP socket %s: %w (last error: %v)", path, context.Cause(ctx), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s := newSocketMonitor(conn)
	if err := s.connect(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("QMP handshake on %s: %w", path, err)
	}
	return &Monitor{s: s}, nil
}

// Version is the QEMU version from the QMP greeting.
func (m *Monitor) Version() string { return m.s.version.String() }

// Close disconnects. It is safe to call more than once.
func (m *Monitor) Close() error { return m.s.Disconnect() }

// execute runs one QMP command and returns its "return" member.
func (m *Monitor) execute(ctx context.Context, cmd qmp.Command) (json.RawMessage, error) {
	req, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encoding QMP %s: %w", cmd.Execute, err)
	}
	out, err := m.s.run(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("QMP %s: %w", cmd.Execute, err)
	}
	var resp struct {
		Return json.RawMessage `json:"return"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("QMP %s: decoding reply %q: %w", cmd.Execute, out, err)
	}
	return resp.Return, nil
}

// Status is QEMU's answer to query-status.
type Status struct {
	// Status is the run state: "running", "paused", "shutdown",
	// "guest-panicked", "internal-error", ...
	Status  string `json:"status"`
	Running bool   `json:"running"`
}

// Status runs query-status.
func (m *Monitor) Status(ctx context.Context) (Status, error) {
	raw, err := m.execute(ctx, qmp.Command{Execute: "query-status"})
	if err != nil {
		return Status{}, err
	}
	var s Status
	if err := json.Unmarshal(raw, &s); err != nil {
		return Status{}, fmt.Errorf("QMP query-status: decoding %s: %w", raw, err)
	}
	return s, nil
}

// Quit asks QEMU to exit. QEMU may close the connection before it answers,
// so an error does not mean that QEMU is still running.
func (m *Monitor) Quit(ctx context.Context) error {
	_, err := m.execute(ctx, qmp.Command{Execute: "quit"})
	return err
}

// HumanCommand runs a human monitor (HMP) command, such as
// "info registers -a", and returns its text output.
func (m *Monitor) HumanCommand(ctx context.Context, command string) (string, error) {
	raw, err := m.execute(ctx, qmp.Command{
		Execute: "human-monitor-command",
		Args:    map[string]string{"command-line": command},
	})
	if err != nil {
		return "", err
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("QMP human-monitor-command %q: decoding %s: %w", command, raw, err)
	}
	return out, nil
}

// Registers returns the CPU registers of every vCPU (info registers -a).
func (m *Monitor) Registers(ctx context.Context) (string, error) {
	return m.HumanCommand(ctx, "info registers -a")
}

// qmpEvent is the part of a QMP event a Machine uses.
type qmpEvent struct {
	name   string
	reason string
}

// subscribe starts event delivery; drainEvents must then run until the
// connection closes.
func (m *Monitor) subscribe() error {
	_, err := m.s.Events(context.Background())
	return err
}

// drainEvents reads events until the connection closes, passing each to f.
func (m *Monitor) drainEvents(f func(qmpEvent)) {
	for e := range m.s.events {
		reason, _ := e.Data["reason"].(string) // absent for most events
		f(qmpEvent{name: e.Event, reason: reason})
	}
}
