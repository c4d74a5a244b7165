/* SPDX-License-Identifier: MIT */
/*
 * EPT paging-structure format, building and walking.
 * SDM Vol. 3C, 29.3.2 "EPT Translation Mechanism", Tables 29-1..29-6.
 * Pure: memory comes through the ops, so host unit tests run it on fake memory,
 * and the same walker will read L1's EPT12 through a guest-memory op.
 */
#ifndef NESTVISOR_EPT_EPT_H
#define NESTVISOR_EPT_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define EPT_R        (1ull << 0)
#define EPT_W        (1ull << 1)
#define EPT_X        (1ull << 2)
#define EPT_RWX      (EPT_R | EPT_W | EPT_X)
#define EPT_PERM_MASK EPT_RWX
#define EPT_MT_SHIFT 3
#define EPT_MT_MASK  (7ull << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_LARGE    (1ull << 7)
#define EPT_ACCESSED (1ull << 8)
#define EPT_DIRTY    (1ull << 9)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

/* EPT memory types (SDM Vol. 3A, 12.3 "Methods of Caching Available") */
#define EPT_MT_UC 0
#define EPT_MT_WC 1
#define EPT_MT_WT 4
#define EPT_MT_WP 5
#define EPT_MT_WB 6

/* EPTP (SDM Vol. 3C, 25.6.11 "Extended-Page-Table Pointer (EPTP)") */
#define EPTP_MT_WB         6ull
#define EPTP_PWL4          (3ull << 3)  /* page-walk length minus one */
#define EPTP_AD_ENABLE     (1ull << 6)
#define EPTP_MT_MASK       7ull
#define EPTP_PWL_MASK      (7ull << 3)
#define EPTP_RSVD_MASK     (0x1full << 7)  /* bits 11:7 */

#define EPT_PAGE_4K (1ull << 12)
#define EPT_PAGE_2M (1ull << 21)
#define EPT_PAGE_1G (1ull << 30)

/* Four levels of 512 entries: level 4 = PML4 .. level 1 = page table (29.3.2). */
#define EPT_LEVELS  4
#define EPT_ENTRIES 512
#define EPT_ENTRY_SIZE 8
#define EPT_LEVEL_SHIFT(level) (12 + 9 * ((level) - 1))
#define EPT_LEVEL_SIZE(level)  (1ull << EPT_LEVEL_SHIFT(level))
#define EPT_INDEX(gpa, level)  (((gpa) >> EPT_LEVEL_SHIFT(level)) & (EPT_ENTRIES - 1))

struct ept_ops {
	/* A zeroed 4 KiB page for a paging structure; 0 when out of memory. */
	uint64_t (*alloc_table)(void *ctx);
	/* Where the paging structure at this physical address can be accessed. */
	uint64_t *(*table_ptr)(void *ctx, uint64_t phys);
	void *ctx;
};

struct ept {
	uint64_t pml4;          /* physical address of the root */
	struct ept_ops ops;
	bool use_2m, use_1g;    /* large pages the CPU supports */
	uint32_t tables;        /* paging structures allocated */
};

struct ept_walk {
	bool present;           /* a leaf with some permission was found */
	uint64_t hpa;           /* translated address */
	uint64_t leaf;          /* the leaf entry */
	uint64_t page_size;     /* 4K, 2M or 1G */
	unsigned level;         /* 1 = PTE .. 4 = PML4E where the walk ended */
	bool misconfigured;     /* a reserved combination (e.g. W without R) */
};

int ept_init(struct ept *e, const struct ept_ops *ops, bool use_2m, bool use_1g);
/*
 * Map [gpa, gpa+size) to [hpa, ...) with the given permissions and memory
 * type, using the largest pages that fit. Page-aligned arguments; the range
 * must not be mapped yet. Returns 0, or -1 when out of table memory or asked to
 * map over an existing mapping.
 */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms,
	    unsigned memtype);
/*
 * Give or take the write permission of the 4-KiB page at gpa, splitting a
 * large page that holds it. 0, or -1 if gpa is unmapped (or read-less) or no
 * table memory is left. The caller invalidates cached translations (INVEPT).
 */
int ept_set_write(struct ept *e, uint64_t gpa, bool writable);
/* Translate one guest-physical address. */
void ept_translate(const struct ept *e, uint64_t gpa, struct ept_walk *w);
uint64_t ept_eptp(const struct ept *e);

#endif
