// threadexit: threads that end while others run. One thread ends with
// pthread_exit, one with a raw exit system call (glibc's bookkeeping never
// learns of it: the kernel clears its tid, so pthread_join still returns,
// and the stack is simply reused or leaked), while a third makes system
// calls in a loop. Then main returns (exit status 4) while a fourth thread
// is blocked in a read of an empty pipe: exit_group ends it.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "testprog.h"

static int gate[2], ready[2], blocker[2];

static void wait_gate(void)
{
	char c;
	if (read(gate[0], &c, 1) != 1)
		_exit(101);
}

static void *by_pthread_exit(void *arg)
{
	(void)arg;
	wait_gate();
	pthread_exit((void *)7);
	return NULL;
}

static void *by_raw_exit(void *arg)
{
	(void)arg;
	wait_gate();
	syscall(SYS_exit, 0);
	return (void *)99; // not reached
}

static void *busy(void *arg)
{
	(void)arg;
	wait_gate();
	long ok = 0;
	for (int i = 0; i < 200; i++)
		ok += getpid() > 0;
	return (void *)ok;
}

static void *blocked(void *arg)
{
	(void)arg;
	char c;
	if (write(ready[1], "r", 1) != 1)
		_exit(102);
	ssize_t n = read(blocker[0], &c, 1); // never returns: nobody writes
	say("blocked thread: read returned %zd\n", n);
	return NULL;
}

int main(void)
{
	if (pipe(gate) != 0 || pipe(ready) != 0 || pipe(blocker) != 0) {
		perror("pipe");
		return 1;
	}
	pthread_t t1, t2, t3, t4;
	int e = pthread_create(&t1, NULL, by_pthread_exit, NULL);
	if (!e)
		e = pthread_create(&t2, NULL, by_raw_exit, NULL);
	if (!e)
		e = pthread_create(&t3, NULL, busy, NULL);
	if (e) {
		say("pthread_create: %s\n", strerror(e));
		return 1;
	}
	if (write(gate[1], "ggg", 3) != 3) {
		perror("write");
		return 1;
	}
	void *r1, *r3;
	pthread_join(t1, &r1);
	say("pthread_exit thread: joined, value %ld\n", (long)r1);
	pthread_join(t2, NULL);
	say("raw exit thread: joined\n");
	pthread_join(t3, &r3);
	say("busy thread: joined, %ld getpid calls\n", (long)r3);

	e = pthread_create(&t4, NULL, blocked, NULL);
	if (e) {
		say("pthread_create: %s\n", strerror(e));
		return 1;
	}
	char c;
	if (read(ready[0], &c, 1) != 1) {
		perror("read");
		return 1;
	}
	usleep(100000);
	say("main returns while a thread is blocked in read\n");
	return 4;
}
