/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the selftrace test programs share. say is printf to the standard
 * output in a single write(2) of at most 511 bytes, unbuffered so that
 * what a program prints interleaves with its children's and threads' as
 * it happens; a short or failed write ends the program with status 100.
 */
#ifndef SELFTRACE_TESTPROG_H
#define SELFTRACE_TESTPROG_H

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((format(printf, 1, 2)))
static inline void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 1)
		n = sizeof buf - 1;
	if (write(1, buf, n) != n)
		_exit(100);
}

#endif /* SELFTRACE_TESTPROG_H */
