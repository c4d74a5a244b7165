/* SPDX-License-Identifier: MIT */
/*
 * Hand-over page tables (pure). SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level
 * Paging": PML4E -> PDPTE (1 GiB page if PS) -> PDE (2 MiB page if PS).
 */
#include "pagetable.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

/* SDM Vol. 3A, 4.5, tables "Format of a PML4 Entry", "... PDPTE ...", "... PDE ...". */
#define PTE_PRESENT  (1ULL << 0)
#define PTE_WRITABLE (1ULL << 1)
#define PTE_PAGE_SIZE (1ULL << 7)   /* PS: this entry maps a 1 GiB / 2 MiB page */
#define PTE_TABLE    (PTE_PRESENT | PTE_WRITABLE)
#define PTE_LARGE    (PTE_PRESENT | PTE_WRITABLE | PTE_PAGE_SIZE)

#define SIZE_2M   (1ULL << 21)
#define SIZE_1G   (1ULL << 30)
#define SIZE_512G (1ULL << 39)
#define ENTRIES   512

static uint64_t div_up(uint64_t x, uint64_t d)
{
	return x / d + (x % d != 0);
}

uint64_t nv_pt_identity_top(const struct nv_mem_range *map, uint32_t n)
{
	uint64_t top = 1ULL << 32;

	for (uint32_t i = 0; i < n; i++)
		if (map[i].base + map[i].size > top)
			top = map[i].base + map[i].size;
	return div_up(top, SIZE_1G) * SIZE_1G;
}

static uint32_t identity_pdpts(const struct nv_pt_params *p)
{
	return (uint32_t)div_up(p->top, SIZE_512G);
}

static uint32_t identity_pds(const struct nv_pt_params *p)
{
	return p->gb_pages ? 0 : (uint32_t)(p->top / SIZE_1G);
}

uint32_t nv_pt_pages(const struct nv_pt_params *p)
{
	if (p->top > NV_PT_MAX_TOP || p->top % SIZE_1G)
		return 0;
	/* PML4, identity PDPTs and PDs, one PDPT and one PD for the core window. */
	return 1 + identity_pdpts(p) + identity_pds(p) + 2;
}

static unsigned idx(uint64_t va, unsigned shift)
{
	return (unsigned)((va >> shift) & (ENTRIES - 1));
}

int nv_pt_build(const struct nv_pt_params *p, void *buf, uint64_t buf_phys, uint32_t npages,
		uint64_t *cr3, char *err, size_t errlen)
{
	uint64_t (*page)[ENTRIES] = buf;   /* page[k] is the table at buf_phys + k * 4 KiB */
	uint32_t need = nv_pt_pages(p), pdpt0 = 1, pd0, core_pdpt, core_pd;
	uint64_t span = div_up(p->core_span, SIZE_2M) * SIZE_2M;

	if (need == 0) {
		nv_snprintf(err, errlen, "cannot identity map up to 0x%llx with 4-level paging",
			    (unsigned long long)p->top);
		return -1;
	}
	if (npages < need || buf_phys % NV_PAGE_SIZE || p->core_phys % SIZE_2M ||
	    span == 0 || span > SIZE_1G) {
		nv_snprintf(err, errlen, "bad page-table parameters (%u of %u pages, core 0x%llx+0x%llx)",
			    npages, need, (unsigned long long)p->core_phys,
			    (unsigned long long)p->core_span);
		return -1;
	}
	pd0 = pdpt0 + identity_pdpts(p);
	core_pdpt = pd0 + identity_pds(p);
	core_pd = core_pdpt + 1;
	memset(buf, 0, (size_t)need * NV_PAGE_SIZE);

	for (uint32_t i = 0; i < identity_pdpts(p); i++)
		page[0][i] = (buf_phys + (pdpt0 + i) * NV_PAGE_SIZE) | PTE_TABLE;
	for (uint64_t gb = 0; gb < p->top / SIZE_1G; gb++) {
		uint64_t *pdpte = &page[pdpt0 + gb / ENTRIES][gb % ENTRIES];

		if (p->gb_pages) {
			*pdpte = (gb * SIZE_1G) | PTE_LARGE;
			continue;
		}
		*pdpte = (buf_phys + (pd0 + gb) * NV_PAGE_SIZE) | PTE_TABLE;
		for (uint64_t j = 0; j < ENTRIES; j++)
			page[pd0 + gb][j] = (gb * SIZE_1G + j * SIZE_2M) | PTE_LARGE;
	}

	/* NV_CORE_VBASE is 1 GiB aligned, so the window is one PD. */
	page[0][idx(NV_CORE_VBASE, 39)] = (buf_phys + core_pdpt * NV_PAGE_SIZE) | PTE_TABLE;
	page[core_pdpt][idx(NV_CORE_VBASE, 30)] = (buf_phys + core_pd * NV_PAGE_SIZE) | PTE_TABLE;
	for (uint64_t off = 0; off < span; off += SIZE_2M)
		page[core_pd][idx(NV_CORE_VBASE + off, 21)] = (p->core_phys + off) | PTE_LARGE;

	*cr3 = buf_phys;
	return 0;
}
