/* SPDX-License-Identifier: MIT */
/*
 * L0's physical page allocator. It hands out pages only from the
 * NV_MEM_L0_POOL ranges of the boot memory map, which L1 never sees: every
 * page L0 allocates is L0's by construction.
 */
#ifndef NESTVISOR_CORE_PMM_H
#define NESTVISOR_CORE_PMM_H

#include <nestvisor/bootinfo.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))

/* L0 maps all physical memory 1:1 (core/paging.c), so a physical address is a pointer. */
static inline void *phys_to_virt(uint64_t phys)
{
	return (void *)(uintptr_t)phys;
}

/* Returns the number of pool pages managed (0 if the map has no pool). */
size_t pmm_init(const struct nv_mem_range *map, uint32_t count);
/* count contiguous zeroed pages, aligned to align_pages pages; 0 when out of memory. */
uint64_t pmm_alloc_aligned(size_t count, size_t align_pages);
uint64_t pmm_alloc_pages(size_t count);
uint64_t pmm_alloc_page(void);
/* For L0's fixed structures: a page, or a panic naming who ran out (the pool is sized by l0_memory). */
uint64_t pmm_alloc_page_or_panic(const char *who);
void pmm_free_pages(uint64_t phys, size_t count);
size_t pmm_free_count(void);
/* The fewest pages free since pmm_reset_min (L1's start): the pool's high-water mark. */
size_t pmm_min_free_count(void);
void pmm_reset_min(void);
/* Is [phys, phys+size) inside L0's pool? */
int pmm_owns(uint64_t phys, uint64_t size);

#endif
