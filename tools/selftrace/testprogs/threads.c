// threads: four pthreads that each make system calls (getpid, gettid,
// write into a shared pipe) and are joined; a process made by glibc's
// clone() wrapper with CLONE_VM and a stack of its own (no CLONE_THREAD,
// no CLONE_SETTLS: the child only calls write, which touches no TLS when
// it succeeds, and returns); a fork-like clone3 without CLONE_VM and without
// a stack. The lines are printed sorted and hold no pid, so the output is
// deterministic.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testprog.h"

#define NTHREADS 4
#define NWRITES 3

static int pfd[2];
static pid_t mainpid;

static void *worker(void *arg)
{
	long id = (long)arg;
	char line[32];
	int samepid = getpid() == mainpid;
	int owntid = syscall(SYS_gettid) != mainpid;
	for (int i = 0; i < NWRITES; i++) {
		int n = snprintf(line, sizeof line, "thread %ld write %d pid %d tid %d\n", id, i, samepid, owntid);
		if (write(pfd[1], line, n) != n)
			return (void *)1;
		sched_yield();
	}
	return (void *)(id * 10);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// drain reads exactly want bytes from the pipe and prints its lines sorted.
static void drain(size_t want)
{
	static char buf[4096];
	size_t got = 0;
	while (got < want) {
		ssize_t n = read(pfd[0], buf + got, sizeof buf - 1 - got);
		if (n <= 0) {
			say("read from the pipe: %zd (%s)\n", n, n < 0 ? strerror(errno) : "EOF");
			exit(1);
		}
		got += n;
	}
	buf[got] = 0;
	char *lines[64];
	int nl = 0;
	for (char *s = strtok(buf, "\n"); s && nl < 64; s = strtok(NULL, "\n"))
		lines[nl++] = s;
	qsort(lines, nl, sizeof lines[0], cmpstr);
	for (int i = 0; i < nl; i++)
		say("  %s\n", lines[i]);
}

static const char clonemsg[] = "clone child wrote\n";

static int clonechild(void *arg)
{
	(void)arg;
	if (write(pfd[1], clonemsg, sizeof clonemsg - 1) != sizeof clonemsg - 1)
		return 1;
	return 7;
}

static void waitchild(const char *what, pid_t pid)
{
	int st;
	pid_t w = waitpid(pid, &st, 0);
	if (w != pid)
		say("%s: waitpid: %s\n", what, strerror(errno));
	else if (WIFEXITED(st))
		say("%s: exited %d\n", what, WEXITSTATUS(st));
	else
		say("%s: wait status %#x\n", what, st);
}

int main(void)
{
	mainpid = getpid();
	if (pipe(pfd) != 0) {
		perror("pipe");
		return 1;
	}

	pthread_t th[NTHREADS];
	for (long i = 0; i < NTHREADS; i++) {
		int e = pthread_create(&th[i], NULL, worker, (void *)i);
		if (e != 0) {
			say("pthread_create: %s\n", strerror(e));
			return 1;
		}
	}
	long sum = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		sum += (long)ret;
	}
	say("threads: %d joined, results sum %ld\n", NTHREADS, sum);
	char probe[64];
	size_t want = 0;
	for (int i = 0; i < NTHREADS; i++)
		for (int j = 0; j < NWRITES; j++)
			want += snprintf(probe, sizeof probe, "thread %d write %d pid 1 tid 1\n", i, j);
	drain(want);

	// clone(): a process that shares the memory, on a stack of its own.
	size_t stacksize = 256 * 1024;
	char *stack = malloc(stacksize);
	if (!stack) {
		perror("malloc");
		return 1;
	}
	pid_t c = clone(clonechild, stack + stacksize, CLONE_VM | SIGCHLD, NULL);
	if (c < 0) {
		say("clone: %s\n", strerror(errno));
		return 1;
	}
	waitchild("clone(CLONE_VM) child", c);
	drain(sizeof clonemsg - 1);
	free(stack);

	// clone3(): fork-like, no CLONE_VM, no stack.
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.exit_signal = SIGCHLD;
	long r = syscall(SYS_clone3, &ca, sizeof ca);
	if (r == 0) {
		static const char msg[] = "clone3 child wrote\n";
		if (write(pfd[1], msg, sizeof msg - 1) != sizeof msg - 1)
			_exit(1);
		_exit(5);
	}
	if (r < 0) {
		say("clone3: %s\n", strerror(errno));
		return 1;
	}
	waitchild("clone3 child", r);
	drain(sizeof "clone3 child wrote\n" - 1);
	say("threads: done\n");
	return 0;
}
