/* SPDX-License-Identifier: MIT */
/*
 * Does L1 want this exit from L2? SDM Vol. 3C, 25.1 "Instructions That Cause
 * VM Exits" (25.1.2 unconditionally, 25.1.3 conditionally) and 25.2 "Other
 * Causes of VM Exits", decided from VMCS12's controls. Pure.
 */
#ifndef NESTVISOR_NESTED_REFLECT_H
#define NESTVISOR_NESTED_REFLECT_H

#include "nested/vmcs12.h"

#include <stdbool.h>
#include <stdint.h>

struct l2_exit {
	uint32_t reason;          /* basic exit reason */
	uint64_t qualification;
	uint32_t intr_info;       /* VM-exit interruption information */
	uint32_t intr_error_code;
	uint32_t msr;             /* RDMSR/WRMSR: ECX */
	uint64_t cr_value;        /* MOV to CR: the source register's value */
};

/* Reads L1's bitmaps (L0 passes its entry-time snapshots); false = unreadable. */
typedef bool (*l1_reader_fn)(uint64_t gpa, void *buf, unsigned len);

bool nested_l1_wants_exit(const struct vmcs12 *v, const struct l2_exit *e, l1_reader_fn read);

#endif
