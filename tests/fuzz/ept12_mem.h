/* SPDX-License-Identifier: MIT */
/*
 * Shared by the ept12 and ept02 harnesses: L1's memory holding EPT12 tables,
 * made from the input, the walker's ops on it (with a log of every access
 * and A/D updates that fail on demand), and a reference EPT12 walk written
 * from SDM Vol. 3C, 29.3.2 "EPT Translation Mechanism" (Tables 29-1..29-6),
 * 29.3.3 "EPT-Induced VM Exits", 29.3.5 "Accessed and Dirty Flags for EPT",
 * without side effects.
 *
 * L1 memory: L1_PAGES table pages, page i at L1-physical (i + 1) << 12;
 * nothing else is readable. Each page is filled with one entry value from the
 * input (whose address may be made to point at another page, so that chains
 * form), then single entries are set.
 */
#ifndef NESTVISOR_FUZZ_EPT12_MEM_H
#define NESTVISOR_FUZZ_EPT12_MEM_H

#include "fuzz.h"

#include "ept/ept12.h"

#define L1_PAGES 8
#define ADDR_51_12 0x000ffffffffff000ull

static uint64_t l1_ram[L1_PAGES][EPT_ENTRIES];

static struct {
	unsigned reads, writes, stores;
	unsigned cas_failures;        /* the next this many A/D updates fail */
	uint64_t read_gpa[64];
	uint64_t read_val[64];
	uint64_t store_gpa[64];       /* the A/D updates that changed memory */
} l1_log;

static uint64_t l1_page(unsigned i)
{
	return (uint64_t)(i % L1_PAGES + 1) << 12;
}

FUZZ_NO_COVERAGE static uint64_t *l1_slot(uint64_t gpa)
{
	uint64_t page = (gpa >> 12) - 1;

	if (gpa & 7 || gpa < 0x1000 || page >= L1_PAGES)
		return NULL;
	return &l1_ram[page][(gpa & 0xfff) / 8];
}

static bool l1_read_entry(void *ctx, uint64_t gpa, uint64_t *val)
{
	uint64_t *p = l1_slot(gpa);

	if (l1_log.reads < 64) {
		l1_log.read_gpa[l1_log.reads] = gpa;
		l1_log.read_val[l1_log.reads] = p ? *p : 0;
	}
	l1_log.reads++;
	if (!p)
		return false;
	*val = *p;
	return true;
}

static bool l1_write_entry(void *ctx, uint64_t gpa, uint64_t old, uint64_t new)
{
	uint64_t *p = l1_slot(gpa);

	l1_log.writes++;
	INVARIANT(p, "A/D update of 0x%llx, which the walk never read as a table",
		  (unsigned long long)gpa);
	/* An A/D update sets the accessed or dirty flag, nothing else (29.3.5). */
	INVARIANT(!((old ^ new) & ~(EPT_ACCESSED | EPT_DIRTY)) && !(old & ~new),
		  "A/D update 0x%llx -> 0x%llx", (unsigned long long)old, (unsigned long long)new);
	if (*p != old)
		return false;
	if (l1_log.cas_failures) {
		l1_log.cas_failures--;
		return false;
	}
	*p = new;
	if (l1_log.stores < 64)
		l1_log.store_gpa[l1_log.stores] = gpa;
	l1_log.stores++;
	return true;
}

/* EPT12 caps from one byte, the width from another (36..52). */
static struct ept12_caps l1_caps_from(struct fuzz_in *in)
{
	unsigned b = (unsigned)take(in, 1), w = (unsigned)take(in, 1);

	return (struct ept12_caps){
		.maxphyaddr = 36 + w % 17,
		.exec_only = b & 1, .use_2m = b & 2, .use_1g = b & 4, .ad = b & 8,
		.mt_uc = b & 16, .mt_wb = !(b & 32),
	};
}

/*
 * Fill L1's memory: per page a fill entry (8 bytes) and a link byte (bit 7:
 * the fill's address is page link % L1_PAGES); then count single entries
 * (page, index, value; count from the input, at most 32).
 */
FUZZ_NO_COVERAGE static void l1_mem_from(struct fuzz_in *in)
{
	for (unsigned i = 0; i < L1_PAGES; i++) {
		uint64_t fill = take(in, 8);
		unsigned link = (unsigned)take(in, 1);

		if (link & 0x80)
			fill = (fill & ~ADDR_51_12) | l1_page(link);
		for (unsigned j = 0; j < EPT_ENTRIES; j++)
			l1_ram[i][j] = fill;
	}
	for (unsigned n = (unsigned)take(in, 1) % 33; n; n--) {
		unsigned page = (unsigned)take(in, 1) % L1_PAGES, index = (unsigned)take(in, 2) % 512;
		uint64_t value = take(in, 8);
		unsigned link = (unsigned)take(in, 1);

		if (link & 0x80)
			value = (value & ~ADDR_51_12) | l1_page(link);
		l1_ram[page][index] = value;
	}
	memset(&l1_log, 0, sizeof(l1_log));
}

/* ------------------------------------------------------------------------ */
/* The reference walk (no A/D updates). */

struct ref_walk {
	enum ept12_status status;
	unsigned level;
	uint64_t entry_gpa, perms, need;
	unsigned causes;            /* EPT12_MISCONFIG: bit per enum ept12_misconfig that applies */
	uint64_t path_gpa[EPT_LEVELS], path_val[EPT_LEVELS];
	unsigned path_len;
	/* EPT12_OK and EPT12_VIOLATION at a leaf: */
	bool leaf;
	uint64_t l1_gpa, page_size, leaf_val;
	unsigned memtype;
};

static uint64_t bits_hi_lo(unsigned hi, unsigned lo)
{
	return ((hi >= 63) ? ~0ull : (2ull << hi) - 1) & ~((1ull << lo) - 1);
}

/* Which misconfiguration causes apply to a present entry (29.3.3.1). */
FUZZ_NO_COVERAGE static unsigned ref_causes(uint64_t e, unsigned level, const struct ept12_caps *c)
{
	unsigned perms = e & 7, causes = 0, mt = e >> 3 & 7;
	uint64_t rsvd = c->maxphyaddr < 52 ? bits_hi_lo(51, c->maxphyaddr) : 0;
	bool large = e >> 7 & 1;

	if (perms == 2 || perms == 6)
		causes |= 1u << EPT12_MC_WRITE_NO_READ;
	if (perms == 4 && !c->exec_only)
		causes |= 1u << EPT12_MC_EXEC_ONLY;
	/* Table 29-1 (PML4E): bits 7:3 reserved. 29-2/29-3 (PDPTE): 1-GByte page or
	 * table; 29-4/29-5 (PDE): 2-MByte page or table; 29-6 (PTE): none (bit 7 ignored). */
	if (level == 4)
		rsvd |= bits_hi_lo(7, 3);
	else if (level == 3)
		rsvd |= !large ? bits_hi_lo(6, 3) : c->use_1g ? bits_hi_lo(29, 12) : 1ull << 7;
	else if (level == 2)
		rsvd |= !large ? bits_hi_lo(6, 3) : c->use_2m ? bits_hi_lo(20, 12) : 1ull << 7;
	if (e & rsvd)
		causes |= 1u << EPT12_MC_RESERVED;
	/* The last entry's memory type (a large page's bit 7 the CPU lacks is reserved anyway). */
	if ((level == 1 || (large && level < 4)) && (mt == 2 || mt == 3 || mt == 7))
		causes |= 1u << EPT12_MC_MEMTYPE;
	return causes;
}

FUZZ_NO_COVERAGE static struct ref_walk ref_ept12_walk(uint64_t eptp, const struct ept12_caps *c, uint64_t gpa,
				      unsigned access)
{
	struct ref_walk r = { .perms = 7, .need = access & 7 };
	uint64_t table = eptp & ADDR_51_12;

	if ((access & EPT12_ACC_PAGING) && (eptp >> 6 & 1))
		r.need |= 3;     /* guest paging-structure accesses are writes with A/D (29.3.3.2) */
	for (unsigned level = 4; level >= 1; level--) {
		uint64_t egpa = table + ((gpa >> (12 + 9 * (level - 1))) & 511) * 8;
		uint64_t *p = l1_slot(egpa), e;

		r.level = level;
		r.entry_gpa = egpa;
		if (!p) {
			r.status = EPT12_TABLE_UNREADABLE;
			return r;
		}
		e = *p;
		r.perms &= e & 7;
		if (!(e & 7)) {
			r.status = EPT12_VIOLATION;
			return r;
		}
		r.causes = ref_causes(e, level, c);
		if (r.causes) {
			r.status = EPT12_MISCONFIG;
			return r;
		}
		r.path_gpa[r.path_len] = egpa;
		r.path_val[r.path_len++] = e;
		if (level == 1 || (e >> 7 & 1)) {
			r.leaf = true;
			r.page_size = 1ull << (12 + 9 * (level - 1));
			r.l1_gpa = (e & ADDR_51_12 & ~(r.page_size - 1)) | (gpa & (r.page_size - 1));
			r.memtype = e >> 3 & 7;
			r.leaf_val = e;
			r.status = (r.need & ~r.perms) ? EPT12_VIOLATION : EPT12_OK;
			return r;
		}
		table = e & ADDR_51_12;
	}
	INVARIANT(0, "reference walk went below level 1");
	return r;
}

#endif
