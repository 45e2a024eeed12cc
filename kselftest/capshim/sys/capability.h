/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of libcap's <sys/capability.h> that the 6.12 kselftests use
 * (seccomp_bpf: cap_get_proc, cap_get_flag, cap_set_flag, cap_set_proc,
 * cap_free), for a static link where no static libcap exists (Debian has
 * no libcap-dev for the s390x cross toolchain). capshim.c implements these
 * calls the way libcap 2.x does for a program not linked with libpsx: one
 * capget(2) or capset(2) of all three sets of the calling thread, with the
 * version 3 (64-bit) capability structures. A test that calls anything else
 * fails to link, loudly.
 *
 * Written for selfptrace-vm; not a copy of libcap.
 */
#ifndef SELFPTRACE_VM_CAPSHIM_H
#define SELFPTRACE_VM_CAPSHIM_H

#include <sys/types.h>
#include <linux/capability.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _cap_struct *cap_t;
typedef int cap_value_t;

typedef enum {
	CAP_EFFECTIVE = 0,
	CAP_PERMITTED = 1,
	CAP_INHERITABLE = 2
} cap_flag_t;

typedef enum {
	CAP_CLEAR = 0,
	CAP_SET = 1
} cap_flag_value_t;

cap_t cap_get_proc(void);
int cap_set_proc(cap_t cap_p);
int cap_get_flag(cap_t cap_p, cap_value_t value, cap_flag_t set,
		 cap_flag_value_t *value_p);
int cap_set_flag(cap_t cap_p, cap_flag_t set, int no_values,
		 const cap_value_t *array_values, cap_flag_value_t raise);
int cap_free(void *obj);

#ifdef __cplusplus
}
#endif

#endif /* SELFPTRACE_VM_CAPSHIM_H */
