/* SPDX-License-Identifier: MIT */
#include "ept/ept02_pool.h"

#include <nestvisor/string.h>

#define PAGE_MASK (EPT_PAGE_4K - 1)
/* Where a free page keeps the next free page. */
#define FREE_LINK 0

uint64_t *ept02_table(struct ept02 *c, uint64_t phys)
{
	return c->ops.table_ptr(c->ops.ctx, phys);
}

uint32_t ept02_free_pages(const struct ept02 *c)
{
	return c->npages - c->stats.in_use;
}

static void page_free(struct ept02 *c, uint64_t phys)
{
	ept02_table(c, phys)[FREE_LINK] = c->free_head;
	c->free_head = phys;
	c->stats.in_use--;
}

uint64_t ept02_page_alloc(struct ept02 *c, struct ept02_root *r)
{
	uint64_t phys = c->free_head;
	uint64_t *t = ept02_table(c, phys);

	c->free_head = t[FREE_LINK];
	memset(t, 0, EPT_PAGE_4K);
	if (++c->stats.in_use > c->stats.high_water)
		c->stats.high_water = c->stats.in_use;
	if (r)
		r->tables++;
	return phys;
}

int ept02_init(struct ept02 *c, const struct ept02_ops *ops, const uint64_t *pages,
	       uint32_t npages, bool use_2m, bool use_1g)
{
	memset(c, 0, sizeof(*c));
	c->ops = *ops;
	c->use_2m = use_2m;
	c->use_1g = use_1g;
	c->free_head = EPT02_NO_PAGE;
	if (npages < EPT02_MIN_POOL)
		return -1;
	for (uint32_t i = 0; i < npages; i++)
		if ((pages[i] & PAGE_MASK) || pages[i] == EPT02_NO_PAGE)
			return -1;
	/* Pushed last first, so pages[0] is handed out first. */
	c->npages = npages;
	c->stats.in_use = npages;
	for (uint32_t i = npages; i-- > 0;)
		page_free(c, pages[i]);
	return 0;
}

/* Zero a table and return the tables below it to the pool; how many. */
static uint32_t free_below(struct ept02 *c, uint64_t table, unsigned level)
{
	uint64_t *t = ept02_table(c, table);
	uint32_t n = 0;

	for (unsigned i = 0; i < EPT_ENTRIES; i++) {
		uint64_t e = t[i];

		t[i] = 0;
		if (level > 1 && (e & EPT_PERM_MASK) && !(e & EPT_LARGE)) {
			n += free_below(c, e & EPT_ADDR_MASK, level - 1) + 1;
			page_free(c, e & EPT_ADDR_MASK);
		}
	}
	return n;
}

void ept02_root_flush(struct ept02 *c, struct ept02_root *r)
{
	r->tables -= free_below(c, r->phys, EPT_LEVELS);
	c->invept_needed = true;
}

static void root_drop(struct ept02 *c, struct ept02_root *r)
{
	ept02_root_flush(c, r);
	page_free(c, r->phys);
	*r = (struct ept02_root){ 0 };
}

/* The least recently used root other than keep, or NULL. */
static struct ept02_root *lru(struct ept02 *c, const struct ept02_root *keep)
{
	struct ept02_root *best = 0;

	for (unsigned i = 0; i < EPT02_ROOTS; i++) {
		struct ept02_root *r = &c->roots[i];

		if (r->valid && r != keep && (!best || r->last_use < best->last_use))
			best = r;
	}
	return best;
}

bool ept02_make_room(struct ept02 *c, const struct ept02_root *keep, uint32_t n)
{
	struct ept02_root *victim;

	if (ept02_free_pages(c) >= n)
		return true;
	c->stats.reclaims++;
	while (ept02_free_pages(c) < n && (victim = lru(c, keep))) {
		root_drop(c, victim);
		c->stats.roots_reclaimed++;
	}
	return ept02_free_pages(c) >= n;
}

static struct ept02_root *find(struct ept02 *c, uint64_t eptp12)
{
	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		if (c->roots[i].valid && c->roots[i].eptp12 == eptp12)
			return &c->roots[i];
	return 0;
}

/* A slot for a new root: a free one, else the least recently used one emptied. */
static struct ept02_root *slot(struct ept02 *c)
{
	struct ept02_root *r;

	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		if (!c->roots[i].valid)
			return &c->roots[i];
	r = lru(c, 0);
	root_drop(c, r);
	c->stats.evictions++;
	return r;
}

struct ept02_root *ept02_root_get(struct ept02 *c, uint64_t eptp12)
{
	struct ept02_root *r = find(c, eptp12);

	if (!r) {
		r = slot(c);
		/*
		 * Room for the PML4 and a full path below it, so the install
		 * that follows needs no second reclaim; dropping every other
		 * root makes it, the pool having EPT02_MIN_POOL pages.
		 */
		ept02_make_room(c, 0, EPT02_MIN_POOL);
		*r = (struct ept02_root){ .valid = true, .eptp12 = eptp12 };
		r->phys = ept02_page_alloc(c, r);
	}
	r->last_use = ++c->tick;
	return r;
}

uint64_t ept02_root_for(struct ept02 *c, uint64_t eptp12)
{
	return ept02_root_get(c, eptp12)->phys;
}

uint64_t ept02_eptp(uint64_t root, uint64_t eptp12)
{
	return root | EPTP_PWL4 | EPTP_MT_WB | (eptp12 & EPTP_AD_ENABLE);
}

/*
 * SDM Vol. 3C, 29.4.3.1 "Operations that Invalidate Cached Mappings":
 * single-context INVEPT invalidates the mappings tagged with the EP4TA,
 * bits 51:12 of the EPTP in the descriptor.
 */
void ept02_invalidate(struct ept02 *c, uint64_t eptp12)
{
	for (unsigned i = 0; i < EPT02_ROOTS; i++) {
		struct ept02_root *r = &c->roots[i];

		if (r->valid && !((r->eptp12 ^ eptp12) & EPT_ADDR_MASK))
			ept02_root_flush(c, r);
	}
}

void ept02_invalidate_all(struct ept02 *c)
{
	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		if (c->roots[i].valid)
			ept02_root_flush(c, &c->roots[i]);
}

bool ept02_take_invept(struct ept02 *c)
{
	bool needed = c->invept_needed;

	c->invept_needed = false;
	return needed;
}
