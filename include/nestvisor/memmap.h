/* SPDX-License-Identifier: MIT */
/* Memory-map algorithms shared by the loader and the core (pure, host-testable). */
#ifndef NESTVISOR_MEMMAP_H
#define NESTVISOR_MEMMAP_H

#include <nestvisor/bootinfo.h>
#include <stdbool.h>

#define NV_PAGE_SIZE 4096ULL
#define NV_MEM_BIT(t) (1u << (t))

/* RAM that belongs to L0 and is never mapped for L1. */
#define NV_MEM_L0_MASK \
	(NV_MEM_BIT(NV_MEM_L0_IMAGE) | NV_MEM_BIT(NV_MEM_L0_POOL) | NV_MEM_BIT(NV_MEM_L0_BOOT))
/* Free RAM L1 may be given (staging is free once the core has placed L1). */
#define NV_MEM_L1_RAM_MASK (NV_MEM_BIT(NV_MEM_USABLE) | NV_MEM_BIT(NV_MEM_L1_STAGING))

static inline bool nv_mem_is_l0(uint32_t type)
{
	return type < 32 && (NV_MEM_L0_MASK & NV_MEM_BIT(type));
}

const char *nv_mem_type_name(uint32_t type);

/*
 * Sort by base, clip overlaps (the range with the larger type number wins
 * the overlapped part, so L0 and staging ranges override "usable"), and merge
 * touching ranges of equal type. Drops empty ranges. Returns the new count;
 * never grows beyond max (ranges that would not fit are dropped and the
 * return value has bit 31 set to report it).
 */
uint32_t nv_mmap_normalize(struct nv_mem_range *r, uint32_t n, uint32_t max);
#define NV_MMAP_TRUNCATED 0x80000000u

/* Is [base, base+size) entirely covered by ranges whose type is in type_mask? */
bool nv_mmap_covers(const struct nv_mem_range *map, uint32_t n, uint64_t base,
		    uint64_t size, uint32_t type_mask);

/* Does [base, base+size) touch any range whose type is in type_mask? */
bool nv_mmap_touches(const struct nv_mem_range *map, uint32_t n, uint64_t base,
		     uint64_t size, uint32_t type_mask);

/*
 * L1 gets free RAM in ascending address order until it has mem_limit bytes.
 * Returns the address where that happens (page aligned): free RAM at or above
 * it is not L1's. mem_limit == 0 means all free RAM: returns UINT64_MAX.
 */
uint64_t nv_l1_ram_end(const struct nv_mem_range *map, uint32_t n, uint64_t mem_limit);

/*
 * L1's view of a normalized map: L0 ranges become NV_MEM_RESERVED, staging
 * becomes NV_MEM_USABLE, free RAM at or above ram_end is left out (L1 cannot
 * reach it). Output is normalized. Returns the count (bit 31 if truncated).
 */
uint32_t nv_l1_view(const struct nv_mem_range *map, uint32_t n, uint64_t ram_end,
		    struct nv_mem_range *out, uint32_t max);

#endif
