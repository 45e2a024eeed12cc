package tracecmp

import (
	"fmt"
	"strings"
	"testing"
)

// The synthetic runs: launcher pid 100 makes descriptor 500 and forks the
// program's pid 101, which execs /bin/prog.
const (
	launcher = 100
	prog     = 101
	libFD    = 500
)

// run builds strace's trace (S) and selftrace's trace (T) of one
// synthetic same run, line by line as the two tools print them.
type run struct{ s, t []string }

// S adds a line of strace's trace.
func (r *run) S(pid int, line string) *run {
	r.s = append(r.s, fmt.Sprintf("%-5d %s", pid, line))
	return r
}

// T adds a line of selftrace's trace.
func (r *run) T(pid int, line string) *run {
	r.t = append(r.t, fmt.Sprintf("%-5d %s", pid, line))
	return r
}

// cquote quotes s as strace prints a string.
func cquote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c >= 0x7f:
			fmt.Fprintf(&b, `\%o`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// report adds to S the library's write of lines (each prefixed with the
// pid) and to T the lines.
func (r *run) report(pid int, lines ...string) *run {
	var text string
	for _, l := range lines {
		r.T(pid, l)
		text += fmt.Sprintf("%-5d %s\n", pid, l)
	}
	return r.S(pid, fmt.Sprintf("write(%d, %s, %d) = %d", libFD, cquote(text), len(text), len(text)))
}

// sigsys is the interception's SIGSYS of a call.
func sigsys(name string) string {
	return "--- SIGSYS {si_signo=SIGSYS, si_code=0x3, si_call_addr=0x7f0000001234, si_syscall=__NR_" + name +
		", si_arch=AUDIT_ARCH_X86_64} ---"
}

const (
	arm      = "ptrace(0x4281 /* PTRACE_??? */, 0, NULL, NULL) = 0"
	disarm   = "ptrace(0x4282 /* PTRACE_??? */, 0, NULL, NULL) = 0"
	sigret   = "rt_sigreturn({mask=[]})           = 0"
	getTid   = "gettid()                          = %d"
	blockAll = "rt_sigprocmask(SIG_SETMASK, ~[], NULL, 8) = 0"
)

// open starts S and T: the launcher, its child's execve of /bin/prog, the
// loader and the library's constructor, which prints the execve line and
// arms.
func open() *run {
	r := &run{}
	r.S(launcher, `execve("/usr/local/bin/selftrace", ["selftrace", "-f", "-o", "/tmp/t", "/bin/prog"], 0x7ffd0 /* 3 vars */) = 0`).
		S(launcher, "brk(NULL)                         = 0x55d0c0a4e000").
		// A probe of the feature in the launcher itself.
		S(launcher, arm).
		S(launcher, disarm).
		S(launcher, `openat(AT_FDCWD, "/tmp/t", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3`).
		S(launcher, fmt.Sprintf("fcntl(3, F_DUPFD, 500)            = %d", libFD)).
		S(launcher, "close(3)                          = 0").
		S(launcher, "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f01) = 101").
		S(launcher, "wait4(101,  <unfinished ...>").
		S(prog, "set_robust_list(0x7f01, 24) = 0").
		S(prog, `execve("/bin/prog", ["prog"], 0x55d0 /* 5 vars */) = 0`).
		S(prog, "brk(NULL)                         = 0x5600").
		S(prog, `openat(AT_FDCWD, "/usr/local/lib/selftrace/libselftrace.so", O_RDONLY|O_CLOEXEC) = 3`).
		S(prog, "close(3)                          = 0").
		S(prog, "rt_sigaction(SIGSYS, {sa_handler=0x7f02, sa_mask=~[], sa_flags=SA_RESTORER|SA_SIGINFO, sa_restorer=0x7f03}, NULL, 8) = 0").
		report(prog, `execve("/bin/prog", ["prog"], 0x7ffc /* 3 vars */) = 0`).
		S(prog, arm)
	return r
}

// call adds an ordinary interception: the SIGSYS, the library's gettid,
// the performed call, its report, the re-arming and the return.
func (r *run) call(pid int, name, line string) *run {
	return r.S(pid, sigsys(name)).
		S(pid, fmt.Sprintf(getTid, pid)).
		S(pid, line).
		report(pid, line).
		S(pid, arm).
		S(pid, sigret)
}

// exitGroup adds an exit_group: its report comes first.
func (r *run) exitGroup(pid, status int) *run {
	line := fmt.Sprintf("exit_group(%d) = ?", status)
	return r.S(pid, sigsys("exit_group")).
		report(pid, line, fmt.Sprintf("+++ exited with %d +++", status)).
		S(pid, line)
}

// end adds the launcher's end.
func (r *run) end() *run {
	return r.S(launcher, "<... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 101").
		S(launcher, "exit_group(0)                     = ?")
}

func (r *run) compare(opts Options) *Comparison {
	return Compare(ParseStrace(strings.Join(r.s, "\n")+"\n"), ParseSelftrace(strings.Join(r.t, "\n")+"\n"), opts)
}

func wantEquivalent(t *testing.T, r *run, calls int) *Comparison {
	t.Helper()
	c := r.compare(Options{})
	if !c.Equivalent() {
		t.Fatalf("not equivalent: %s\nS:\n%s\nT:\n%s", c, strings.Join(r.s, "\n"), strings.Join(r.t, "\n"))
	}
	if c.Compared != calls {
		t.Errorf("%d calls compared, want %d: %s", c.Compared, calls, c)
	}
	return c
}

func wantMismatch(t *testing.T, r *run, pid, index int, why string) *Comparison {
	t.Helper()
	c := r.compare(Options{})
	if len(c.Mismatches) != 1 {
		t.Fatalf("%d mismatches, want 1: %s", len(c.Mismatches), c)
	}
	m := c.Mismatches[0]
	if m.Pid != pid || m.Index != index || !strings.Contains(m.Why, why) {
		t.Errorf("mismatch pid %d #%d %q, want pid %d #%d %q:\n%s", m.Pid, m.Index, m.Why, pid, index, why, c)
	}
	return c
}

func wantProblem(t *testing.T, r *run, line, what string) *Comparison {
	t.Helper()
	c := r.compare(Options{})
	if c.Equivalent() {
		t.Fatalf("equivalent, want a problem with %q", line)
	}
	for _, p := range c.Derivation.Problems {
		if strings.Contains(p.Rec.Text, line) && strings.Contains(p.What, what) {
			return c
		}
	}
	t.Errorf("no problem %q about %q in:\n%s", what, line, c)
	return c
}

// basic is a program that opens, reads, fails an open, forks a child that
// calls getpid and exits, waits and exits.
func basic() *run {
	r := open().
		call(prog, "openat", `openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`)
	// An interrupted pair in the performed call.
	r.S(prog, sigsys("read")).
		S(prog, fmt.Sprintf(getTid, prog)).
		S(prog, "read(3,  <unfinished ...>").
		S(launcher, "rt_sigprocmask(SIG_BLOCK, [CHLD], [], 8) = 0").
		S(prog, `<... read resumed>"vm\n", 4096) = 3`).
		report(prog, `read(3, "vm\n", 4096) = 3`).
		S(prog, arm).
		S(prog, "rt_sigreturn({mask=[]})           = 3")
	r.call(prog, "openat", `openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)`)
	// fork: the child sets up and arms before it returns to the program.
	clone := "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f01) = 102"
	r.S(prog, sigsys("clone")).
		S(prog, fmt.Sprintf(getTid, prog)).
		S(prog, clone).
		S(102, blockAll).
		S(102, arm).
		S(102, sigret).
		report(prog, clone).
		S(prog, arm).
		S(prog, sigret)
	r.call(102, "getpid", "getpid() = 102").
		exitGroup(102, 0)
	r.S(prog, sigsys("wait4")).
		S(prog, "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 102").
		S(prog, "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=102, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---").
		report(prog, "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 102").
		S(prog, arm).
		S(prog, sigret)
	return r.exitGroup(prog, 0).end()
}

func TestCompareEquivalent(t *testing.T) {
	c := wantEquivalent(t, basic(), 9)
	d := c.Derivation
	if d.Launcher != launcher || len(d.LibraryFDs) != 1 || d.LibraryFDs[0] != libFD {
		t.Errorf("launcher %d, descriptors %v", d.Launcher, d.LibraryFDs)
	}
	if len(d.Pids) != 2 || d.Pids[0] != prog || d.Pids[1] != 102 {
		t.Errorf("pids %v", d.Pids)
	}
	first := d.Calls[prog][0]
	if first.Name != "execve" || first.Result != "0" || first.Opener != nil {
		t.Errorf("first call %+v", first)
	}
	if eg := d.Calls[prog][len(d.Calls[prog])-1]; eg.Name != "exit_group" || !eg.Performed || eg.Result != "?" {
		t.Errorf("last call %+v", eg)
	}
	if !strings.HasPrefix(c.String(), "9 calls of 2 pids equal") {
		t.Errorf("String: %s", c)
	}
}

func TestCompareDifferentResult(t *testing.T) {
	r := basic()
	for i, l := range r.t {
		r.t[i] = strings.Replace(l, `read(3, "vm\n", 4096) = 3`, `read(3, "vm\n", 4096) = 2`, 1)
	}
	c := wantMismatch(t, r, prog, 2, "different results: selftrace reports 2, strace saw 3")
	s := c.String()
	for _, want := range []string{"pid 101, call #3", `> #3    T`, `read(3, "vm\n", 4096) = 2`, "> #3    read = 3", "<... read resumed>", "--- SIGSYS"} {
		if !strings.Contains(s, want) {
			t.Errorf("the diff has no %q:\n%s", want, s)
		}
	}
}

func TestCompareMissingLine(t *testing.T) {
	r := basic()
	var t2 []string
	for _, l := range r.t {
		if !strings.Contains(l, "/nonexistent") {
			t2 = append(t2, l)
		}
	}
	r.t = t2
	wantMismatch(t, r, prog, 3, "different calls: selftrace reports clone, strace saw openat")
}

func TestCompareExtraPid(t *testing.T) {
	r := basic()
	r.T(555, "getpid() = 555")
	wantMismatch(t, r, 555, 0, "whose program strace never saw armed")
}

func TestCompareUntracedCall(t *testing.T) {
	// A call after the handler returned, without an interception: the
	// thread was not armed when it should have been.
	r := open().call(prog, "getpid", "getpid() = 101")
	r.S(prog, "getppid() = 100")
	r.exitGroup(prog, 0).end()
	wantProblem(t, r, "getppid() = 100", "outside any interception")
}

func TestCompareCallInSegment(t *testing.T) {
	// A signal handler of the program that ran, untraced, inside the
	// handler while it waited in the program's read.
	r := open()
	r.S(prog, sigsys("read")).
		S(prog, "read(0, 0x7ffd, 16)               = ? ERESTARTSYS (To be restarted if SA_RESTART is set)").
		S(prog, "--- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---").
		S(prog, `write(1, "alarm\n", 6)          = 6`).
		S(prog, "rt_sigreturn({mask=[]})           = -1 EINTR (Interrupted system call)").
		report(prog, "read(0, 0x7ffd, 16) = -1 EINTR (Interrupted system call)").
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	c := wantProblem(t, r, `write(1, "alarm\n", 6)`, "that selftrace did not report")
	if c.Compared != 3 {
		t.Errorf("compared %d: %s", c.Compared, c)
	}
}

func TestCompareInterrupted(t *testing.T) {
	r := open()
	// Not restarted: EINTR.
	r.S(prog, sigsys("read")).
		S(prog, "read(3, 0x7ffd, 16)               = ? ERESTARTSYS (To be restarted if SA_RESTART is set)").
		S(prog, "--- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---").
		S(prog, "rt_sigreturn({mask=[]})           = -1 EINTR (Interrupted system call)").
		report(prog, "read(3, 0x7ffd, 16) = -1 EINTR (Interrupted system call)").
		S(prog, arm).
		S(prog, sigret)
	// Restarted, with the program's handler traced: the library arms it
	// (its interceptions nest in the read's), then disarms.
	r.S(prog, sigsys("read")).
		S(prog, "read(3,  <unfinished ...>").
		S(102, "write(4, \"late\\n\", 5) = 5").
		S(prog, "<... read resumed>0x7ffd, 16)     = ? ERESTARTSYS (To be restarted if SA_RESTART is set)").
		S(prog, "--- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---").
		S(prog, arm).
		call(prog, "write", `write(1, "alarm\n", 6) = 6`).
		S(prog, disarm).
		S(prog, sigret).
		S(prog, `read(3, "late\n", 16)             = 5`).
		report(prog, `read(3, "late\n", 16) = 5`).
		S(prog, arm).
		S(prog, sigret)
	// restart_syscall.
	r.S(prog, sigsys("clock_nanosleep")).
		S(prog, "clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=0},  <unfinished ...>").
		S(prog, "<... clock_nanosleep resumed>0x7ffd) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)").
		S(prog, "--- SIGCONT {si_signo=SIGCONT, si_code=SI_USER, si_pid=1, si_uid=0} ---").
		S(prog, "restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0").
		report(prog, "clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=0}, 0x7ffd) = 0").
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	c := wantEquivalent(t, r, 6)
	calls := c.Derivation.Calls[prog]
	if calls[1].Result != "-1 EINTR" || calls[2].Name != "write" || calls[3].Result != "5" || calls[4].Name != "clock_nanosleep" {
		t.Errorf("derived: %+v", calls)
	}
}

func TestCompareVforkPerformedAsClone(t *testing.T) {
	r := open()
	r.S(prog, sigsys("vfork")).
		S(prog, "clone(child_stack=NULL, flags=CLONE_VFORK|SIGCHLD <unfinished ...>").
		S(103, blockAll).
		S(103, arm).
		S(103, sigret).
		call(103, "execve", `execve("/nonexistent", ["x"], 0x7ffd /* 3 vars */) = -1 ENOENT (No such file or directory)`).
		exitGroup(103, 127).
		S(prog, "<... clone resumed>)              = 103").
		S(prog, "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=103, si_uid=0, si_status=127, si_utime=0, si_stime=0} ---").
		report(prog, "vfork() = 103").
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	wantEquivalent(t, r, 5)
}

func TestCompareExec(t *testing.T) {
	r := open()
	// A successful execve: the old image is gone; the new one's library
	// prints the execve line and arms.
	r.S(prog, sigsys("execve")).
		S(prog, fmt.Sprintf(getTid, prog)).
		S(prog, `execve("/bin/next", ["next"], 0x55d1 /* 5 vars */) = 0`).
		S(prog, "brk(NULL)                         = 0x5700").
		report(prog, `execve("/bin/next", ["next"], 0x7ffc /* 3 vars */) = 0`).
		S(prog, arm).
		call(prog, "getpid", "getpid() = 101")
	// A static program: the notice, the execve, and nothing more.
	r.S(prog, sigsys("execve")).
		report(prog, "selftrace: /bin/static is statically linked: its system calls are not traced").
		S(prog, `execve("/bin/static", ["static"], 0x55d1 /* 5 vars */) = 0`).
		S(prog, `write(1, "static\n", 7) = 7`).
		S(prog, "exit_group(0) = ?")
	r.end()
	c := wantEquivalent(t, r, 3)
	if n := len(c.Derivation.Calls[prog]); n != 3 {
		t.Errorf("%d derived calls", n)
	}
}

func TestCompareEmulatedAndInjected(t *testing.T) {
	r := open()
	// rt_sigaction of SIGSYS: emulated.
	r.S(prog, sigsys("rt_sigaction")).
		S(prog, fmt.Sprintf(getTid, prog)).
		report(prog, "rt_sigaction(SIGSYS, {sa_handler=0x5500, sa_mask=[], sa_flags=SA_RESTORER|SA_SIGINFO, sa_restorer=0x7f00}, NULL, 8) = 0").
		S(prog, arm).
		S(prog, sigret)
	// close of the library's descriptor: emulated.
	r.S(prog, sigsys("close")).
		report(prog, "close(500) = -1 EBADF (Bad file descriptor)").
		S(prog, arm).
		S(prog, sigret)
	// close_range around it.
	r.S(prog, sigsys("close_range")).
		S(prog, "close_range(3, 499, 0)            = 0").
		S(prog, "close_range(501, 4294967295, 0)   = 0").
		report(prog, "close_range(3, 4294967295, 0) = 0").
		S(prog, arm).
		S(prog, sigret)
	// An injected write.
	r.S(prog, sigsys("write")).
		report(prog, `write(1, "x\n", 2) = -1 ENOSPC (No space left on device) (INJECTED)`).
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	wantEquivalent(t, r, 6)
}

func TestCompareNotPerformedWithoutException(t *testing.T) {
	r := open()
	r.S(prog, sigsys("rt_sigaction")).
		report(prog, "rt_sigaction(SIGUSR1, {sa_handler=0x5500, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f00}, NULL, 8) = 0").
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	wantMismatch(t, r, prog, 1, "strace saw no call performed")
}

func TestCompareInjectedButPerformed(t *testing.T) {
	r := open()
	r.S(prog, sigsys("unlinkat")).
		S(prog, `unlinkat(AT_FDCWD, "victim", 0)  = 0`).
		report(prog, `unlinkat(AT_FDCWD, "victim", 0) = -1 EACCES (Permission denied) (INJECTED)`).
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	wantMismatch(t, r, prog, 1, "INJECTED, but strace saw it performed")
}

func TestCompareThreadEndsInCall(t *testing.T) {
	// A thread blocked in read when the main thread's exit_group ends the
	// process: no line for its read.
	r := open()
	clone := "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f00, parent_tid=0x7f00, exit_signal=0, stack=0x7e00, stack_size=0x7fff80, tls=0x7f10} => {parent_tid=[104]}, 88) = 104"
	r.call(prog, "clone3", clone).
		S(104, "sigaltstack({ss_sp=0x7f20, ss_flags=0, ss_size=65536}, NULL) = 0").
		S(104, arm).
		S(104, sigret).
		S(104, sigsys("read")).
		S(104, "read(7,  <unfinished ...>")
	// The main thread's report is interrupted in strace's trace by the
	// other thread's line.
	r.S(prog, sigsys("getpid")).
		S(prog, "getpid() = 101").
		S(prog, fmt.Sprintf(`write(%d, "101   getpid() = 101\n", 21 <unfinished ...>`, libFD)).
		S(104, "--- SIGURG {si_signo=SIGURG, si_code=SI_TKILL, si_pid=101, si_uid=0} ---").
		S(prog, "<... write resumed>)              = 21").
		T(prog, "getpid() = 101").
		S(prog, arm).
		S(prog, sigret).
		exitGroup(prog, 4).
		S(104, "<... read resumed> <unfinished ...>) = ?").
		end()
	c := wantEquivalent(t, r, 4)
	if _, has := c.Derivation.Calls[104]; has {
		t.Errorf("a derived call for the thread: %+v", c.Derivation.Calls[104])
	}
}

func TestCompareReportedWithoutInterception(t *testing.T) {
	r := open()
	r.report(prog, "getpid() = 101")
	r.exitGroup(prog, 0).end()
	wantProblem(t, r, "write(500", "without an interception")
}

func TestCompareReportNamesOtherCall(t *testing.T) {
	r := open()
	r.S(prog, sigsys("getpid")).
		S(prog, "getpid() = 101").
		report(prog, "getppid() = 101").
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	wantProblem(t, r, "write(500", "names getppid")
}

func TestCompareNeverReported(t *testing.T) {
	// The pid exits (or the trace ends) after a performed call that
	// selftrace never reported.
	r := open()
	r.S(prog, sigsys("getpid")).
		S(prog, "getpid() = 101").
		S(prog, "+++ exited with 0 +++")
	r.end()
	wantProblem(t, r, "getpid() = 101", "never reported")

	r = open()
	r.S(prog, sigsys("getpid")).
		S(prog, "getpid() = 101")
	wantProblem(t, r, "getpid() = 101", "never reported")
}

func TestCompareKilledBeforeReport(t *testing.T) {
	// A write that fails with EPIPE: the SIGPIPE kills the process as the
	// call returns into the handler, before the library writes its line.
	r := open().call(prog, "getpid", "getpid() = 101")
	r.S(prog, sigsys("write")).
		S(prog, `write(1, "x\n", 2)               = -1 EPIPE (Broken pipe)`).
		S(prog, "--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=101, si_uid=0} ---").
		S(prog, "+++ killed by SIGPIPE +++")
	// Another process's SIGKILL as a thread's read returns.
	r.S(prog+3, blockAll).
		S(prog+3, arm).
		S(prog+3, sigret).
		call(prog+3, "getpid", "getpid() = 104").
		S(prog+3, sigsys("read")).
		S(prog+3, fmt.Sprintf(getTid, prog+3)).
		S(prog+3, `read(0, "abc", 16)                = 3`).
		S(prog+3, "+++ killed by SIGKILL +++")
	c := wantEquivalent(t, r, 3)
	if n := len(c.Derivation.Calls[prog]); n != 2 {
		t.Errorf("%d derived calls, want 2 (no call for the write): %+v", n, c.Derivation.Calls[prog])
	}

	// Without the exception, the write is a problem.
	var ex []Exception
	for _, e := range DefaultExceptions {
		if e.Kind != KilledBeforeReport {
			ex = append(ex, e)
		}
	}
	if c := r.compare(Options{Exceptions: ex}); len(c.Derivation.Problems) != 2 {
		t.Errorf("without the exception: %s", c)
	}

	// A call of the killed pid's segment that is neither its call nor an
	// internal one is still a problem.
	r = open()
	r.S(prog, sigsys("write")).
		S(prog, "getppid() = 100").
		S(prog, `write(1, "x\n", 2)               = -1 EPIPE (Broken pipe)`).
		S(prog, "--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=101, si_uid=0} ---").
		S(prog, "+++ killed by SIGPIPE +++")
	wantProblem(t, r, "getppid() = 100", "that selftrace did not report")
}

// execProbe adds the library's look at the target of an execve (whether it
// is statically linked) in the call's segment.
func (r *run) execProbe(pid int, dir, path string, fd int) *run {
	r.S(pid, "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f5000000000")
	if fd < 0 {
		return r.S(pid, fmt.Sprintf("openat(%s, %s, O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)", dir, path))
	}
	return r.S(pid, fmt.Sprintf("openat(%s, %s, O_RDONLY|O_CLOEXEC) = %d", dir, path, fd)).
		S(pid, fmt.Sprintf(`pread64(%d, "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0"..., 64, 0) = 64`, fd)).
		S(pid, fmt.Sprintf(`pread64(%d, "\6\0\0\0\4\0\0\0@\0\0\0"..., 56, 64) = 56`, fd)).
		S(pid, fmt.Sprintf(`pread64(%d, "\3\0\0\0\4\0\0\0"..., 56, 120) = 56`, fd)).
		S(pid, fmt.Sprintf("close(%d)                          = 0", fd))
}

// execEnv adds the environment's mapping and the flags of the library's
// descriptor before the library performs an execve.
func (r *run) execEnv(pid int) *run {
	return r.S(pid, "mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f5000010000").
		S(pid, fmt.Sprintf("fcntl(%d, F_SETFD, 0)              = 0", libFD))
}

// execFailed adds what the library does after an execve failed, to its
// report.
func (r *run) execFailed(pid int, line string) *run {
	return r.S(pid, fmt.Sprintf("fcntl(%d, F_SETFD, FD_CLOEXEC)     = 0", libFD)).
		S(pid, "munmap(0x7f5000010000, 4096)      = 0").
		S(pid, "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f5000020000").
		S(pid, fmt.Sprintf(getTid, pid)).
		report(pid, line).
		S(pid, "munmap(0x7f5000020000, 8192)      = 0").
		S(pid, "munmap(0x7f5000000000, 8192)      = 0").
		S(pid, arm).
		S(pid, sigret)
}

func TestCompareExecProbe(t *testing.T) {
	r := open()
	// A missing target: its openat fails.
	r.S(prog, sigsys("execve")).
		execProbe(prog, "AT_FDCWD", `"/nonexistent/selftrace-missing"`, -1).
		execEnv(prog).
		S(prog, `execve("/nonexistent/selftrace-missing", ["x"], 0x7f5000010000 /* 5 vars */) = -1 ENOENT (No such file or directory)`).
		execFailed(prog, `execve("/nonexistent/selftrace-missing", ["x"], 0x7ffc /* 3 vars */) = -1 ENOENT (No such file or directory)`)
	// execveat from a directory descriptor, not executable.
	r.S(prog, sigsys("execveat")).
		execProbe(prog, "3", `"prog"`, 4).
		execEnv(prog).
		S(prog, `execveat(3, "prog", ["prog"], 0x7f5000010000 /* 5 vars */, 0) = -1 EACCES (Permission denied)`).
		execFailed(prog, `execveat(3, "prog", ["prog"], 0x7ffc /* 3 vars */, 0) = -1 EACCES (Permission denied)`)
	// A successful one: the new image's library prints it.
	r.S(prog, sigsys("execve")).
		execProbe(prog, "AT_FDCWD", `"/bin/next"`, 3).
		execEnv(prog).
		S(prog, `execve("/bin/next", ["next"], 0x7f5000010000 /* 5 vars */) = 0`).
		S(prog, "brk(NULL)                         = 0x5700").
		S(prog, `openat(AT_FDCWD, "/usr/local/lib/selftrace/libselftrace.so", O_RDONLY|O_CLOEXEC) = 3`).
		S(prog, "close(3)                          = 0").
		report(prog, `execve("/bin/next", ["next"], 0x7ffc /* 3 vars */) = 0`).
		S(prog, arm)
	r.exitGroup(prog, 0).end()
	wantEquivalent(t, r, 5)
}

func TestCompareExecProbeOnlyThere(t *testing.T) {
	// The program's own openat O_RDONLY|O_CLOEXEC, reported by selftrace,
	// and the same call in the interception of another call.
	line := `openat(AT_FDCWD, "/bin/next", O_RDONLY|O_CLOEXEC) = 3`
	r := open().call(prog, "openat", line)
	r.S(prog, sigsys("read")).
		S(prog, line).
		S(prog, `read(3, "", 16) = 0`).
		report(prog, `read(3, "", 16) = 0`).
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	wantProblem(t, r, line, "in the interception of read")

	// In an execve's interception: an openat of another file, an openat
	// after the execve, a close or pread64 of a descriptor the probe did
	// not open.
	for _, extra := range []string{
		`openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 5`,
		`openat(AT_FDCWD, "/bin/next", O_RDONLY) = 5`,
		"close(7)                          = 0",
		`pread64(7, "ELF", 4, 0) = 4`,
	} {
		r := open()
		r.S(prog, sigsys("execve")).
			execProbe(prog, "AT_FDCWD", `"/bin/next"`, 3).
			S(prog, extra).
			execEnv(prog).
			S(prog, `execve("/bin/next", ["next"], 0x7f5000010000 /* 5 vars */) = -1 EACCES (Permission denied)`).
			execFailed(prog, `execve("/bin/next", ["next"], 0x7ffc /* 3 vars */) = -1 EACCES (Permission denied)`)
		r.exitGroup(prog, 0).end()
		wantProblem(t, r, extra, "in the interception of execve")
	}
	r = open()
	r.S(prog, sigsys("execve")).
		execEnv(prog).
		S(prog, `execve("/bin/next", ["next"], 0x7f5000010000 /* 5 vars */) = -1 EACCES (Permission denied)`).
		S(prog, `openat(AT_FDCWD, "/bin/next", O_RDONLY|O_CLOEXEC) = 5`).
		execFailed(prog, `execve("/bin/next", ["next"], 0x7ffc /* 3 vars */) = -1 EACCES (Permission denied)`)
	r.exitGroup(prog, 0).end()
	wantProblem(t, r, `openat(AT_FDCWD, "/bin/next", O_RDONLY|O_CLOEXEC) = 5`, "in the interception of execve")

	// A successful execve's segment is checked too.
	r = open()
	r.S(prog, sigsys("execve")).
		S(prog, `unlink("/tmp/x") = 0`).
		S(prog, `execve("/bin/next", ["next"], 0x55d1 /* 5 vars */) = 0`).
		report(prog, `execve("/bin/next", ["next"], 0x7ffc /* 3 vars */) = 0`).
		S(prog, arm)
	r.exitGroup(prog, 0).end()
	wantProblem(t, r, `unlink("/tmp/x") = 0`, "in the interception of execve")
}

func TestCompareHandlerInPerformedCall(t *testing.T) {
	// self-ptrace: SIGALRM interrupts the read the library performs. The
	// library's wrapper of the program's handler arms the thread around
	// it (ptrace 0x4281, then 0x4282): the handler's write is an
	// interception nested in the read's, itself interrupted by SIGUSR1,
	// whose handler's getpid nests in the write's. The write is
	// restarted, the read is not (no SA_RESTART): -1 EINTR.
	r := open()
	r.S(prog, sigsys("read")).
		S(prog, "read(0, 0x7ffd, 16)               = ? ERESTARTSYS (To be restarted if SA_RESTART is set)").
		S(prog, "--- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---").
		S(prog, arm).
		S(prog, sigsys("write")).
		S(prog, `write(1, "alarm\n", 6)          = ? ERESTARTSYS (To be restarted if SA_RESTART is set)`).
		S(prog, "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0} ---").
		S(prog, arm).
		call(prog, "getpid", "getpid() = 101").
		S(prog, disarm).
		S(prog, "rt_sigreturn({mask=[ALRM]})       = 1").
		S(prog, `write(1, "alarm\n", 6)          = 6`).
		S(prog, fmt.Sprintf(getTid, prog)).
		report(prog, `write(1, "alarm\n", 6) = 6`).
		S(prog, arm).
		S(prog, sigret).
		S(prog, disarm).
		S(prog, "rt_sigreturn({mask=[]})           = -1 EINTR (Interrupted system call)").
		S(prog, fmt.Sprintf(getTid, prog)).
		report(prog, "read(0, 0x7ffd, 16) = -1 EINTR (Interrupted system call)").
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	c := wantEquivalent(t, r, 5)
	calls := c.Derivation.Calls[prog]
	for i, want := range []string{"execve 0", "getpid 101", "write 6", "read -1 EINTR", "exit_group ?"} {
		if got := calls[i].Name + " " + calls[i].Result; got != want {
			t.Errorf("call #%d: %s, want %s", i+1, got, want)
		}
	}
}

// sudSigsys is the interception's SIGSYS of a call under Syscall User
// Dispatch.
func sudSigsys(name string) string {
	return "--- SIGSYS {si_signo=SIGSYS, si_code=SYS_USER_DISPATCH, si_call_addr=0x7f40bca62059, si_syscall=__NR_" + name +
		", si_arch=AUDIT_ARCH_X86_64} ---"
}

// openSUD starts S and T of a run with --backend sud.
func openSUD() *run {
	r := &run{}
	return r.S(launcher, `execve("/usr/local/bin/selftrace", ["selftrace", "--backend", "sud", "-f", "-o", "/tmp/t", "/bin/prog"], 0x7ffd0 /* 3 vars */) = 0`).
		S(launcher, fmt.Sprintf("fcntl(3, F_DUPFD, 500)            = %d", libFD)).
		S(launcher, "clone(child_stack=NULL, flags=SIGCHLD) = 101").
		S(prog, `execve("/bin/prog", ["prog"], 0x55d0 /* 5 vars */) = 0`).
		report(prog, `execve("/bin/prog", ["prog"], 0x7ffc /* 3 vars */) = 0`).
		S(prog, "prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0x7f00, 0x1000, 0x7f20) = 0")
}

func TestCompareSUD(t *testing.T) {
	r := openSUD()
	r.S(prog, sudSigsys("getpid")).
		S(prog, "getpid() = 101").
		report(prog, "getpid() = 101").
		S(prog, sigret)
	// A handler of the program returns: Syscall User Dispatch intercepts
	// its rt_sigreturn, which the library performs without a line.
	r.S(prog, "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=101, si_uid=0} ---").
		S(prog, sudSigsys("rt_sigreturn")).
		S(prog, sigret)
	// The same on s390x, for a handler without SA_SIGINFO.
	r.S(prog, "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=101, si_uid=0} ---").
		S(prog, "--- SIGSYS {si_signo=SIGSYS, si_code=SYS_USER_DISPATCH, si_call_addr=0x3ff8, si_syscall=__NR_sigreturn, si_arch=AUDIT_ARCH_S390X} ---").
		S(prog, "sigreturn({mask=[]})              = 0")
	r.S(prog, sudSigsys("exit_group")).
		report(prog, "exit_group(0) = ?").
		S(prog, "exit_group(0) = ?")
	wantEquivalent(t, r, 3)
}

func TestCompareSUDHandlerInPerformedCall(t *testing.T) {
	// busybox sh's wait4 under --backend sud: SIGCHLD arrives as the wait4
	// the library performs returns. The program's handler (not wrapped
	// under SUD) runs inside the library's handler: its write is an
	// interception of its own, and its return is an interception of
	// rt_sigreturn, which the library performs on the program's stack
	// without a line. That rt_sigreturn returns into the library's
	// handler, which reports the wait4.
	r := openSUD()
	r.S(prog, sudSigsys("wait4")).
		S(prog, "wait4(-1,  <unfinished ...>").
		S(102, "exit_group(0) = ?").
		S(prog, "<... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 102").
		S(prog, "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=102, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---").
		S(prog, sudSigsys("write")).
		S(prog, `write(2, "child\n", 6) = 6`).
		S(prog, fmt.Sprintf(getTid, prog)).
		report(prog, `write(2, "child\n", 6) = 6`).
		S(prog, "rt_sigreturn({mask=[]})           = 6").
		S(prog, sudSigsys("rt_sigreturn")).
		S(prog, "rt_sigreturn({mask=[]})           = 102").
		S(prog, fmt.Sprintf(getTid, prog)).
		report(prog, "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 102").
		S(prog, "rt_sigreturn({mask=[]})           = 102")
	r.S(prog, sudSigsys("exit_group")).
		report(prog, "exit_group(0) = ?").
		S(prog, "exit_group(0) = ?")
	c := wantEquivalent(t, r, 4)
	calls := c.Derivation.Calls[prog]
	if calls[1].Name != "write" || calls[2].Name != "wait4" || calls[2].Result != "102" {
		t.Errorf("derived: %+v", calls)
	}
}

func TestCompareSeccompTrapInHandler(t *testing.T) {
	// The program's seccomp filter traps the getppid the handler performs:
	// the program's own SIGSYS (si_code SYS_SECCOMP) is context, not an
	// interception.
	r := open()
	r.S(prog, sigsys("getppid")).
		S(prog, "getppid()                         = 110").
		S(prog, "--- SIGSYS {si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x7f00, si_syscall=__NR_getppid, si_arch=AUDIT_ARCH_X86_64} ---").
		S(prog, disarm).
		S(prog, sigret).
		report(prog, "getppid() = 110").
		S(prog, arm).
		S(prog, sigret)
	r.exitGroup(prog, 0).end()
	wantEquivalent(t, r, 3)
}

func TestDeriveFlatSummary(t *testing.T) {
	// selftrace -c: no lines; the library's per-call writes, if any, go
	// to a descriptor of its own (here 501, a counts stream).
	r := &run{}
	r.S(launcher, `execve("/usr/local/bin/selftrace", ["selftrace", "-c", "-f", "/bin/prog"], 0x7ffd0 /* 3 vars */) = 0`).
		S(launcher, "fcntl(2, F_DUPFD, 500)            = 500").
		S(launcher, "pipe2([3, 4], O_CLOEXEC)          = 0").
		S(launcher, "fcntl(4, F_DUPFD, 500)            = 501").
		S(launcher, "clone(child_stack=NULL, flags=SIGCHLD) = 101").
		S(prog, `execve("/bin/prog", ["prog"], 0x55d0 /* 5 vars */) = 0`).
		S(prog, arm)
	flatCall := func(pid int, name, line string) {
		r.S(pid, sigsys(name)).
			S(pid, line).
			S(pid, `write(501, "\1\0\0\0", 4) = 4`).
			S(pid, arm).
			S(pid, sigret)
	}
	flatCall(prog, "openat", `openat(AT_FDCWD, "/a", O_RDONLY) = -1 ENOENT (No such file or directory)`)
	flatCall(prog, "openat", `openat(AT_FDCWD, "/b", O_RDONLY) = 3`)
	flatCall(prog, "read", `read(3, "", 10) = 0`)
	r.S(prog, sigsys("read")).
		S(prog, "read(3,  <unfinished ...>").
		S(prog, "<... read resumed>0x7f, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)").
		S(prog, "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=9, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---").
		S(prog, "rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)").
		S(prog, `write(501, "\1\0\0\0", 4) = 4`).
		S(prog, arm).
		S(prog, sigret)
	r.S(prog, sigsys("exit_group")).
		S(prog, `write(501, "\1\0\0\0", 4) = 4`).
		S(prog, "exit_group(0) = ?")
	r.S(launcher, `write(500, "% time     seconds  usecs/call     calls    errors syscall\n", 59) = 59`)
	d := Derive(ParseStrace(strings.Join(r.s, "\n")), Options{Flat: true})
	if len(d.Problems) != 0 {
		t.Fatalf("problems: %v", d.Problems)
	}
	got := d.Summary()
	want := map[string]Count{"execve": {1, 0}, "openat": {2, 1}, "read": {2, 1}}
	if diff := CompareSummary(got, want); diff != "" {
		t.Errorf("summary %v:\n%s", got, diff)
	}
	table := `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
  0.00    0.000000           0         2         1 openat
  0.00    0.000000           0         2         1 read
  0.00    0.000000           0         1           execve
------ ----------- ----------- --------- --------- ----------------
100.00    0.000000           0         5         2 total
`
	tab, err := ParseSummary(table)
	if err != nil {
		t.Fatal(err)
	}
	if diff := CompareSummary(tab, got); diff != "" {
		t.Errorf("table against trace:\n%s", diff)
	}
}

func TestCompareNoLibraryDescriptor(t *testing.T) {
	r := &run{}
	r.S(launcher, `execve("/usr/local/bin/selftrace", ["selftrace", "/bin/prog"], 0x7ffd0 /* 3 vars */) = 0`).
		S(launcher, "clone(child_stack=NULL, flags=SIGCHLD) = 101").
		S(prog, `execve("/bin/prog", ["prog"], 0x55d0 /* 5 vars */) = 0`).
		S(prog, arm).
		S(prog, sigsys("getpid")).
		S(prog, "getpid() = 101").
		S(prog, `write(2, "getpid() = 101\n", 15) = 15`)
	r.T(prog, `execve("/bin/prog", ["prog"], 0x7ffc /* 3 vars */) = 0`).T(prog, "getpid() = 101")
	c := r.compare(Options{})
	if c.Equivalent() || !strings.Contains(c.String(), "descriptors []") {
		t.Errorf("want a difference naming no descriptor:\n%s", c)
	}
}

func TestCompareDup2OntoLibraryFD(t *testing.T) {
	// The program's dup2 onto 500: the library moves its descriptor to 501
	// (an internal fcntl and close) and performs the dup2; its report goes
	// to 501.
	r := open()
	r.S(prog, sigsys("dup2")).
		S(prog, "fcntl(500, F_DUPFD_CLOEXEC, 501) = 501").
		S(prog, "close(500)                        = 0").
		S(prog, "dup2(1, 500)                      = 500")
	text := fmt.Sprintf("%-5d dup2(1, 500) = 500\n", prog)
	r.S(prog, fmt.Sprintf("write(501, %s, %d) = %d", cquote(text), len(text), len(text))).
		T(prog, "dup2(1, 500) = 500").
		S(prog, arm).
		S(prog, sigret)
	r.S(prog, sigsys("exit_group"))
	text = fmt.Sprintf("%-5d exit_group(0) = ?\n", prog)
	r.S(prog, fmt.Sprintf("write(501, %s, %d) = %d", cquote(text), len(text), len(text))).
		T(prog, "exit_group(0) = ?").
		S(prog, "exit_group(0) = ?").
		end()
	c := wantEquivalent(t, r, 3)
	if fds := c.Derivation.LibraryFDs; len(fds) != 2 || fds[1] != 501 {
		t.Errorf("library descriptors %v", fds)
	}
}

func TestCompareSocketcall(t *testing.T) {
	// s390x: glibc's socket() is socketcall(SYS_SOCKET, args); the
	// interception names socketcall, strace and selftrace name the subcall.
	r := open()
	r.S(prog, sigsys("socketcall")).
		S(prog, fmt.Sprintf(getTid, prog)).
		S(prog, "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3").
		report(prog, "socket(1, 526337, 0) = 3").
		S(prog, arm).
		S(prog, sigret).
		exitGroup(prog, 0).
		end()
	wantEquivalent(t, r, 3)

	// A different subcall in selftrace's line is a difference.
	r = open()
	r.S(prog, sigsys("socketcall")).
		S(prog, fmt.Sprintf(getTid, prog)).
		S(prog, "socket(AF_UNIX, SOCK_STREAM, 0) = 3").
		report(prog, "connect(3, 0x3ff0, 110) = 3").
		S(prog, arm).
		S(prog, sigret).
		exitGroup(prog, 0)
	if c := r.end().compare(Options{}); c.Equivalent() {
		t.Errorf("socket performed, connect reported: equivalent")
	}
}

func TestCompareKilledAfterExitLine(t *testing.T) {
	// timeout -s INT: the child writes its exit_group line, then SIGINT
	// kills it before the exit_group runs.
	r := open().call(prog, "getpid", "getpid() = 101")
	r.S(prog, sigsys("exit_group")).
		S(prog, fmt.Sprintf(getTid, prog)).
		report(prog, "exit_group(130) = ?", "+++ exited with 130 +++").
		S(prog, "--- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=100, si_uid=0} ---").
		S(prog, "+++ killed by SIGINT +++")
	wantEquivalent(t, r, 3)

	// The same, but the pid exits normally without running the call: a
	// difference.
	r = open().call(prog, "getpid", "getpid() = 101")
	r.S(prog, sigsys("exit_group")).
		report(prog, "exit_group(130) = ?", "+++ exited with 130 +++").
		S(prog, "+++ exited with 0 +++")
	if c := r.compare(Options{}); c.Equivalent() {
		t.Errorf("an exit_group that never ran, without a kill: equivalent")
	}
}

func TestCompareTraceEndsAfterExitLine(t *testing.T) {
	// timeout's SIGTERM to its process group ends strace too: the
	// program's exit_group was intercepted and its line written, and
	// strace's trace ends before the call is performed. Nothing of the
	// pid is wrong; strace just saw no more.
	r := open().call(prog, "getpid", "getpid() = 101")
	line := "exit_group(143) = ?"
	r.S(prog, sigsys("exit_group")).
		report(prog, line, "+++ exited with 143 +++")
	wantEquivalent(t, r, 3)

	// A performed call that was never reported is still a problem when
	// the trace ends (TestCompareNeverReported).
}
