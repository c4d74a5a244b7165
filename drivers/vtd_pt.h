/* SPDX-License-Identifier: MIT */
/*
 * The VT-d tables L0 gives every DMA-remapping unit (pure: host unit tests
 * build them in fake memory): one second-level page table, the "DMA domain",
 * that maps 1:1 exactly the memory L1 may write as RAM, and a root table whose
 * 256 buses all point at one context table whose 256 entries all name that
 * domain, so every requester ID of every segment translates through it.
 * Intel VT-d Specification (rev. 4.1), 9.1 "Root Entry", 9.3 "Context
 * Entry", 9.8 "Second-Stage Paging Entries" (legacy mode, 3.4.2 "Context
 * Table"), 3.7 "Second-Stage Translation".
 */
#ifndef NESTVISOR_DRIVERS_VTD_PT_H
#define NESTVISOR_DRIVERS_VTD_PT_H

#include <nestvisor/bootinfo.h>
#include <stdbool.h>
#include <stdint.h>

/* Second-stage paging entry bits (9.8, legacy mode) */
#define VTD_SL_R      (1ull << 0)
#define VTD_SL_W      (1ull << 1)
#define VTD_SL_PS     (1ull << 7)   /* a leaf above level 1: a 2-MiB or 1-GiB page */
#define VTD_SL_ADDR   0x000ffffffffff000ull

/* Root and context entries (9.1, 9.3): 128 bits each, lo then hi */
#define VTD_ROOT_P        (1ull << 0)
#define VTD_CTX_P         (1ull << 0)
#define VTD_CTX_TT_SHIFT  2          /* 00: untranslated requests through second stage */
#define VTD_CTX_AW_MASK   7ull       /* hi bits 2:0 */
#define VTD_CTX_DID_SHIFT 8          /* hi bits 23:8 */

/* Address widths: AW field and SAGAW bit n mean n + 2 paging levels. */
#define VTD_AW_39BIT  1   /* 3 levels */
#define VTD_AW_48BIT  2   /* 4 levels */
#define VTD_AW_57BIT  3   /* 5 levels */

struct vtd_pt_ops {
	uint64_t (*alloc)(void *ctx);                  /* a zeroed page; 0 when out */
	uint64_t *(*table)(void *ctx, uint64_t phys);  /* where L0 reads/writes it */
	void *ctx;
};

struct vtd_domain {
	struct vtd_pt_ops ops;
	uint64_t pml4;         /* the 4-level table; 3- and 5-level roots derive from it */
	bool pages_2m, pages_1g;
	uint64_t top;          /* the end of the highest range mapped */
	unsigned tables;       /* paging structures in use */
};

struct vtd_range {
	uint64_t base, end;    /* [base, end), 4-KiB aligned */
};

int vtd_domain_init(struct vtd_domain *d, const struct vtd_pt_ops *ops, bool pages_2m,
		    bool pages_1g);

/* Map [base, end) 1:1 read/write (4-KiB aligned). Already-mapped parts stay. 0 or -1. */
int vtd_domain_map(struct vtd_domain *d, uint64_t base, uint64_t end);

/*
 * Whether a device may DMA to memory of this boot-map type: exactly where
 * EPT01 gives L1 write-back, writable memory (ept/ept01.c's policy): L1's RAM
 * below ram_end, ACPI tables and NVS. Never L0's memory, firmware runtime
 * memory (read-only to L1), RAM beyond l1_memory, MMIO, reserved ranges, holes.
 */
bool vtd_dma_may_reach(uint32_t type, bool above_ram_end);

/*
 * The domain for a normalized boot map: every range vtd_dma_may_reach allows
 * (pages wholly inside it), plus extra ranges (the RMRRs, checked by the
 * caller). Returns 0 or -1 (out of table memory).
 */
int vtd_domain_build(struct vtd_domain *d, const struct nv_mem_range *map, uint32_t n,
		     uint64_t ram_end, const struct vtd_range *extra, unsigned n_extra);

/*
 * The table to put into a context entry for a unit walking `levels` (3, 4
 * or 5) levels: the PML4's first PDPT (3 levels; only if the domain lies
 * below 2^39), the PML4, or a new PML5 over it. 0 if impossible or out of memory.
 */
uint64_t vtd_domain_root(struct vtd_domain *d, unsigned levels);

/*
 * A root table and one context table: every bus and device/function maps
 * to slpt (translation type 00, address width aw, domain id did). Returns
 * the root table's address or 0 (out of memory).
 */
uint64_t vtd_context_build(const struct vtd_pt_ops *ops, uint64_t slpt, unsigned aw,
			   uint16_t did);

/* Walk levels levels from root: the leaf entry for addr and its page size, or 0. */
uint64_t vtd_translate(const struct vtd_pt_ops *ops, uint64_t root, unsigned levels,
		       uint64_t addr, uint64_t *page_size);

#endif
