/* SPDX-License-Identifier: MIT */
/*
 * A bitmap allocator over the L0 pool ranges. Each range keeps its bitmap in
 * its own first pages (marked used). Single CPU, no locking yet.
 */
#include "core/pmm.h"

#include <nestvisor/string.h>

#define PMM_MAX_RANGES 8

struct pool_range {
	uint64_t base;
	size_t pages;
	uint8_t *bitmap;  /* bit set = page in use */
};

static struct pool_range ranges[PMM_MAX_RANGES];
static unsigned nranges;
static size_t free_pages;
static size_t min_free_pages;  /* the fewest free since pmm_reset_min */

static int test_bit(const uint8_t *bm, size_t i)
{
	return bm[i / 8] >> (i % 8) & 1;
}

static void set_bits(uint8_t *bm, size_t first, size_t n, int used)
{
	for (size_t i = first; i < first + n; i++) {
		if (used)
			bm[i / 8] |= (uint8_t)(1u << (i % 8));
		else
			bm[i / 8] &= (uint8_t)~(1u << (i % 8));
	}
}

size_t pmm_init(const struct nv_mem_range *map, uint32_t count)
{
	size_t total = 0;

	nranges = 0;
	free_pages = 0;
	for (uint32_t i = 0; i < count && nranges < PMM_MAX_RANGES; i++) {
		struct pool_range *r = &ranges[nranges];
		uint64_t base = (map[i].base + PAGE_SIZE - 1) & PAGE_MASK;
		uint64_t end = (map[i].base + map[i].size) & PAGE_MASK;
		size_t meta;

		if (map[i].type != NV_MEM_L0_POOL || end <= base)
			continue;
		r->base = base;
		r->pages = (end - base) / PAGE_SIZE;
		meta = (r->pages / 8 + PAGE_SIZE) / PAGE_SIZE;
		if (meta >= r->pages)
			continue;
		r->bitmap = phys_to_virt(base);
		memset(r->bitmap, 0, meta * PAGE_SIZE);
		set_bits(r->bitmap, 0, meta, 1);
		free_pages += r->pages - meta;
		total += r->pages;
		nranges++;
	}
	min_free_pages = free_pages;
	return total;
}

uint64_t pmm_alloc_aligned(size_t count, size_t align_pages)
{
	if (!count || !align_pages)
		return 0;
	for (unsigned k = 0; k < nranges; k++) {
		struct pool_range *r = &ranges[k];
		size_t first = 0;

		while (first + count <= r->pages) {
			size_t run = 0;
			uint64_t phys = r->base + first * PAGE_SIZE;

			if ((phys / PAGE_SIZE) % align_pages) {
				first++;
				continue;
			}
			while (run < count && !test_bit(r->bitmap, first + run))
				run++;
			if (run == count) {
				set_bits(r->bitmap, first, count, 1);
				free_pages -= count;
				if (free_pages < min_free_pages)
					min_free_pages = free_pages;
				memset(phys_to_virt(phys), 0, count * PAGE_SIZE);
				return phys;
			}
			first += run + 1;
		}
	}
	return 0;
}

uint64_t pmm_alloc_pages(size_t count)
{
	return pmm_alloc_aligned(count, 1);
}

uint64_t pmm_alloc_page(void)
{
	return pmm_alloc_aligned(1, 1);
}

void pmm_free_pages(uint64_t phys, size_t count)
{
	for (unsigned k = 0; k < nranges; k++) {
		struct pool_range *r = &ranges[k];

		if (phys >= r->base && phys + count * PAGE_SIZE <= r->base + r->pages * PAGE_SIZE) {
			size_t first = (phys - r->base) / PAGE_SIZE;

			for (size_t i = first; i < first + count; i++)
				if (test_bit(r->bitmap, i))
					free_pages++;
			set_bits(r->bitmap, first, count, 0);
			return;
		}
	}
}

size_t pmm_free_count(void)
{
	return free_pages;
}

size_t pmm_min_free_count(void)
{
	return min_free_pages;
}

void pmm_reset_min(void)
{
	min_free_pages = free_pages;
}

int pmm_owns(uint64_t phys, uint64_t size)
{
	for (unsigned k = 0; k < nranges; k++)
		if (phys >= ranges[k].base && phys + size >= phys &&
		    phys + size <= ranges[k].base + ranges[k].pages * PAGE_SIZE)
			return 1;
	return 0;
}
