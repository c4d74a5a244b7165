/* SPDX-License-Identifier: MIT */
/* The hand-over page tables the core starts on (pure, no UEFI). */
#ifndef NV_BOOT_PAGETABLE_H
#define NV_BOOT_PAGETABLE_H

#include <nestvisor/bootinfo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NV_PT_MAX_TOP (1ULL << 47)  /* the lower half of 4-level paging */

struct nv_pt_params {
	uint64_t top;           /* identity map [0, top); a multiple of 1 GiB */
	bool gb_pages;          /* CPUID.80000001H:EDX[26] (Page1GB) */
	uint64_t core_phys;     /* 2 MiB aligned; mapped at NV_CORE_VBASE */
	uint64_t core_span;     /* bytes from NV_CORE_VBASE; mapped rounded up to 2 MiB */
};

/* max(4 GiB, end of the highest range of map), rounded up to 1 GiB. */
uint64_t nv_pt_identity_top(const struct nv_mem_range *map, uint32_t n);

/* 4 KiB pages nv_pt_build needs for p (0 if p->top is too high). */
uint32_t nv_pt_pages(const struct nv_pt_params *p);

/*
 * Build the tables into buf (npages zeroed or not, 4 KiB aligned), which the
 * CPU will see at physical buf_phys: identity map of [0, top) with 1 GiB or
 * 2 MiB pages, and [NV_CORE_VBASE, +span rounded to 2 MiB) -> core_phys with
 * 2 MiB pages, all present, writable, executable, supervisor. Sets *cr3.
 * Returns 0, or -1 with a message.
 */
int nv_pt_build(const struct nv_pt_params *p, void *buf, uint64_t buf_phys, uint32_t npages,
		uint64_t *cr3, char *err, size_t errlen);

#endif
