// SPDX-License-Identifier: GPL-2.0
/*
 * libselftrace.so: the in-thread half of selftrace.
 *
 * Loaded with LD_PRELOAD by the selftrace launcher, its constructor installs a
 * SIGSYS handler and arms the thread: with self-ptrace (PTRACE_SELF_ON), the
 * thread's next system call is not executed but turned into SIGSYS; with
 * Syscall User Dispatch (--backend sud), every system call made outside this
 * library's gate section is. The handler reads the call from the ucontext,
 * performs it itself (or injects an error), prints it in strace's format,
 * stores the result where the program expects it and re-arms.
 *
 * Everything here is freestanding: no libc, only raw system calls through the
 * gate functions of arch/<arch>.h, and no memory allocation in the handler.
 * See DESIGN.md and the README's selftrace section for what it cannot trace.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/ucontext.h>
#include <linux/sched.h>

#include "syscalls.h"

#define ST_HIDDEN __attribute__((visibility("hidden")))

/* The register block a clone child continues with (see arch/<arch>.h). */
struct st_resume {
	unsigned long gpr[32];
	unsigned long pc;	/* offset 256 */
	unsigned long sp;	/* offset 264 */
	unsigned long mask;	/* offset 272 */
	unsigned long arm;	/* offset 280 */
};

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

ST_HIDDEN long st_syscall6(long nr, unsigned long a, unsigned long b, unsigned long c,
			   unsigned long d, unsigned long e, unsigned long f);
ST_HIDDEN long st_clone_gate(long nr, unsigned long a, unsigned long b, unsigned long c,
			     unsigned long d, unsigned long e, unsigned long f);
ST_HIDDEN void st_resume(struct st_resume *r);
ST_HIDDEN void st_restorer(void);
ST_HIDDEN void st_sigreturn_at(unsigned long sp, long nr);
ST_HIDDEN void st_child_main(struct st_resume *r);
ST_HIDDEN void st_child_arm(unsigned long frame);

extern char __start_st_gate[] ST_HIDDEN;
extern char __stop_st_gate[] ST_HIDDEN;

#define PTRACE_SELF_ON 0x4281
#define PTRACE_SELF_OFF 0x4282
#define SYS_SELF_PTRACE 3
#define SYS_USER_DISPATCH_CODE 2
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#define SUD_BLOCK 1

#define ST_SIGSYS_BIT (1UL << (SIGSYS - 1))
#define ST_KSA_HANDLER_OFF 0
#define ST_KSA_FLAGS_OFF 8
#define ST_SA_SIGINFO 4
#define ST_SA_RESTORER 0x04000000
#define ST_SA_NODEFER 0x40000000
#define ST_SA_RESETHAND 0x80000000
#define ST_F_DUPFD_CLOEXEC 1030
#define ST_F_SETFD 2
#define ST_FD_CLOEXEC 1
#define ST_O_RDONLY 0
#define ST_AT_EMPTY_PATH 0x1000
#define ST_EFAULT 14
#define ST_EBADF 9
#define ST_EINVAL 22
#define ST_PROT_RW 3
#define ST_MAP_PRIVATE_ANON 0x22

#define ST_LINE_MAX 8192
#define ST_CFG_MAX 2048
#define ST_PATH_MAX 4096
#define ST_INJ_MAX 64

enum { ST_BACKEND_SP, ST_BACKEND_SUD };

/* What the launcher asked for, read once in the constructor. */
struct st_config {
	int active;
	int fd;			/* trace output */
	int cfd;		/* -c counts stream, -1 without -c */
	int follow;
	int ofile;		/* -o given: "PID  " prefixes instead of "[pid N] " */
	int strsize;
	int backend;
	long mainpid;
	unsigned char trace[ST_NR_MAX];
	int ninj;
	int inj_nr[ST_INJ_MAX];
	long inj_ret;		/* the value the call returns (-errno or retval) */
	int inj_err;		/* 1: inj_ret is -errno */
	unsigned long inj_first, inj_step;
	int inj_plus;
	char cfg[ST_CFG_MAX];	/* the SELFTRACE value, for traced execve */
	char lib[ST_PATH_MAX];	/* this library, for LD_PRELOAD */
};

static struct st_config st;
/* The program's own SIGSYS disposition: selftrace owns the real one. */
static unsigned long st_prog_sigsys[4];
static unsigned long st_calls[ST_NR_MAX], st_errors[ST_NR_MAX], st_injcount[ST_NR_MAX];
static unsigned long st_nsec[ST_NR_MAX];
/*
 * Whether the program believes SIGSYS blocked in this thread: selftrace
 * never lets the kernel block it (a blocked SIGSYS kills the process at the
 * next interception), so the program's view is kept here.
 */
static __thread int st_vblocked __attribute__((tls_model("initial-exec")));
/* Whether this thread is inside selftrace's SIGSYS handler, disarmed. */
static __thread int st_inside __attribute__((tls_model("initial-exec")));
#define ST_NSIG 65
/* The program's own handlers, which st_sigwrap calls (self-ptrace). */
static unsigned long st_prog_act[ST_NSIG][4];
/* Syscall User Dispatch's selector: always BLOCK; the gate is the exception. */
static volatile char st_selector = SUD_BLOCK;

static long st_sc6(long nr, unsigned long a, unsigned long b, unsigned long c,
		   unsigned long d, unsigned long e, unsigned long f)
{
	return st_syscall6(nr, a, b, c, d, e, f);
}

static long st_sc(long nr, unsigned long a, unsigned long b, unsigned long c)
{
	return st_syscall6(nr, a, b, c, 0, 0, 0);
}

/* Freestanding helpers: the compiler may emit calls to these. */
ST_HIDDEN void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

ST_HIDDEN void *memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;

	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

static size_t st_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static int st_startswith(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

static int st_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* --- output ---------------------------------------------------------- */

struct st_buf {
	char b[ST_LINE_MAX];
	size_t n;
};

static void st_putc(struct st_buf *o, char c)
{
	if (o->n < sizeof(o->b) - 1)
		o->b[o->n++] = c;
}

static void st_puts(struct st_buf *o, const char *s)
{
	while (*s)
		st_putc(o, *s++);
}

static void st_putu(struct st_buf *o, unsigned long v, unsigned int base)
{
	char t[24];
	int i = 0;

	do {
		t[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		st_putc(o, t[--i]);
}

static void st_putd(struct st_buf *o, long v)
{
	if (v < 0) {
		st_putc(o, '-');
		st_putu(o, -(unsigned long)v, 10);
	} else {
		st_putu(o, v, 10);
	}
}

static void st_puthex(struct st_buf *o, unsigned long v)
{
	st_puts(o, "0x");
	st_putu(o, v, 16);
}

static void st_putptr(struct st_buf *o, unsigned long v)
{
	if (!v)
		st_puts(o, "NULL");
	else
		st_puthex(o, v);
}

/* A string in strace's quoting; max < 0: up to the NUL, no limit. */
static void st_putquoted(struct st_buf *o, const unsigned char *s, long len, long max, int nul)
{
	long i;

	st_putc(o, '"');
	for (i = 0; (len < 0 || i < len) && (max < 0 || i < max); i++) {
		unsigned char c = s[i];

		if (nul && !c)
			break;
		switch (c) {
		case '"': st_puts(o, "\\\""); break;
		case '\\': st_puts(o, "\\\\"); break;
		case '\n': st_puts(o, "\\n"); break;
		case '\t': st_puts(o, "\\t"); break;
		case '\r': st_puts(o, "\\r"); break;
		case '\v': st_puts(o, "\\v"); break;
		case '\f': st_puts(o, "\\f"); break;
		default:
			if (c >= ' ' && c < 0x7f) {
				st_putc(o, c);
			} else {
				int next_digit = (len < 0 || i + 1 < len) && s[i + 1] >= '0' && s[i + 1] <= '7';

				st_putc(o, '\\');
				if (next_digit || c >= 0100)
					st_putc(o, '0' + (c >> 6));
				if (next_digit || c >= 010)
					st_putc(o, '0' + ((c >> 3) & 7));
				st_putc(o, '0' + (c & 7));
			}
		}
	}
	st_putc(o, '"');
	if (max >= 0 && i == max && (len < 0 ? (!nul || s[i]) : i < len))
		st_puts(o, "...");
}

static long st_gettid(void)
{
	return st_sc(ST_NR_gettid, 0, 0, 0);
}

static long st_getpid(void)
{
	return st_sc(ST_NR_getpid, 0, 0, 0);
}

static void st_prefix(struct st_buf *o)
{
	if (!st.follow)
		return;
	if (st.ofile) {
		long tid = st_gettid();
		size_t start = o->n;

		st_putd(o, tid);
		while (o->n - start < 5)
			st_putc(o, ' ');
		st_putc(o, ' ');
	} else {
		st_puts(o, "[pid ");
		st_putd(o, st_gettid());
		st_puts(o, "] ");
	}
}

static void st_flush(struct st_buf *o)
{
	size_t off = 0;

	while (off < o->n) {
		long r = st_sc(ST_NR_write, st.fd, (unsigned long)o->b + off, o->n - off);

		if (r <= 0)
			break;
		off += r;
	}
	o->n = 0;
}

static void st_putret(struct st_buf *o, long nr, long ret)
{
	unsigned char kind = (nr >= 0 && nr < ST_NR_MAX) ? st_sys[nr].ret : ST_RDEC;

	st_puts(o, " = ");
	if (kind == ST_RNONE) {
		st_putc(o, '?');
	} else if (ret < 0 && ret >= -4095) {
		long e = -ret;

		st_puts(o, "-1 ");
		if (e < ST_ERRNO_MAX && st_errno[e].name) {
			st_puts(o, st_errno[e].name);
			st_puts(o, " (");
			st_puts(o, st_errno[e].msg);
			st_putc(o, ')');
		} else {
			st_puts(o, "errno ");
			st_putd(o, e);
		}
	} else if (kind == ST_RHEX) {
		st_puthex(o, ret);
	} else {
		st_putd(o, ret);
	}
}

static void st_putoflags(struct st_buf *o, unsigned long v)
{
	static const char *const acc[4] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	unsigned long rest = v & ~3UL;

	st_puts(o, acc[v & 3]);
	for (int i = 0; st_oflags[i].name; i++) {
		unsigned long f = st_oflags[i].val;

		if (f && (rest & f) == f) {
			st_putc(o, '|');
			st_puts(o, st_oflags[i].name);
			rest &= ~f;
		}
	}
	if (rest) {
		st_puts(o, "|0");
		st_putu(o, rest, 8);
	}
}

/*
 * One argument. After the call ran (ret known): the kernel has read the
 * strings and buffers of a call that did not fail with EFAULT, so reading
 * them here cannot fault.
 */
static void st_putarg(struct st_buf *o, long nr, int i, const unsigned long *a, long ret, int readable)
{
	unsigned char k = st_sys[nr].arg[i];
	unsigned long v = a[i];

	switch (k) {
	case ST_INT:
		st_putd(o, (long)v);
		break;
	case ST_FD:
		st_putd(o, (int)v);
		break;
	case ST_DIRFD:
		if ((int)v == ST_AT_FDCWD)
			st_puts(o, "AT_FDCWD");
		else
			st_putd(o, (int)v);
		break;
	case ST_STR:
		if (v && readable)
			st_putquoted(o, (const unsigned char *)v, -1, ST_PATH_MAX, 1);
		else
			st_putptr(o, v);
		break;
	case ST_INBUF:
		if (v && readable && ret >= 0 && i + 1 < 6)
			st_putquoted(o, (const unsigned char *)v, (long)a[i + 1], st.strsize, 0);
		else
			st_putptr(o, v);
		break;
	case ST_OUTBUF:
		if (v && readable && ret >= 0)
			st_putquoted(o, (const unsigned char *)v, ret, st.strsize, 0);
		else
			st_putptr(o, v);
		break;
	case ST_OCT:
		st_putc(o, '0');
		st_putu(o, v, 8);
		break;
	case ST_OFLAGS:
		st_putoflags(o, v);
		break;
	case ST_SIG:
		if ((long)v > 0 && v < 32 && st_signame[v])
			st_puts(o, st_signame[v]);
		else
			st_putd(o, (long)v);
		break;
	case ST_ARGV:
		if (v && readable) {
			const char *const *p = (const char *const *)v;

			st_putc(o, '[');
			for (int j = 0; p[j]; j++) {
				if (j)
					st_puts(o, ", ");
				st_putquoted(o, (const unsigned char *)p[j], -1, st.strsize, 1);
			}
			st_putc(o, ']');
		} else {
			st_putptr(o, v);
		}
		break;
	case ST_ENVP:
		st_putptr(o, v);
		if (v && readable) {
			const char *const *p = (const char *const *)v;
			int n = 0;

			while (p[n])
				n++;
			st_puts(o, " /* ");
			st_putd(o, n);
			st_puts(o, n == 1 ? " var */" : " vars */");
		}
		break;
	case ST_UINT:
		st_putu(o, v, 10);
		break;
	case ST_HEX:
		st_puthex(o, v);
		break;
	default:
		st_putptr(o, v);
		break;
	}
}

static unsigned long st_oflag(const char *name)
{
	for (int i = 0; st_oflags[i].name; i++) {
		const char *a = st_oflags[i].name, *b = name;

		while (*a && *a == *b) {
			a++;
			b++;
		}
		if (!*a && !*b)
			return st_oflags[i].val;
	}
	return 0;
}

/* How many arguments strace shows: open's mode only when it means something. */
static int st_nargs(long nr, const unsigned long *a)
{
	int n = st_sys[nr].nargs;
	unsigned long creat = st_oflag("O_CREAT"), tmpfile = st_oflag("O_TMPFILE");

	if (n >= 1 && st_sys[nr].arg[n - 1] == ST_OCT && n >= 2 && st_sys[nr].arg[n - 2] == ST_OFLAGS) {
		unsigned long fl = a[n - 2];

		if (!(fl & creat) && (!tmpfile || (fl & tmpfile) != tmpfile))
			n--;
	}
	return n;
}

/* The number of the system call named name, -1 if none. */
static long st_sysnum(const char *name)
{
	for (long nr = 0; nr < ST_NR_MAX; nr++)
		if (st_sys[nr].name && st_streq(st_sys[nr].name, name))
			return nr;
	return -1;
}

static void st_putcall(struct st_buf *o, long nr, const unsigned long *a, long ret, int readable);

/*
 * socketcall(2) (s390x): strace prints the subcall by its name with its
 * arguments from the array, decoded as the direct system call of that
 * name (socket, connect, ...) when the architecture has one.
 */
static int st_putsocketcall(struct st_buf *o, const unsigned long *a, long ret, int readable)
{
	const char *name = a[0] < 64 ? st_socketcall[a[0]] : 0;
	unsigned long sub[6] = { 0 };
	long snr;

	if (!name || !a[1] || !readable)
		return 0;
	snr = st_sysnum(name);
	memcpy(sub, (const void *)a[1], sizeof(sub));
	if (snr >= 0) {
		st_putcall(o, snr, sub, ret, readable);
		return 1;
	}
	st_puts(o, name);
	st_putc(o, '(');
	for (int i = 0; i < 3; i++) {
		if (i)
			st_puts(o, ", ");
		st_puthex(o, sub[i]);
	}
	st_putc(o, ')');
	return 1;
}

static void st_putcall(struct st_buf *o, long nr, const unsigned long *a, long ret, int readable)
{
	if (nr == ST_NR_socketcall && st_putsocketcall(o, a, ret, readable))
		return;
	if (nr >= 0 && nr < ST_NR_MAX && st_sys[nr].name) {
		int nargs = st_nargs(nr, a);

		st_puts(o, st_sys[nr].name);
		st_putc(o, '(');
		for (int i = 0; i < nargs && i < 6; i++) {
			if (i)
				st_puts(o, ", ");
			st_putarg(o, nr, i, a, ret, readable);
		}
	} else {
		st_puts(o, "syscall_");
		st_puthex(o, nr);
		st_putc(o, '(');
		for (int i = 0; i < 6; i++) {
			if (i)
				st_puts(o, ", ");
			st_puthex(o, a[i]);
		}
	}
	st_putc(o, ')');
}

static int st_wanted(long nr)
{
	return st.fd >= 0 && st.cfd < 0 && (nr < 0 || nr >= ST_NR_MAX || st.trace[nr]);
}

/* --- arming ---------------------------------------------------------- */

static void st_sigsys(int sig, siginfo_t *info, void *ucv);

/*
 * Installs the SIGSYS handler: in the constructor, and again in a child
 * made with CLONE_CLEAR_SIGHAND (glibc's posix_spawn), which starts with
 * every handler reset to the default.
 */
static long st_install(unsigned long *old)
{
	unsigned long act[4] = { 0 };

	act[ST_KSA_HANDLER_OFF / 8] = (unsigned long)st_sigsys;
	act[ST_KSA_FLAGS_OFF / 8] = ST_SA_SIGINFO | ST_SA_NODEFER;
#if ST_HAS_RESTORER
	act[ST_KSA_FLAGS_OFF / 8] |= ST_SA_RESTORER;
	act[2] = (unsigned long)st_restorer;
#endif
	act[ST_KSA_MASK_OFF / 8] = 0;
	return st_sc6(ST_NR_rt_sigaction, SIGSYS, (unsigned long)act, (unsigned long)old, 8, 0, 0);
}

static long st_arm(void)
{
	if (st.backend == ST_BACKEND_SUD)
		return st_sc6(ST_NR_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
			      (unsigned long)__start_st_gate,
			      (unsigned long)(__stop_st_gate - __start_st_gate),
			      (unsigned long)&st_selector, 0);
	return st_sc(ST_NR_ptrace, PTRACE_SELF_ON, 0, 0);
}

/* The per-call re-arm: self-ptrace is one-shot, SUD stays on. */
static void st_rearm(void)
{
	if (st.backend == ST_BACKEND_SP)
		st_sc(ST_NR_ptrace, PTRACE_SELF_ON, 0, 0);
}

/* --- -c ------------------------------------------------------------- */

struct st_ts {
	long sec, nsec;
};

/* The vDSO's clock_gettime, found in the constructor (0: -c does not time). */
static int (*st_vdso_gettime)(long clk, struct st_ts *ts);
/* Set while this thread reads the clock: a vDSO that falls back to a system call under SUD. */
static __thread int st_timing __attribute__((tls_model("initial-exec")));

#define ST_CLOCK_MONOTONIC 1

static unsigned long st_now(void)
{
	struct st_ts ts;

	if (!st_vdso_gettime || st.cfd < 0 || st_timing)
		return 0;
	st_timing = 1;
	if (st_vdso_gettime(ST_CLOCK_MONOTONIC, &ts))
		ts.sec = ts.nsec = 0;
	st_timing = 0;
	return (unsigned long)ts.sec * 1000000000UL + ts.nsec;
}

/*
 * Finds clock_gettime in the vDSO (auxv's AT_SYSINFO_EHDR, which follows
 * the environment on the initial stack), through its dynamic symbols.
 */
static void st_find_vdso(char **envp)
{
	const unsigned long *auxv;
	const unsigned char *base = 0;
	const uint32_t *hdr32;
	unsigned long phoff, shoff, bias = 0;
	unsigned int phnum, shnum, shentsize, phentsize;

	while (*envp)
		envp++;
	for (auxv = (const unsigned long *)(envp + 1); auxv[0]; auxv += 2)
		if (auxv[0] == 33)	/* AT_SYSINFO_EHDR */
			base = (const unsigned char *)auxv[1];
	if (!base || base[0] != 0x7f || base[1] != 'E' || base[4] != 2)
		return;
	hdr32 = (const uint32_t *)base;
	(void)hdr32;
	phoff = *(const unsigned long *)(base + 32);
	shoff = *(const unsigned long *)(base + 40);
	phentsize = *(const uint16_t *)(base + 54);
	phnum = *(const uint16_t *)(base + 56);
	shentsize = *(const uint16_t *)(base + 58);
	shnum = *(const uint16_t *)(base + 60);
	for (unsigned int i = 0; i < phnum; i++) {
		const unsigned char *ph = base + phoff + i * phentsize;

		if (*(const uint32_t *)ph == 1) {	/* PT_LOAD: p_vaddr at 16 */
			bias = (unsigned long)base - *(const unsigned long *)(ph + 16);
			break;
		}
	}
	if (!shoff || shentsize != 64)
		return;
	for (unsigned int i = 0; i < shnum; i++) {
		const unsigned char *sh = base + shoff + i * 64;
		const unsigned char *strsh, *sym;
		unsigned long size, entsize;
		const char *strtab;

		if (*(const uint32_t *)(sh + 4) != 11)	/* SHT_DYNSYM */
			continue;
		strsh = base + shoff + *(const uint32_t *)(sh + 40) * 64;	/* sh_link */
		strtab = (const char *)(base + *(const unsigned long *)(strsh + 24));	/* sh_offset */
		sym = base + *(const unsigned long *)(sh + 24);
		size = *(const unsigned long *)(sh + 32);
		entsize = *(const unsigned long *)(sh + 56);
		if (entsize != 24)
			return;
		for (unsigned long off = 0; off + 24 <= size; off += 24) {
			const char *name = strtab + *(const uint32_t *)(sym + off);
			unsigned long value = *(const unsigned long *)(sym + off + 8);

			if (value && (st_streq(name, "__vdso_clock_gettime") ||
				      st_streq(name, "__kernel_clock_gettime"))) {
				st_vdso_gettime = (int (*)(long, struct st_ts *))(bias + value);
				return;
			}
		}
	}
}

static void st_count_time(long nr, unsigned long t0)
{
	unsigned long t1;

	if (!t0 || nr < 0 || nr >= ST_NR_MAX)
		return;
	t1 = st_now();
	if (t1 > t0)
		__atomic_fetch_add(&st_nsec[nr], t1 - t0, __ATOMIC_RELAXED);
}

static void st_count(long nr, long ret)
{
	if (nr < 0 || nr >= ST_NR_MAX)
		return;
	__atomic_fetch_add(&st_calls[nr], 1, __ATOMIC_RELAXED);
	if (ret < 0 && ret >= -4095)
		__atomic_fetch_add(&st_errors[nr], 1, __ATOMIC_RELAXED);
}

/* Appends this process's counts to the -c stream and starts again at 0. */
static void st_count_flush(void)
{
	struct st_buf o;

	if (st.cfd < 0)
		return;
	o.n = 0;
	for (long nr = 0; nr < ST_NR_MAX; nr++) {
		unsigned long c = __atomic_exchange_n(&st_calls[nr], 0, __ATOMIC_RELAXED);
		unsigned long e = __atomic_exchange_n(&st_errors[nr], 0, __ATOMIC_RELAXED);
		unsigned long ns = __atomic_exchange_n(&st_nsec[nr], 0, __ATOMIC_RELAXED);

		if (!c)
			continue;
		st_putu(&o, nr, 10);
		st_putc(&o, ' ');
		st_putu(&o, c, 10);
		st_putc(&o, ' ');
		st_putu(&o, e, 10);
		st_putc(&o, ' ');
		st_putu(&o, ns, 10);
		st_putc(&o, '\n');
		if (o.n > sizeof(o.b) - 100) {
			int fd = st.fd;

			st.fd = st.cfd;
			st_flush(&o);
			st.fd = fd;
		}
	}
	if (o.n) {
		int fd = st.fd;

		st.fd = st.cfd;
		st_flush(&o);
		st.fd = fd;
	}
}

static void st_count_reset(void)
{
	for (long nr = 0; nr < ST_NR_MAX; nr++) {
		st_calls[nr] = 0;
		st_errors[nr] = 0;
		st_nsec[nr] = 0;
		st_injcount[nr] = 0;
	}
}

/* --- injection -------------------------------------------------------- */

static int st_inject(long nr, long *ret)
{
	int hit = 0;
	unsigned long n;

	if (!st.ninj || nr < 0 || nr >= ST_NR_MAX)
		return 0;
	for (int i = 0; i < st.ninj; i++)
		if (st.inj_nr[i] == nr)
			hit = 1;
	if (!hit)
		return 0;
	n = __atomic_add_fetch(&st_injcount[nr], 1, __ATOMIC_RELAXED);
	if (n < st.inj_first)
		return 0;
	if (!st.inj_plus && n != st.inj_first)
		return 0;
	if (st.inj_plus && st.inj_step > 1 && (n - st.inj_first) % st.inj_step)
		return 0;
	*ret = st.inj_ret;
	return 1;
}

/* --- the program's signal dispositions --------------------------------- */

static void st_die_by_sigsys(void)
{
	unsigned long dfl[4] = { 0 };
	unsigned long set = ST_SIGSYS_BIT;

	st_sc6(ST_NR_rt_sigaction, SIGSYS, (unsigned long)dfl, 0, 8, 0, 0);
	st_sc6(ST_NR_rt_sigprocmask, SIG_UNBLOCK, (unsigned long)&set, 0, 8, 0, 0);
	st_sc(ST_NR_tgkill, st_getpid(), st_gettid(), SIGSYS);
}

/* A SIGSYS that is not selftrace's: the program's own handler gets it. */
static void st_forward(siginfo_t *info, ucontext_t *uc)
{
	unsigned long h = st_prog_sigsys[ST_KSA_HANDLER_OFF / 8];
	unsigned long flags = st_prog_sigsys[ST_KSA_FLAGS_OFF / 8];

	if (h == (unsigned long)SIG_IGN && info->si_code <= 0)
		return;
	if (h == (unsigned long)SIG_DFL || h == (unsigned long)SIG_IGN) {
		st_die_by_sigsys();
		return;
	}
	if (flags & ST_SA_RESETHAND)
		st_prog_sigsys[0] = (unsigned long)SIG_DFL;
	/* As st_sigwrap: traced even when it interrupts selftrace's handler. */
	if (st_inside && st.backend == ST_BACKEND_SP) {
		st_inside = 0;
		st_sc(ST_NR_ptrace, PTRACE_SELF_ON, 0, 0);
		((void (*)(int, siginfo_t *, void *))h)(SIGSYS, info, uc);
		st_sc(ST_NR_ptrace, PTRACE_SELF_OFF, 0, 0);
		st_inside = 1;
		return;
	}
	((void (*)(int, siginfo_t *, void *))h)(SIGSYS, info, uc);
}

/* rt_sigaction: SIGSYS is emulated; no other handler may block SIGSYS. */
/*
 * Self-ptrace only: a program's signal handler that interrupts a call the
 * SIGSYS handler is performing runs with the thread disarmed, so its own
 * calls would go untraced. Every handler the program installs is wrapped:
 * the wrapper arms the thread around the program's handler when it
 * interrupted selftrace's handler, and disarms it again afterwards.
 */
static void st_sigwrap(int sig, siginfo_t *info, void *uc)
{
	unsigned long h, flags;
	/*
	 * Disarmed: inside selftrace's handler, or about to run its first
	 * instruction (the kernel delivered this signal right after the SIGSYS
	 * of an interception, before the handler ran).
	 */
	int st_inside_was = st_inside;
	int inside = st_inside || ST_UC_PC((ucontext_t *)uc) == (unsigned long)st_sigsys;

	if (sig <= 0 || sig >= ST_NSIG)
		return;
	h = st_prog_act[sig][ST_KSA_HANDLER_OFF / 8];
	flags = st_prog_act[sig][ST_KSA_FLAGS_OFF / 8];
	if (flags & ST_SA_RESETHAND)
		st_prog_act[sig][ST_KSA_HANDLER_OFF / 8] = (unsigned long)SIG_DFL;
	if (h == (unsigned long)SIG_DFL || h == (unsigned long)SIG_IGN)
		return;
	if (inside) {
		st_inside = 0;
		st_sc(ST_NR_ptrace, PTRACE_SELF_ON, 0, 0);
	}
	((void (*)(int, siginfo_t *, void *))h)(sig, info, uc);
	if (inside) {
		st_sc(ST_NR_ptrace, PTRACE_SELF_OFF, 0, 0);
		st_inside = st_inside_was;
	}
}

/*
 * rt_sigaction: SIGSYS is emulated; no other handler may block SIGSYS;
 * under self-ptrace, handlers are wrapped (st_sigwrap) and the program
 * reads back its own.
 */
static long st_do_sigaction(const unsigned long *a)
{
	int sig = (int)a[0];
	unsigned long act[4], old[4];
	int wrap = st.backend == ST_BACKEND_SP && sig > 0 && sig < ST_NSIG;
	long ret;

	if (a[3] != 8)
		return -ST_EINVAL;
	if (sig == SIGSYS) {
		if (a[2])
			memcpy((void *)a[2], st_prog_sigsys, sizeof(st_prog_sigsys));
		if (a[1])
			memcpy(st_prog_sigsys, (const void *)a[1], sizeof(st_prog_sigsys));
		return 0;
	}
	if (!a[1]) {
		ret = st_sc6(ST_NR_rt_sigaction, a[0], 0, (unsigned long)old, a[3], 0, 0);
		if (ret < 0)
			return ret;
		if (wrap && old[ST_KSA_HANDLER_OFF / 8] == (unsigned long)st_sigwrap)
			memcpy(old, st_prog_act[sig], sizeof(old));
		if (a[2])
			memcpy((void *)a[2], old, sizeof(old));
		return ret;
	}
	memcpy(act, (const void *)a[1], sizeof(act));
	act[ST_KSA_MASK_OFF / 8] &= ~ST_SIGSYS_BIT;
	if (wrap && act[ST_KSA_HANDLER_OFF / 8] != (unsigned long)SIG_DFL &&
	    act[ST_KSA_HANDLER_OFF / 8] != (unsigned long)SIG_IGN) {
		act[ST_KSA_HANDLER_OFF / 8] = (unsigned long)st_sigwrap;
		act[ST_KSA_FLAGS_OFF / 8] |= ST_SA_SIGINFO;
	}
	ret = st_sc6(ST_NR_rt_sigaction, a[0], (unsigned long)act, (unsigned long)old, a[3], 0, 0);
	if (ret < 0)
		return ret;
	if (wrap && old[ST_KSA_HANDLER_OFF / 8] == (unsigned long)st_sigwrap)
		memcpy(old, st_prog_act[sig], sizeof(old));
	if (a[2])
		memcpy((void *)a[2], old, sizeof(old));
	if (wrap)
		memcpy(st_prog_act[sig], (const void *)a[1], sizeof(old));
	return ret;
}

/*
 * rt_sigprocmask: rt_sigreturn restores the ucontext's mask, so the call's
 * effect must land there. SIGSYS is never blocked: a blocked SIGSYS would
 * kill the process at its next intercepted call.
 */
static long st_do_sigprocmask(const unsigned long *a, ucontext_t *uc)
{
	unsigned long set = 0, now;
	int had = st_vblocked, want = had;
	long ret;

	if (a[1] && a[3] == 8) {
		set = *(const unsigned long *)a[1];
		if (a[0] == SIG_BLOCK && (set & ST_SIGSYS_BIT))
			want = 1;
		else if (a[0] == SIG_UNBLOCK && (set & ST_SIGSYS_BIT))
			want = 0;
		else if (a[0] == SIG_SETMASK)
			want = !!(set & ST_SIGSYS_BIT);
		set &= ~ST_SIGSYS_BIT;
		ret = st_sc6(ST_NR_rt_sigprocmask, a[0], (unsigned long)&set, a[2], a[3], 0, 0);
	} else {
		ret = st_sc6(ST_NR_rt_sigprocmask, a[0], a[1], a[2], a[3], 0, 0);
	}
	if (ret == 0) {
		st_vblocked = want;
		if (a[2] && had)
			*(unsigned long *)a[2] |= ST_SIGSYS_BIT;
		if (st_sc6(ST_NR_rt_sigprocmask, SIG_BLOCK, 0, (unsigned long)&now, 8, 0, 0) == 0)
			memcpy(&uc->uc_sigmask, &now, sizeof(now));
	}
	return ret;
}

/* --- the tracer's descriptors ----------------------------------------- */

static int st_is_ours(long fd)
{
	return fd >= 0 && (fd == st.fd || fd == st.cfd);
}

/* Moves a descriptor of ours out of the way of a dup2/dup3 onto it. */
static void st_move_fd(long fd)
{
	long nfd = st_sc(ST_NR_fcntl, fd, ST_F_DUPFD_CLOEXEC, fd + 1);

	if (nfd < 0)
		return;
	if (fd == st.fd)
		st.fd = (int)nfd;
	if (fd == st.cfd)
		st.cfd = (int)nfd;
	st_sc(ST_NR_close, fd, 0, 0);
}

/* close_range over our descriptors: close around them. */
static long st_do_close_range(const unsigned long *a)
{
	unsigned int lo = (unsigned int)a[0], hi = (unsigned int)a[1];
	int keep[2] = { st.fd, st.cfd };
	long ret;

	if (lo > hi)
		return -ST_EINVAL;
	/* keep[] in ascending order */
	if (keep[1] >= 0 && (keep[0] < 0 || keep[1] < keep[0])) {
		int t = keep[0];

		keep[0] = keep[1];
		keep[1] = t;
	}
	for (int i = 0; i < 2; i++) {
		unsigned int k = (unsigned int)keep[i];

		if (keep[i] < 0 || k < lo || k > hi)
			continue;
		if (k > lo) {
			ret = st_sc(ST_NR_close_range, lo, k - 1, a[2]);
			if (ret < 0)
				return ret;
		}
		if (k == hi)
			return 0;
		lo = k + 1;
	}
	return st_sc(ST_NR_close_range, lo, hi, a[2]);
}

/* --- fork, vfork, clone, clone3 ----------------------------------------- */

/*
 * A new task that continues on a stack of its own (a thread, posix_spawn's
 * child) cannot return through this handler: it starts in st_clone_gate on
 * a stack whose top holds a resume block, sets its signal mask, arms itself
 * under -f and jumps to the program's next instruction with the program's
 * registers (arch/<arch>.h says which scratch registers that clobbers).
 */
void st_child_main(struct st_resume *r)
{
	unsigned long mask = r->mask & ~ST_SIGSYS_BIT;

	st_sc6(ST_NR_rt_sigprocmask, SIG_SETMASK, (unsigned long)&mask, 0, 8, 0, 0);
	if (r->arm) {
		st_install(0);
		st_arm();
	}
}

#ifdef ST_CHILD_SIGRETURN
/* The child's first call: arm under -f; its rt_sigreturn follows. */
void st_child_arm(unsigned long frame)
{
	if (((unsigned long *)frame)[1]) {
		st_install(0);
		st_arm();
	}
}

/*
 * A copy of this handler's signal frame on the new stack, made the child's:
 * result 0, the new stack pointer, SIGSYS unblocked. Returns the child's sp.
 */
static unsigned long st_place_child(unsigned long top, siginfo_t *info, ucontext_t *uc,
				    unsigned long flags, unsigned long tls)
{
	size_t ucoff = ST_SIGFRAME_INFO_OFF + ((char *)uc - (char *)info);
	size_t len = ucoff + ST_KUC_SIZE;
	unsigned long f = (top - len - 64) & ~15UL;
	ucontext_t *cuc = (ucontext_t *)(f + ucoff);

	memset((void *)f, 0, ucoff);
	memcpy(cuc, uc, ST_KUC_SIZE);
	ST_UC_SETRET(cuc, 0);
	cuc->uc_mcontext.gregs[15] = top;
	((unsigned long *)&cuc->uc_sigmask)[0] &= ~ST_SIGSYS_BIT;
	((unsigned long *)f)[1] = st.follow;
	/* rt_sigreturn restores the thread pointer too: the child's own */
	if (flags & CLONE_SETTLS)
		ST_UC_SETTLS(cuc, tls);
	return f;
}
#else
static unsigned long st_place_child(unsigned long top, siginfo_t *info, ucontext_t *uc,
				    unsigned long flags, unsigned long tls)
{
	struct st_resume *r = (struct st_resume *)((top - sizeof(*r) - 64) & ~15UL);

	(void)info;
	(void)flags;
	(void)tls;
	memset(r, 0, sizeof(*r));
	st_arch_fill_resume(r, uc);
	r->sp = top;
	memcpy(&r->mask, &uc->uc_sigmask, sizeof(r->mask));
	r->arm = st.follow;
	return (unsigned long)r;
}
#endif

/*
 * vfork as glibc makes it on arm64 and riscv64: CLONE_VM|CLONE_VFORK with
 * the caller's own stack. The child would run on the stack that holds this
 * handler's frame: selftrace performs it without CLONE_VM and without a
 * stack (a fork that the parent waits for), as valgrind does.
 */
static int st_vfork_style(unsigned long flags, unsigned long top, ucontext_t *uc)
{
	unsigned long sp = ST_UC_SP(uc);

	if (!(flags & CLONE_VFORK) || !(flags & CLONE_VM))
		return 0;
	return !top || (top >= sp - 4096 && top <= sp + (1UL << 20));
}

/* After a fork-like call returned 0 in the child, inside the handler. */
static int st_in_child(void)
{
	if (!st.follow)
		return 0;	/* not traced: never armed again */
	st_count_reset();
	st_install(0);	/* CLONE_CLEAR_SIGHAND */
	if (st.backend == ST_BACKEND_SUD)
		st_arm();	/* fork clears Syscall User Dispatch */
	return 1;
}

static long st_do_clone(long nr, unsigned long *a, siginfo_t *info, ucontext_t *uc, int *child, int *traced)
{
	unsigned long flags, top;

	*child = 0;
	if (nr == ST_NR_clone3) {
		struct clone_args ca;
		size_t size = a[1] < sizeof(ca) ? a[1] : sizeof(ca);

		if (!a[0] || a[1] < 64)
			return st_sc(nr, a[0], a[1], 0);
		memset(&ca, 0, sizeof(ca));
		memcpy(&ca, (const void *)a[0], size);
		if (st_vfork_style(ca.flags, ca.stack ? ca.stack + ca.stack_size : 0, uc)) {
			ca.flags &= ~(unsigned long long)CLONE_VM;
			ca.stack = 0;
			ca.stack_size = 0;
		}
		if (ca.stack) {
			top = ca.stack + ca.stack_size;
			ca.stack_size = st_place_child(top, info, uc, ca.flags, ca.tls) - ca.stack;
			return st_clone_gate(nr, (unsigned long)&ca, a[1] < sizeof(ca) ? a[1] : sizeof(ca), 0, 0, 0, 0);
		}
		{
			long ret = st_sc(nr, (unsigned long)&ca, size, 0);

			if (ret == 0) {
				*child = 1;
				*traced = st_in_child();
			}
			return ret;
		}
	}
	if (nr == ST_NR_clone) {
		unsigned long b[6];

		memcpy(b, a, sizeof(b));
		flags = b[ST_CLONE_FLAGS_ARG];
		top = b[ST_CLONE_STACK_ARG];
		if (st_vfork_style(flags, top, uc)) {
			b[ST_CLONE_FLAGS_ARG] = flags & ~(unsigned long)CLONE_VM;
			b[ST_CLONE_STACK_ARG] = top = 0;
		}
		if (top) {
			b[ST_CLONE_STACK_ARG] = st_place_child(top, info, uc, flags, b[ST_CLONE_TLS_ARG]);
			return st_clone_gate(nr, b[0], b[1], b[2], b[3], b[4], b[5]);
		}
		{
			long ret = st_sc6(nr, b[0], b[1], b[2], b[3], b[4], b[5]);

			if (ret == 0) {
				*child = 1;
				*traced = st_in_child();
			}
			return ret;
		}
	}
	/* fork, or vfork done as a fork that the parent waits for. */
	{
		long ret;

		if (nr == ST_NR_vfork)
			ret = st_sc6(ST_NR_clone, ST_CLONE_FLAGS_ARG ? 0 : (CLONE_VFORK | SIGCHLD),
				     ST_CLONE_FLAGS_ARG ? (CLONE_VFORK | SIGCHLD) : 0, 0, 0, 0, 0);
		else
			ret = st_sc(nr, 0, 0, 0);
		if (ret == 0) {
			*child = 1;
			*traced = st_in_child();
		}
		return ret;
	}
}

/* --- execve ------------------------------------------------------------ */

static unsigned long st_mmap(size_t len)
{
#if defined(__s390x__)
	/* s390x's mmap is old_mmap: its arguments are in memory */
	unsigned long args[6] = { 0, len, ST_PROT_RW, ST_MAP_PRIVATE_ANON, -1UL, 0 };
	long r = st_sc(ST_NR_mmap, (unsigned long)args, 0, 0);
#else
	long r = st_sc6(ST_NR_mmap, 0, len, ST_PROT_RW, ST_MAP_PRIVATE_ANON, -1UL, 0);
#endif

	return (r < 0 && r >= -4095) ? 0 : (unsigned long)r;
}

/* Is the file a dynamically linked ELF (or not an ELF at all: a script)? */
static int st_is_static(long dirfd, const char *path, unsigned long flags)
{
	unsigned char h[64];
	unsigned char ph[56];
	long fd, n;
	unsigned long phoff;
	unsigned int phentsize, phnum;
	int is_static = 1;

	if (!path)
		return 0;
	if (path[0] == 0 && (flags & ST_AT_EMPTY_PATH))
		return 0;
	fd = st_sc6(ST_NR_openat, dirfd, (unsigned long)path, ST_O_RDONLY | 02000000, 0, 0, 0);
	if (fd < 0)
		return 0;
	n = st_sc6(ST_NR_pread64, fd, (unsigned long)h, sizeof(h), 0, 0, 0);
	if (n < 64 || h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F' || h[4] != 2) {
		st_sc(ST_NR_close, fd, 0, 0);
		return 0;
	}
#if defined(__s390x__)
	phoff = 0;
	for (int i = 0; i < 8; i++)
		phoff = phoff << 8 | h[32 + i];
	phentsize = h[54] << 8 | h[55];
	phnum = h[56] << 8 | h[57];
#else
	phoff = 0;
	for (int i = 7; i >= 0; i--)
		phoff = phoff << 8 | h[32 + i];
	phentsize = h[54] | h[55] << 8;
	phnum = h[56] | h[57] << 8;
#endif
	if (phentsize != sizeof(ph))
		phnum = 0;
	for (unsigned int i = 0; i < phnum && i < 64; i++) {
		unsigned int type;

		if (st_sc6(ST_NR_pread64, fd, (unsigned long)ph, sizeof(ph), phoff + i * sizeof(ph), 0, 0) != sizeof(ph))
			break;
#if defined(__s390x__)
		type = ph[0] << 24 | ph[1] << 16 | ph[2] << 8 | ph[3];
#else
		type = ph[0] | ph[1] << 8 | ph[2] << 16 | ph[3] << 24;
#endif
		if (type == 3) {	/* PT_INTERP */
			is_static = 0;
			break;
		}
	}
	st_sc(ST_NR_close, fd, 0, 0);
	return is_static;
}

static char *st_stpcpy(char *d, const char *s)
{
	while (*s)
		*d++ = *s++;
	*d = 0;
	return d;
}

/*
 * The environment of a traced execve: the program's, with LD_PRELOAD naming
 * this library first, SELFTRACE, and SELFTRACE_EXEC holding the line the new
 * image prints first. Returns the mapping (0 if it could not be made).
 */
static unsigned long st_exec_env(const char *const *envp, const char *line, size_t *maplen)
{
	size_t n = 0, bytes, liblen = st_strlen(st.lib), cfglen = st_strlen(st.cfg);
	const char *preload = 0;
	unsigned long m;
	char **out, *s;
	size_t j = 0;

	if (envp)
		while (envp[n])
			n++;
	bytes = (n + 4) * sizeof(char *) + liblen + cfglen + st_strlen(line) + 64;
	for (size_t i = 0; i < n; i++)
		if (st_startswith(envp[i], "LD_PRELOAD="))
			preload = envp[i] + 11;
	if (preload)
		bytes += st_strlen(preload) + 1;
	bytes = (bytes + 4095) & ~4095UL;
	m = st_mmap(bytes);
	if (!m)
		return 0;
	out = (char **)m;
	s = (char *)(out + n + 4);
	for (size_t i = 0; i < n; i++) {
		if (st_startswith(envp[i], "LD_PRELOAD=") || st_startswith(envp[i], "SELFTRACE=") ||
		    st_startswith(envp[i], "SELFTRACE_EXEC="))
			continue;
		out[j++] = (char *)envp[i];
	}
	out[j++] = s;
	s = st_stpcpy(s, "LD_PRELOAD=");
	s = st_stpcpy(s, st.lib);
	if (preload && *preload) {
		s = st_stpcpy(s, ":");
		s = st_stpcpy(s, preload);
	}
	s++;
	out[j++] = s;
	s = st_stpcpy(s, "SELFTRACE=");
	s = st_stpcpy(s, st.cfg);
	s++;
	out[j++] = s;
	s = st_stpcpy(s, "SELFTRACE_EXEC=");
	s = st_stpcpy(s, line);
	out[j] = 0;
	*maplen = bytes;
	return m;
}

static long st_do_execve(long nr, unsigned long *a)
{
	struct st_buf *o;
	unsigned long m, envm;
	size_t envlen = 0;
	long ret, dirfd = ST_AT_FDCWD;
	const char *path = (const char *)a[0];
	const unsigned long *argv = &a[1];
	unsigned long pa[6];
	unsigned long flags = 0;

	if (nr == ST_NR_execveat) {
		dirfd = (long)(int)a[0];
		path = (const char *)a[1];
		argv = &a[2];
		flags = a[4];
	}
	m = st_mmap(sizeof(struct st_buf));
	if (!m)
		return st_sc6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	o = (struct st_buf *)m;
	o->n = 0;
	/* The call as the program made it, without its result. */
	st_putcall(o, nr, a, 0, 1);
	o->n--;	/* drop the ')' */
	o->b[o->n] = 0;
	if (st_is_static(dirfd, path, flags)) {
		struct st_buf *w = (struct st_buf *)st_mmap(sizeof(struct st_buf));

		if (w) {
			w->n = 0;
			st_prefix(w);
			st_puts(w, "selftrace: ");
			st_puts(w, path);
			st_puts(w, " is statically linked: its system calls are not traced\n");
			st_flush(w);
			st_sc(ST_NR_munmap, (unsigned long)w, sizeof(struct st_buf), 0);
		}
	}
	memcpy(pa, a, sizeof(pa));
	envm = st_exec_env((const char *const *)argv[1], o->b, &envlen);
	if (envm)
		pa[nr == ST_NR_execveat ? 3 : 2] = envm;
	st_count_flush();
	st_sc(ST_NR_fcntl, st.fd, ST_F_SETFD, 0);
	if (st.cfd >= 0)
		st_sc(ST_NR_fcntl, st.cfd, ST_F_SETFD, 0);
	ret = st_sc6(nr, pa[0], pa[1], pa[2], pa[3], pa[4], pa[5]);
	/* Still here: the execve failed. */
	st_sc(ST_NR_fcntl, st.fd, ST_F_SETFD, ST_FD_CLOEXEC);
	if (st.cfd >= 0)
		st_sc(ST_NR_fcntl, st.cfd, ST_F_SETFD, ST_FD_CLOEXEC);
	if (envm)
		st_sc(ST_NR_munmap, envm, envlen, 0);
	st_count(nr, ret);
	if (st_wanted(nr)) {
		struct st_buf *w = (struct st_buf *)st_mmap(sizeof(struct st_buf));

		if (w) {
			w->n = 0;
			st_prefix(w);
			st_puts(w, o->b);
			st_putc(w, ')');
			st_putret(w, nr, ret);
			st_putc(w, '\n');
			st_flush(w);
			st_sc(ST_NR_munmap, (unsigned long)w, sizeof(struct st_buf), 0);
		}
	}
	st_sc(ST_NR_munmap, m, sizeof(struct st_buf), 0);
	return ret;
}

/* --- the handler --------------------------------------------------------- */

static void st_exit_lines(long nr, const unsigned long *a)
{
	struct st_buf o;

	if (nr == ST_NR_exit_group || nr == ST_NR_exit)
		st_count(nr, 0);
	if (nr == ST_NR_exit_group)
		st_count_flush();
	if (st.fd < 0 || st.cfd >= 0)
		return;
	o.n = 0;
	if (st_wanted(nr)) {
		st_prefix(&o);
		st_putcall(&o, nr, a, 0, 1);
		st_putret(&o, nr, 0);
		st_putc(&o, '\n');
	}
	st_prefix(&o);
	st_puts(&o, "+++ exited with ");
	st_putd(&o, (int)a[0] & 0xff);
	st_puts(&o, " +++\n");
	st_flush(&o);
}

static void st_sigsys(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;
	int code = st.backend == ST_BACKEND_SUD ? SYS_USER_DISPATCH_CODE : SYS_SELF_PTRACE;
	unsigned long a[6];
	long nr, ret = 0;
	int injected = 0, child = 0, traced = 1, printed = 1;

	(void)sig;
	if (info->si_code == code)
		st_inside = 1;	/* first: st_sigwrap reads it */
	if (info->si_code != code) {
		/*
		 * A SIGSYS of the program's (seccomp's, kill's): its delivery
		 * did not disarm the thread, so nothing is re-armed.
		 */
		st_forward(info, uc);
		goto out_forwarded;
	}
	nr = info->si_syscall;
	st_inside = 1;
	/*
	 * Under SUD, the program's own signal handlers return through an
	 * rt_sigreturn outside the gate: perform it on the program's stack.
	 */
	if (nr == ST_NR_rt_sigreturn || nr == ST_NR_sigreturn)
		st_sigreturn_at(ST_UC_SP(uc), nr);
	for (int i = 0; i < 6; i++)
		a[i] = ST_UC_ARG(uc, i);

	if (st_inject(nr, &ret)) {
		injected = 1;
	} else if (nr == ST_NR_exit || nr == ST_NR_exit_group) {
		st_exit_lines(nr, a);
		st_sc(nr, a[0], 0, 0);
	} else if (nr == ST_NR_execve || nr == ST_NR_execveat) {
		ret = st_do_execve(nr, a);
		printed = 0;
	} else if (nr == ST_NR_clone || nr == ST_NR_clone3 || nr == ST_NR_fork || nr == ST_NR_vfork) {
		ret = st_do_clone(nr, a, info, uc, &child, &traced);
	} else if (nr == ST_NR_rt_sigaction) {
		ret = st_do_sigaction(a);
	} else if (nr == ST_NR_rt_sigprocmask) {
		ret = st_do_sigprocmask(a, uc);
	} else if (nr == ST_NR_rt_sigsuspend && a[0] && a[1] == 8) {
		unsigned long set = *(const unsigned long *)a[0] & ~ST_SIGSYS_BIT;

		ret = st_sc(nr, (unsigned long)&set, a[1], 0);
	} else if (nr == ST_NR_close && st_is_ours((long)(int)a[0])) {
		ret = -ST_EBADF;	/* as without selftrace: the program never had it */
	} else if (nr == ST_NR_close_range) {
		ret = st_do_close_range(a);
	} else if ((nr == ST_NR_dup2 || nr == ST_NR_dup3) && st_is_ours((long)(int)a[1]) &&
		   (int)a[0] != (int)a[1]) {
		st_move_fd((long)(int)a[1]);
		ret = st_sc(nr, a[0], a[1], a[2]);
	} else {
		unsigned long t0 = st_now();

		ret = st_sc6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		st_count_time(nr, t0);
	}
	ST_UC_SETRET(uc, ret);

	if (child) {
		/* The new process: its parent prints the call. */
		if (!traced)
			goto out_untraced;
		goto out;
	}
	if (printed) {
		st_count(nr, ret);
		if (st_wanted(nr)) {
			struct st_buf o;

			o.n = 0;
			st_prefix(&o);
			st_putcall(&o, nr, a, ret, ret != -ST_EFAULT);
			st_putret(&o, nr, ret);
			if (injected)
				st_puts(&o, " (INJECTED)");
			st_putc(&o, '\n');
			st_flush(&o);
		}
	}
out:
	st_inside = 0;
	st_rearm();	/* the last system call before the return */
out_untraced:
	st_inside = 0;
out_forwarded:
#ifdef ST_SUD_OWN_SIGRETURN
	if (st.backend == ST_BACKEND_SUD)
		st_sigreturn_at((unsigned long)info, ST_NR_rt_sigreturn);
#endif
	return;
}

/* --- set-up ---------------------------------------------------------------- */

static long st_atol(const char **p)
{
	long v = 0;
	int neg = 0;

	if (**p == '-') {
		neg = 1;
		(*p)++;
	}
	while (**p >= '0' && **p <= '9')
		v = v * 10 + (*(*p)++ - '0');
	return neg ? -v : v;
}

static int st_key(const char **p, const char *k)
{
	size_t n = st_strlen(k);

	for (size_t i = 0; i < n; i++)
		if ((*p)[i] != k[i])
			return 0;
	if ((*p)[n] != '=')
		return 0;
	*p += n + 1;
	return 1;
}

/* SELFTRACE=fd=N;cfd=N;f=0|1;o=0|1;s=N;main=PID;backend=sp|sud;trace=NR,NR;neg=0|1;inject=NR,NR:ret=V:err=0|1:first=N:step=N:plus=0|1;lib=PATH */
static void st_parse(const char *v)
{
	const char *p = v;
	int neg = 0, any_trace = 0;

	st.fd = -1;
	st.cfd = -1;
	st.strsize = 32;
	st.inj_first = 1;
	for (long i = 0; i < ST_NR_MAX; i++)
		st.trace[i] = 1;
	while (*p) {
		if (st_key(&p, "fd")) {
			st.fd = (int)st_atol(&p);
		} else if (st_key(&p, "cfd")) {
			st.cfd = (int)st_atol(&p);
		} else if (st_key(&p, "f")) {
			st.follow = (int)st_atol(&p);
		} else if (st_key(&p, "o")) {
			st.ofile = (int)st_atol(&p);
		} else if (st_key(&p, "s")) {
			st.strsize = (int)st_atol(&p);
		} else if (st_key(&p, "main")) {
			st.mainpid = st_atol(&p);
		} else if (st_key(&p, "backend")) {
			st.backend = st_startswith(p, "sud") ? ST_BACKEND_SUD : ST_BACKEND_SP;
		} else if (st_key(&p, "neg")) {
			neg = (int)st_atol(&p);
		} else if (st_key(&p, "trace")) {
			if (*p && *p != ';') {
				any_trace = 1;
				for (long i = 0; i < ST_NR_MAX; i++)
					st.trace[i] = 0;
			}
			while (*p >= '0' && *p <= '9') {
				long nr = st_atol(&p);

				if (nr >= 0 && nr < ST_NR_MAX)
					st.trace[nr] = 1;
				if (*p == ',')
					p++;
			}
		} else if (st_key(&p, "inject")) {
			while (*p >= '0' && *p <= '9' && st.ninj < ST_INJ_MAX) {
				st.inj_nr[st.ninj++] = (int)st_atol(&p);
				if (*p == ',')
					p++;
			}
			while (*p == ':') {
				p++;
				if (st_key(&p, "ret"))
					st.inj_ret = st_atol(&p);
				else if (st_key(&p, "first"))
					st.inj_first = st_atol(&p);
				else if (st_key(&p, "step"))
					st.inj_step = st_atol(&p);
				else if (st_key(&p, "plus"))
					st.inj_plus = (int)st_atol(&p);
				else
					while (*p && *p != ':' && *p != ';')
						p++;
			}
		} else if (st_key(&p, "lib")) {
			size_t i = 0;

			while (*p && *p != ';' && i < sizeof(st.lib) - 1)
				st.lib[i++] = *p++;
			st.lib[i] = 0;
		}
		while (*p && *p != ';')
			p++;
		if (*p == ';')
			p++;
	}
	if (any_trace && neg)
		for (long i = 0; i < ST_NR_MAX; i++)
			st.trace[i] = !st.trace[i];
}

/* Removes this library's entry from an LD_PRELOAD value, in place. */
static int st_strip_preload(char *entry)
{
	char *v = entry + 11, *w = v;
	size_t liblen = st_strlen(st.lib);
	int kept = 0;

	while (*v) {
		char *e = v;
		size_t n;

		while (*e && *e != ':' && *e != ' ')
			e++;
		n = e - v;
		if (!(n == liblen && st_startswith(v, st.lib) && liblen)) {
			if (kept)
				*w++ = ':';
			for (size_t i = 0; i < n; i++)
				*w++ = v[i];
			kept = 1;
		}
		v = *e ? e + 1 : e;
	}
	*w = 0;
	return kept;
}

__attribute__((constructor)) static void st_init(int argc, char **argv, char **envp)
{
	char *cfg = 0, *execline = 0;
	size_t j = 0;
	long r;

	(void)argc;
	(void)argv;
	if (!envp)
		return;
	for (size_t i = 0; envp[i]; i++) {
		if (st_startswith(envp[i], "SELFTRACE="))
			cfg = envp[i] + 10;
		else if (st_startswith(envp[i], "SELFTRACE_EXEC="))
			execline = envp[i] + 15;
	}
	if (!cfg)
		return;
	for (size_t i = 0; cfg[i] && i < sizeof(st.cfg) - 1; i++)
		st.cfg[i] = cfg[i];
	st_parse(cfg);
	if (!st.follow && st.mainpid && st_getpid() != st.mainpid)
		return;
	/* auxv follows the environment: look before the environment shrinks */
	if (st.cfd >= 0)
		st_find_vdso(envp);
	/* The program sees its own environment, without selftrace's entries. */
	for (size_t i = 0; envp[i]; i++) {
		if (st_startswith(envp[i], "SELFTRACE=") || st_startswith(envp[i], "SELFTRACE_EXEC="))
			continue;
		if (st_startswith(envp[i], "LD_PRELOAD=") && !st_strip_preload(envp[i]))
			continue;
		envp[j++] = envp[i];
	}
	for (size_t i = j; envp[i]; i++)
		envp[i] = 0;

	if (st.fd >= 0)
		st_sc(ST_NR_fcntl, st.fd, ST_F_SETFD, ST_FD_CLOEXEC);
	if (st.cfd >= 0)
		st_sc(ST_NR_fcntl, st.cfd, ST_F_SETFD, ST_FD_CLOEXEC);

	if (st_install(st_prog_sigsys) < 0)
		return;
	if (execline && st.fd >= 0 && st.cfd < 0 && st_wanted(ST_NR_execve)) {
		struct st_buf o;

		o.n = 0;
		st_prefix(&o);
		st_puts(&o, execline);
		st_puts(&o, ") = 0\n");
		st_flush(&o);
	}
	if (execline)
		st_count(ST_NR_execve, 0);	/* the execve that made this image */
	st.active = 1;
	r = st_arm();
	if (r < 0) {
		struct st_buf o;

		o.n = 0;
		st_puts(&o, "selftrace: arming failed: ");
		st_puts(&o, (-r < ST_ERRNO_MAX && st_errno[-r].name) ? st_errno[-r].name : "error");
		st_puts(&o, "; not tracing\n");
		st_flush(&o);
		st.active = 0;
	}
}
