// signals: the signal hazards of an in-process SIGSYS tracer.
//
//  1. sigprocmask blocks every signal, then restores the mask: the program
//     sees SIGSYS in its mask like any other signal, and a blocked SIGUSR1
//     stays pending until the mask is restored.
//  2. The program's own SIGSYS handler: kill(getpid(), SIGSYS) runs it
//     (si_code SI_USER, sent by the process itself).
//  3. A SIGUSR1 handler on an alternate signal stack (sigaltstack,
//     SA_ONSTACK) that makes system calls (write).
//  4. A read on an empty pipe interrupted by alarm(1): without SA_RESTART it
//     fails with EINTR; with SA_RESTART it is restarted and returns what a
//     forked child writes 2 s after the parent's go-ahead.
//  5. A read on an empty pipe interrupted by SIGUSR2 from another process
//     (a forked child, which repeats the signal until the parent's read has
//     returned); the handler, without SA_RESTART, calls getpid and write.
//
// Output goes through write(2) directly (no stdio buffer), so its order is
// the order of the calls. The whole program takes about 4 s.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testprog.h"

static void fail(const char *what)
{
	say("%s: %s\n", what, strerror(errno));
	exit(1);
}

static void setaction(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		fail("sigaction");
}

static void setdefault(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	if (sigaction(sig, &sa, NULL) != 0)
		fail("sigaction SIG_DFL");
}

static pid_t self;

/* 1: a blocked signal stays pending. */
static volatile sig_atomic_t usr1_ran;

static void on_usr1_plain(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	usr1_ran++;
}

static void part1(void)
{
	sigset_t full, old, cur, pend;
	setaction(SIGUSR1, on_usr1_plain, 0);
	sigfillset(&full);
	if (sigprocmask(SIG_BLOCK, &full, &old) != 0)
		fail("sigprocmask SIG_BLOCK");
	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0)
		fail("sigprocmask query");
	say("1: all blocked: SIGSYS %d SIGUSR1 %d SIGALRM %d\n", sigismember(&cur, SIGSYS),
	    sigismember(&cur, SIGUSR1), sigismember(&cur, SIGALRM));
	if (kill(self, SIGUSR1) != 0)
		fail("kill SIGUSR1");
	sigpending(&pend);
	say("1: SIGUSR1 pending %d, handler ran %d\n", sigismember(&pend, SIGUSR1), (int)usr1_ran);
	if (sigprocmask(SIG_SETMASK, &old, NULL) != 0)
		fail("sigprocmask SIG_SETMASK");
	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0)
		fail("sigprocmask query");
	say("1: restored: SIGSYS %d SIGUSR1 %d, handler ran %d\n", sigismember(&cur, SIGSYS),
	    sigismember(&cur, SIGUSR1), (int)usr1_ran);
	setdefault(SIGUSR1);
}

/* 2: the program's own SIGSYS handler. */
static volatile sig_atomic_t sys_ran, sys_code, sys_fromself;

static void on_sys(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	sys_ran = sig == SIGSYS;
	sys_code = si->si_code;
	sys_fromself = si->si_pid == self;
}

static void part2(void)
{
	struct sigaction cur;
	setaction(SIGSYS, on_sys, 0);
	if (sigaction(SIGSYS, NULL, &cur) != 0)
		fail("sigaction query");
	say("2: SIGSYS action is ours: %d\n", (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sys);
	if (kill(self, SIGSYS) != 0)
		fail("kill SIGSYS");
	say("2: SIGSYS handler ran %d, si_code %d (SI_USER %d), from self %d\n", (int)sys_ran,
	    (int)sys_code, SI_USER, (int)sys_fromself);
	setdefault(SIGSYS);
	if (sigaction(SIGSYS, NULL, &cur) != 0)
		fail("sigaction query");
	say("2: SIGSYS action is SIG_DFL again: %d\n", cur.sa_handler == SIG_DFL);
}

/* 3: a handler on an alternate stack that makes system calls. */
static char *altbase;
static size_t altsize;

static void on_usr1_alt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	char here;
	uintptr_t p = (uintptr_t)&here, b = (uintptr_t)altbase;
	char line[64];
	int n = snprintf(line, sizeof line, "3: handler on the alternate stack: %d\n", p >= b && p < b + altsize);
	if (write(1, line, n) != n)
		_exit(100);
}

static void part3(void)
{
	stack_t ss, old;
	altsize = 1 << 16;
	altbase = malloc(altsize);
	if (!altbase)
		fail("malloc");
	ss.ss_sp = altbase;
	ss.ss_size = altsize;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, &old) != 0)
		fail("sigaltstack");
	setaction(SIGUSR1, on_usr1_alt, SA_ONSTACK);
	if (kill(self, SIGUSR1) != 0)
		fail("kill SIGUSR1");
	ss.ss_flags = SS_DISABLE;
	ss.ss_size = 0;
	if (sigaltstack(&ss, NULL) != 0)
		fail("sigaltstack disable");
	setdefault(SIGUSR1);
	say("3: back from the handler\n");
}

/* 4: alarm interrupts a blocking read. */
static volatile sig_atomic_t alrm_ran;

static void on_alrm(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	alrm_ran++;
}

static void part4(void)
{
	int p[2];
	char buf[16];
	if (pipe(p) != 0)
		fail("pipe");

	setaction(SIGALRM, on_alrm, 0);
	alrm_ran = 0;
	alarm(1);
	ssize_t n = read(p[0], buf, sizeof buf);
	int e = errno;
	say("4: read without SA_RESTART: %zd %s, handler ran %d\n", n, n < 0 ? strerrorname_np(e) : "", (int)alrm_ran);

	int go[2];
	if (pipe(go) != 0)
		fail("pipe");
	pid_t child = fork();
	if (child < 0)
		fail("fork");
	if (child == 0) {
		char c;
		close(p[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		sleep(2);
		if (write(p[1], "late\n", 5) != 5)
			_exit(1);
		_exit(0);
	}
	setaction(SIGALRM, on_alrm, SA_RESTART);
	alrm_ran = 0;
	if (write(go[1], "g", 1) != 1)
		fail("write go");
	alarm(1);
	n = read(p[0], buf, sizeof buf);
	e = errno;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	else if (n >= 0)
		buf[n] = 0;
	say("4: read with SA_RESTART: %zd '%s'%s, handler ran %d\n", n, n > 0 ? buf : "",
	    n < 0 ? strerrorname_np(e) : "", (int)alrm_ran);
	int st;
	waitpid(child, &st, 0);
	say("4: writer exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	setdefault(SIGALRM);
	close(p[0]);
	close(p[1]);
	close(go[0]);
	close(go[1]);
}

/* 5: a signal from another process interrupts a blocking read. */
static volatile sig_atomic_t usr2_ran, usr2_pidok, usr2_fromchild;
static pid_t usr2_child;

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	usr2_pidok = getpid() == self;
	usr2_fromchild = si->si_pid == usr2_child && usr2_child > 0;
	if (usr2_ran++ == 0) {
		static const char msg[] = "5: SIGUSR2 handler writes\n";
		if (write(1, msg, sizeof msg - 1) != sizeof msg - 1)
			_exit(100);
	}
}

static void part5(void)
{
	int p[2], done[2];
	char buf[16];
	if (pipe(p) != 0 || pipe(done) != 0)
		fail("pipe");
	setaction(SIGUSR2, on_usr2, 0);
	/* The child learns its pid from the handler's si_pid: set it before
	 * the child can signal. */
	sigset_t usr2, old;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, &old);
	pid_t child = fork();
	if (child < 0)
		fail("fork");
	if (child == 0) {
		close(done[1]);
		pid_t parent = getppid();
		struct pollfd pf = {.fd = done[0], .events = POLLIN};
		usleep(300000);
		for (int i = 0; i < 100; i++) {
			kill(parent, SIGUSR2);
			if (poll(&pf, 1, 500) != 0)
				_exit(0);
		}
		_exit(2);
	}
	usr2_child = child;
	sigprocmask(SIG_SETMASK, &old, NULL);
	ssize_t n = read(p[0], buf, sizeof buf);
	int e = errno;
	if (write(done[1], "d", 1) != 1)
		fail("write done");
	int st;
	waitpid(child, &st, 0);
	say("5: read: %zd %s, handler ran %d, its getpid ok %d, sent by the child %d, child exited %d\n", n,
	    n < 0 ? strerrorname_np(e) : "", usr2_ran > 0, (int)usr2_pidok, (int)usr2_fromchild,
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	setdefault(SIGUSR2);
}

int main(void)
{
	self = getpid();
	part1();
	part2();
	part3();
	part4();
	part5();
	say("signals: done\n");
	return 0;
}
