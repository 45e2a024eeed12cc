// SPDX-License-Identifier: GPL-2.0
/*
 * selftrace: trace a program's system calls from inside its own threads.
 *
 * The launcher checks that the kernel has the chosen mechanism (self-ptrace
 * or Syscall User Dispatch), opens the output, starts CMD with
 * libselftrace.so preloaded, waits for it, prints the -c summary and exits
 * as CMD did. Everything that happens per system call is in the library.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscalls.h"

#define ST_LAUNCHER 1
struct st_resume;
#if defined(__x86_64__)
#include "arch/x86_64.h"
#elif defined(__s390x__)
#include "arch/s390x.h"
#elif defined(__aarch64__)
#include "arch/arm64.h"
#elif defined(__riscv) && __riscv_xlen == 64
#include "arch/riscv64.h"
#else
#error "selftrace: unsupported architecture"
#endif

#define PTRACE_SELF_ON 0x4281
#define PTRACE_SELF_OFF 0x4282
#define OUT_FD_MIN 500
#define DEFAULT_LIB "/usr/local/lib/selftrace/libselftrace.so"

/* Exit codes of selftrace itself (otherwise it exits as CMD did). */
enum {
	EXIT_FAILED = 1,	/* selftrace could not do its job (fork, -o file) */
	EXIT_USAGE = 2,		/* bad usage, static CMD, backend absent on this arch */
	EXIT_NOFEATURE = 3,	/* the running kernel lacks the backend */
	EXIT_NOTFOUND = 127,	/* CMD not found */
};

static const char usage[] =
	"usage: selftrace [-f] [-o FILE] [-s N] [-e trace=SET] [-e inject=SET:error=ERRNO[:when=EXPR]]\n"
	"                 [-c] [--backend self-ptrace|sud] [--] CMD [ARGS...]\n"
	"\n"
	"Trace CMD's system calls from inside its own threads (self-ptrace), in strace's format.\n"
	"\n"
	"  -f               follow forks, vforks, clones and threads\n"
	"  -o FILE          write the trace to FILE (default: standard error)\n"
	"  -s N             print at most N characters of a string buffer (default 32)\n"
	"  -e trace=SET     print only these calls (comma list of names; !SET negates; all)\n"
	"  -e inject=SET:error=ERRNO[:when=EXPR]   fail these calls without running them\n"
	"  -e inject=SET:retval=N[:when=EXPR]      make them return N without running them\n"
	"                   EXPR: N (the Nth call), N+ (from the Nth), N+S (every Sth from the Nth)\n"
	"  -c               count calls, errors and wall time per system call; print a summary at the end\n"
	"  --backend B      self-ptrace (default) or sud (Syscall User Dispatch)\n"
	"\n"
	"Exit status: CMD's; 1 selftrace failed; 2 usage error, CMD statically linked or the\n"
	"backend does not exist on this architecture; 3 the running kernel lacks the backend;\n"
	"127 CMD not found.\n";

struct opts {
	int follow, count, sud;
	const char *out;
	int strsize;
	unsigned char trace[ST_NR_MAX];
	int trace_set, trace_neg;
	int inj[ST_NR_MAX];
	int ninj;
	long inj_ret;
	unsigned long inj_first, inj_step;
	int inj_plus;
};

static void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("selftrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static long sysnum(const char *name)
{
	for (long nr = 0; nr < ST_NR_MAX; nr++)
		if (st_sys[nr].name && !strcmp(st_sys[nr].name, name))
			return nr;
	return -1;
}

static int errnum(const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end)
		return v > 0 && v < 4096 ? (int)v : -1;
	for (int e = 1; e < ST_ERRNO_MAX; e++)
		if (st_errno[e].name && !strcmp(st_errno[e].name, name))
			return e;
	return -1;
}

/* SET: a comma list of system call names; marks them in set[]. */
static int parse_set(const char *s, unsigned char *set, int *list, int *nlist, const char *what)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long nr;

		if (!strcmp(tok, "all")) {
			for (nr = 0; nr < ST_NR_MAX; nr++)
				if (st_sys[nr].name) {
					if (set)
						set[nr] = 1;
					if (list && *nlist < ST_NR_MAX)
						list[(*nlist)++] = (int)nr;
				}
			n++;
			continue;
		}
		nr = sysnum(tok);
		if (nr < 0)
			die(EXIT_USAGE, "%s: invalid system call '%s' for %s", what, tok, ST_ARCH_NAME);
		if (set)
			set[nr] = 1;
		if (list && *nlist < ST_NR_MAX)
			list[(*nlist)++] = (int)nr;
		n++;
	}
	free(copy);
	if (!n)
		die(EXIT_USAGE, "%s: empty system call set", what);
	return n;
}

static void parse_when(struct opts *o, const char *w, const char *expr)
{
	char *end;
	unsigned long first = strtoul(w, &end, 10);

	if (end == w || first < 1 || first > 65535)
		die(EXIT_USAGE, "invalid when= in '%s'", expr);
	o->inj_first = first;
	o->inj_plus = 0;
	o->inj_step = 1;
	if (*end == '+') {
		o->inj_plus = 1;
		if (end[1]) {
			char *e2;
			unsigned long step = strtoul(end + 1, &e2, 10);

			if (e2 == end + 1 || *e2 || step < 1 || step > 65535)
				die(EXIT_USAGE, "invalid when= in '%s'", expr);
			o->inj_step = step;
		}
	} else if (*end) {
		die(EXIT_USAGE, "invalid when= in '%s'", expr);
	}
}

static void parse_expr(struct opts *o, const char *expr)
{
	if (!strncmp(expr, "trace=", 6)) {
		const char *set = expr + 6;

		if (*set == '!') {
			o->trace_neg = 1;
			set++;
		}
		memset(o->trace, 0, sizeof(o->trace));
		parse_set(set, o->trace, NULL, NULL, "-e trace");
		o->trace_set = 1;
		return;
	}
	if (!strncmp(expr, "inject=", 7)) {
		char *copy = strdup(expr + 7), *save = NULL, *part;
		int have_action = 0;

		if (o->ninj)
			die(EXIT_USAGE, "only one -e inject= is supported");
		part = strtok_r(copy, ":", &save);
		if (!part)
			die(EXIT_USAGE, "invalid '%s'", expr);
		parse_set(part, NULL, o->inj, &o->ninj, "-e inject");
		o->inj_first = 1;
		o->inj_plus = 1;
		o->inj_step = 1;
		while ((part = strtok_r(NULL, ":", &save))) {
			if (!strncmp(part, "error=", 6)) {
				int e = errnum(part + 6);

				if (e < 0)
					die(EXIT_USAGE, "invalid error '%s' in '%s'", part + 6, expr);
				o->inj_ret = -e;
				have_action = 1;
			} else if (!strncmp(part, "retval=", 7)) {
				char *end;

				o->inj_ret = strtol(part + 7, &end, 10);
				if (end == part + 7 || *end || o->inj_ret < 0)
					die(EXIT_USAGE, "invalid retval in '%s'", expr);
				have_action = 1;
			} else if (!strncmp(part, "when=", 5)) {
				parse_when(o, part + 5, expr);
			} else {
				die(EXIT_USAGE, "unsupported injection '%s' in '%s' (selftrace knows error=, retval=, when=)",
				    part, expr);
			}
		}
		if (!have_action)
			die(EXIT_USAGE, "'%s' needs error= or retval=", expr);
		free(copy);
		return;
	}
	die(EXIT_USAGE, "unsupported -e '%s' (selftrace knows trace= and inject=)", expr);
}

/* The path execve will run: CMD itself with a '/', else the first in PATH. */
static char *resolve(const char *cmd)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *dir;

	if (strchr(cmd, '/'))
		return strdup(cmd);
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = strdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *full;
		struct stat sb;

		if (asprintf(&full, "%s/%s", *dir ? dir : ".", cmd) < 0)
			break;
		if (!stat(full, &sb) && S_ISREG(sb.st_mode) && !access(full, X_OK)) {
			free(copy);
			return full;
		}
		free(full);
	}
	free(copy);
	return NULL;
}

/* 1: a statically linked ELF; 0: dynamic, a script, or unreadable. */
static int is_static(const char *path)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC), st = 1;

	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
		close(fd);
		return 0;
	}
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * sizeof(ph)) != sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP) {
			st = 0;
			break;
		}
	}
	close(fd);
	return st;
}

/* --- backend probes ---------------------------------------------------- */

static void probe_self_ptrace(void)
{
	long r = syscall(SYS_ptrace, PTRACE_SELF_ON, 0, 0, 0);

	if (r == 0) {
		/* ptrace is never intercepted: this disarms before anything else runs */
		syscall(SYS_ptrace, PTRACE_SELF_OFF, 0, 0, 0);
		return;
	}
	die(EXIT_NOFEATURE,
	    "this kernel has no self-ptrace (ptrace(PTRACE_SELF_ON): %s): boot a kernel with the "
	    "self-ptrace series, or try --backend sud", strerror(errno));
}

#ifndef __aarch64__
static volatile char sud_selector;
static volatile unsigned long sud_seen_arg0, sud_seen_nr;

static void sud_probe_handler(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	sud_seen_nr = info->si_syscall;
	sud_seen_arg0 = ST_UC_ARG(uc, 0);
	ST_UC_SETRET(uc, 0);
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
}
#endif

/*
 * Syscall User Dispatch must exist and hand the handler the intercepted
 * call's first argument intact (s390x 6.12 overwrites it with -ENOSYS).
 */
static void probe_sud(void)
{
#ifdef __aarch64__
	die(EXIT_USAGE, "--backend sud: Linux 6.12 has no Syscall User Dispatch on arm64 "
	    "(it needs the generic entry code); use the default backend, self-ptrace");
#else
	struct sigaction sa, old;
	const unsigned long marker = 0x5eedUL;
	long r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sud_probe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, &old);
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &sud_selector))
		die(EXIT_NOFEATURE, "this kernel has no Syscall User Dispatch (prctl: %s)", strerror(errno));
	sud_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	r = syscall(SYS_getpriority, marker, 0);
	prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
	sigaction(SIGSYS, &old, NULL);
	(void)r;
	if (sud_seen_nr != SYS_getpriority)
		die(EXIT_NOFEATURE, "Syscall User Dispatch did not intercept the probe call");
	if (sud_seen_arg0 != marker)
		die(EXIT_NOFEATURE,
		    "Syscall User Dispatch on this kernel loses an intercepted call's first argument "
		    "(the handler saw %#lx for %#lx: the entry code stores -ENOSYS over it after the "
		    "rollback), so --backend sud cannot perform calls; use the default backend, self-ptrace",
		    sud_seen_arg0, marker);
#ifdef __s390x__
	/*
	 * A kernel that keeps the argument (the self-ptrace series fixes
	 * s390's syscall_rollback()) still leaves the call's gpr2 to the
	 * restart logic of signal delivery, and a shell pipeline hung
	 * under --backend sud there (its SIGCHLD handler's return).
	 */
	die(EXIT_NOFEATURE, "--backend sud is not supported on s390x yet: a program's signal handler "
	    "that interrupts a call hangs it (a shell pipeline does); use the default backend, self-ptrace");
#endif
#endif
}

/* --- output ------------------------------------------------------------- */

static int high_fd(int fd)
{
	int h = fcntl(fd, F_DUPFD, OUT_FD_MIN);

	if (h < 0)
		die(EXIT_FAILED, "moving the output descriptor: %s", strerror(errno));
	close(fd);
	return h;
}

static void quote(FILE *f, const char *s, int max)
{
	int i;

	fputc('"', f);
	for (i = 0; s[i] && (max < 0 || i < max); i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < ' ' || c >= 0x7f)
			fprintf(f, "\\%o", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
	if (max >= 0 && s[i])
		fputs("...", f);
}

/* The execve line the library prints first: strace's first line. */
static char *exec_line(const char *path, char **argv, int strsize)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int nenv = 0;

	for (char **e = environ; *e; e++)
		if (strncmp(*e, "SELFTRACE", 9) && strncmp(*e, "LD_PRELOAD=", 11))
			nenv++;
	fputs("execve(", f);
	quote(f, path, -1);
	fputs(", [", f);
	for (int i = 0; argv[i]; i++) {
		if (i)
			fputs(", ", f);
		quote(f, argv[i], strsize);
	}
	fprintf(f, "], %p /* %d var%s */", (void *)environ, nenv, nenv == 1 ? "" : "s");
	fclose(f);
	return buf;
}

struct count {
	unsigned long calls, errors, nsec;
	long nr;
};

static int by_calls(const void *a, const void *b)
{
	const struct count *x = a, *y = b;

	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? 1 : -1;
	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	return strcmp(st_sys[x->nr].name ? st_sys[x->nr].name : "", st_sys[y->nr].name ? st_sys[y->nr].name : "");
}

/* strace -c's table, from the counts every traced process appended. */
static void summary(int cfd, FILE *out)
{
	static struct count c[ST_NR_MAX];
	char line[128];
	unsigned long calls = 0, errors = 0, nsec = 0;
	FILE *in;
	int n = 0;

	for (long nr = 0; nr < ST_NR_MAX; nr++)
		c[nr] = (struct count){ 0, 0, 0, nr };
	lseek(cfd, 0, SEEK_SET);
	in = fdopen(cfd, "r");
	while (in && fgets(line, sizeof(line), in)) {
		long nr;
		unsigned long k, e, ns = 0;

		if (sscanf(line, "%ld %lu %lu %lu", &nr, &k, &e, &ns) >= 3 && nr >= 0 && nr < ST_NR_MAX) {
			c[nr].calls += k;
			c[nr].errors += e;
			c[nr].nsec += ns;
		}
	}
	qsort(c, ST_NR_MAX, sizeof(c[0]), by_calls);
	for (n = 0; n < ST_NR_MAX; n++)
		nsec += c[n].nsec;
	fprintf(out, "%% time     seconds  usecs/call     calls    errors syscall\n");
	fprintf(out, "------ ----------- ----------- --------- --------- ----------------\n");
	for (n = 0; n < ST_NR_MAX && c[n].calls; n++) {
		const char *name = st_sys[c[n].nr].name;
		char other[32];

		if (!name) {
			snprintf(other, sizeof(other), "syscall_%#lx", c[n].nr);
			name = other;
		}
		calls += c[n].calls;
		errors += c[n].errors;
		fprintf(out, "%6.2f %11.6f %11lu %9lu ", nsec ? 100.0 * c[n].nsec / nsec : 0.0,
			c[n].nsec / 1e9, c[n].nsec / 1000 / c[n].calls, c[n].calls);
		if (c[n].errors)
			fprintf(out, "%9lu %s\n", c[n].errors, name);
		else
			fprintf(out, "%9s %s\n", "", name);
	}
	fprintf(out, "------ ----------- ----------- --------- --------- ----------------\n");
	fprintf(out, "%6.2f %11.6f %11lu %9lu ", 100.0, nsec / 1e9, calls ? nsec / 1000 / calls : 0, calls);
	if (errors)
		fprintf(out, "%9lu total\n", errors);
	else
		fprintf(out, "%9s total\n", "");
}

static char *library_path(void)
{
	char self[PATH_MAX], *lib;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *env = getenv("SELFTRACE_LIBRARY");

	if (env && *env)
		return strdup(env);
	if (n > 0) {
		char *slash;

		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			slash = strrchr(self, '/');
			if (slash) {
				*slash = 0;
				if (asprintf(&lib, "%s/lib/selftrace/libselftrace.so", self) >= 0 && !access(lib, R_OK))
					return lib;
			}
		}
	}
	return strdup(DEFAULT_LIB);
}

int main(int argc, char **argv)
{
	static struct opts o = { .strsize = 32 };
	char *path, *lib, *cfg, *line, *preload;
	const char *old_preload;
	int i, outfd, cfd = -1, status;
	pid_t pid;
	FILE *out;
	size_t cfglen;

	memset(o.trace, 1, sizeof(o.trace));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(a, "-f")) {
			o.follow = 1;
		} else if (!strcmp(a, "-c")) {
			o.count = 1;
		} else if (!strcmp(a, "-o") || !strcmp(a, "-s") || !strcmp(a, "-e") || !strcmp(a, "--backend")) {
			const char *v = i + 1 < argc ? argv[i + 1] : NULL;

			if (!v)
				die(EXIT_USAGE, "%s needs an argument\n%s", a, usage);
			i++;
			if (a[1] == 'o') {
				o.out = v;
			} else if (a[1] == 's') {
				char *end;
				long s = strtol(v, &end, 10);

				if (*end || s < 0 || s > 65536)
					die(EXIT_USAGE, "-s: invalid string size '%s'", v);
				o.strsize = (int)s;
			} else if (a[1] == 'e') {
				parse_expr(&o, v);
			} else if (!strcmp(v, "sud")) {
				o.sud = 1;
			} else if (strcmp(v, "self-ptrace")) {
				die(EXIT_USAGE, "--backend: unknown backend '%s' (self-ptrace or sud)", v);
			}
		} else if (!strncmp(a, "--backend=", 10)) {
			if (!strcmp(a + 10, "sud"))
				o.sud = 1;
			else if (strcmp(a + 10, "self-ptrace"))
				die(EXIT_USAGE, "--backend: unknown backend '%s' (self-ptrace or sud)", a + 10);
		} else {
			die(EXIT_USAGE, "unknown option '%s'\n%s", a, usage);
		}
	}
	if (i >= argc)
		die(EXIT_USAGE, "no command to trace\n%s", usage);

	path = resolve(argv[i]);
	if (!path)
		die(EXIT_NOTFOUND, "%s: command not found", argv[i]);
	if (is_static(path))
		die(EXIT_USAGE,
		    "%s is statically linked: selftrace enters a program through LD_PRELOAD and can only "
		    "trace dynamically linked programs (use strace for this one)", path);
	if (o.sud)
		probe_sud();
	else
		probe_self_ptrace();

	if (o.out) {
		outfd = open(o.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (outfd < 0)
			die(EXIT_FAILED, "%s: %s", o.out, strerror(errno));
	} else {
		outfd = dup(2);
	}
	outfd = high_fd(outfd);
	if (o.count) {
		cfd = memfd_create("selftrace-counts", 0);
		if (cfd < 0)
			die(EXIT_FAILED, "memfd_create: %s", strerror(errno));
		cfd = high_fd(cfd);
	}
	lib = library_path();
	if (access(lib, R_OK))
		die(EXIT_FAILED, "%s: %s (set SELFTRACE_LIBRARY)", lib, strerror(errno));

	/* The configuration the library reads, in SELFTRACE (see DESIGN.md). */
	{
		FILE *f = open_memstream(&cfg, &cfglen);

		fprintf(f, "fd=%d;cfd=%d;f=%d;o=%d;s=%d;backend=%s;lib=%s", outfd, cfd, o.follow, o.out != NULL,
			o.strsize, o.sud ? "sud" : "sp", lib);
		if (o.trace_set) {
			int first = 1;

			fprintf(f, ";neg=%d;trace=", o.trace_neg);
			for (long nr = 0; nr < ST_NR_MAX; nr++)
				if (o.trace[nr]) {
					fprintf(f, "%s%ld", first ? "" : ",", nr);
					first = 0;
				}
		}
		if (o.ninj) {
			fputs(";inject=", f);
			for (int k = 0; k < o.ninj; k++)
				fprintf(f, "%s%d", k ? "," : "", o.inj[k]);
			fprintf(f, ":ret=%ld:first=%lu:step=%lu:plus=%d", o.inj_ret, o.inj_first, o.inj_step, o.inj_plus);
		}
		fclose(f);
	}
	line = exec_line(path, argv + i, o.strsize);
	old_preload = getenv("LD_PRELOAD");
	if (old_preload && *old_preload) {
		if (asprintf(&preload, "%s:%s", lib, old_preload) < 0)
			die(EXIT_FAILED, "out of memory");
	} else {
		preload = lib;
	}

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die(EXIT_FAILED, "fork: %s", strerror(errno));
	if (pid == 0) {
		char *full;

		if (asprintf(&full, "%s;main=%d", cfg, (int)getpid()) < 0)
			_exit(EXIT_FAILED);
		setenv("LD_PRELOAD", preload, 1);
		setenv("SELFTRACE", full, 1);
		setenv("SELFTRACE_EXEC", line, 1);
		execv(path, argv + i);
		fprintf(stderr, "selftrace: %s: %s\n", path, strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOTFOUND : 126);
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die(EXIT_FAILED, "waitpid: %s", strerror(errno));

	out = fdopen(outfd, "a");
	if (o.count && out)
		summary(cfd, out);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (out && !o.count)
			if (o.follow)
				fprintf(out, o.out ? "%-5d " : "[pid %d] ", (int)pid);
		if (out && !o.count)
			fprintf(out, "+++ killed by %s %s+++\n",
				sig > 0 && sig < 32 && st_signame[sig] ? st_signame[sig] : "signal",
				WCOREDUMP(status) ? "(core dumped) " : "");
		if (out)
			fflush(out);
		/* die the same way, without a core of our own */
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		signal(sig, SIG_DFL);
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		return 128 + sig;
	}
	if (out)
		fflush(out);
	return WEXITSTATUS(status);
}
