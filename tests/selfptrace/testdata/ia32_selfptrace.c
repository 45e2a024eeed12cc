// SPDX-License-Identifier: GPL-2.0
/*
 * Self ptrace in a 32-bit (ia32) task on an x86_64 kernel.
 *
 * A freestanding static i386 program (no libc: every system call goes
 * through one "int $0x80" in do_sys, so si_call_addr is known exactly).
 * Built by go generate in tests/selfptrace (see compat_amd64_test.go):
 *
 *   i686-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-pic -no-pie \
 *     -fno-stack-protector -O2 -o ia32-selfptrace ia32_selfptrace.c
 *
 * It checks, for an armed ia32 task: the interception of getpid (siginfo
 * with si_arch AUDIT_ARCH_I386 and every other byte zero, the number and
 * the six arguments rolled back into the ucontext, the result the handler
 * stores), that the ia32 numbers of ptrace, rt_sigreturn and sigreturn
 * are exempt, and that the native x86_64 numbers of rt_sigreturn (15) and
 * ptrace (101), which are other calls for ia32, are intercepted.
 * It prints "ia32: ok" and exits 0, or prints FAIL lines and exits 1.
 */

#define NR_write	4
#define NR_chmod	15	/* rt_sigreturn's number on x86_64 */
#define NR_getpid	20
#define NR_ptrace	26
#define NR_ioperm	101	/* ptrace's number on x86_64 */
#define NR_sigreturn	119
#define NR_rt_sigreturn	173
#define NR_rt_sigaction	174
#define NR_exit_group	252

#define PTRACE_SELF_ON	0x4281
#define PTRACE_SELF_OFF	0x4282
#define SIGSYS		31
#define SYS_SELF_PTRACE	3
#define AUDIT_ARCH_I386	0x40000003u

#define SA_SIGINFO	0x00000004u
#define SA_RESTORER	0x04000000u
#define SA_NODEFER	0x40000000u

/* struct ucontext_ia32: uc_mcontext (struct sigcontext_32) at 20. */
#define UC_MCONTEXT	20
/* struct sigcontext_32 offsets. */
#define SC_EDI	16
#define SC_ESI	20
#define SC_EBP	24
#define SC_EBX	32
#define SC_EDX	36
#define SC_ECX	40
#define SC_EAX	44
#define SC_EIP	56

typedef unsigned int u32;

long do_sys(long nr, long a, long b, long c, long d, long e, long f);
extern char sys_after[];
void restore_rt(void);
void restore_old(void);

/*
 * do_sys(nr, a..f): the only system call instruction of the program.
 * sys_after is the address just after it.
 */
__asm__(".text\n"
	".globl do_sys\n"
	"do_sys:\n"
	"	push %ebp\n"
	"	push %edi\n"
	"	push %esi\n"
	"	push %ebx\n"
	"	mov 20(%esp), %eax\n"
	"	mov 24(%esp), %ebx\n"
	"	mov 28(%esp), %ecx\n"
	"	mov 32(%esp), %edx\n"
	"	mov 36(%esp), %esi\n"
	"	mov 40(%esp), %edi\n"
	"	mov 44(%esp), %ebp\n"
	"	int $0x80\n"
	".globl sys_after\n"
	"sys_after:\n"
	"	pop %ebx\n"
	"	pop %esi\n"
	"	pop %edi\n"
	"	pop %ebp\n"
	"	ret\n"
	".globl restore_rt\n"
	"restore_rt:\n"
	"	mov $173, %eax\n"
	"	int $0x80\n"
	"	ud2\n"
	".globl restore_old\n"
	"restore_old:\n"
	"	pop %eax\n"
	"	mov $119, %eax\n"
	"	int $0x80\n"
	"	ud2\n");

static volatile u32 count;		/* SIGSYS deliveries */
static volatile u32 rearm;		/* the handler arms again (once) */
static volatile long result;		/* what the handler stores in eax */
static volatile long rearm_ret;
static unsigned char info[128];		/* siginfo of the last SIGSYS */
static u32 regs[8];			/* eax ebx ecx edx esi edi ebp eip */
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
	out("ia32: FAIL: ");
	out(s);
	out("\n");
	do_sys(NR_exit_group, 1, 0, 0, 0, 0, 0);
}

static void check(int ok, const char *what, u32 got, u32 want)
{
	if (ok)
		return;
	failed = 1;
	out("ia32: FAIL: ");
	out(what);
	out(": got ");
	hex(got);
	out(", want ");
	hex(want);
	out("\n");
}

#define WANT(what, got, want) check((u32)(got) == (u32)(want), what, got, want)

static u32 rd32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static u32 *sc_reg(void *sc, int off)
{
	return (u32 *)((char *)sc + off);
}

static void on_sigsys(void *sc)
{
	count++;
	if (count > 16)
		die("more than 16 SIGSYS: a signal return is intercepted");
	regs[0] = *sc_reg(sc, SC_EAX);
	regs[1] = *sc_reg(sc, SC_EBX);
	regs[2] = *sc_reg(sc, SC_ECX);
	regs[3] = *sc_reg(sc, SC_EDX);
	regs[4] = *sc_reg(sc, SC_ESI);
	regs[5] = *sc_reg(sc, SC_EDI);
	regs[6] = *sc_reg(sc, SC_EBP);
	regs[7] = *sc_reg(sc, SC_EIP);
	if (rearm) {
		rearm = 0;
		rearm_ret = do_sys(NR_ptrace, PTRACE_SELF_ON, 0, 0, 0, 0, 0);
	}
	*sc_reg(sc, SC_EAX) = result;
}

/* SA_SIGINFO handler: returns through rt_sigreturn (restore_rt). */
static void handler_rt(int sig, void *si, void *uc)
{
	const unsigned char *p = si;
	int i, nr;

	for (i = 0; i < 128; i++)
		info[i] = p[i];
	nr = (int)rd32(p + 16);
	if (nr == NR_rt_sigreturn || nr == NR_sigreturn)
		die("the ia32 rt_sigreturn/sigreturn of an armed task was intercepted");
	on_sigsys((char *)uc + UC_MCONTEXT);
}

/* Old-style handler: its sigcontext follows sig; returns through sigreturn. */
static void handler_old(int sig)
{
	on_sigsys(&sig + 1);
}

static void install(void *handler, u32 flags, void (*restorer)(void))
{
	u32 act[5] = { (u32)handler, flags | SA_RESTORER | SA_NODEFER, (u32)restorer, 0, 0 };
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

static void test_interception(void)
{
	static const u32 args[6] = { 0x11111111, 0x22222222, 0xdeadbeef, 0x80000000,
				     0xfffffe00, 0x66666666 };
	long r;
	int i;

	count = 0;
	result = 0x5eed0001;
	arm();
	r = do_sys(NR_getpid, args[0], args[1], args[2], args[3], args[4], args[5]);
	WANT("interceptions of getpid", count, 1);
	WANT("getpid result (stored by the handler)", r, 0x5eed0001);
	WANT("si_signo", rd32(info + 0), SIGSYS);
	WANT("si_errno", rd32(info + 4), 0);
	WANT("si_code", rd32(info + 8), SYS_SELF_PTRACE);
	WANT("si_call_addr", rd32(info + 12), (u32)sys_after);
	WANT("si_syscall", rd32(info + 16), NR_getpid);
	WANT("si_arch", rd32(info + 20), AUDIT_ARCH_I386);
	for (i = 24; i < 128; i++)
		if (info[i]) {
			check(0, "siginfo byte after _sigsys (offset)", i, 0);
			break;
		}
	WANT("eax (rolled back number)", regs[0], NR_getpid);
	for (i = 0; i < 6; i++)
		WANT("argument register (ebx ecx edx esi edi ebp)", regs[1 + i], args[i]);
	WANT("eip", regs[7], (u32)sys_after);
}

static void test_ptrace_exempt(void)
{
	long r;

	count = 0;
	arm();
	r = do_sys(NR_ptrace, PTRACE_SELF_OFF, 0, 0, 0, 0, 0);
	WANT("ia32 ptrace(PTRACE_SELF_OFF) while armed", r, 0);
	r = do_sys(NR_getpid, 0, 0, 0, 0, 0, 0);
	WANT("interceptions (ia32 ptrace must be exempt)", count, 0);
	check(r > 0, "getpid after PTRACE_SELF_OFF", r, 1);
}

/* The handler re-arms, then returns through the signal return call. */
static void test_return_exempt(const char *what)
{
	long r;

	count = 0;
	result = 0x5eed0002;
	rearm = 1;
	arm();
	r = do_sys(NR_getpid, 0x7ace, 0, 0, 0, 0, 0);
	WANT(what, count, 1);
	WANT("PTRACE_SELF_ON in the handler", rearm_ret, 0);
	WANT("result of the first call", r, 0x5eed0002);
	/* Still armed after the signal return: the next call is caught. */
	result = 0x5eed0003;
	r = do_sys(NR_getpid, 0x7acf, 0, 0, 0, 0, 0);
	WANT("interceptions after a re-arming handler returned", count, 2);
	WANT("result of the second call", r, 0x5eed0003);
}

/* ia32 15 and 101 are chmod and ioperm: not exempt. */
static void test_native_numbers(void)
{
	static const long nrs[2] = { NR_chmod, NR_ioperm };
	long r;
	int i;

	for (i = 0; i < 2; i++) {
		count = 0;
		result = 0x5eed0010 + i;
		arm();
		r = do_sys(nrs[i], 0, 0, 0, 0, 0, 0);
		WANT("interceptions of ia32 15 (chmod) / 101 (ioperm)", count, 1);
		WANT("si_syscall", rd32(info + 16), nrs[i]);
		WANT("result", r, 0x5eed0010 + i);
	}
}

void __attribute__((noreturn, used)) start_c(void)
{
	install(handler_rt, SA_SIGINFO, restore_rt);
	test_interception();
	test_ptrace_exempt();
	test_return_exempt("interceptions with a re-arming handler (rt_sigreturn)");
	test_native_numbers();
	install(handler_old, 0, restore_old);
	test_return_exempt("interceptions with a re-arming handler (sigreturn)");
	if (!failed)
		out("ia32: ok\n");
	do_sys(NR_exit_group, failed, 0, 0, 0, 0, 0);
	for (;;)
		;
}

/* The stack is 16-byte aligned at _start; keep it so for the C code. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %esp\n"
	"	call start_c\n"
	"	ud2\n");
