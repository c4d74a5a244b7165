/* SPDX-License-Identifier: MIT */
#include "ept/ept12.h"

/* Tries of a walk whose A/D update found an entry changed under it. */
#define WALK_TRIES 4

/* Bits 7:3 of an entry that references another table (Tables 29-1, 29-3, 29-5). */
#define NONLEAF_RSVD (EPT_MT_MASK | EPT_IGNORE_PAT | EPT_LARGE)

/* The memory types an EPT leaf may hold; 2, 3 and 7 are reserved (29.3.3.1). */
#define MT_VALID ((1u << EPT_MT_UC) | (1u << EPT_MT_WC) | (1u << EPT_MT_WT) | \
		  (1u << EPT_MT_WP) | (1u << EPT_MT_WB))

/* The entries a walk used, kept for the A/D update. */
struct path {
	uint64_t gpa[EPT_LEVELS];
	uint64_t val[EPT_LEVELS];
	unsigned n;
};

/* Bits hi:lo set (lo may be 52: none). */
static uint64_t bits(unsigned hi, unsigned lo)
{
	return (hi >= 63 ? ~0ull : (2ull << hi) - 1) & ~((1ull << lo) - 1);
}

/* Bits 51:N, beyond L1's physical-address width, reserved in every entry (29.3.2). */
static uint64_t width_rsvd(const struct ept12_caps *c)
{
	return c->maxphyaddr >= 52 ? 0 : bits(51, c->maxphyaddr);
}

/* Does this entry map a page rather than reference a table? Bit 7 (29.3.2). */
static bool is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || ((level == 2 || level == 3) && (e & EPT_LARGE));
}

/*
 * The reserved bits of a present entry, by type (SDM Vol. 3C, 29.3.2
 * "EPT Translation Mechanism", Tables 29-1..29-6). Bit 7 of a PDPTE or PDE
 * is reserved unless 1-GByte or 2-MByte pages are offered (A.10); bit 7 of a
 * PTE is ignored; a large page's address bits below its size are reserved.
 */
static uint64_t reserved_bits(uint64_t e, unsigned level, const struct ept12_caps *c)
{
	uint64_t r = width_rsvd(c);

	if (level == 1)
		return r;
	if (level == 4 || !(e & EPT_LARGE))
		return r | NONLEAF_RSVD;
	if (level == 3)
		return r | (c->use_1g ? bits(29, 12) : EPT_LARGE);
	return r | (c->use_2m ? bits(20, 12) : EPT_LARGE);
}

/* SDM Vol. 3C, 29.3.3.1 "EPT Misconfigurations", for one present entry. */
static enum ept12_misconfig entry_misconfig(uint64_t e, unsigned level, const struct ept12_caps *c)
{
	uint64_t perms = e & EPT_PERM_MASK;

	if ((perms & EPT_W) && !(perms & EPT_R))
		return EPT12_MC_WRITE_NO_READ;
	if (perms == EPT_X && !c->exec_only)
		return EPT12_MC_EXEC_ONLY;
	if (e & reserved_bits(e, level, c))
		return EPT12_MC_RESERVED;
	if (is_leaf(e, level) && !(MT_VALID & (1u << ((e & EPT_MT_MASK) >> EPT_MT_SHIFT))))
		return EPT12_MC_MEMTYPE;
	return EPT12_MC_NONE;
}

/*
 * What the access needs. With A/D on, accesses to guest paging structures
 * are writes as far as EPT is concerned (29.3.3.2 "EPT Violations"), and
 * their violations report both read and write (Table 28-7, footnote).
 */
static uint64_t access_need(const struct ept12_mmu *m, unsigned access)
{
	uint64_t need = access & EPT_PERM_MASK;

	if ((access & EPT12_ACC_PAGING) && (m->eptp & EPTP_AD_ENABLE))
		need |= EPT_R | EPT_W;
	return need;
}

/* The walk reached a leaf: the translation, or a violation by its permissions. */
static void finish(struct ept12_walk *w, uint64_t gpa, uint64_t leaf, unsigned level)
{
	uint64_t size = EPT_LEVEL_SIZE(level);

	w->page_size = size;
	w->l1_gpa = (leaf & EPT_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
	w->memtype = (leaf & EPT_MT_MASK) >> EPT_MT_SHIFT;
	w->ignore_pat = leaf & EPT_IGNORE_PAT;
	w->leaf = leaf;
	/* 29.3.3.2: bit 0/1/2 clear in any entry used for a read/write/fetch. */
	w->status = (w->need & ~w->perms) ? EPT12_VIOLATION : EPT12_OK;
}

/* One pass over the tables, top-down, recording the entries used in p. */
static void walk_once(const struct ept12_mmu *m, uint64_t gpa, struct path *p,
		      struct ept12_walk *w)
{
	uint64_t table = m->eptp & EPT_ADDR_MASK;

	p->n = 0;
	w->perms = EPT_PERM_MASK;
	for (unsigned level = EPT_LEVELS; level >= 1; level--) {
		uint64_t egpa = table + EPT_INDEX(gpa, level) * EPT_ENTRY_SIZE, e = 0;

		w->level = level;
		w->entry_gpa = egpa;
		w->entry = 0;
		if (!m->ops.read_entry(m->ops.ctx, egpa, &e)) {
			w->status = EPT12_TABLE_UNREADABLE;
			return;
		}
		w->entry = e;
		w->perms &= e & EPT_PERM_MASK;
		/* 29.3.2: bits 2:0 all 0, not present; the walk stops there. */
		if (!(e & EPT_PERM_MASK)) {
			w->status = EPT12_VIOLATION;
			return;
		}
		w->why = entry_misconfig(e, level, &m->caps);
		if (w->why != EPT12_MC_NONE) {
			w->status = EPT12_MISCONFIG;
			return;
		}
		p->gpa[p->n] = egpa;
		p->val[p->n++] = e;
		if (is_leaf(e, level)) {
			finish(w, gpa, e, level);
			return;
		}
		table = e & EPT_ADDR_MASK;
	}
}

/*
 * SDM Vol. 3C, 29.3.5 "Accessed and Dirty Flags for EPT": the accessed flag
 * in every entry used, the dirty flag in the leaf for a write (the paging
 * accesses access_need made writes included). False if an entry changed.
 */
static bool set_ad(const struct ept12_mmu *m, const struct path *p, struct ept12_walk *w)
{
	for (unsigned i = 0; i < p->n; i++) {
		bool last = i + 1 == p->n;
		uint64_t want = p->val[i] | EPT_ACCESSED | (last && (w->need & EPT_W) ? EPT_DIRTY : 0);

		if (want != p->val[i] &&
		    !m->ops.write_entry(m->ops.ctx, p->gpa[i], p->val[i], want))
			return false;
		if (last)
			w->leaf = w->entry = want;
	}
	return true;
}

void ept12_walk(const struct ept12_mmu *m, uint64_t gpa, unsigned access, struct ept12_walk *w)
{
	struct path p;

	*w = (struct ept12_walk){ .access = access, .need = access_need(m, access) };
	for (unsigned tries = 0; tries < WALK_TRIES; tries++) {
		walk_once(m, gpa, &p, w);
		if (w->status != EPT12_OK || !(m->eptp & EPTP_AD_ENABLE) || set_ad(m, &p, w))
			return;
	}
	w->status = EPT12_AD_RACE;
}

/* SDM Vol. 3C, 28.2.1 "Basic VM-Exit Information", Table 28-7. */
uint64_t ept12_violation_qual(const struct ept12_walk *w, bool gla_valid)
{
	uint64_t q = (w->need & EPT12_QUAL_ACCESS_MASK) | (w->perms << EPT12_QUAL_PERMS_SHIFT);

	if (gla_valid)
		q |= EPT12_QUAL_GLA_VALID | (w->access & EPT12_ACC_PAGING ? 0 : EPT12_QUAL_GLA_FINAL);
	return q;
}

/* One named check: the condition that must hold. */
#define CHECK(cond, name)               \
	do {                            \
		if (!(cond))            \
			return (name);  \
	} while (0)

/* SDM Vol. 3C, 26.2.1.1 "VM-Execution Control Fields", the EPTP bullets. */
const char *ept12_eptp_check(uint64_t eptp, const struct ept12_caps *caps)
{
	uint64_t mt = eptp & EPTP_MT_MASK;

	CHECK((mt == EPT_MT_UC && caps->mt_uc) || (mt == EPT_MT_WB && caps->mt_wb),
	      "EPTP: memory type not supported");
	CHECK((eptp & EPTP_PWL_MASK) == EPTP_PWL4, "EPTP: page-walk length other than 4");
	CHECK(!(eptp & EPTP_AD_ENABLE) || caps->ad,
	      "EPTP: accessed and dirty flags without the capability");
	CHECK(!(eptp & EPTP_RSVD_MASK), "EPTP: reserved bits 11:7 set");
	CHECK(caps->maxphyaddr >= 64 || !(eptp >> caps->maxphyaddr),
	      "EPTP: bits beyond the physical-address width set");
	return 0;
}

bool ept12_eptp_valid(uint64_t eptp, const struct ept12_caps *caps)
{
	return !ept12_eptp_check(eptp, caps);
}

const char *ept12_misconfig_name(enum ept12_misconfig why)
{
	switch (why) {
	case EPT12_MC_NONE:
		return "none";
	case EPT12_MC_WRITE_NO_READ:
		return "write without read";
	case EPT12_MC_EXEC_ONLY:
		return "execute-only not supported";
	case EPT12_MC_RESERVED:
		return "reserved bit set";
	case EPT12_MC_MEMTYPE:
		return "reserved memory type";
	}
	return "?";
}
