/* SPDX-License-Identifier: MIT */
/* The panicking allocation L0's fixed structures use (separate from pmm.c, which host tests run). */
#include "core/pmm.h"
#include "core/panic.h"

uint64_t pmm_alloc_page_or_panic(const char *who)
{
	uint64_t p = pmm_alloc_page();

	if (!p)
		panic("%s: L0 pool exhausted (raise l0_memory)", who);
	return p;
}
