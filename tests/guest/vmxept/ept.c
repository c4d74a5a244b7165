/* SPDX-License-Identifier: MIT */
/*
 * EPT12: the extended page tables L1 builds for L2 in its own memory (SDM
 * Vol. 3C, 29.3.2 "EPT Translation Mechanism"), from a static pool of pages;
 * and "the world" each case starts from (vmxept.h).
 */
#include "vmxept.h"

#define POOL_PAGES      40u
#define EPT_INDEX(gpa, level) (((gpa) >> (12 + 9 * ((level) - 1))) & (EPT_ENTRIES - 1))
/* SDM Vol. 3A, 5.5 "4-Level Paging and 5-Level Paging": L2's own page tables. */
#define PTE_P           (1ull << 0)
#define PTE_W           (1ull << 1)
#define PTE_ADDR_MASK   0x000FFFFFFFFFF000ull
#define PML4_INDEX(lin) (((lin) >> 39) & 511u)
#define PDPT_INDEX(lin) (((lin) >> 30) & 511u)
#define PD_INDEX(lin)   (((lin) >> 21) & 511u)
#define PT_INDEX(lin)   (((lin) >> 12) & 511u)

extern char __image_end[];      /* guest64.ld */

static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
/* Where pool_page hands pages out from: the static pool, or a region of L1's
 * RAM outside the image (pool_use_region). */
static uint8_t *pool_base = pool[0];
static unsigned pool_limit = POOL_PAGES, pool_used;
struct world w;

void pool_reset(void)
{
	pool_base = pool[0];
	pool_limit = POOL_PAGES;
	pool_used = 0;
}

void pool_use_region(uint64_t base, unsigned pages)
{
	pool_base = (uint8_t *)(uintptr_t)base;
	pool_limit = pages;
	pool_used = 0;
}

void *pool_page(void)
{
	void *p;

	if (pool_used == pool_limit) {
		report(false, "set-up: the page pool (%u pages at 0x%llx) suffices", pool_limit,
		       U64(pa_of(pool_base)));
		report_summary();
		guest_exit(GUEST_EXIT_FAIL);
	}
	p = pool_base + (size_t)pool_used++ * PAGE_SIZE;
	memset(p, 0, PAGE_SIZE);
	return p;
}

void ept_new(struct ept *e, bool ad)
{
	e->pml4 = pool_page();
	e->ad = ad;
}

static bool present(uint64_t entry)
{
	/* 29.3.2: an entry is present if any of bits 2:0 is set. */
	return (entry & EPT_PERM_MASK) != 0;
}

uint64_t *ept_entry(struct ept *e, uint64_t gpa, enum ept_level level)
{
	uint64_t *table = e->pml4;

	for (unsigned l = EPT_PML4E; l > level; l--) {
		uint64_t *entry = &table[EPT_INDEX(gpa, l)];

		if (!present(*entry))
			*entry = pa_of(pool_page()) | EPT_RWX;
		else if (l != EPT_PML4E && (*entry & EPT_LARGE))
			return NULL;
		table = (uint64_t *)(uintptr_t)(*entry & EPT_ADDR_MASK);
	}
	return &table[EPT_INDEX(gpa, level)];
}

uint64_t *ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, enum ept_level level, uint64_t bits)
{
	uint64_t *entry = ept_entry(e, gpa, level);

	if (!entry) {
		report(false, "set-up: EPT12 entry for 0x%llx at level %u (a large page is in the way)",
		       U64(gpa), level);
		return NULL;
	}
	*entry = (hpa & EPT_ADDR_MASK) | bits | (level > EPT_PTE ? EPT_LARGE : 0);
	return entry;
}

void ept_map_identity(struct ept *e, uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end; a += PAGE_SIZE)
		ept_map(e, a, a, EPT_PTE, EPT_LEAF_WB);
}

uint64_t ept_eptp(const struct ept *e)
{
	/* Table 25-9: the paging-structure memory type must be one A.10 offers. */
	uint64_t type = caps.ept_vpid & EPT_CAP_WB ? MT_WB : MT_UC;

	return pa_of(e->pml4) | EPTP_MEMTYPE(type) | EPTP_WALK4 | (e->ad ? EPTP_AD : 0);
}

bool invept_type_offered(uint64_t type)
{
	if (!(caps.ept_vpid & EPT_CAP_INVEPT))
		return false;
	if (type == INVEPT_SINGLE)
		return caps.ept_vpid & EPT_CAP_INVEPT_SINGLE;
	if (type == INVEPT_ALL)
		return caps.ept_vpid & EPT_CAP_INVEPT_ALL;
	return false;
}

bool ept_invalidate(const struct ept *e)
{
	struct invept_desc d = { .eptp = ept_eptp(e), .reserved = 0 };
	uint64_t type = invept_type_offered(INVEPT_SINGLE) ? INVEPT_SINGLE : INVEPT_ALL;
	struct vmx_res r;

	if (!invept_type_offered(type))
		return true;    /* nothing to invalidate with; reported by test_capabilities */
	r = invept(type, &d);
	if (r.outcome == VMX_OK)
		return true;
	return report(false, "set-up: INVEPT %s-context of EPTP 0x%llx -> VMsucceed (got %s)",
		      type == INVEPT_SINGLE ? "single" : "all", U64(d.eptp), res_str(r));
}

static uint64_t *l2_table_below(uint64_t *entry)
{
	if (!(*entry & PTE_P))
		*entry = pa_of(pool_page()) | PTE_W | PTE_P;
	return (uint64_t *)(uintptr_t)(*entry & PTE_ADDR_MASK);
}

static void l2_paging(void)
{
	/* L2's PML4: entry 0 is L1's (the identity map of the first 4 GiB, 2 MiB
	 * pages); the window's linear alias gets tables of its own. */
	const uint64_t *l1_pml4 = (const uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR_MASK);
	uint64_t *pml4 = pool_page(), *pdpt, *pd;

	pml4[0] = l1_pml4[0];
	pdpt = l2_table_below(&pml4[PML4_INDEX(TW_LINEAR)]);
	pd = l2_table_below(&pdpt[PDPT_INDEX(TW_LINEAR)]);
	w.tw_pt = l2_table_below(&pd[PD_INDEX(TW_LINEAR)]);
	for (unsigned i = 0; i < TW_PAGES; i++)
		w.tw_pt[PT_INDEX(TW_PAGE_LIN(i))] = TW_PAGE_GPA(i) | PTE_W | PTE_P;
	w.cr3 = pa_of(pml4);
}

void world_reset(bool ad)
{
	pool_reset();
	ept_new(&w.ept, ad);
	w.ident_end = (pa_of(__image_end) + EPT_PAGE_2M - 1) & ~(EPT_PAGE_2M - 1);
	/* Every pool page is below __image_end: L2's page tables handed out
	 * after this are identity-mapped too. */
	ept_map_identity(&w.ept, 0, w.ident_end);
	l2_paging();
}

uint64_t *tw_map(unsigned i, const void *host, uint64_t bits)
{
	return ept_map(&w.ept, TW_PAGE_GPA(i), pa_of(host), EPT_PTE, bits);
}
