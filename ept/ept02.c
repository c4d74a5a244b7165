/* SPDX-License-Identifier: MIT */
#include "ept/ept02.h"
#include "ept/ept02_pool.h"

/* What an install writes: the host address of l2_gpa and bits 2:0, 6:3 of the leaf. */
struct leaf_src {
	uint64_t hpa;
	uint64_t attrs;
};

/* An entry that references a table (29.3.2: present, and bit 7 clear above the PTE). */
static bool is_table(uint64_t e, unsigned level)
{
	return level > 1 && (e & EPT_PERM_MASK) && !(e & EPT_LARGE);
}

static uint64_t make_leaf(const struct leaf_src *s, unsigned level)
{
	uint64_t size = EPT_LEVEL_SIZE(level);

	return (s->hpa & EPT_ADDR_MASK & ~(size - 1)) | s->attrs | (level > 1 ? EPT_LARGE : 0);
}

/*
 * The largest leaf both translations allow. Its L2 and host bases agree: l2
 * and l1 addresses are congruent modulo the EPT12 page, l1 and host modulo
 * the EPT01 page, so both modulo the smaller; and each translation is uniform
 * (permissions, memory type) over its own page.
 */
static unsigned leaf_level(const struct ept02 *c, const struct ept12_walk *w12,
			   const struct ept_walk *w01)
{
	uint64_t size = w12->page_size < w01->page_size ? w12->page_size : w01->page_size;

	if (size >= EPT_PAGE_1G && c->use_1g)
		return 3;
	if (size >= EPT_PAGE_2M && c->use_2m)
		return 2;
	return 1;
}

/* Permissions, memory type and ignore-PAT of the composed leaf (see ept02.h). */
static uint64_t leaf_attrs(uint64_t eptp12, const struct ept12_walk *w12, const struct ept_walk *w01)
{
	uint64_t perms = w12->perms & w01->leaf & EPT_PERM_MASK;
	unsigned mt01 = (w01->leaf & EPT_MT_MASK) >> EPT_MT_SHIFT;
	uint64_t mt = mt01 == EPT_MT_UC ? EPT_MT_UC : w12->memtype;

	/* SDM Vol. 3C, 29.3.5 "Accessed and Dirty Flags for EPT": L1 sees the first write. */
	if ((eptp12 & EPTP_AD_ENABLE) && !(w12->leaf & EPT_DIRTY))
		perms &= ~EPT_W;
	return perms | mt << EPT_MT_SHIFT | (w12->ignore_pat ? EPT_IGNORE_PAT : 0);
}

/*
 * Tables an install at target_level allocates: one per level above it from
 * the first entry on the way down that does not reference a table. Existing
 * tables at or below target_level are followed, and the leaf goes there.
 */
static uint32_t tables_needed(struct ept02 *c, const struct ept02_root *r, uint64_t gpa,
			      unsigned target_level)
{
	uint64_t table = r->phys;

	for (unsigned level = EPT_LEVELS; level > target_level; level--) {
		uint64_t e = ept02_table(c, table)[EPT_INDEX(gpa, level)];

		if (!is_table(e, level))
			return level - target_level;
		table = e & EPT_ADDR_MASK;
	}
	return 0;
}

/* Write a leaf; replacing one by anything but a widening of it needs an INVEPT. */
static void write_leaf(struct ept02 *c, uint64_t *e, uint64_t leaf)
{
	uint64_t old = *e;
	bool widens = !((old ^ leaf) & ~EPT_PERM_MASK) && !(old & ~leaf & EPT_PERM_MASK);

	if ((old & EPT_PERM_MASK) && !widens)
		c->invept_needed = true;
	*e = leaf;
	c->stats.installs++;
}

/* Walk down from r, adding the tables tables_needed counted, and write the leaf. */
static void put_leaf(struct ept02 *c, struct ept02_root *r, uint64_t gpa, unsigned target_level,
		     const struct leaf_src *s)
{
	uint64_t table = r->phys;

	for (unsigned level = EPT_LEVELS;; level--) {
		uint64_t *e = &ept02_table(c, table)[EPT_INDEX(gpa, level)];

		if (is_table(*e, level)) {
			table = *e & EPT_ADDR_MASK;
		} else if (level <= target_level) {
			write_leaf(c, e, make_leaf(s, level));
			return;
		} else {
			/* Empty, or a larger leaf this page now splits off from. */
			if (*e & EPT_PERM_MASK)
				c->invept_needed = true;
			table = ept02_page_alloc(c, r);
			*e = table | EPT_RWX;
		}
	}
}

/* The pages the install needs, at most one reclaim away (EPT02_MIN_POOL pages suffice). */
static void reserve(struct ept02 *c, struct ept02_root *r, uint64_t gpa, unsigned target_level)
{
	if (ept02_make_room(c, r, tables_needed(c, r, gpa, target_level)))
		return;
	ept02_root_flush(c, r);
	c->stats.self_flushes++;
}

enum ept02_status ept02_install(struct ept02 *c, uint64_t eptp12, uint64_t l2_gpa,
				const struct ept12_walk *w12, const struct ept_walk *w01)
{
	struct ept02_root *r;
	struct leaf_src s;
	unsigned level;

	if (!w01->present || (w12->need & ~w01->leaf & EPT_PERM_MASK)) {
		c->stats.l1_faults++;
		return EPT02_L1_FAULT;
	}
	s = (struct leaf_src){ w01->hpa, leaf_attrs(eptp12, w12, w01) };
	if (!(s.attrs & EPT_PERM_MASK)) {
		/* Nothing to grant: only an access of no kind gets here. */
		c->stats.l1_faults++;
		return EPT02_L1_FAULT;
	}
	r = ept02_root_get(c, eptp12);
	level = leaf_level(c, w12, w01);
	reserve(c, r, l2_gpa, level);
	put_leaf(c, r, l2_gpa, level, &s);
	return EPT02_INSTALLED;
}
