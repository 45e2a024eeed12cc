// SPDX-License-Identifier: GPL-2.0
/*
 * What a riscv64 kernel reports as the architecture of a 32-bit (RV32,
 * compat) task, to seccomp and to audit.
 *
 * A freestanding static RV32 program (Debian has no 32-bit riscv libc),
 * built by go generate in tests/sigsys (see compat_riscv64_test.go). It
 *
 *  1. calls getppid(A0_AUDIT): the test's audit rules, one for
 *     AUDIT_ARCH_RISCV64 and one for AUDIT_ARCH_RISCV32, say which of them
 *     the call matched;
 *  2. installs a seccomp filter that fails getppid with errno 32 when
 *     seccomp_data.arch is AUDIT_ARCH_RISCV32, 64 when it is
 *     AUDIT_ARCH_RISCV64 and 99 otherwise, and lets every other call
 *     through;
 *  3. calls getppid and prints "seccomp arch: " and the errno.
 *
 * It exits 0 when every step worked, whatever the arch seen, and 1 when a
 * system call failed.
 */

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define NR_write		64
#define NR_exit_group		94
#define NR_prctl		167
#define NR_getppid		173
#define NR_seccomp		277
#define PR_SET_NO_NEW_PRIVS	38
#define SECCOMP_SET_MODE_FILTER	1
#define SECCOMP_RET_ALLOW	0x7fff0000u
#define SECCOMP_RET_ERRNO	0x00050000u
#define AUDIT_ARCH_RISCV32	0x400000f3u
#define AUDIT_ARCH_RISCV64	0xc00000f3u
#define A0_AUDIT		0x5e7a0d17

#define BPF_LD_W_ABS		0x20
#define BPF_JEQ_K		0x15
#define BPF_RET_K		0x06

struct sock_filter {
	u16 code;
	u8 jt;
	u8 jf;
	u32 k;
};

struct sock_fprog {
	u16 len;
	struct sock_filter *filter;
};

long do_sys(long nr, long a, long b, long c);

/* do_sys(nr, a, b, c): nr in a7, the arguments in a0..a2, a3..a5 zero. */
__asm__(".text\n"
	".globl do_sys\n"
	"do_sys:\n"
	"	mv	a7, a0\n"
	"	mv	a0, a1\n"
	"	mv	a1, a2\n"
	"	mv	a2, a3\n"
	"	li	a3, 0\n"
	"	li	a4, 0\n"
	"	li	a5, 0\n"
	"	ecall\n"
	"	ret\n");

static void out(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	do_sys(NR_write, 1, (long)s, n);
}

static void dec(long v)
{
	char b[12];
	int i = sizeof(b) - 1;

	b[i] = 0;
	do {
		b[--i] = '0' + v % 10;
		v /= 10;
	} while (v && i > 0);
	out(&b[i]);
}

static void fail(const char *what, long r)
{
	out("rv32-arch: FAIL: ");
	out(what);
	out(": ");
	dec(-r);
	out("\n");
	do_sys(NR_exit_group, 1, 0, 0);
}

void __attribute__((noreturn, used)) start_c(void)
{
	struct sock_filter f[] = {
		{ BPF_LD_W_ABS, 0, 0, 0 },			/* nr */
		{ BPF_JEQ_K, 0, 6, NR_getppid },
		{ BPF_LD_W_ABS, 0, 0, 4 },			/* arch */
		{ BPF_JEQ_K, 0, 1, AUDIT_ARCH_RISCV32 },
		{ BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | 32 },
		{ BPF_JEQ_K, 0, 1, AUDIT_ARCH_RISCV64 },
		{ BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | 64 },
		{ BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | 99 },
		{ BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW },
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	long r;

	r = do_sys(NR_getppid, A0_AUDIT, 0, 0);
	if (r <= 0)
		fail("getppid", r);
	r = do_sys(NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0);
	if (r)
		fail("prctl(PR_SET_NO_NEW_PRIVS)", r);
	r = do_sys(NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog);
	if (r)
		fail("seccomp(SECCOMP_SET_MODE_FILTER)", r);
	r = do_sys(NR_getppid, 0, 0, 0);
	if (r >= 0)
		fail("getppid under the filter succeeded", -r);
	out("seccomp arch: ");
	dec(-r);
	out("\n");
	do_sys(NR_exit_group, 0, 0, 0);
	for (;;)
		;
}

/* At _start sp points at argc: align it to 16 for the C code. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	andi	sp, sp, -16\n"
	"	call	start_c\n"
	"	unimp\n");
