/* SPDX-License-Identifier: MIT */
#include "ept/ept01.h"

#include <nestvisor/memmap.h>

#define HOLE_TYPE 0  /* not in the map: MMIO holes, legacy VGA, PCI windows */

struct ept01_attr ept01_attr_for(uint32_t type, bool above_ram_end)
{
	switch (type) {
	case NV_MEM_USABLE:
	case NV_MEM_L1_STAGING:
		if (above_ram_end)
			return (struct ept01_attr){ 0, 0 };
		return (struct ept01_attr){ EPT_RWX, EPT_MT_WB };
	case NV_MEM_ACPI_RECLAIM:
	case NV_MEM_ACPI_NVS:
		return (struct ept01_attr){ EPT_RWX, EPT_MT_WB };
	case NV_MEM_FW_RUNTIME:
		return (struct ept01_attr){ EPT_R | EPT_X, EPT_MT_WB };
	case NV_MEM_L0_IMAGE:
	case NV_MEM_L0_POOL:
	case NV_MEM_L0_BOOT:
	case NV_MEM_BAD:
		return (struct ept01_attr){ 0, 0 };
	case NV_MEM_RESERVED:
	case NV_MEM_MMIO:
	case HOLE_TYPE:
	default:
		return (struct ept01_attr){ EPT_RWX, EPT_MT_UC };
	}
}

struct win_set {
	const struct ept01_window *r;
	unsigned n;
};

/* Map [base, end) with a, leaving out the windows (mapped on their own, or not at all). */
static int map_outside(struct ept *e, uint64_t base, uint64_t end, struct ept01_attr a,
		       const struct win_set *ro)
{
	while (base < end) {
		uint64_t stop = end, next = end;

		for (unsigned i = 0; i < ro->n; i++) {
			if (ro->r[i].end <= base || ro->r[i].base >= stop)
				continue;
			if (ro->r[i].base <= base) {  /* base is inside a window: skip it */
				stop = base;
				next = ro->r[i].end < end ? ro->r[i].end : end;
				break;
			}
			stop = ro->r[i].base;  /* the nearest window ahead */
			next = stop;
		}
		if (stop > base && ept_map(e, base, base, stop - base, a.perms, a.memtype))
			return -1;
		base = next;
	}
	return 0;
}

/* Map one run of equal attributes, splitting usable RAM at ram_end. */
static int map_run(struct ept *e, uint64_t base, uint64_t end, uint32_t type, uint64_t ram_end,
		   const struct win_set *ro)
{
	while (base < end) {
		bool above = base >= ram_end;
		uint64_t stop = (!above && ram_end < end) ? ram_end : end;
		struct ept01_attr a = ept01_attr_for(type, above);

		if (a.perms && map_outside(e, base, stop, a, ro))
			return -1;
		base = stop;
	}
	return 0;
}

int ept01_build(struct ept *e, const struct nv_mem_range *map, uint32_t n, uint64_t ram_end,
		const struct ept01_window *win, unsigned n_win)
{
	const struct win_set ro = { win, n_win };
	uint64_t top = 1ull << 32, at = 0;

	for (uint32_t i = 0; i < n; i++)
		if (map[i].base + map[i].size > top)
			top = map[i].base + map[i].size;
	top = (top + EPT_PAGE_2M - 1) & ~(EPT_PAGE_2M - 1);

	/* The map is sorted and page-granular (UEFI); holes get the hole policy. */
	for (uint32_t i = 0; i < n && at < top; i++) {
		uint64_t base = map[i].base & ~(EPT_PAGE_4K - 1);
		uint64_t end = (map[i].base + map[i].size + EPT_PAGE_4K - 1) & ~(EPT_PAGE_4K - 1);

		if (base < at)
			base = at;
		if (end <= base)
			continue;
		if (at < base && map_run(e, at, base, HOLE_TYPE, ram_end, &ro))
			return -1;
		if (map_run(e, base, end, map[i].type, ram_end, &ro))
			return -1;
		at = end;
	}
	if (at < top && map_run(e, at, top, HOLE_TYPE, ram_end, &ro))
		return -1;
	for (unsigned i = 0; i < n_win; i++)
		if (win[i].perms && ept_map(e, win[i].base, win[i].base, win[i].end - win[i].base,
					    win[i].perms, EPT_MT_UC))
			return -1;
	return 0;
}

uint64_t ept01_first_unwritable_ram(const struct ept *e, const struct nv_mem_range *map, uint32_t n,
				    uint64_t limit, uint32_t *type)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t end = map[i].base + map[i].size < limit ? map[i].base + map[i].size : limit;

		if (map[i].type == NV_MEM_MMIO)
			continue;  /* a DMA there reaches a device, as L1's own access would */
		for (uint64_t pa = map[i].base & ~0xfffull; pa < end; pa += 0x1000) {
			struct ept_walk w;

			ept_translate(e, pa, &w);
			if (!w.present || !(w.leaf & EPT_W)) {
				*type = map[i].type;
				return pa;
			}
		}
	}
	return UINT64_MAX;
}
