// seccomp: the program installs a seccomp filter of its own (after
// PR_SET_NO_NEW_PRIVS) that makes uname fail with EPERM and getppid raise
// SIGSYS (SECCOMP_RET_TRAP) and allows everything else, the calls a tracer
// in the process makes included. Its own SIGSYS handler prints si_code
// (1, SYS_SECCOMP) and checks si_syscall and si_arch. A filter sees every
// call a tracer performs on the program's behalf, so the results must be
// the same as without a tracer.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "testprog.h"

#if defined(__x86_64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__s390x__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_S390X
#elif defined(__aarch64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define THIS_AUDIT_ARCH AUDIT_ARCH_RISCV64
#else
#error "unknown architecture: add its AUDIT_ARCH"
#endif

// si_code of a SECCOMP_RET_TRAP SIGSYS (glibc's headers do not name it).
enum { SI_CODE_SYS_SECCOMP = 1 };

static volatile sig_atomic_t sys_ran, sys_code, sys_nr_ok, sys_arch_ok;

static void on_sys(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	sys_ran = sig == SIGSYS;
	sys_code = si->si_code;
	sys_nr_ok = si->si_syscall == SYS_getppid;
	sys_arch_ok = si->si_arch == THIS_AUDIT_ARCH;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) != 0) {
		say("sigaction: %s\n", strerror(errno));
		return 1;
	}

	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};

	struct utsname u;
	say("before the filter: uname %d\n", uname(&u));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		say("PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		return 1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		say("seccomp: %s\n", strerror(errno));
		return 1;
	}
	say("filter installed\n");

	errno = 0;
	int r = uname(&u);
	say("uname: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");

	syscall(SYS_getppid);
	say("getppid trapped: handler ran %d, si_code %d (SYS_SECCOMP %d), si_syscall ok %d, si_arch ok %d\n",
	    (int)sys_ran, (int)sys_code, SI_CODE_SYS_SECCOMP, (int)sys_nr_ok, (int)sys_arch_ok);

	say("getpid allowed: %d\n", getpid() > 0);
	FILE *f = fopen("/proc/self/status", "r");
	if (f) {
		char line[256];
		while (fgets(line, sizeof line, f))
			if (strncmp(line, "Seccomp:", 8) == 0)
				say("%s", line);
		fclose(f);
	}
	say("seccomp: done\n");
	return 0;
}
