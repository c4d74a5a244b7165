/* SPDX-License-Identifier: MIT */
/*
 * The boot-information area the loader reserved and checked for L1 (the
 * plan's mbi_base/mbi_size): Multiboot information, PVH start info or the
 * Linux zero page, each built there by a bump allocator.
 */
#ifndef NESTVISOR_VMX_L1_AREA_H
#define NESTVISOR_VMX_L1_AREA_H

#include "core/run.h"

#include <nestvisor/string.h>
#include <stdint.h>

/* An L1-physical address as L0 reaches it: EPT01 is the identity and L0 maps memory 1:1. */
static inline void *l1_ptr(uint64_t gpa)
{
	return (void *)(uintptr_t)gpa;
}

struct l1_area {
	uint64_t base, size, used;
	const char *what;   /* for the end-of-run message if it overflows */
};

/* size bytes at an align-byte boundary (a power of two). */
static inline uint64_t l1_area_alloc(struct l1_area *a, uint64_t size, uint64_t align)
{
	uint64_t at = a->base + ((a->used + align - 1) & ~(align - 1));

	if (at + size > a->base + a->size)
		run_end_failure("L1 %s does not fit in its 0x%lx bytes", a->what, a->size);
	a->used = at + size - a->base;
	return at;
}

static inline uint64_t l1_area_string(struct l1_area *a, const char *s)
{
	uint64_t at = l1_area_alloc(a, strlen(s) + 1, 8);

	memcpy(l1_ptr(at), s, strlen(s) + 1);
	return at;
}

#endif
