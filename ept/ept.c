/* SPDX-License-Identifier: MIT */
#include "ept/ept.h"

int ept_init(struct ept *e, const struct ept_ops *ops, bool use_2m, bool use_1g)
{
	e->ops = *ops;
	e->use_2m = use_2m;
	e->use_1g = use_1g;
	e->tables = 0;
	e->pml4 = ops->alloc_table(ops->ctx);
	if (!e->pml4)
		return -1;
	e->tables = 1;
	return 0;
}

uint64_t ept_eptp(const struct ept *e)
{
	return e->pml4 | EPTP_PWL4 | EPTP_MT_WB;
}

/* The table an entry points to, allocating it if absent; NULL on conflict/OOM. */
static uint64_t *next_table(struct ept *e, uint64_t *entry)
{
	if (!(*entry & EPT_PERM_MASK)) {
		uint64_t t = e->ops.alloc_table(e->ops.ctx);

		if (!t)
			return 0;
		e->tables++;
		/* Non-leaf entries grant everything; leaves decide. */
		*entry = t | EPT_RWX;
	} else if (*entry & EPT_LARGE) {
		return 0;
	}
	return e->ops.table_ptr(e->ops.ctx, *entry & EPT_ADDR_MASK);
}

static bool fits(uint64_t gpa, uint64_t hpa, uint64_t left, uint64_t page)
{
	return !(gpa & (page - 1)) && !(hpa & (page - 1)) && left >= page;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms,
	    unsigned memtype)
{
	uint64_t leaf_bits = (perms & EPT_PERM_MASK) | ((uint64_t)memtype << EPT_MT_SHIFT);

	if ((gpa | hpa | size) & (EPT_PAGE_4K - 1))
		return -1;
	while (size) {
		uint64_t *table = e->ops.table_ptr(e->ops.ctx, e->pml4);
		uint64_t page = EPT_PAGE_4K;
		unsigned leaf_level = 1;

		if (e->use_1g && fits(gpa, hpa, size, EPT_PAGE_1G))
			page = EPT_PAGE_1G, leaf_level = 3;
		else if (e->use_2m && fits(gpa, hpa, size, EPT_PAGE_2M))
			page = EPT_PAGE_2M, leaf_level = 2;

		for (unsigned level = 4; level > leaf_level; level--) {
			table = next_table(e, &table[EPT_INDEX(gpa, level)]);
			if (!table)
				return -1;
		}
		uint64_t *entry = &table[EPT_INDEX(gpa, leaf_level)];

		if (*entry & EPT_PERM_MASK)
			return -1;
		*entry = hpa | leaf_bits | (leaf_level > 1 ? EPT_LARGE : 0);
		gpa += page;
		hpa += page;
		size -= page;
	}
	return 0;
}

void ept_translate(const struct ept *e, uint64_t gpa, struct ept_walk *w)
{
	uint64_t table_phys = e->pml4;

	*w = (struct ept_walk){ 0 };
	for (unsigned level = 4; level >= 1; level--) {
		uint64_t *table = e->ops.table_ptr(e->ops.ctx, table_phys);
		uint64_t entry = table[EPT_INDEX(gpa, level)];
		uint64_t perms = entry & EPT_PERM_MASK;

		w->level = level;
		if (!perms)
			return;
		/* SDM 29.3.3.1 "EPT Misconfigurations": write without read. */
		if ((perms & EPT_W) && !(perms & EPT_R)) {
			w->misconfigured = true;
			return;
		}
		if (level == 1 || ((level == 2 || level == 3) && (entry & EPT_LARGE))) {
			uint64_t page = 1ull << EPT_LEVEL_SHIFT(level);

			w->present = true;
			w->leaf = entry;
			w->page_size = page;
			w->hpa = (entry & EPT_ADDR_MASK & ~(page - 1)) | (gpa & (page - 1));
			return;
		}
		table_phys = entry & EPT_ADDR_MASK;
	}
}

/*
 * Split a large leaf into 512 entries of the next size with the same
 * permissions and memory type (SDM Vol. 3C, 29.3.2, Tables 29-3..29-6: the
 * same bits mean the same at every level; bit 7 marks a 2-MiB leaf).
 */
static int split_large(struct ept *e, uint64_t *entry, unsigned level)
{
	uint64_t child_size = 1ull << EPT_LEVEL_SHIFT(level - 1);
	uint64_t attrs = *entry & ~EPT_ADDR_MASK & ~EPT_LARGE;
	uint64_t base = *entry & EPT_ADDR_MASK & ~((1ull << EPT_LEVEL_SHIFT(level)) - 1);
	uint64_t t = e->ops.alloc_table(e->ops.ctx), *child;

	if (!t)
		return -1;
	e->tables++;
	child = e->ops.table_ptr(e->ops.ctx, t);
	for (unsigned i = 0; i < EPT_ENTRIES; i++)
		child[i] = (base + i * child_size) | attrs | (level - 1 > 1 ? EPT_LARGE : 0);
	*entry = t | EPT_RWX;
	return 0;
}

int ept_set_write(struct ept *e, uint64_t gpa, bool writable)
{
	uint64_t table_phys = e->pml4;

	for (unsigned level = 4; level >= 1; level--) {
		uint64_t *entry = &e->ops.table_ptr(e->ops.ctx, table_phys)[EPT_INDEX(gpa, level)];

		if (!(*entry & EPT_PERM_MASK))
			return -1;
		if (level > 1 && (*entry & EPT_LARGE) && split_large(e, entry, level))
			return -1;
		if (level == 1) {
			if (!(*entry & EPT_R))
				return -1;
			*entry = writable ? *entry | EPT_W : *entry & ~EPT_W;
			return 0;
		}
		table_phys = *entry & EPT_ADDR_MASK;
	}
	return -1;
}
