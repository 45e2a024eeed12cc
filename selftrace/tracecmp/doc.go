// Package tracecmp parses the traces of strace and of selftrace (the
// in-process tracer of tools/selftrace, see tools/selftrace/DESIGN.md) and
// compares them. It is pure Go: the guest tests (tests/tracer) use it, and
// its own tests run on the host with synthetic traces.
//
// # Parsing
//
// ParseStrace reads `strace -f -o FILE` output: `PID  name(args) = result`
// lines, the two halves of an interrupted call (`name(args <unfinished
// ...>` and `<... name resumed>args) = result`) joined per pid, signal
// deliveries (`--- SIGCHLD {...} ---`), `+++ exited with N +++` and `+++
// killed by SIGxxx +++`. The prefixes `%-5d ` of -o FILE and `[pid N] ` of
// stderr are both understood, and a line may have none. ParseSelftrace
// reads selftrace's trace (the same format, no unfinished calls) plus its
// notices, the lines that start with `selftrace: `. ParseSummary reads a
// `-c` table.
//
// # Same-run equivalence
//
// The guest test runs
//
//	strace -f -qq -s 256 -o S  selftrace -f -o T  CMD
//
// strace traces the launcher and the traced program: it sees every call
// that selftrace's SIGSYS handler really performs, and selftrace's own
// calls. Compare derives the program's calls from S (Derive) and compares
// them with T's, pid by pid (thread ids: both tools print the same ones).
// Only the call names and results are compared; arguments are formatted
// differently (-s 256 against selftrace's default 32).
//
// Derive walks S in order and keeps a state per pid:
//
//  1. The launcher is the pid of S's first record (the execve of
//     selftrace); none of its records is the program's.
//
//  2. selftrace's descriptors are the results of every
//     fcntl(N, F_DUPFD or F_DUPFD_CLOEXEC, M) with M >= 500 made by the
//     launcher, or by any pid before its image is armed, or with N one of
//     them (the library moves one out of the way of the program's dup2
//     onto it). A write(F, ...) to one of them is a library write (a
//     program that writes to a number selftrace gave up is misread); a
//     close or fcntl of one of them is an internal call.
//
//  3. A pid is armed (the library runs in its current image) from its first
//     successful `ptrace(0x4281, ...)` (PTRACE_SELF_ON; strace prints
//     `ptrace(0x4281 /* PTRACE_??? */, 0, NULL, NULL) = 0`) or
//     `prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, ...) = 0`
//     (--backend sud). It stops being armed at its successful execve and
//     starts again at the next arming. Records of a pid that is not armed
//     are dropped: the launcher's child before it execs CMD, the dynamic
//     loader and the library's constructor in a new image, a new process
//     or thread before the library arms it. One exception: the last
//     successful execve of the pid before an arming is kept, and is the
//     pid's next call (matched with the execve line that the new image's
//     library writes first). An image that is never armed (a static
//     program) loses its execve too: selftrace prints its
//     `selftrace: ... statically linked` notice instead, which Compare
//     does not compare.
//
//  4. In an armed pid, every program call is intercepted: strace shows the
//     SIGSYS of the interception, `--- SIGSYS {si_signo=SIGSYS,
//     si_code=0x3, ..., si_syscall=__NR_NAME, ...} ---` (si_code
//     SYS_USER_DISPATCH with --backend sud). It opens a segment for the
//     intercepted call NAME. The segment ends at the library write that
//     holds a call's line (the report); the segments of interceptions in
//     a signal handler of the program that runs while the handler waits
//     in the program's call nest inside it (under self-ptrace the library
//     arms the thread around such a handler with ptrace 0x4281 and
//     disarms it with 0x4282, see 7), and a segment's calls are those
//     made while it is the innermost one. Writes to selftrace's descriptors that hold no call's
//     line (notices, `+++ exited` lines) end nothing.
//
//  5. In a segment, X, the program's call, is the last call named NAME
//     (or one of the names an exception says the handler performs it as,
//     or restart_syscall). Every other call of the segment must be an
//     internal call of the library (Options.Internal, DefaultInternal:
//     gettid, getpid, rt_sigprocmask, rt_sigaction, sigaltstack, mmap,
//     munmap, mprotect, fcntl, process_vm_readv, clock_gettime; before X,
//     or after it but named differently), or an earlier attempt of X that
//     a signal interrupted (result `? ERESTART...`), or a part of a call
//     performed in parts; in the segment of an execve or execveat, the
//     library's look at its target (is it statically linked?) before X
//     is internal too: openat(DIR, PATH, O_RDONLY|O_CLOEXEC) of X's
//     target (AT_FDCWD and execve's path, execveat's descriptor and path;
//     any target when there is no X), then pread64 and close of the
//     descriptor that openat returned. Anything else is a Problem (a call
//     selftrace did not report). X's result is the call's; `? ERESTART...`
//     (interrupted, not restarted) counts as -1 EINTR. A segment without X
//     is a call that was not performed (injected or emulated).
//
//  6. Calls printed before they run (exit and exit_group) have their
//     report before X: the next call of the pid after that report is X.
//     A successful execve ends every segment of the pid (its image is
//     gone) and is kept as in 3; the other calls of its own segment (the
//     innermost) are checked as in 5, the segments it interrupted are
//     dropped. A failed one is an ordinary X.
//
//  7. Never intercepted, so dropped everywhere: ptrace (every request:
//     the library's PTRACE_SELF_ON/OFF, 0x4281 and 0x4282, at its
//     re-arming and around the program's handlers, and the program's
//     own), rt_sigreturn and sigreturn. (Syscall User Dispatch does
//     intercept the program's rt_sigreturn and sigreturn: the library
//     performs them on the program's stack and prints nothing. Their
//     interception opens no segment, inside another segment too: there
//     the call returns into the library's handler that the program's
//     handler interrupted, and that handler's segment goes on.) Signal
//     deliveries other than interceptions (the program's signals, a
//     seccomp SECCOMP_RET_TRAP SIGSYS, si_code 1) are context only.
//
//  8. In an armed pid outside any segment, only never-intercepted calls,
//     internal calls, library writes and the X of an exit or exit_group
//     may appear (the handler's epilogue); any other call is a Problem.
//
//  9. When a pid ends (or S does), its open segments are dropped: a
//     thread blocked in a call when exit_group ended it never completes
//     the call, and selftrace prints no line for it. A segment whose X
//     completed (its result is neither `?` nor EINTR: not interrupted)
//     but that was never reported is a Problem, unless `+++ killed by
//     SIGxxx +++` ended the pid (the KilledBeforeReport exception: the
//     signal acted as X returned, before the report; no call is derived
//     from it); a pid that exited, or whose records S ends without
//     either line, gets the Problem.
//
// With Options.Flat (selftrace -c: no line per call) a segment instead
// runs from one interception to the next one of the pid (or its execve,
// or its end), X is chosen the same way, and library writes are context;
// a segment whose X never completed is dropped.
//
// Compare then walks each pid's derived calls and T's calls of that pid
// side by side: the names must be the same (up to SameCall exceptions); a
// call T marks ` (INJECTED)` or that a NotPerformed exception matches
// must have no X; any other call must have an X with the same result
// (SameResult: the same errno name, or the same number in any base). The
// first difference of each pid is reported with both traces around it, and
// every Problem with its line of S.
//
// # Documented exceptions
//
// DefaultExceptions lists them, each with its reason: ptrace is never
// intercepted, nor are rt_sigreturn and sigreturn under self-ptrace (under
// Syscall User Dispatch the library performs them without a line); vfork
// (and fork) may be performed as clone; rt_sigaction of SIGSYS is emulated
// (not performed); close of one of selftrace's descriptors is emulated
// (EBADF, not performed); close_range may be performed in parts around
// selftrace's descriptors; an injected call is not performed; a thread
// killed by a signal as a performed call returns has no line for that
// call.
//
// # What this assumes of selftrace
//
//   - The launcher makes its descriptors (the trace output, and the counts
//     stream of -c if it has one) with fcntl(N, F_DUPFD, M >= 500), and it
//     never arms itself, nor its child before the child's execve of CMD.
//   - The handler performs the program's call at most once (or as the
//     documented exceptions say) and makes it its last call named like it
//     before the report; its other calls are internal ones (and, for an
//     execve or execveat, its look at the target of 5). For a call it
//     does not perform (injected, emulated) it makes no call of that name.
//   - A signal handler of the program that runs while the handler waits
//     in the program's call (a read interrupted by SIGALRM, timeout's
//     sigsuspend) is traced: its calls are interceptions of their own,
//     reported before the interrupted call's line. Calls it made untraced
//     are Problems.
//   - A thread dies without its call's line only when a signal kills it
//     (or an exit_group of another thread ends it while it is blocked).
//   - One write(2) per reported call, to one of the descriptors of 2, holds
//     the call's whole line (the `+++ exited` line may follow in the same
//     write or its own); it comes after the call, except for exit and
//     exit_group (printed with ` = ?` before they run). The handler re-arms
//     after the write.
//   - A successful execve is printed (` = 0`) by the new image's library
//     before it arms; the old image writes no line for it.
//   - The child's return from fork, vfork or clone has no line.
//   - Line prefixes are thread ids, as strace's.
package tracecmp
