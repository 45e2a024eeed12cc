// closeall: the program closes every descriptor above 2, with close_range
// (a loop of close where the kernel has no close_range), then with a close
// loop over 3..1023, then opens /etc/hostname and prints it. A tracer that
// keeps an output descriptor open in the process must survive both and the
// program must see what it sees without a tracer: nothing left to close,
// and the lowest free descriptor (3) for its open.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "testprog.h"

int main(void)
{
	// Descriptors of the program itself, to be closed by close_range.
	int a = open("/dev/null", O_RDONLY), b = dup2(a, 40);
	say("opened: %d %d\n", a, b);

	long r = syscall(SYS_close_range, 3, ~0U, 0);
	if (r != 0 && errno == ENOSYS) {
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
		r = 0;
	}
	say("close_range(3, ~0U, 0): %ld\n", r);
	say("descriptor 40 after close_range: %s\n", fcntl(40, F_GETFD) < 0 ? strerrorname_np(errno) : "open");

	int closed = 0, ebadf = 0;
	for (int fd = 3; fd < 1024; fd++) {
		if (close(fd) == 0)
			closed++;
		else if (errno == EBADF)
			ebadf++;
	}
	say("close loop 3..1023: %d closed, %d EBADF\n", closed, ebadf);

	int fd = open("/etc/hostname", O_RDONLY);
	if (fd < 0) {
		say("open /etc/hostname: %s\n", strerrorname_np(errno));
		return 1;
	}
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n < 0) {
		say("read: %s\n", strerrorname_np(errno));
		return 1;
	}
	buf[n] = 0;
	say("open /etc/hostname: descriptor %d, %zd bytes: %s", fd, n, buf);
	if (n == 0 || buf[n - 1] != '\n')
		say("\n");
	close(fd);
	say("closeall: done\n");
	return 0;
}
