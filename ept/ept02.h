/* SPDX-License-Identifier: MIT */
/*
 * EPT02: the tables the CPU walks while L2 runs, L2-physical -> host-physical,
 * filled on demand from an EPT12 walk composed with EPT01. A software TLB:
 * any mapping may be dropped at any time and is rebuilt on the next EPT
 * violation; tables come from a fixed pool of 4-KiB pages, and a few roots
 * (one per EPTP12) are cached, least recently used dropped first.
 * Pure: pages are reached through table_ptr, so host unit tests run it on
 * fake memory.
 */
#ifndef NESTVISOR_EPT_EPT02_H
#define NESTVISOR_EPT_EPT02_H

#include "ept/ept.h"
#include "ept/ept12.h"

#include <stdbool.h>
#include <stdint.h>

#define EPT02_ROOTS    8   /* EPTP12 values with a cached root */
/* A root and one table per level below it: the most one install needs. */
#define EPT02_MIN_POOL EPT_LEVELS
#define EPT02_NO_PAGE  (~0ull)

struct ept02_ops {
	/* Where the pool page at this physical address can be accessed. */
	uint64_t *(*table_ptr)(void *ctx, uint64_t phys);
	void *ctx;
};

struct ept02_root {
	bool valid;
	uint64_t eptp12;        /* the key: the whole EPTP12 (its A/D bit changes what is granted) */
	uint64_t phys;          /* the PML4 page */
	uint64_t last_use;      /* LRU stamp */
	uint32_t tables;        /* pool pages this root holds, the PML4 included */
};

struct ept02_stats {
	uint32_t in_use;        /* pool pages in tables now */
	uint32_t high_water;    /* most ever in use at once */
	uint64_t installs;      /* leaves written */
	uint64_t l1_faults;     /* installs refused because EPT01 forbids the access */
	uint64_t reclaims;      /* installs or root creations that found the pool short */
	uint64_t roots_reclaimed; /* other roots dropped by those */
	uint64_t self_flushes;  /* the installing root emptied: no other root was left */
	uint64_t evictions;     /* roots dropped for a cache slot */
};

struct ept02 {
	struct ept02_ops ops;
	uint64_t free_head;     /* free pool pages, linked through their first entry */
	uint32_t npages;
	bool use_2m, use_1g;    /* large EPT02 leaves the CPU supports */
	bool invept_needed;     /* a translation the CPU may cache was removed or narrowed */
	uint64_t tick;
	struct ept02_root roots[EPT02_ROOTS];
	struct ept02_stats stats;
};

enum ept02_status {
	EPT02_INSTALLED,        /* EPT02 now maps the page; resume L2 */
	EPT02_L1_FAULT,         /* EPT01 does not give L1 this access: L0 handles it as L1's */
};

/*
 * The pool: npages 4-KiB-aligned physical pages, all L0's, at least
 * EPT02_MIN_POOL. Returns 0, or -1 for a pool too small or misaligned.
 */
int ept02_init(struct ept02 *c, const struct ept02_ops *ops, const uint64_t *pages,
	       uint32_t npages, bool use_2m, bool use_1g);

/*
 * The EPT02 PML4 for this EPTP12, created empty if there is none (dropping
 * the least recently used root for a slot or for a page). Call it before
 * every VM entry to L2: a root given out earlier may since have been dropped.
 */
uint64_t ept02_root_for(struct ept02 *c, uint64_t eptp12);

/*
 * The EPTP02 for a root: write-back, 4 levels, and EPT A/D on when EPTP12
 * has it (so that L2's paging-structure reads are writes for EPT02 as L1
 * expects; the CPU must support A/D, as it does when L0 offers A/D to L1).
 */
uint64_t ept02_eptp(uint64_t root, uint64_t eptp12);

/*
 * Map L2-physical l2_gpa for the root of eptp12, from w12 (an EPT12_OK walk
 * of l2_gpa) and w01 (ept_translate of w12->l1_gpa on EPT01):
 *  - permissions w12->perms & EPT01's, without write while EPT12 A/D is on
 *    and the EPT12 leaf is not dirty (the first write must reach L0 to set it);
 *  - memory type and ignore-PAT of the EPT12 leaf, except that a page EPT01
 *    makes uncacheable stays uncacheable (L1 cannot make device memory
 *    cacheable through L2: through its own PAT it cannot either);
 *  - the largest page both translations have and the CPU supports.
 * EPT01 not mapping the page, or not giving w12->need: EPT02_L1_FAULT and
 * nothing is written. Never fails otherwise: a pool short of tables first
 * drops other roots, least recently used first, and as a last resort empties
 * this root. Preconditions: w12 is EPT12_OK; L2 never gets a permission
 * combination the CPU lacks (L0 offers execute-only to L1 only if it has it).
 */
enum ept02_status ept02_install(struct ept02 *c, uint64_t eptp12, uint64_t l2_gpa,
				const struct ept12_walk *w12, const struct ept_walk *w01);

/*
 * INVEPT single-context for L1: empty every root whose EPTP12 has this
 * EPTP's bits 51:12 (the EP4TA that tags cached mappings); the roots stay.
 */
void ept02_invalidate(struct ept02 *c, uint64_t eptp12);
/* INVEPT all-context for L1, and what L0 does after changing EPT01. */
void ept02_invalidate_all(struct ept02 *c);

/*
 * True once since a translation was removed or narrowed: the caller runs
 * INVEPT (all-context) before the next VM entry to L2.
 */
bool ept02_take_invept(struct ept02 *c);

#endif
