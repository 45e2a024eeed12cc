/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checks that every compat (32/31-bit) test program makes, for an
 * armed compat task on a 64-bit kernel: ia32_selfptrace.c (x86_64),
 * s390_31_selfptrace.c (s390x), arm32_selfptrace.c (arm64) and
 * rv32_selfptrace.c (riscv64).
 *
 * The programs are freestanding (no libc): each one defines, before it
 * includes this file,
 *   NAME			the prefix of its output lines
 *   NR_write, NR_getpid, NR_ptrace, NR_sigreturn, NR_rt_sigreturn,
 *   NR_rt_sigaction, NR_exit_group	its compat system call numbers
 *			(NR_sigreturn -1 where there is none)
 *   AUDIT_ARCH		the si_arch of its compat system calls
 *   PC_AFTER_CALL	the program counter the ucontext holds after the
 *			system call instruction (sys_after, plus the
 *			addressing mode bit on s390)
 *   NR_REG		1 if the number register is part of the rollback
 *   HAS_SA_RESTORER	1 if sigaction takes a restorer (riscv has none: its
 *			handlers return through the vDSO's rt_sigreturn)
 * and, after it, the glue between its signal frames and sigsys(): each
 * handler stores the six argument registers in regs[0..5], the program
 * counter in regs[6] and the number register in regs[7], calls sigsys()
 * and stores the result it returns in the return register.
 */

typedef unsigned int u32;

#define PTRACE_SELF_ON	0x4281
#define PTRACE_SELF_OFF	0x4282
#define SIGSYS		31
#define SYS_SELF_PTRACE	3

#define SA_SIGINFO	0x00000004u
#define SA_RESTORER	0x04000000u
#define SA_NODEFER	0x40000000u

/* do_sys(nr, a..f): the only system call instruction of the program. */
long do_sys(long nr, long a, long b, long c, long d, long e, long f);
/* The address just after it. */
extern char sys_after[];
/* SA_RESTORER trampolines: rt_sigreturn and sigreturn. */
void restore_rt(void);
void restore_old(void);

/* compat_stack_t, part of every 32-bit ucontext. */
struct stack32 {
	u32 ss_sp;
	int ss_flags;
	u32 ss_size;
};

static volatile u32 count;		/* SIGSYS deliveries */
static volatile u32 rearm;		/* the handler arms again (once) */
static volatile long result;		/* what the handler stores */
static volatile long rearm_ret;
static u32 info[32];			/* siginfo of the last SIGSYS */
static u32 regs[8];			/* six arguments, pc, number */
static int failed;

static unsigned long slen(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static void out(const char *s)
{
	do_sys(NR_write, 1, (long)s, slen(s), 0, 0, 0);
}

static void hex(u32 v)
{
	char b[11];
	int i;

	b[0] = '0';
	b[1] = 'x';
	for (i = 0; i < 8; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
	b[10] = 0;
	out(b);
}

static void die(const char *s)
{
	out(NAME ": FAIL: ");
	out(s);
	out("\n");
	do_sys(NR_exit_group, 1, 0, 0, 0, 0, 0);
}

static void check(int ok, const char *what, u32 got, u32 want)
{
	if (ok)
		return;
	failed = 1;
	out(NAME ": FAIL: ");
	out(what);
	out(": got ");
	hex(got);
	out(", want ");
	hex(want);
	out("\n");
}

#define WANT(what, got, want) check((u32)(got) == (u32)(want), what, got, want)

/*
 * The handlers' common part: copy the siginfo (an old-style handler has
 * none: si is 0), count, re-arm if asked. Returns the result to store in
 * the return register.
 */
static long sigsys(const void *si)
{
	const u32 *p = si;
	int i;

	if (p) {
		for (i = 0; i < 32; i++)
			info[i] = p[i];
		if (info[4] == NR_rt_sigreturn || info[4] == NR_sigreturn)
			die("the signal return of an armed compat task was intercepted");
	}
	count++;
	if (count > 16)
		die("more than 16 SIGSYS: a signal return is intercepted");
	if (rearm) {
		rearm = 0;
		rearm_ret = do_sys(NR_ptrace, PTRACE_SELF_ON, 0, 0, 0, 0, 0);
	}
	return result;
}

static void install(void (*handler)(), u32 flags, void (*restorer)(void))
{
#if HAS_SA_RESTORER
	u32 act[5] = { (u32)handler, flags | SA_RESTORER | SA_NODEFER, (u32)restorer, 0, 0 };
#else
	u32 act[4] = { (u32)handler, flags | SA_NODEFER, 0, 0 };
#endif
	long r = do_sys(NR_rt_sigaction, SIGSYS, (long)act, 0, 8, 0, 0);

	if (r != 0)
		die("rt_sigaction(SIGSYS)");
}

static void arm(void)
{
	long r = do_sys(NR_ptrace, PTRACE_SELF_ON, 0, 0, 0, 0, 0);

	if (r != 0) {
		out("PTRACE_SELF_ON not supported by this kernel: ");
		hex(-r);
		out("\n");
		do_sys(NR_exit_group, 1, 0, 0, 0, 0, 0);
	}
}

/*
 * nr with six arguments, intercepted once: the siginfo (si_call_addr after
 * the system call instruction, every byte after _sigsys zero), the rolled
 * back registers and the result.
 */
static void intercept(long nr, const u32 args[6], long res)
{
	long r;
	int i;

	count = 0;
	result = res;
	arm();
	r = do_sys(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
	WANT("interceptions", count, 1);
	WANT("result (stored by the handler)", r, res);
	WANT("si_signo", info[0], SIGSYS);
	WANT("si_errno", info[1], 0);
	WANT("si_code", info[2], SYS_SELF_PTRACE);
	WANT("si_call_addr", info[3], (u32)sys_after);
	WANT("si_syscall", info[4], nr);
	WANT("si_arch", info[5], AUDIT_ARCH);
	for (i = 6; i < 32; i++)
		if (info[i]) {
			check(0, "siginfo word after _sigsys (index)", i, 0);
			break;
		}
	for (i = 0; i < 6; i++)
		WANT("argument register (first to sixth)", regs[i], args[i]);
	WANT("program counter", regs[6], PC_AFTER_CALL);
	if (NR_REG)
		WANT("number register", regs[7], nr);
}

/*
 * getpid with first arguments that look like -ERESTARTSYS,
 * -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK, -ENOSYS and
 * extremes (on s390 and arm64 the first argument shares its register with
 * the result), and hurtful values in the others.
 */
static void test_interception(void)
{
	static const u32 first[] = { 0xfffffe00, 0xfffffdff, 0xfffffdfe, 0xfffffdfc,
				     0xffffffda, 0x80000000, 0xffffffff, 0, 0x11111111 };
	u32 args[6] = { 0, 0x22222222, 0xdeadbeef, 0x80000000, 0xfffffe00, 0x7fffffff };
	unsigned int k;

	for (k = 0; k < sizeof(first) / sizeof(first[0]); k++) {
		args[0] = first[k];
		intercept(NR_getpid, args, 0x5eed0001 + k);
	}
}

static void test_ptrace_exempt(void)
{
	long r;

	count = 0;
	arm();
	r = do_sys(NR_ptrace, PTRACE_SELF_OFF, 0, 0, 0, 0, 0);
	WANT("compat ptrace(PTRACE_SELF_OFF) while armed", r, 0);
	r = do_sys(NR_getpid, 0, 0, 0, 0, 0, 0);
	WANT("interceptions (compat ptrace must be exempt)", count, 0);
	check(r > 0, "getpid after PTRACE_SELF_OFF", r, 1);
}

/* The handler re-arms, then returns through the signal return call. */
static void test_return_exempt(const char *what)
{
	long r;

	count = 0;
	result = 0x5eed0100;
	rearm = 1;
	arm();
	r = do_sys(NR_getpid, 0x7ace, 0, 0, 0, 0, 0);
	WANT(what, count, 1);
	WANT("PTRACE_SELF_ON in the handler", rearm_ret, 0);
	WANT("result of the first call", r, 0x5eed0100);
	/* Still armed after the signal return: the next call is caught. */
	result = 0x5eed0101;
	r = do_sys(NR_getpid, 0x7acf, 0, 0, 0, 0, 0);
	WANT("interceptions after a re-arming handler returned", count, 2);
	WANT("result of the second call", r, 0x5eed0101);
}

/*
 * An intercepted write is never executed, neither when the handler
 * returns nor by a restart (its first argument is a restart code, then a
 * valid fd): nothing but the program's own lines reaches fd 1.
 */
static void test_not_executed(void)
{
	static const char msg[] = NAME ": FAIL: an intercepted write was executed\n";
	static const u32 fds[2] = { 0xfffffe00, 1 };
	u32 args[6] = { 0, (u32)msg, sizeof(msg) - 1, 0, 0, 0 };
	int i;

	for (i = 0; i < 2; i++) {
		args[0] = fds[i];
		intercept(NR_write, args, 0x5eed0200 + i);
	}
}

/* Native numbers that are other calls for compat tasks are intercepted. */
static void test_other_numbers(const long *nrs, int n)
{
	static const u32 args[6] = { 1, 2, 3, 4, 5, 6 };
	int i;

	for (i = 0; i < n; i++)
		intercept(nrs[i], args, 0x5eed0300 + i);
}

/*
 * Every check; handler_rt is an SA_SIGINFO handler, handler_old is not
 * (0 where there is no sigreturn system call).
 */
static void run_all(void (*handler_rt)(), void (*handler_old)(), const long *other, int n)
{
	install(handler_rt, SA_SIGINFO, restore_rt);
	test_interception();
	test_ptrace_exempt();
	test_return_exempt("interceptions with a re-arming handler (rt_sigreturn)");
	test_not_executed();
	test_other_numbers(other, n);
	if (handler_old) {
		install(handler_old, 0, restore_old);
		test_return_exempt("interceptions with a re-arming handler (sigreturn)");
	}
	if (!failed)
		out(NAME ": ok\n");
	do_sys(NR_exit_group, failed, 0, 0, 0, 0, 0);
}
