package tracecmp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Options tune Derive and Compare.
type Options struct {
	// Flat derives from the trace of a run without per-call lines
	// (selftrace -c): a segment runs from one interception to the next
	// one of the pid (or to its execve or its end) instead of ending at
	// selftrace's write of the call's line, and nested interceptions are
	// not supported.
	Flat bool
	// Internal lists the calls selftrace's library may make inside a
	// segment besides the program's call; nil means DefaultInternal.
	Internal []string
	// Exceptions are the documented differences; nil means
	// DefaultExceptions.
	Exceptions []Exception
}

// DefaultInternal are the calls the library may make in its SIGSYS
// handler, before (or, named differently from it, after) the program's call
// and outside segments: its thread id for the line prefix, signal masks
// and actions, its alternate stack, its scratch memory, the flags of its
// descriptors, safe reads of the program's memory, the time for -c.
var DefaultInternal = []string{
	"gettid", "getpid", "rt_sigprocmask", "rt_sigaction", "sigaltstack",
	"mmap", "munmap", "mprotect", "fcntl", "process_vm_readv", "clock_gettime",
}

// ExceptionKind says how a documented difference between strace's view and
// selftrace's trace looks.
type ExceptionKind int

const (
	// NeverIntercepted: selftrace never traces Call (ptrace: the kernel
	// never intercepts it, so that PTRACE_SELF_ON/OFF always work;
	// rt_sigreturn and sigreturn: self-ptrace never intercepts them, so
	// that a handler can return, and under Syscall User Dispatch the
	// library performs the intercepted ones without a line). strace shows
	// it, selftrace can never trace it; Derive drops it everywhere, and an
	// interception of it opens no segment.
	NeverIntercepted ExceptionKind = iota
	// PerformedAs: the handler performs the intercepted Call as one of As
	// (vfork as clone(CLONE_VFORK) without CLONE_VM: the child cannot
	// share the handler's stack).
	PerformedAs
	// PerformedInParts: the handler may perform Call as several calls of
	// that name (close_range around selftrace's descriptors); the last
	// one's result is the call's.
	PerformedInParts
	// NotPerformed: selftrace emulates Call, when its first argument is
	// Arg0 ("" for any; LibraryFD for one of selftrace's descriptors),
	// and strace sees no call (rt_sigaction of SIGSYS: the library's
	// handler stays installed and it keeps the program's action).
	NotPerformed
	// Injected: a call that selftrace's line marks " (INJECTED)" is not
	// performed.
	Injected
	// SameCall: selftrace names Call what strace names one of As.
	SameCall
	// KilledBeforeReport: a thread killed by a signal (`+++ killed by
	// SIGxxx +++` ends its records) may have died at the return of a call
	// the handler performed, before the library wrote the call's line (a
	// SIGPIPE after a write that failed with EPIPE, a SIGKILL or SIGTERM
	// of another process as the call returns). Derive accepts the
	// performed but unreported calls of the segments it left open, and
	// derives no call from them. Call is "" (any call).
	KilledBeforeReport
)

func (k ExceptionKind) String() string {
	switch k {
	case NeverIntercepted:
		return "never intercepted"
	case PerformedAs:
		return "performed as"
	case PerformedInParts:
		return "performed in parts"
	case NotPerformed:
		return "not performed"
	case Injected:
		return "injected"
	case SameCall:
		return "same call"
	case KilledBeforeReport:
		return "killed before report"
	}
	return fmt.Sprintf("ExceptionKind(%d)", int(k))
}

// LibraryFD as an Exception's Arg0 stands for any of selftrace's
// descriptors.
const LibraryFD = "<library fd>"

// Exception is one documented difference.
type Exception struct {
	Kind ExceptionKind
	Call string   // the call, as selftrace names it ("" for Injected: any)
	As   []string // PerformedAs, SameCall: strace's names
	Arg0 string   // NotPerformed: the first argument, "" for any
	Why  string
}

// DefaultExceptions are the differences the comparison accepts.
// socketcallNames are the subcalls of socketcall(2) (<linux/net.h>), the
// names strace and selftrace print it by.
var socketcallNames = []string{"socket", "bind", "connect", "listen", "accept", "getsockname",
	"getpeername", "socketpair", "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt",
	"getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg"}

var DefaultExceptions = []Exception{
	{Kind: NeverIntercepted, Call: "ptrace", Why: "the kernel never intercepts ptrace (PTRACE_SELF_ON/OFF must always work): strace sees the library's arming and the program's own ptrace calls, selftrace neither"},
	{Kind: NeverIntercepted, Call: "rt_sigreturn", Why: "self-ptrace never intercepts rt_sigreturn (a handler must be able to return); Syscall User Dispatch intercepts the program's, and the library performs it on the program's stack without a line"},
	{Kind: NeverIntercepted, Call: "sigreturn", Why: "self-ptrace never intercepts sigreturn (a handler must be able to return); Syscall User Dispatch intercepts the program's, and the library performs it on the program's stack without a line"},
	{Kind: PerformedAs, Call: "vfork", As: []string{"clone", "clone3"}, Why: "selftrace performs vfork as clone(CLONE_VFORK) without CLONE_VM, so that the child does not run on the stack of the parent's handler"},
	{Kind: PerformedAs, Call: "fork", As: []string{"clone", "clone3"}, Why: "selftrace may perform fork as the equivalent clone"},
	{Kind: NotPerformed, Call: "rt_sigaction", Arg0: "SIGSYS", Why: "selftrace emulates the program's SIGSYS action: its own handler stays installed, strace sees no call"},
	{Kind: NotPerformed, Call: "close", Arg0: LibraryFD, Why: "selftrace keeps its descriptor: close of it fails with EBADF as if it were not open, without a call"},
	{Kind: PerformedInParts, Call: "close_range", Why: "selftrace keeps its descriptors: it may perform close_range as several ranges around them"},
	{Kind: PerformedAs, Call: "socketcall", As: socketcallNames, Why: "s390x's socketcall(2) multiplexes the socket calls: strace and selftrace both print it by its subcall's name (socket, connect, ...), while the interception names socketcall"},
	{Kind: Injected, Why: "an injected call is not performed: its result is the injected one"},
	{Kind: KilledBeforeReport, Why: "a signal that kills the thread as a call the handler performed returns (SIGPIPE after EPIPE, another process's SIGKILL or SIGTERM) is acted on before the library writes the call's line: strace sees the call performed, selftrace has no line for it; and a signal that kills the thread between the line of an exit or exit_group (written before the call) and the call leaves a line of a call that never ran"},
}

// Derived is one call of the program as derived from strace's trace: the
// call the library intercepted and, when it performed it, strace's record
// of the performed call.
type Derived struct {
	Pid int
	// Name is the intercepted call: the name strace gives si_syscall of
	// the interception's SIGSYS, or the performed call's when strace
	// could not name it; "execve" for the execve that started an image.
	Name string
	// Result is the performed call's result; for a call a signal
	// interrupted and that was not restarted, "-1 EINTR"; "" when not
	// performed.
	Result    string
	Performed bool
	// Call is strace's record of the performed call (nil when not
	// performed).
	Call *Record
	// Opener is the interception's SIGSYS (nil for an execve that started
	// an image).
	Opener *Record
	// Segment holds the pid's records from the opener to the report (or
	// to the segment's end), for messages.
	Segment []*Record
	// Report is the line selftrace wrote for the call, as strace saw the
	// write ("" in flat mode or for an execve).
	Report string
}

// Problem is a record of strace's trace that the rules cannot place.
type Problem struct {
	Rec  *Record
	What string
}

func (p Problem) String() string {
	return fmt.Sprintf("S%d pid %d: %s\n    %s", p.Rec.Line, p.Rec.Pid, p.Rec.Text, p.What)
}

// Derivation is the program's calls derived from strace's trace of a
// same run.
type Derivation struct {
	// Launcher is the pid of selftrace's launcher (the trace's first
	// record); none of its records is the program's.
	Launcher int
	// LibraryFDs are selftrace's descriptors: the results of
	// fcntl(N, F_DUPFD, M >= 500).
	LibraryFDs []int
	// Calls holds the derived calls per pid, in order; Pids the pids in
	// the order of their first derived call.
	Calls map[int][]Derived
	Pids  []int
	// Killed are the pids that a signal killed (`+++ killed by SIGxxx +++`).
	Killed map[int]bool
	// Open are the pids whose records strace's trace ended without an
	// end (strace itself was killed: timeout's SIGTERM to its process
	// group ends the tracer with the program).
	Open map[int]bool
	// Problems are calls that selftrace cannot have reported (performed
	// outside any interception, or inside one besides the program's call
	// and the library's internal calls), reports without an interception,
	// calls performed but never reported (unless a signal killed the
	// thread: KilledBeforeReport).
	Problems []Problem
}

// segment is an interception being followed.
type segment struct {
	name   string // the intercepted call ("" if strace could not name it)
	opener *Record
	recs   []*Record // every record of the pid while the segment is innermost
	calls  []*Record // its calls, without never-intercepted calls and library writes
}

type pidState struct {
	active      bool    // the library armed this image of the pid
	pendingExec *Record // the successful execve that started the image, until it is armed
	stack       []*segment
	// awaiting is the index in Calls of a call printed before it runs
	// (exit, exit_group) whose performed call comes after the report; -1
	// for none.
	awaiting int
}

type deriver struct {
	opts  Options
	d     *Derivation
	state map[int]*pidState
}

// Derive applies the normalisation of the package documentation to
// strace's trace of `selftrace -f ... CMD`.
func Derive(strace []Record, opts Options) *Derivation {
	if opts.Internal == nil {
		opts.Internal = DefaultInternal
	}
	if opts.Exceptions == nil {
		opts.Exceptions = DefaultExceptions
	}
	dv := &deriver{opts: opts, d: &Derivation{Calls: map[int][]Derived{}}, state: map[int]*pidState{}}
	d := dv.d
	for i := range strace {
		r := &strace[i]
		if i == 0 {
			d.Launcher = r.Pid
		}
		st := dv.st(r.Pid)
		if fd, from, ok := dupToLibrary(r); ok && (r.Pid == d.Launcher || !st.active || slices.Contains(d.LibraryFDs, from)) &&
			!slices.Contains(d.LibraryFDs, fd) {
			d.LibraryFDs = append(d.LibraryFDs, fd)
		}
		if r.Pid == d.Launcher {
			continue
		}
		dv.record(st, r)
		if r.Kind == Exited || r.Kind == Killed {
			dv.end(r.Pid, r.Kind == Killed)
		}
	}
	pids := make([]int, 0, len(dv.state))
	for pid := range dv.state {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		if d.Open == nil {
			d.Open = map[int]bool{}
		}
		d.Open[pid] = true
		dv.end(pid, false)
	}
	return d
}

func (dv *deriver) st(pid int) *pidState {
	s := dv.state[pid]
	if s == nil {
		s = &pidState{awaiting: -1}
		dv.state[pid] = s
	}
	return s
}

func (dv *deriver) problem(r *Record, format string, args ...any) {
	dv.d.Problems = append(dv.d.Problems, Problem{Rec: r, What: fmt.Sprintf(format, args...)})
}

func (dv *deriver) emit(c Derived) int {
	d := dv.d
	if _, seen := d.Calls[c.Pid]; !seen {
		d.Pids = append(d.Pids, c.Pid)
	}
	d.Calls[c.Pid] = append(d.Calls[c.Pid], c)
	return len(d.Calls[c.Pid]) - 1
}

func (s *pidState) top() *segment {
	if len(s.stack) == 0 {
		return nil
	}
	return s.stack[len(s.stack)-1]
}

// record follows one record of a pid other than the launcher's.
func (dv *deriver) record(st *pidState, r *Record) {
	if seg := st.top(); seg != nil {
		seg.recs = append(seg.recs, r)
	}
	switch r.Kind {
	case Signal:
		name, ok := interception(r)
		if !ok {
			return
		}
		if !st.active {
			dv.problem(r, "an interception in a pid the library has not armed (no PTRACE_SELF_ON or Syscall User Dispatch prctl since its start or execve)")
			return
		}
		if dv.never(name) {
			// Syscall User Dispatch intercepts the program's rt_sigreturn
			// too: the library performs it and prints nothing.
			return
		}
		if dv.opts.Flat && len(st.stack) > 0 {
			dv.closeFlat(r.Pid, st, st.stack[0])
			st.stack = nil
		}
		st.stack = append(st.stack, &segment{name: name, opener: r, recs: []*Record{r}})
		return
	case Call:
	default:
		return
	}

	if arming(r) {
		if !st.active {
			st.active = true
			if st.pendingExec != nil {
				e := st.pendingExec
				st.pendingExec = nil
				dv.emit(Derived{Pid: r.Pid, Name: e.Name, Result: e.Result, Performed: true, Call: e, Segment: []*Record{e}})
			}
		}
		return
	}
	if dv.never(r.Name) {
		return
	}
	if !st.active {
		if isExec(r.Name) && r.Result == "0" {
			st.pendingExec = r
		}
		return
	}
	if isExec(r.Name) && r.Result == "0" {
		// The image is gone with its library: whatever is open ends here.
		seg := st.top()
		switch {
		case seg == nil:
			dv.problem(r, "an execve outside any interception: selftrace cannot have seen it")
		case seg.name != "" && !isExec(seg.name):
			dv.problem(r, "an execve in the interception of %s (%s)", seg.name, seg.opener.Text)
		default:
			// Its segment's other calls are checked as any segment's.
			seg.calls = append(seg.calls, r)
			dv.derive(r.Pid, seg)
		}
		st.stack, st.active, st.pendingExec, st.awaiting = nil, false, r, -1
		return
	}
	if slices.Contains(dv.d.LibraryFDs, fdArg(r)) && r.Name == "write" {
		dv.libraryWrite(st, r)
		return
	}
	if seg := st.top(); seg != nil {
		seg.calls = append(seg.calls, r)
		return
	}
	// Outside any interception.
	if st.awaiting >= 0 {
		c := &dv.d.Calls[r.Pid][st.awaiting]
		if r.Name == c.Name {
			st.awaiting = -1
			c.Performed, c.Call, c.Result = true, r, r.Result
			c.Segment = append(c.Segment, r)
			return
		}
	}
	if !dv.internal(r) {
		dv.problem(r, "a call outside any interception: selftrace cannot have seen it")
	}
}

// internal tells whether a call may be one of the library's own: a name of
// Options.Internal, or a close or fcntl of one of its descriptors (it
// moves a descriptor out of the way of the program's dup2 onto it).
func (dv *deriver) internal(r *Record) bool {
	if slices.Contains(dv.opts.Internal, r.Name) {
		return true
	}
	return (r.Name == "close" || r.Name == "fcntl") && slices.Contains(dv.d.LibraryFDs, fdArg(r))
}

// libraryWrite follows a write to one of selftrace's descriptors.
func (dv *deriver) libraryWrite(st *pidState, r *Record) {
	seg := st.top()
	if dv.opts.Flat {
		return
	}
	text, _, _ := Unquote(argsAfterFirst(r.Args))
	name, isReport := reportedCall(text)
	if !isReport {
		return // a notice, an exit line
	}
	if seg == nil {
		dv.problem(r, "selftrace wrote a call's line without an interception before it")
		return
	}
	st.stack = st.stack[:len(st.stack)-1]
	c := dv.derive(r.Pid, seg)
	c.Report = text
	if seg.name != "" && !dv.sameCall(name, seg.name) {
		dv.problem(r, "selftrace's line names %s, the interception (%s) was of %s", name, seg.opener.Text, seg.name)
	}
	idx := dv.emit(c)
	if !c.Performed && (seg.name == "exit" || seg.name == "exit_group") {
		st.awaiting = idx
		dv.d.Calls[r.Pid][idx].Result = "?"
	}
}

// closeFlat ends a segment of flat mode.
func (dv *deriver) closeFlat(pid int, st *pidState, seg *segment) {
	c := dv.derive(pid, seg)
	if c.Performed && c.Result == "?" && c.Name != "exit" && c.Name != "exit_group" {
		return // never completed (its thread ended in it)
	}
	dv.emit(c)
}

// end flushes a pid that ended (or the trace did); killed tells that
// `+++ killed by SIGxxx +++` ended it.
func (dv *deriver) end(pid int, killed bool) {
	if killed {
		if dv.d.Killed == nil {
			dv.d.Killed = map[int]bool{}
		}
		dv.d.Killed[pid] = true
	}
	st := dv.state[pid]
	if st == nil {
		return
	}
	delete(dv.state, pid)
	if dv.opts.Flat {
		if len(st.stack) > 0 {
			dv.closeFlat(pid, st, st.stack[0])
		}
		return
	}
	accepted := killed && dv.has(KilledBeforeReport, "")
	for _, seg := range st.stack {
		c := dv.derive(pid, seg)
		if c.Performed && c.Result != "?" && c.Result != "-1 EINTR" && !accepted {
			dv.problem(c.Call, "performed in the interception of %s (%s), never reported by selftrace", c.Name, seg.opener.Text)
		}
	}
}

// derive picks the program's call of a segment (see the package
// documentation) and reports the segment's other calls that are neither
// internal nor interrupted attempts of it.
func (dv *deriver) derive(pid int, seg *segment) Derived {
	c := Derived{Pid: pid, Name: seg.name, Opener: seg.opener, Segment: seg.recs}
	accept := func(name string) bool {
		if seg.name == "" {
			return !slices.Contains(dv.opts.Internal, name)
		}
		return name == "restart_syscall" || dv.performedAs(seg.name, name)
	}
	var x *Record
	xi := len(seg.calls)
	for i, r := range slices.Backward(seg.calls) {
		if accept(r.Name) {
			x, xi = r, i
			break
		}
	}
	inParts := dv.has(PerformedInParts, seg.name)
	var probe *execProbe
	if isExec(seg.name) || seg.name == "" && x != nil && isExec(x.Name) {
		probe = &execProbe{x: x}
	}
	for i, r := range seg.calls {
		switch {
		case r == x, dv.internal(r):
		case probe != nil && probe.internal(r, i < xi):
		case accept(r.Name) && (strings.HasPrefix(r.Result, "? ERESTART") || inParts):
		default:
			what := seg.name
			if what == "" {
				what = "an unnamed call"
			}
			dv.problem(r, "a call in the interception of %s (%s) that selftrace did not report: neither the program's call nor an internal one", what, seg.opener.Text)
		}
	}
	if x == nil {
		return c
	}
	c.Performed, c.Call, c.Result = true, x, x.Result
	if c.Name == "" || c.Name == "socketcall" {
		c.Name = x.Name
	}
	switch {
	case x.Unfinished:
		c.Result = "?"
	case strings.HasPrefix(x.Result, "? ERESTART"):
		c.Result = "-1 EINTR"
	}
	return c
}

// execProbe follows the library's look at the target of an execve or
// execveat, in the call's segment before the call: whether it is
// statically linked (openat of the target O_RDONLY|O_CLOEXEC, pread64 of
// its headers, close).
type execProbe struct {
	x      *Record      // the performed execve (nil if none)
	opened map[int]bool // the descriptors of its openat
}

// internal tells whether r is a call of the probe (and follows it).
func (p *execProbe) internal(r *Record, beforeX bool) bool {
	switch r.Name {
	case "openat":
		if !beforeX || argN(r.Args, 2) != "O_RDONLY|O_CLOEXEC" || !p.target(r) {
			return false
		}
		if fd, err := strconv.Atoi(r.Result); err == nil && fd >= 0 {
			if p.opened == nil {
				p.opened = map[int]bool{}
			}
			p.opened[fd] = true
		}
		return true
	case "pread64":
		return p.opened[fdArg(r)]
	case "close":
		fd := fdArg(r)
		if !p.opened[fd] {
			return false
		}
		delete(p.opened, fd)
		return true
	}
	return false
}

// target tells whether an openat names the file of the performed execve
// (execve's path from AT_FDCWD, execveat's directory and path); any file
// when none was performed.
func (p *execProbe) target(open *Record) bool {
	if p.x == nil {
		return true
	}
	dir, path := "AT_FDCWD", argN(p.x.Args, 0)
	if p.x.Name == "execveat" {
		dir, path = argN(p.x.Args, 0), argN(p.x.Args, 1)
	}
	return argN(open.Args, 0) == dir && argN(open.Args, 1) == path
}

func (dv *deriver) never(name string) bool { return dv.has(NeverIntercepted, name) }

func (dv *deriver) has(kind ExceptionKind, call string) bool {
	for _, e := range dv.opts.Exceptions {
		if e.Kind == kind && e.Call == call {
			return true
		}
	}
	return false
}

// performedAs tells whether strace's call name may be the performance of
// the intercepted call.
func (dv *deriver) performedAs(intercepted, name string) bool {
	if intercepted == name {
		return true
	}
	for _, e := range dv.opts.Exceptions {
		if (e.Kind == PerformedAs || e.Kind == SameCall) && e.Call == intercepted && slices.Contains(e.As, name) {
			return true
		}
	}
	return false
}

// sameCall tells whether selftrace's name and strace's name are one call.
func (dv *deriver) sameCall(selftrace, strace string) bool {
	if selftrace == strace {
		return true
	}
	if strace == "socketcall" && dv.performedAs(strace, selftrace) {
		return true // the line names the subcall of the intercepted socketcall
	}
	for _, e := range dv.opts.Exceptions {
		if e.Kind == SameCall && e.Call == selftrace && slices.Contains(e.As, strace) {
			return true
		}
	}
	return false
}

func isExec(name string) bool { return name == "execve" || name == "execveat" }

// arming tells whether r armed its thread: ptrace(PTRACE_SELF_ON) or the
// Syscall User Dispatch prctl, succeeded.
func arming(r *Record) bool {
	if r.Result != "0" {
		return false
	}
	switch r.Name {
	case "ptrace":
		a := firstArg(r.Args)
		return a == "0x4281" || a == "PTRACE_SELF_ON"
	case "prctl":
		a, b := firstArg(r.Args), argN(r.Args, 1)
		return (a == "PR_SET_SYSCALL_USER_DISPATCH" || a == "0x3b" || a == "59") &&
			(b == "PR_SYS_DISPATCH_ON" || b == "0x1" || b == "1")
	}
	return false
}

// interception tells whether a signal line is a SIGSYS of an interception
// (si_code 3, SYS_SELF_PTRACE, or SYS_USER_DISPATCH) and returns the
// intercepted call's name from si_syscall ("" if strace printed a number).
func interception(r *Record) (string, bool) {
	if r.Name != "SIGSYS" {
		return "", false
	}
	switch field(r.Args, "si_code") {
	case "0x3", "3", "SYS_SELF_PTRACE", "SYS_USER_DISPATCH":
	default:
		return "", false
	}
	name, ok := strings.CutPrefix(field(r.Args, "si_syscall"), "__NR_")
	if !ok {
		return "", true
	}
	return name, true
}

// field returns the value of name= in a siginfo text, up to the next comma,
// space or brace.
func field(info, name string) string {
	i := strings.Index(info, name+"=")
	if i < 0 {
		return ""
	}
	v := info[i+len(name)+1:]
	if j := strings.IndexAny(v, ", }"); j >= 0 {
		v = v[:j]
	}
	return v
}

// dupToLibrary recognises an fcntl(N, F_DUPFD or F_DUPFD_CLOEXEC, M) with
// M >= 500 and returns the new descriptor and N: the launcher's (or the
// library's before it arms) makes one of selftrace's descriptors, the
// library's in an armed pid moves one (N is one of them).
func dupToLibrary(r *Record) (fd, from int, ok bool) {
	if r.Kind != Call || (r.Name != "fcntl" && r.Name != "fcntl64") {
		return 0, 0, false
	}
	if cmd := argN(r.Args, 1); cmd != "F_DUPFD" && cmd != "F_DUPFD_CLOEXEC" {
		return 0, 0, false
	}
	m, err := strconv.Atoi(argN(r.Args, 2))
	if err != nil || m < 500 {
		return 0, 0, false
	}
	fd, err = strconv.Atoi(r.Result)
	if err != nil || fd < 0 {
		return 0, 0, false
	}
	return fd, fdArg(r), true
}

// fdArg returns a call's first argument as a descriptor (-1 if it is not a
// number).
func fdArg(r *Record) int {
	fd, err := strconv.Atoi(firstArg(r.Args))
	if err != nil {
		return -1
	}
	return fd
}

// argsAfterFirst returns the raw arguments after the first one.
func argsAfterFirst(args string) string {
	a := firstArg(args)
	i := strings.Index(args, a)
	if i < 0 {
		return args
	}
	rest := args[i+len(a):]
	return strings.TrimPrefix(strings.TrimLeft(rest, " "), ",")
}

// reportedCall tells whether text (what selftrace wrote in one write) holds
// a call's line, and returns the first call's name.
func reportedCall(text string) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		_, body := splitPid(line)
		if m := callStart.FindStringSubmatch(body); m != nil {
			return m[1], true
		}
		if m := resumedStart.FindStringSubmatch(body); m != nil {
			return m[1], true
		}
	}
	return "", false
}
