/* SPDX-License-Identifier: MIT */
/* Intel VT-d Specification, 9.1 "Root Entry", 9.3 "Context Entry", 9.8 "Second-Stage Paging Entries". */
#include "drivers/vtd_pt.h"
#include "ept/ept01.h"

#define LEVEL_SHIFT(l) (12 + 9 * ((l) - 1))   /* level 1: 4 KiB, 2: 2 MiB, 3: 1 GiB, 4: 512 GiB */
#define PAGE_4K        0x1000ull

int vtd_domain_init(struct vtd_domain *d, const struct vtd_pt_ops *ops, bool pages_2m,
		    bool pages_1g)
{
	*d = (struct vtd_domain){ *ops, 0, pages_2m, pages_1g, 0, 0 };
	d->pml4 = ops->alloc(ops->ctx);
	if (!d->pml4)
		return -1;
	d->tables = 1;
	return 0;
}

static bool leaf_allowed(const struct vtd_domain *d, unsigned level)
{
	return level == 1 || (level == 2 && d->pages_2m) || (level == 3 && d->pages_1g);
}

/* Map [base, end) 1:1 in the table of this level; [base, end) lies within it. */
static int map_level(struct vtd_domain *d, uint64_t *table, unsigned level, uint64_t base,
		     uint64_t end)
{
	uint64_t span = 1ull << LEVEL_SHIFT(level);

	while (base < end) {
		uint64_t *e = &table[(base >> LEVEL_SHIFT(level)) & 511];
		uint64_t start = base & ~(span - 1);
		uint64_t stop = start + span < end ? start + span : end;

		if ((*e & VTD_SL_R) && (level == 1 || (*e & VTD_SL_PS))) {
			base = stop;  /* a leaf already: identity, read/write, as wanted */
			continue;
		}
		if (!(*e & VTD_SL_R) && leaf_allowed(d, level) && base == start &&
		    stop == start + span) {
			*e = start | VTD_SL_R | VTD_SL_W | (level > 1 ? VTD_SL_PS : 0);
			base = stop;
			continue;
		}
		if (!(*e & VTD_SL_R)) {
			uint64_t t = d->ops.alloc(d->ops.ctx);

			if (!t)
				return -1;
			d->tables++;
			/* Non-leaf entries need R and W for the walk to allow both (9.8). */
			*e = t | VTD_SL_R | VTD_SL_W;
		}
		if (map_level(d, d->ops.table(d->ops.ctx, *e & VTD_SL_ADDR), level - 1, base, stop))
			return -1;
		base = stop;
	}
	return 0;
}

int vtd_domain_map(struct vtd_domain *d, uint64_t base, uint64_t end)
{
	if (base >= end)
		return 0;
	if (end > 1ull << 48)
		return -1;  /* beyond a 4-level table: no DMA-able RAM is there */
	if (map_level(d, d->ops.table(d->ops.ctx, d->pml4), 4, base, end))
		return -1;
	if (end > d->top)
		d->top = end;
	return 0;
}

bool vtd_dma_may_reach(uint32_t type, bool above_ram_end)
{
	struct ept01_attr a = ept01_attr_for(type, above_ram_end);

	return (a.perms & EPT_W) && a.memtype == EPT_MT_WB;
}

int vtd_domain_build(struct vtd_domain *d, const struct nv_mem_range *map, uint32_t n,
		     uint64_t ram_end, const struct vtd_range *extra, unsigned n_extra)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t base = (map[i].base + PAGE_4K - 1) & ~(PAGE_4K - 1);
		uint64_t end = (map[i].base + map[i].size) & ~(PAGE_4K - 1);
		uint64_t split = ram_end < base ? base : ram_end < end ? ram_end : end;

		if (end <= base)
			continue;
		if (vtd_dma_may_reach(map[i].type, false) && vtd_domain_map(d, base, split))
			return -1;
		if (vtd_dma_may_reach(map[i].type, true) && vtd_domain_map(d, split, end))
			return -1;
	}
	for (unsigned i = 0; i < n_extra; i++)
		if (vtd_domain_map(d, extra[i].base, extra[i].end))
			return -1;
	return 0;
}

uint64_t vtd_domain_root(struct vtd_domain *d, unsigned levels)
{
	uint64_t pml5;

	switch (levels) {
	case 3:
		if (d->top > 1ull << 39)
			return 0;
		/* The PML4's entry 0 (present whenever anything is mapped) covers [0, 2^39). */
		return d->ops.table(d->ops.ctx, d->pml4)[0] & VTD_SL_ADDR;
	case 4:
		return d->pml4;
	case 5:
		pml5 = d->ops.alloc(d->ops.ctx);
		if (!pml5)
			return 0;
		d->tables++;
		d->ops.table(d->ops.ctx, pml5)[0] = d->pml4 | VTD_SL_R | VTD_SL_W;
		return pml5;
	default:
		return 0;
	}
}

uint64_t vtd_context_build(const struct vtd_pt_ops *ops, uint64_t slpt, unsigned aw,
			   uint16_t did)
{
	uint64_t root = ops->alloc(ops->ctx), ctx = root ? ops->alloc(ops->ctx) : 0;
	uint64_t *r, *c;

	if (!ctx || !slpt)
		return 0;
	r = ops->table(ops->ctx, root);
	c = ops->table(ops->ctx, ctx);
	/*
	 * Every bus's root entry points at the same context table: the hardware
	 * only reads these tables, and the context cache is tagged by source ID.
	 */
	for (unsigned bus = 0; bus < 256; bus++) {
		r[2 * bus] = ctx | VTD_ROOT_P;
		r[2 * bus + 1] = 0;
	}
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		c[2 * devfn] = slpt | (0ull << VTD_CTX_TT_SHIFT) | VTD_CTX_P;
		c[2 * devfn + 1] = (aw & VTD_CTX_AW_MASK) | (uint64_t)did << VTD_CTX_DID_SHIFT;
	}
	return root;
}

uint64_t vtd_translate(const struct vtd_pt_ops *ops, uint64_t root, unsigned levels,
		       uint64_t addr, uint64_t *page_size)
{
	uint64_t table = root;

	for (unsigned level = levels; level >= 1; level--) {
		uint64_t e = ops->table(ops->ctx, table)[(addr >> LEVEL_SHIFT(level)) & 511];

		if (!(e & (VTD_SL_R | VTD_SL_W)))
			return 0;
		if (level == 1 || (e & VTD_SL_PS)) {
			*page_size = 1ull << LEVEL_SHIFT(level);
			return e;
		}
		table = e & VTD_SL_ADDR;
	}
	return 0;
}
