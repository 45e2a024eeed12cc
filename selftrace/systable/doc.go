// Package systable generates the system call table of selftrace (the C
// header syscalls.h, see tools/selftrace/DESIGN.md) for one guest
// architecture from the Linux source tree the guest kernel is built from.
// Everything in the table comes from the tree's own files; only the way
// an argument is printed is chosen by the rules below.
//
// # Sources
//
//   - Numbers and names: x86_64 arch/x86/entry/syscalls/syscall_64.tbl and
//     s390x arch/s390/kernel/syscalls/syscall.tbl, abis common and 64 (the
//     64-bit entry point column); arm64 and riscv64 the table
//     arch/<karch>/kernel/Makefile.syscalls names (syscalltbl, default
//     scripts/syscall.tbl) with the abis common, 64 and those that Makefile
//     adds to syscall_abis_64, as scripts/Makefile.asm-headers does. An
//     entry without an entry point or with sys_ni_syscall is not
//     implemented: its name is kept, with 6 arguments printed raw.
//   - Arguments: the SYSCALL_DEFINEn of the entry point (sys_x defined by
//     SYSCALL_DEFINEn(x, ...)) in the directories the kernel defines system
//     calls in (defDirs) and arch/<karch> (but not arch/x86/um, which is
//     User-mode Linux); COMPAT_SYSCALL_DEFINEn are not read. When a call is
//     defined more than once with different parameters (clone's
//     CONFIG_CLONE_BACKWARDS* variants, sigsuspend's CONFIG_OLD_SIGSUSPEND*),
//     the definition whose preprocessor conditions hold is taken, the
//     conditions being evaluated on CONFIG_x for the Kconfig symbols the
//     architecture certainly sets (its own symbol, 64BIT, MMU and what the
//     config blocks of set symbols in arch/<karch>/Kconfig select) and on
//     the macros of arch/<karch>/include/asm/unistd.h (__ARCH_WANT_*).
//     Without a definition, the prototype in include/linux/syscalls.h
//     (asmlinkage long sys_x(...)) is used (map_shadow_stack outside x86),
//     without one either, 6 raw arguments.
//   - errno names and messages: <asm/errno.h> as user space on the
//     architecture sees it (the architecture's uapi header or
//     asm-generic's, following their includes): #define ENAME n /* message
//     */. Aliases (#define EWOULDBLOCK EAGAIN) and later names of a number
//     are left out. The messages are the kernel's comments, which are not
//     always glibc's strerror texts (EAGAIN "Try again", ENOSYS "Invalid
//     system call number").
//   - Signal names 1 to 31: <asm/signal.h>, first name of each number
//     (SIGABRT, not SIGIOT).
//   - Open flags: <asm/fcntl.h> (the architecture's overrides, then
//     asm-generic's #ifndef-guarded defaults), see readOpenFlags for the
//     order; AT_FDCWD: include/uapi/linux/fcntl.h.
//
// # Argument kinds
//
// By declared type (qualifiers const, volatile and __user aside) and name,
// the first rule that matches:
//
//   - Overrides, for parameters the kernel declares without const although
//     the call only reads them: sendto's buff, setsockopt's optval,
//     sethostname's and setdomainname's name are ST_INBUF; init_module's
//     module image umod is ST_PTR.
//
// Pointers (a * in the type, or cap_user_header_t, cap_user_data_t,
// __sighandler_t):
//
//   - char ** named argv: ST_ARGV; named envp: ST_ENVP.
//   - char *, unsigned char * or void * followed by an integer whose name
//     says it is a size (count, len, size, bufsiz, nbytes, buflen, n, *len,
//     *_size, or a size_t length): ST_INBUF if const (write's buf), else
//     ST_OUTBUF (read's buf).
//   - Other const char *: ST_STR (path names, xattr names, ...).
//   - Every other pointer: ST_PTR.
//
// Integers:
//
//   - Named dfd or dirfd, possibly prefixed by old, new, from_, to_ or
//     mount: ST_DIRFD (printed AT_FDCWD when -100).
//   - Other names ending in fd or starting with fd_ (fd, oldfd, epfd,
//     pidfd, in_fd, fd_in, ...): ST_FD (the C side prints them as int:
//     mmap's is an unsigned long).
//   - Type umode_t: ST_OCT.
//   - flags of open, openat and open_by_handle_at, mq_open's oflag:
//     ST_OFLAGS.
//   - A signed integer named sig: ST_SIG (kill, tgkill, tkill,
//     rt_sigaction, rt_sigqueueinfo, pidfd_send_signal, ...; rseq's u32 sig
//     is a signature, not a signal).
//   - An unsigned integer named addr, start, end, brk, newsp, new_addr,
//     old_addr or tls: a user address, ST_PTR (NULL or hex, as strace).
//   - An unsigned integer whose name contains flags or mask, or is prot
//     or sig (rseq's signature): ST_HEX. Signed int flags stay ST_INT.
//   - Other unsigned types (unsigned ..., size_t, u32, u64, uid_t, gid_t,
//     uintptr_t, aio_context_t, ...): ST_UINT.
//   - Signed types (int, long, pid_t, off_t, loff_t, clockid_t, key_t,
//     rwf_t, enums, ...): ST_INT.
//   - A scalar type neither list has: ST_HEX (the tests require that
//     Linux 6.12 has none).
//
// Results: mmap, mmap2, old_mmap, mremap, brk and shmat return addresses
// (ST_RHEX); exit and exit_group do not return (ST_RNONE); the others are
// decimal (ST_RDEC).
package systable
