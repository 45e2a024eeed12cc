// SPDX-License-Identifier: GPL-2.0
/*
 * See sys/capability.h: the libcap calls the 6.12 kselftests make, done
 * with capget(2) and capset(2) on the calling thread, as libcap does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/capability.h>

#define CAPSHIM_MAGIC 0x43415053u /* "CAPS" */
#define CAPSHIM_WORDS _LINUX_CAPABILITY_U32S_3
#define CAPSHIM_BITS (32 * CAPSHIM_WORDS)

struct _cap_struct {
	unsigned int magic;
	struct __user_cap_header_struct head;
	struct __user_cap_data_struct data[CAPSHIM_WORDS];
};

static int good_cap(cap_t c)
{
	return c != NULL && c->magic == CAPSHIM_MAGIC;
}

static __u32 *set_word(cap_t c, cap_flag_t set, unsigned int word)
{
	switch (set) {
	case CAP_EFFECTIVE:
		return &c->data[word].effective;
	case CAP_PERMITTED:
		return &c->data[word].permitted;
	case CAP_INHERITABLE:
		return &c->data[word].inheritable;
	}
	return NULL;
}

cap_t cap_get_proc(void)
{
	cap_t c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->magic = CAPSHIM_MAGIC;
	c->head.version = _LINUX_CAPABILITY_VERSION_3;
	c->head.pid = 0;
	if (syscall(SYS_capget, &c->head, c->data) != 0) {
		int e = errno;

		free(c);
		errno = e;
		return NULL;
	}
	return c;
}

int cap_set_proc(cap_t c)
{
	if (!good_cap(c)) {
		errno = EINVAL;
		return -1;
	}
	c->head.version = _LINUX_CAPABILITY_VERSION_3;
	c->head.pid = 0;
	return syscall(SYS_capset, &c->head, c->data) == 0 ? 0 : -1;
}

int cap_get_flag(cap_t c, cap_value_t value, cap_flag_t set,
		 cap_flag_value_t *value_p)
{
	__u32 *w;

	if (!good_cap(c) || value_p == NULL || value < 0 ||
	    value >= CAPSHIM_BITS ||
	    (w = set_word(c, set, value >> 5)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	*value_p = (*w & (1u << (value & 31))) ? CAP_SET : CAP_CLEAR;
	return 0;
}

int cap_set_flag(cap_t c, cap_flag_t set, int no_values,
		 const cap_value_t *array_values, cap_flag_value_t raise)
{
	int i;

	/* libcap's checks: a count in 1..MAXBITS-1, a known set and value. */
	if (!good_cap(c) || no_values <= 0 || no_values >= CAPSHIM_BITS ||
	    array_values == NULL || set_word(c, set, 0) == NULL ||
	    (raise != CAP_CLEAR && raise != CAP_SET)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < no_values; i++) {
		cap_value_t v = array_values[i];
		__u32 *w;

		if (v < 0 || v >= CAPSHIM_BITS)
			continue; /* libcap skips unknown values too */
		w = set_word(c, set, v >> 5);
		if (raise == CAP_SET)
			*w |= 1u << (v & 31);
		else
			*w &= ~(1u << (v & 31));
	}
	return 0;
}

int cap_free(void *obj)
{
	cap_t c = obj;

	if (obj == NULL)
		return 0;
	if (!good_cap(c)) {
		errno = EINVAL;
		return -1;
	}
	c->magic = 0;
	free(c);
	return 0;
}
