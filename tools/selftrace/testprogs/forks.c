// forks: fork and wait; vfork then execve of the hello test program;
// posix_spawn of /bin/echo (glibc runs clone(CLONE_VM|CLONE_VFORK) on a
// stack of its own); execve of static-hello (statically linked: a tracer
// cannot follow it there) from a forked child. Every exit status is printed;
// the parent waits for each child before it prints again, so the output is
// deterministic.
//
// The other test programs are looked up in the directory of argv[0]
// (/usr/local/libexec/selftrace in the guest).
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testprog.h"

extern char **environ;

static void report(const char *what, pid_t pid)
{
	int st;
	pid_t w;
	do
		w = waitpid(pid, &st, 0);
	while (w < 0 && errno == EINTR);
	if (w != pid)
		say("%s: waitpid: %s\n", what, strerror(errno));
	else if (WIFEXITED(st))
		say("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		say("%s: killed by signal %d\n", what, WTERMSIG(st));
	else
		say("%s: wait status %#x\n", what, st);
}

int main(int argc, char **argv)
{
	(void)argc;
	char dir[4096] = "/usr/local/libexec/selftrace";
	const char *slash = strrchr(argv[0], '/');
	if (slash && (size_t)(slash - argv[0]) < sizeof dir) {
		memcpy(dir, argv[0], slash - argv[0]);
		dir[slash - argv[0]] = 0;
	}
	char hello[4200], statichello[4200];
	snprintf(hello, sizeof hello, "%s/hello", dir);
	snprintf(statichello, sizeof statichello, "%s/static-hello", dir);

	// fork: the child prints and exits 3.
	pid_t pid = fork();
	if (pid == 0) {
		say("fork child: running\n");
		_exit(3);
	}
	if (pid < 0) {
		say("fork: %s\n", strerror(errno));
		return 1;
	}
	report("fork child", pid);

	// vfork + execve: the child only execs (or _exits).
	char *hargv[] = {"hello", NULL};
	pid = vfork();
	if (pid == 0) {
		execve(hello, hargv, environ);
		_exit(127);
	}
	if (pid < 0) {
		say("vfork: %s\n", strerror(errno));
		return 1;
	}
	report("vfork+execve hello", pid);

	// posix_spawn of /bin/echo.
	char *eargv[] = {"echo", "spawned", "by", "posix_spawn", NULL};
	int e = posix_spawn(&pid, "/bin/echo", NULL, NULL, eargv, environ);
	if (e != 0) {
		say("posix_spawn: %s\n", strerror(e));
		return 1;
	}
	report("posix_spawn echo", pid);

	// fork + execve of the static program.
	char *sargv[] = {"static-hello", NULL};
	pid = fork();
	if (pid == 0) {
		execve(statichello, sargv, environ);
		say("execve static-hello: %s\n", strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		say("fork: %s\n", strerror(errno));
		return 1;
	}
	report("fork+execve static-hello", pid);

	// A failing execve in a child: ENOENT, then exit 126.
	pid = fork();
	if (pid == 0) {
		char *nargv[] = {"missing", NULL};
		execve("/nonexistent/selftrace-missing", nargv, environ);
		say("execve missing: %s\n", strerror(errno));
		_exit(126);
	}
	report("fork+execve missing", pid);
	say("forks: done\n");
	return 0;
}
