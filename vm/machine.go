package vm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/selfptrace/selfptrace-vm/arch"
)

// DefaultKillGrace is how long QEMU gets to exit after a QMP quit or a
// SIGTERM before the next step (SIGTERM, then SIGKILL).
const DefaultKillGrace = 5 * time.Second

// DefaultQMPTimeout bounds QMP connection and calls made by a Machine.
const DefaultQMPTimeout = 10 * time.Second

// crashGrace is how long QEMU gets to exit by itself after a fatal kernel
// report (panic=-1 and -no-reboot normally end it at once), at KVM speed.
const crashGrace = 5 * time.Second

// Timeouts bound a run. They are given at KVM speed; a Machine scales them
// with Accel.Scale. A zero timeout is disabled.
type Timeouts struct {
	// Boot bounds the time from start to the boot marker.
	Boot time.Duration
	// NoOutput bounds a silence on the console (QEMU's stdout and stderr).
	NoOutput time.Duration
	// Run bounds the whole run.
	Run time.Duration
}

// Times returns t with every bound multiplied by n (n < 1 counts as 1):
// for kernels that run n times slower.
func (t Timeouts) Times(n int) Timeouts {
	f := time.Duration(max(n, 1))
	return Timeouts{Boot: t.Boot * f, NoOutput: t.NoOutput * f, Run: t.Run * f}
}

func (t Timeouts) scaled(a Accel) Timeouts {
	return Timeouts{Boot: a.Scale(t.Boot), NoOutput: a.Scale(t.NoOutput), Run: a.Scale(t.Run)}
}

// Config describes one run.
type Config struct {
	Spec   arch.Spec
	Kernel string
	Initrd string
	// Accel is the accelerator chosen by ChooseAccel; the zero value is TCG.
	Accel AccelChoice
	// Options add to the QEMU command line (memory, SMP, kernel arguments,
	// gdb, extra QEMU arguments). Argv adds the accelerator, the QMP
	// socket and the console mode.
	Options []Option
	// LogPath is the console log file, created or truncated. Required.
	LogPath string
	// Output, if set, receives every line as it arrives (QEMU's stderr
	// too); in interactive mode it receives the console's raw bytes so
	// that prompts show.
	Output io.Writer
	// Stdin, if set, makes the run interactive: it is copied to the
	// guest's console, and the console is multiplexed with the QEMU
	// monitor (Ctrl-A x quits). Put a terminal in raw mode first (MakeRaw).
	Stdin *os.File
	// HoldInputUntil, for an interactive run, holds the input back until
	// a console line containing it has been seen and the console has
	// written something after it (the shell's first prompt): input typed
	// ahead of a shell that has not set up its line editor yet can be
	// lost (seen with bash on riscv64). Empty: input flows at once.
	HoldInputUntil string
	// Detect holds the boot marker and excerpt sizes.
	Detect DetectConfig
	// Timeouts are scaled by the accelerator. Interactive runs usually
	// leave NoOutput at zero.
	Timeouts Timeouts
	// KillGrace defaults to DefaultKillGrace.
	KillGrace time.Duration
	// NoQMP runs without a QMP socket (no status, no register dump).
	NoQMP bool
	// QMPTimeout bounds connecting to QMP and each QMP call the Machine
	// makes; DefaultQMPTimeout when zero.
	QMPTimeout time.Duration
	// Logf receives diagnostics such as "QMP unavailable"; nil discards.
	Logf func(format string, args ...any)
	// OnStart, if set, receives the QEMU argv just before it is executed:
	// the command that runs, as Result.Argv keeps it.
	OnStart func(argv []string)
}

// Argv is the complete QEMU command line of a run of cfg whose QMP socket
// is at qmpSocket (none if empty): the accelerator, the console wiring
// and the QMP socket included. Start executes exactly this argv. It is
// pure; a run's own socket path is only known inside Start, so callers
// get the argv that ran from Config.OnStart or Result.Argv.
func (cfg Config) Argv(qmpSocket string) ([]string, error) {
	accel := cfg.Accel.Accel
	if accel == AccelAuto {
		accel = AccelTCG
	}
	opts := append([]Option{}, cfg.Options...)
	opts = append(opts, WithAccel(accel))
	if cfg.Stdin != nil {
		opts = append(opts, WithConsole(ConsoleInteractive))
	}
	opts = append(opts, WithQMP(qmpSocket))
	return Cmdline(cfg.Spec, cfg.Kernel, cfg.Initrd, opts...)
}

// Result is the outcome of a run with its evidence. The embedded Verdict
// holds Outcome, Reason, Title and Excerpt.
type Result struct {
	Verdict
	Arch  string
	Accel AccelChoice
	// Argv is the QEMU command line that ran, exactly (Config.Argv); it
	// is empty when the configuration was rejected before QEMU.
	Argv    []string
	LogPath string
	// RegistersPath is the register dump taken on a timeout, if any.
	RegistersPath string
	Exit          Exit
	// Limits are the timeouts in force (scaled).
	Limits Timeouts
	// BootTime is the time from start to the boot marker (0 if not seen).
	BootTime time.Duration
	Duration time.Duration
	// Notes are problems that did not decide the outcome (QMP
	// unavailable, register dump failed, output writer failed).
	Notes []string

	cause error
}

// Machine is one running QEMU. Start it, optionally use Console and
// Monitor, then Wait. QEMU never outlives the run: it is stopped when the
// context ends, when a timeout fires or on Stop, and it gets SIGKILL if
// this process dies.
type Machine struct {
	cfg     Config
	argv    []string
	limits  Timeouts
	parent  context.Context
	cancel  context.CancelCauseFunc
	cmd     *exec.Cmd
	start   time.Time
	console *Console
	out     *writerOnce
	logf    func(string, ...any)

	// inputReady is closed when the input may flow (HoldInputUntil);
	// holdSeen, owned by the sink, says the marker was seen.
	inputReady chan struct{}
	holdSeen   bool

	// Owned by the sink goroutine until the group is done.
	det  *Detector
	logF *os.File
	logW *bufio.Writer

	qmpPath string
	qmpDir  string

	exited   chan struct{}
	booted   chan struct{}
	crashed  chan struct{}
	activity chan struct{}
	qmpReady chan struct{}
	stopReq  chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu            sync.Mutex
	mon           *Monitor
	stop          StopReason
	limit         time.Duration
	stopCause     error
	exit          Exit
	shutdown      string
	guestPanicked bool
	bootTime      time.Duration
	notes         []string
	regsPath      string
	logErr        error
	result        Result
}

// chunk is what a stream reader hands to the sink.
type chunk struct {
	stream  Stream
	lines   []string
	partial string
	n       int
}

var errStopped = errors.New("stopped by caller")

// Start starts QEMU. A configuration error is returned as is; a failure to
// start QEMU is an *InfraError (Run turns it into a qemu_error Result).
func Start(ctx context.Context, cfg Config) (_ *Machine, err error) {
	if cfg.LogPath == "" {
		return nil, errors.New("no console log path given")
	}
	if cfg.Accel.Accel == AccelAuto {
		cfg.Accel = AccelChoice{AccelTCG, "no accelerator chosen"}
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = DefaultKillGrace
	}
	if cfg.QMPTimeout <= 0 {
		cfg.QMPTimeout = DefaultQMPTimeout
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	m := &Machine{
		cfg:        cfg,
		limits:     cfg.Timeouts.scaled(cfg.Accel.Accel),
		parent:     ctx,
		console:    NewConsole(),
		out:        &writerOnce{w: cfg.Output},
		logf:       logf,
		det:        NewDetector(cfg.Detect),
		exited:     make(chan struct{}),
		booted:     make(chan struct{}),
		crashed:    make(chan struct{}),
		activity:   make(chan struct{}, 1),
		qmpReady:   make(chan struct{}),
		inputReady: make(chan struct{}),
		stopReq:    make(chan struct{}),
		done:       make(chan struct{}),
	}
	if cfg.Stdin == nil || cfg.HoldInputUntil == "" {
		close(m.inputReady)
	}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()

	var qmpPath string
	if !cfg.NoQMP {
		// A short directory: unix socket paths are limited to 107 bytes.
		dir, err := os.MkdirTemp("", "vm-qmp-")
		if err != nil {
			return nil, &InfraError{Op: "creating QMP socket directory", Err: err}
		}
		undo = append(undo, func() { os.RemoveAll(dir) })
		m.qmpDir, qmpPath = dir, filepath.Join(dir, "qmp.sock")
		m.qmpPath = qmpPath
	}
	m.argv, err = cfg.Argv(qmpPath)
	if err != nil {
		return nil, fmt.Errorf("building QEMU command line: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(cfg.LogPath), 0o755); err != nil {
		return nil, &InfraError{Op: "creating console log directory", Err: err}
	}
	m.logF, err = os.Create(cfg.LogPath)
	if err != nil {
		return nil, &InfraError{Op: "creating console log", Err: err}
	}
	undo = append(undo, func() { m.logF.Close() })
	m.logW = bufio.NewWriter(m.logF)

	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, &InfraError{Op: "creating stdout pipe", Err: err}
	}
	undo = append(undo, func() { outR.Close(); outW.Close() })
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, &InfraError{Op: "creating stderr pipe", Err: err}
	}
	undo = append(undo, func() { errR.Close(); errW.Close() })
	var inR, inW *os.File
	if cfg.Stdin != nil {
		if inR, inW, err = os.Pipe(); err != nil {
			return nil, &InfraError{Op: "creating stdin pipe", Err: err}
		}
		undo = append(undo, func() { inR.Close(); inW.Close() })
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	undo = append(undo, func() { cancel(nil) })
	m.cancel = cancel
	cmd := exec.CommandContext(runCtx, m.argv[0], m.argv[1:]...)
	cmd.Stdout, cmd.Stderr = outW, errW
	if inR != nil {
		cmd.Stdin = inR
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: a terminal's Ctrl-C reaches us, not
		// QEMU, and we stop QEMU in order.
		Setpgid: true,
		// SIGKILL if the thread that started it dies (see below).
		Pdeathsig: syscall.SIGKILL,
	}
	cmd.Cancel = func() error {
		// SIGTERM to the group; exec sends SIGKILL after WaitDelay.
		if err := unix.Kill(-cmd.Process.Pid, unix.SIGTERM); err != nil {
			if errors.Is(err, unix.ESRCH) {
				return os.ErrProcessDone
			}
			return err
		}
		return nil
	}
	cmd.WaitDelay = cfg.KillGrace
	m.cmd = cmd

	if cfg.OnStart != nil {
		cfg.OnStart(m.Argv())
	}
	// Pdeathsig fires when the starting OS thread exits, not the process.
	// A fresh goroutine never runs on a thread locked by someone else, and
	// Go only ends threads that were locked, so this thread stays.
	started := make(chan error, 1)
	go func() { started <- cmd.Start() }()
	if err := <-started; err != nil {
		fmt.Fprintf(m.logW, "vm: starting QEMU: %v\n", err)
		m.logW.Flush()
		return nil, &InfraError{Op: "starting QEMU", Err: err, LogPath: cfg.LogPath, notStarted: true, argv: m.argv}
	}
	m.start = time.Now()
	outW.Close()
	errW.Close()
	if inR != nil {
		inR.Close()
	}

	chunks := make(chan chunk, 64)
	var g errgroup.Group
	var readers errgroup.Group
	var rawOut io.Writer
	if cfg.Stdin != nil {
		rawOut = m.out
	}
	readers.Go(func() error { return readStream(outR, StreamConsole, chunks, rawOut) })
	readers.Go(func() error { return readStream(errR, StreamQEMU, chunks, nil) })
	g.Go(func() error {
		err := readers.Wait()
		close(chunks)
		return err
	})
	g.Go(func() error { return m.sink(chunks) })
	g.Go(func() error { return m.waitQEMU(outR, errR) })
	g.Go(m.watch)
	if m.qmpPath != "" {
		g.Go(m.runQMP)
	} else {
		close(m.qmpReady)
	}
	if inW != nil {
		g.Go(func() error { return m.copyInput(inW, cfg.Stdin) })
	}
	go func() {
		gErr := g.Wait()
		m.finish(gErr)
		close(m.done)
	}()
	return m, nil
}

// Run starts a run and waits for it. Its Result is always filled when QEMU
// could be started or failed to start; err is Result.Err() then.
func Run(ctx context.Context, cfg Config) (Result, error) {
	m, err := Start(ctx, cfg)
	if err != nil {
		var ie *InfraError
		if !errors.As(err, &ie) || !ie.notStarted {
			return Result{LogPath: cfg.LogPath}, err
		}
		res := Result{
			Verdict: Classify(cfg.Detect, nil, Exit{StartErr: ie.Err}),
			Arch:    cfg.Spec.Name,
			Accel:   cfg.Accel,
			Argv:    ie.argv,
			LogPath: cfg.LogPath,
			cause:   err,
		}
		return res, res.Err()
	}
	return m.Wait()
}

// Argv returns the QEMU command line.
func (m *Machine) Argv() []string { return append([]string(nil), m.argv...) }

// Pid returns QEMU's process id.
func (m *Machine) Pid() int { return m.cmd.Process.Pid }

// Console returns the guest console for expect-style waits.
func (m *Machine) Console() *Console { return m.console }

// Done is closed when the run is over and Wait will not block.
func (m *Machine) Done() <-chan struct{} { return m.done }

// Monitor waits for the QMP connection attempt and returns the monitor. It
// fails if QMP is disabled or unavailable. The Machine owns the monitor:
// do not Close it.
func (m *Machine) Monitor(ctx context.Context) (*Monitor, error) {
	select {
	case <-m.qmpReady:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for QMP: %w", context.Cause(ctx))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mon == nil {
		return nil, errors.New("QMP unavailable for this run")
	}
	return m.mon, nil
}

// Stop ends the run (OutcomeCanceled unless the kernel had crashed). It
// does not wait; call Wait.
func (m *Machine) Stop() {
	m.stopOnce.Do(func() { close(m.stopReq) })
}

// Wait waits for the end of the run and returns its Result and
// Result.Err(). It may be called more than once.
func (m *Machine) Wait() (Result, error) {
	<-m.done
	return m.result, m.result.Err()
}

func readStream(f *os.File, stream Stream, out chan<- chunk, raw io.Writer) error {
	defer f.Close()
	var sp lineSplitter
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if raw != nil {
				raw.Write(buf[:n]) // writerOnce: never fails
			}
			out <- chunk{stream: stream, lines: sp.feed(buf[:n]), partial: sp.partial(), n: n}
		}
		if err != nil {
			out <- chunk{stream: stream, lines: sp.flush()}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("reading QEMU %s: still open after QEMU exited", stream)
			}
			return fmt.Errorf("reading QEMU %s: %w", stream, err)
		}
	}
}

// sink is the one owner of the log file and the Detector: it takes whole
// lines from both streams in arrival order.
func (m *Machine) sink(chunks <-chan chunk) error {
	interactive := m.cfg.Stdin != nil
	for c := range chunks {
		if c.n > 0 {
			select {
			case m.activity <- struct{}{}:
			default: // a signal is already pending: nothing is lost
			}
		}
		for _, text := range c.lines {
			m.logLine(text)
			if !interactive || c.stream != StreamConsole {
				m.out.Write([]byte(text + "\n"))
			}
			bootedNow, crashedNow := m.det.Feed(Line{Text: text, Stream: c.stream})
			if bootedNow {
				m.mu.Lock()
				m.bootTime = time.Since(m.start)
				m.mu.Unlock()
				close(m.booted)
			}
			if crashedNow {
				close(m.crashed)
			}
		}
		if c.stream == StreamConsole {
			if len(c.lines) > 0 {
				m.console.AddLines(c.lines...)
			}
			m.console.SetPartial(c.partial)
			m.releaseInput(c)
		}
		if len(chunks) == 0 {
			m.flushLog()
		}
	}
	m.flushLog()
	m.console.Close()
	return nil
}

func (m *Machine) logLine(text string) {
	if m.logErr != nil {
		return
	}
	m.logW.WriteString(text)
	if err := m.logW.WriteByte('\n'); err != nil {
		m.logErr = err
	}
}

func (m *Machine) flushLog() {
	if m.logErr == nil {
		m.logErr = m.logW.Flush()
	}
}

// waitQEMU is the one goroutine that waits for QEMU.
func (m *Machine) waitQEMU(outR, errR *os.File) error {
	waitErr := m.cmd.Wait()
	e := Exit{Started: true, Code: -1}
	ps := m.cmd.ProcessState
	if ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.Signal = ws.Signal()
		} else {
			e.Code = ps.ExitCode()
		}
	}
	m.mu.Lock()
	m.exit = e
	m.mu.Unlock()
	close(m.exited)
	// Output still buffered in the pipes is read; a pipe that some other
	// process keeps open must not hold the run.
	deadline := time.Now().Add(m.cfg.KillGrace)
	outR.SetReadDeadline(deadline)
	errR.SetReadDeadline(deadline)
	m.cancel(errors.New("QEMU exited"))
	if ps == nil {
		return fmt.Errorf("waiting for QEMU: %w", waitErr)
	}
	return nil
}

// watch runs the timers and stops the run when one fires.
func (m *Machine) watch() error {
	var bootC, runC, idleC, graceC <-chan time.Time
	if m.limits.Boot > 0 && m.cfg.Detect.BootMarker != "" {
		t := time.NewTimer(m.limits.Boot)
		defer t.Stop()
		bootC = t.C
	}
	if m.limits.Run > 0 {
		t := time.NewTimer(m.limits.Run)
		defer t.Stop()
		runC = t.C
	}
	var idle *time.Timer
	if m.limits.NoOutput > 0 {
		idle = time.NewTimer(m.limits.NoOutput)
		defer idle.Stop()
		idleC = idle.C
	}
	booted, crashed := m.booted, m.crashed
	for {
		select {
		case <-m.exited:
			return nil
		case <-m.parent.Done():
			// exec already sent SIGTERM through the derived context.
			m.setStop(StopCanceled, 0, context.Cause(m.parent))
			return nil
		case <-m.stopReq:
			m.setStop(StopCanceled, 0, errStopped)
			m.halt(errStopped)
			return nil
		case <-booted:
			booted, bootC = nil, nil
		case <-m.activity:
			if idle != nil {
				idle.Reset(m.limits.NoOutput)
			}
		case <-crashed:
			crashed = nil
			t := time.NewTimer(m.cfg.Accel.Accel.Scale(crashGrace))
			defer t.Stop()
			graceC = t.C
		case <-graceC:
			m.setStop(StopAfterCrash, 0, nil)
			m.halt(errors.New("kernel crashed and QEMU did not exit"))
			return nil
		case <-bootC:
			m.timeout(StopBootTimeout, m.limits.Boot)
			return nil
		case <-idleC:
			m.timeout(StopNoOutput, m.limits.NoOutput)
			return nil
		case <-runC:
			m.timeout(StopRunTimeout, m.limits.Run)
			return nil
		}
	}
}

func (m *Machine) setStop(r StopReason, limit time.Duration, cause error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop == StopNone {
		m.stop, m.limit, m.stopCause = r, limit, cause
	}
}

func (m *Machine) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	m.logf("vm: %s", s)
	m.mu.Lock()
	m.notes = append(m.notes, s)
	m.mu.Unlock()
}

func (m *Machine) timeout(r StopReason, limit time.Duration) {
	m.setStop(r, limit, nil)
	m.dumpRegisters()
	m.halt(fmt.Errorf("%s after %s", r, limit))
}

// dumpRegisters saves "info registers -a" next to the console log.
func (m *Machine) dumpRegisters() {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.QMPTimeout)
	defer cancel()
	mon, err := m.Monitor(ctx)
	if err != nil {
		m.note("no register dump: %v", err)
		return
	}
	regs, err := mon.Registers(ctx)
	if err != nil {
		m.note("no register dump: %v", err)
		return
	}
	path := RegistersPath(m.cfg.LogPath)
	regs = strings.TrimLeft(strings.ReplaceAll(regs, "\r", ""), "\n")
	if err := os.WriteFile(path, []byte(regs), 0o644); err != nil {
		m.note("saving register dump: %v", err)
		return
	}
	m.mu.Lock()
	m.regsPath = path
	m.mu.Unlock()
}

// RegistersPath is where a run with console log logPath saves its register
// dump.
func RegistersPath(logPath string) string {
	return strings.TrimSuffix(logPath, filepath.Ext(logPath)) + ".registers.txt"
}

// halt stops QEMU: QMP quit first, then SIGTERM and, after KillGrace,
// SIGKILL (both through the run's context and exec.Cmd.WaitDelay).
func (m *Machine) halt(cause error) {
	m.mu.Lock()
	mon := m.mon
	m.mu.Unlock()
	if mon != nil {
		ctx, cancel := context.WithTimeout(context.Background(), min(2*time.Second, m.cfg.QMPTimeout))
		err := mon.Quit(ctx)
		cancel()
		if err != nil {
			m.logf("vm: QMP quit: %v (QEMU may close the socket before replying)", err)
		}
		select {
		case <-m.exited:
			return
		case <-time.After(m.cfg.KillGrace):
		}
	}
	m.cancel(cause)
}

// runQMP connects to QMP, then records events until QEMU closes the socket.
func (m *Machine) runQMP() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.QMPTimeout)
	go func() {
		select {
		case <-m.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	mon, err := DialMonitor(ctx, m.qmpPath)
	if err == nil {
		if err = mon.subscribe(); err != nil {
			mon.Close()
		}
	}
	cancel()
	if err != nil {
		select {
		case <-m.exited:
			// QEMU ended before QMP was up: nothing to note.
		default:
			m.note("QMP unavailable, continuing without it: %v", err)
		}
		close(m.qmpReady)
		return nil
	}
	m.mu.Lock()
	m.mon = mon
	m.mu.Unlock()
	close(m.qmpReady)
	mon.drainEvents(func(e qmpEvent) {
		m.mu.Lock()
		defer m.mu.Unlock()
		switch e.name {
		case "SHUTDOWN":
			if m.shutdown == "" {
				m.shutdown = e.reason
			}
		case "GUEST_PANICKED":
			m.guestPanicked = true
		}
	})
	mon.Close()
	return nil
}

// copyInput copies the user's input to QEMU's stdin until QEMU exits. It
// polls so that it never stays blocked in a read after the run. When the
// input ends, the guest is told so (endInput).
func (m *Machine) copyInput(dst, src *os.File) error {
	defer dst.Close()
	rc, err := src.SyscallConn()
	if err != nil {
		return fmt.Errorf("interactive input: %w", err)
	}
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	select {
	case <-m.inputReady:
	case <-m.exited:
		return nil
	}
	buf := make([]byte, 4096)
	var last byte = '\n'
	for {
		select {
		case <-m.exited:
			return nil
		default:
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 100)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("interactive input: poll: %w", err)
		}
		if n == 0 {
			continue
		}
		r, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("interactive input: read: %w", err)
		case r == 0:
			m.endInput(dst, last)
			return nil
		}
		last = buf[r-1]
		if _, err := dst.Write(buf[:r]); err != nil {
			select {
			case <-m.exited:
				return nil
			default:
				return fmt.Errorf("interactive input: writing to QEMU: %w", err)
			}
		}
	}
}

// releaseInput lets the held input flow once the console has written
// something after the HoldInputUntil line (see Config.HoldInputUntil).
func (m *Machine) releaseInput(c chunk) {
	select {
	case <-m.inputReady:
		return
	default:
	}
	if m.holdSeen && c.n > 0 {
		close(m.inputReady)
		return
	}
	for i, text := range c.lines {
		if strings.Contains(text, m.cfg.HoldInputUntil) {
			m.holdSeen = true
			if i < len(c.lines)-1 || c.partial != "" {
				close(m.inputReady)
			}
			return
		}
	}
}

// InputEOFGrace is how long an interactive guest may run after its input
// ended (scaled by the accelerator) before the run is stopped.
const InputEOFGrace = 30 * time.Second

// eofEvery is how often end-of-file is sent again: a line editor that
// resets the terminal drops input typed ahead of its prompt.
const eofEvery = 2 * time.Second

// endInput tells the guest that the input ended, the way a terminal does:
// it ends a last line that has no newline, then types Ctrl-D (the tty's
// end-of-file) until the guest powers off, so that a scripted session that
// forgets exit ends the shell and the run. A guest still up after
// InputEOFGrace is stopped (outcome timeout).
func (m *Machine) endInput(dst *os.File, last byte) {
	if last != '\n' && last != '\r' {
		_, _ = dst.Write([]byte{'\n'})
	}
	grace := m.cfg.Accel.Accel.Scale(InputEOFGrace)
	limit := time.NewTimer(grace)
	defer limit.Stop()
	tick := time.NewTicker(eofEvery)
	defer tick.Stop()
	for {
		if _, err := dst.Write([]byte{0x04}); err != nil {
			return
		}
		select {
		case <-m.exited:
			return
		case <-tick.C:
		case <-limit.C:
			m.note("standard input ended and the guest did not power off within %s: stopping it", grace)
			m.setStop(StopInputEnded, grace, nil)
			m.halt(errors.New("standard input ended"))
			return
		}
	}
}

// finish classifies the run once every goroutine is done.
func (m *Machine) finish(gErr error) {
	if err := m.logF.Close(); err != nil && m.logErr == nil {
		m.logErr = err
	}
	if m.qmpDir != "" {
		if err := os.RemoveAll(m.qmpDir); err != nil {
			m.note("removing %s: %v", m.qmpDir, err)
		}
	}
	if err := m.out.Err(); err != nil {
		m.note("output stream failed, the log has everything: %v", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.exit
	e.Stop, e.Limit = m.stop, m.limit
	e.Shutdown, e.GuestPanicked = m.shutdown, m.guestPanicked
	cause := m.stopCause
	if e.Stop == StopNone && context.Cause(m.parent) != nil {
		e.Stop, cause = StopCanceled, context.Cause(m.parent)
	}
	res := Result{
		Verdict:       m.det.Verdict(e),
		Arch:          m.cfg.Spec.Name,
		Accel:         m.cfg.Accel,
		Argv:          m.argv,
		LogPath:       m.cfg.LogPath,
		RegistersPath: m.regsPath,
		Exit:          e,
		Limits:        m.limits,
		Duration:      time.Since(m.start),
		Notes:         m.notes,
	}
	if res.Booted {
		res.BootTime = m.bootTime
	}
	if res.Outcome == OutcomeCanceled {
		res.cause = cause
	}
	infra := gErr
	if m.logErr != nil {
		infra = fmt.Errorf("writing console log: %w", m.logErr)
	}
	if infra != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("run verdict was %s (%s) before a rig failure", res.Outcome, res.Reason))
		res.Outcome, res.Reason, res.cause = OutcomeQEMUError, infra.Error(), infra
	}
	m.result = res
}
