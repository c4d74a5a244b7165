/* SPDX-License-Identifier: MIT */
/*
 * mode=stress (a run of its own): more EPT12 than an L0's EPT02 pool can hold
 * at once. L1 builds STRESS_EPTPS EPT12 hierarchies over one L2-physical
 * layout: STRESS_WINDOWS windows of 16 MiB, each in a 1-GiB region of its own
 * (both PML4 entries below 1 TiB, eight PDPTEs, eight EPT page tables per
 * window), with STRESS_PAGES L2 pages in all. Each EPTP maps those pages onto
 * the same STRESS_PAGES L1 data pages through a permutation of its own, so
 * that an L2 address reads another L1 page through each EPTP. L2 (a C pass,
 * stress_l2_pass) reads every page's tag, which must name the L1 page its
 * EPTP maps there, writes a pattern encoding EPTP, page and round into a slot
 * of its own, reads it back, and VMCALLs; L1 switches EPT_POINTER and resumes
 * it, STRESS_ROUNDS rounds over every EPTP. With A/D flags offered, the odd
 * EPTPs use them: after each pass every leaf L2 wrote through must be
 * accessed and dirty (SDM Vol. 3C, 29.3.5), and L1 clears them (with INVEPT)
 * for the next round. At the end L1 checks every slot of every data page.
 *
 * The EPT12 tables and data pages live in L1 RAM above the image (from the
 * Multiboot memory map); L2's own page tables, code, stack and the pass
 * record are in the image, which every EPT12 maps identically.
 */
#include "vmxept.h"

#define STRESS_EPTPS            8u
#define STRESS_ROUNDS           3u
#define STRESS_WINDOWS          8u
#define STRESS_WINDOW_SIZE      0x1000000ull                    /* 16 MiB */
#define STRESS_PAGES_PER_WINDOW 256u
#define STRESS_STRIDE           (STRESS_WINDOW_SIZE / STRESS_PAGES_PER_WINDOW) /* 64 KiB */
#define STRESS_PAGES            (STRESS_WINDOWS * STRESS_PAGES_PER_WINDOW)  /* 2048 */
/* EPT12 per EPTP: PML4, 2 PDPTs, 9 PDs, 65 PTs (8 per window, 1 for the image). */
#define STRESS_TABLE_PAGES      700u
#define STRESS_REGION_MIN       0x1000000ull    /* 16 MiB: clear of the image and the MBI */
#define STRESS_REGION_BYTES     (((uint64_t)STRESS_TABLE_PAGES + STRESS_PAGES) * PAGE_SIZE)

/* Data page layout: the tag L1 writes (which L1 page this is), then one slot
 * per EPTP and round that L2 writes. */
#define STRESS_TAG(p)           (0x5441470000000000ull | (p))
#define STRESS_SLOT(k, r)       ((0x100u + (k) * 0x40u + (r) * 8u) / 8u)  /* qword index */
#define STRESS_SLOTS_PER_EPTP   8u
#define STRESS_PATTERN(k, i, r) (0x5700000000000000ull | (uint64_t)(k) << 48 | \
				 (uint64_t)(r) << 40 | (uint64_t)(i) << 8 | 0x5A)
/* EPTP k maps L2 page i onto L1 data page (A * i + B * (k + 1)) mod STRESS_PAGES:
 * A odd makes it a permutation; B odd makes the EPTPs differ at every i. */
#define PERM_A                  1237u
#define PERM_B                  613u

/* SDM Vol. 3A, 5.5 "4-Level Paging and 5-Level Paging": L2's own page tables. */
#define PTE_P                   (1ull << 0)
#define PTE_W                   (1ull << 1)
#define PTE_PS                  (1ull << 7)
#define PTE_ADDR_MASK           0x000FFFFFFFFFF000ull
#define PML4_INDEX(a)           (((a) >> 39) & 511u)
#define PDPT_INDEX(a)           (((a) >> 30) & 511u)
#define PD_INDEX(a)             (((a) >> 21) & 511u)

extern char __image_end[];      /* guest64.ld */

/* What L2's pass does and finds; in the image, so L2 reaches it through the
 * identity part of every EPT12. */
struct stress_pass {
	uint64_t eptp_index, round;                     /* in */
	uint64_t pages_done, tag_bad, data_bad;         /* out */
	uint64_t bad_gpa, bad_got, bad_want;            /* the first mismatch */
};
static volatile struct stress_pass pass;
static uint64_t window_base[STRESS_WINDOWS];    /* L2-physical = L2-linear */
static uint64_t data_base;                      /* L1 data page 0 */

static uint32_t perm(unsigned k, unsigned i)
{
	return (PERM_A * i + PERM_B * (k + 1)) & (STRESS_PAGES - 1);
}

static uint64_t page_gpa(unsigned i)
{
	return window_base[i / STRESS_PAGES_PER_WINDOW] +
	       (uint64_t)(i % STRESS_PAGES_PER_WINDOW) * STRESS_STRIDE;
}

static volatile uint64_t *data_page(unsigned p)
{
	return (volatile uint64_t *)(uintptr_t)(data_base + (uint64_t)p * PAGE_SIZE);
}

static void pass_mismatch(volatile uint64_t *at, uint64_t got, uint64_t want)
{
	if (pass.tag_bad + pass.data_bad == 0) {
		pass.bad_gpa = (uintptr_t)at;
		pass.bad_got = got;
		pass.bad_want = want;
	}
}

/* Runs in L2 (l2e_stress calls it), on L2's page tables: linear = L2-physical. */
void stress_l2_pass(void);
void stress_l2_pass(void)
{
	unsigned k = (unsigned)pass.eptp_index, r = (unsigned)pass.round;

	for (unsigned i = 0; i < STRESS_PAGES; i++) {
		volatile uint64_t *page = (volatile uint64_t *)(uintptr_t)page_gpa(i);
		uint64_t tag = page[0], want = STRESS_PATTERN(k, i, r), got;

		if (tag != STRESS_TAG(perm(k, i))) {
			pass_mismatch(page, tag, STRESS_TAG(perm(k, i)));
			pass.tag_bad++;
		}
		page[STRESS_SLOT(k, r)] = want;
		got = page[STRESS_SLOT(k, r)];
		if (got != want) {
			pass_mismatch(&page[STRESS_SLOT(k, r)], got, want);
			pass.data_bad++;
		}
		pass.pages_done++;
	}
}

/* ---- Set-up ---------------------------------------------------------------- */

/* The windows: 1-GiB regions spread below 1 TiB (both PML4 entries), scaled
 * down where MAXPHYADDR is smaller; each at its own offset in its region. */
static void place_windows(void)
{
	static const uint16_t gib[STRESS_WINDOWS] = { 64, 160, 288, 416, 544, 672, 800, 960 };
	static const uint32_t offset[STRESS_WINDOWS] = {
		0x00000000, 0x0F000000, 0x21000000, 0x3F000000,
		0x01000000, 0x18000000, 0x2A000000, 0x33000000,
	};
	unsigned shift = caps.maxphyaddr < 40 ? 40 - caps.maxphyaddr : 0;

	for (unsigned n = 0; n < STRESS_WINDOWS; n++)
		window_base[n] = ((uint64_t)(gib[n] >> shift) << 30) + offset[n];
}

static bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	return a < b + b_len && b < a + a_len;
}

/* A usable RAM range of STRESS_REGION_BYTES at or above 16 MiB and below
 * 4 GiB (L1's identity map), clear of the MBI, its memory map and command line. */
static uint64_t find_region(const struct multiboot_info *mbi)
{
	const struct multiboot_mmap_entry *e;

	mmap_for_each(mbi, e) {
		uint64_t start = e->base < STRESS_REGION_MIN ? STRESS_REGION_MIN : e->base;

		start = (start + EPT_PAGE_2M - 1) & ~(EPT_PAGE_2M - 1);
		if (e->type != MMAP_TYPE_USABLE || start >= e->base + e->length ||
		    e->base + e->length - start < STRESS_REGION_BYTES ||
		    start + STRESS_REGION_BYTES > 0x100000000ull)
			continue;
		if (overlaps(start, STRESS_REGION_BYTES, pa_of(mbi), sizeof(*mbi)) ||
		    overlaps(start, STRESS_REGION_BYTES, mbi->mmap_addr, mbi->mmap_length) ||
		    overlaps(start, STRESS_REGION_BYTES, mbi->cmdline, 4096))
			continue;
		return start;
	}
	return 0;
}

static uint64_t *l2_table_below(uint64_t *entry)
{
	if (!(*entry & PTE_P))
		*entry = pa_of(pool_page()) | PTE_W | PTE_P;
	return (uint64_t *)(uintptr_t)(*entry & PTE_ADDR_MASK);
}

/* L2's page tables, from the static pool (in the image): L1's identity map of
 * the first 4 GiB (its PDPT copied), and each window linear = L2-physical
 * with 2 MiB pages. Returns L2's CR3. */
static uint64_t stress_l2_paging(void)
{
	const uint64_t *l1_pml4 = (const uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR_MASK);
	const uint64_t *l1_pdpt = (const uint64_t *)(uintptr_t)(l1_pml4[0] & PTE_ADDR_MASK);
	uint64_t *pml4 = pool_page(), *pdpt0 = pool_page();

	memcpy(pdpt0, l1_pdpt, PAGE_SIZE);
	pml4[0] = pa_of(pdpt0) | PTE_W | PTE_P;
	for (unsigned n = 0; n < STRESS_WINDOWS; n++) {
		uint64_t *pdpt = l2_table_below(&pml4[PML4_INDEX(window_base[n])]);
		uint64_t *pd = l2_table_below(&pdpt[PDPT_INDEX(window_base[n])]);

		for (uint64_t a = window_base[n]; a < window_base[n] + STRESS_WINDOW_SIZE;
		     a += EPT_PAGE_2M)
			pd[PD_INDEX(a)] = a | PTE_PS | PTE_W | PTE_P;
	}
	return pa_of(pml4);
}

static bool ad_eptp(unsigned k)
{
	return (k & 1) && (caps.ept_vpid & EPT_CAP_AD);
}

/* ---- Checks ---------------------------------------------------------------- */

/* After a pass through an EPTP with A/D flags: every leaf of the windows is
 * accessed and dirty, and so is the walk above it accessed (29.3.5). Then
 * clears them for the next round (and INVEPT, so that the CPU walks again). */
static void check_and_clear_ad(struct ept *e, unsigned k, unsigned r)
{
	unsigned bad = 0, first = STRESS_PAGES;
	uint64_t first_leaf = 0;

	for (unsigned i = 0; i < STRESS_PAGES; i++) {
		uint64_t gpa = page_gpa(i);
		uint64_t *leaf = ept_entry(e, gpa, EPT_PTE), *pde = ept_entry(e, gpa, EPT_PDE);
		uint64_t *pdpte = ept_entry(e, gpa, EPT_PDPTE), *pml4e = ept_entry(e, gpa, EPT_PML4E);
		bool ok = (*leaf & (EPT_ACCESSED | EPT_DIRTY)) == (EPT_ACCESSED | EPT_DIRTY) &&
			  (*pde & EPT_ACCESSED) && (*pdpte & EPT_ACCESSED) && (*pml4e & EPT_ACCESSED);

		if (!ok && !bad++) {
			first = i;
			first_leaf = *leaf;
		}
	}
	if (bad)
		report(false, "... stress: round %u EPTP %u (A/D flags): every leaf L2 wrote through "
		       "is accessed and dirty, its walk accessed (%u of %u are not; first: page %u at "
		       "0x%llx, leaf 0x%llx)", r, k, bad, STRESS_PAGES, first, U64(page_gpa(first)),
		       U64(first_leaf));
	else
		report(true, "... stress: round %u EPTP %u (A/D flags): every leaf L2 wrote through "
		       "is accessed and dirty, its walk accessed", r, k);
	for (unsigned i = 0; i < STRESS_PAGES; i++) {
		uint64_t gpa = page_gpa(i);

		for (unsigned l = EPT_PTE; l <= EPT_PML4E; l++)
			*ept_entry(e, gpa, (enum ept_level)l) &= ~(EPT_ACCESSED | EPT_DIRTY);
	}
	ept_invalidate(e);
}

/* Every slot of every data page: what L2 wrote through each EPTP in each
 * round, at the page that EPTP maps there; nothing else changed. */
static void check_data(void)
{
	unsigned bad = 0, checked = 0;
	uint64_t first_at = 0, first_got = 0, first_want = 0;

	for (unsigned p = 0; p < STRESS_PAGES; p++) {
		volatile uint64_t *d = data_page(p);

		checked++;
		if (d[0] != STRESS_TAG(p) && !bad++) {
			first_at = pa_of((const void *)d);
			first_got = d[0];
			first_want = STRESS_TAG(p);
		}
	}
	for (unsigned k = 0; k < STRESS_EPTPS; k++)
		for (unsigned i = 0; i < STRESS_PAGES; i++) {
			volatile uint64_t *d = data_page(perm(k, i));

			for (unsigned r = 0; r < STRESS_SLOTS_PER_EPTP; r++) {
				uint64_t want = r < STRESS_ROUNDS ? STRESS_PATTERN(k, i, r) : 0;

				checked++;
				if (d[STRESS_SLOT(k, r)] != want && !bad++) {
					first_at = pa_of((const void *)&d[STRESS_SLOT(k, r)]);
					first_got = d[STRESS_SLOT(k, r)];
					first_want = want;
				}
			}
		}
	if (bad)
		report(false, "stress: L1 finds in its %u data pages every tag and what L2 wrote "
		       "through each EPTP in each round at the page that EPTP maps (%u quadwords "
		       "checked, %u wrong; first at 0x%llx: 0x%llx, want 0x%llx)", STRESS_PAGES,
		       checked, bad, U64(first_at), U64(first_got), U64(first_want));
	else
		report(true, "stress: L1 finds in its %u data pages every tag and what L2 wrote "
		       "through each EPTP in each round at the page that EPTP maps (%u quadwords)",
		       STRESS_PAGES, checked);
}

/* ---- The run ---------------------------------------------------------------- */

void test_ept02_stress(const struct multiboot_info *mbi)
{
	static struct ept ept[STRESS_EPTPS];
	uint64_t region, cr3, ident_end, t0;
	unsigned tables, distinct = 0;

	printf("vmxept: --- mode=stress: %u EPT12 hierarchies of %u pages in %u windows, %u rounds "
	       "---\n", STRESS_EPTPS, STRESS_PAGES, STRESS_WINDOWS, STRESS_ROUNDS);
	if (!ept_offered()) {
		report_skip("EPT02 stress: \"enable EPT\" is not offered");
		return;
	}
	region = mbi ? find_region(mbi) : 0;
	if (!report(region != 0, "stress: set-up: %llu KiB of usable RAM at or above 16 MiB "
		    "(got 0x%llx)", U64(STRESS_REGION_BYTES >> 10), U64(region)))
		return;
	place_windows();
	for (unsigned n = 0; n < STRESS_WINDOWS; n++)
		printf("vmxept: stress: window %u: L2-physical 0x%llx, %u pages every 0x%llx\n", n,
		       U64(window_base[n]), STRESS_PAGES_PER_WINDOW, U64(STRESS_STRIDE));
	pool_reset();
	cr3 = stress_l2_paging();
	ident_end = (pa_of(__image_end) + EPT_PAGE_2M - 1) & ~(EPT_PAGE_2M - 1);
	pool_use_region(region, STRESS_TABLE_PAGES);
	data_base = region + (uint64_t)STRESS_TABLE_PAGES * PAGE_SIZE;
	for (unsigned p = 0; p < STRESS_PAGES; p++) {
		volatile uint64_t *d = data_page(p);

		d[0] = STRESS_TAG(p);
		for (unsigned k = 0; k < STRESS_EPTPS; k++)
			for (unsigned r = 0; r < STRESS_SLOTS_PER_EPTP; r++)
				d[STRESS_SLOT(k, r)] = 0;
	}
	for (unsigned k = 0; k < STRESS_EPTPS; k++) {
		ept_new(&ept[k], ad_eptp(k));
		ept_map_identity(&ept[k], 0, ident_end);
		for (unsigned i = 0; i < STRESS_PAGES; i++)
			ept_map(&ept[k], page_gpa(i), data_base + (uint64_t)perm(k, i) * PAGE_SIZE,
				EPT_PTE, EPT_LEAF_WB);
	}
	tables = (unsigned)((pa_of(pool_page()) - region) / PAGE_SIZE);
	for (unsigned i = 0; i < STRESS_PAGES; i++) {
		bool differ = true;

		for (unsigned k = 1; k < STRESS_EPTPS; k++)
			for (unsigned j = 0; j < k; j++)
				differ = differ && perm(k, i) != perm(j, i);
		distinct += differ;
	}
	printf("vmxept: stress: tables and data at 0x%llx (L1 RAM), data pages from 0x%llx; "
	       "%u EPT12 tables in all (%u per EPTP); A/D flags on %s\n", U64(region),
	       U64(data_base), tables, tables / STRESS_EPTPS,
	       caps.ept_vpid & EPT_CAP_AD ? "EPTPs 1 and 3" : "none (not offered)");
	report(distinct == STRESS_PAGES, "stress: set-up: every L2 page is mapped onto a different L1 "
	       "page by each EPTP (%u of %u)", distinct, STRESS_PAGES);

	l2_init(&g, l2e_stress);
	l2_set_ctl(VMCS_PROC_CONTROLS2, PROC2_ENABLE_EPT);
	vmw(VMCS_GUEST_CR3, cr3);
	for (unsigned k = 0; k < STRESS_EPTPS; k++)
		ept_invalidate(&ept[k]);
	t0 = rdtsc();
	for (unsigned r = 0; r < STRESS_ROUNDS; r++) {
		for (unsigned k = 0; k < STRESS_EPTPS; k++) {
			uint64_t t = rdtsc();

			memset((void *)&pass, 0, sizeof(pass));
			pass.eptp_index = k;
			pass.round = r;
			vmw(VMCS_EPT_POINTER, ept_eptp(&ept[k]));
			l2_run(&g);
			if (!check_exit(&g, EXIT_REASON_VMCALL, l2e_stress_done,
					"stress: round %u EPTP %u (0x%llx): L2's pass over %u pages ends "
					"in its VMCALL", r, k, U64(ept_eptp(&ept[k])), STRESS_PAGES))
				return;
			printf("vmxept: stress: round %u EPTP %u: %llu pages, %llu tag and %llu data "
			       "mismatches, %llu TSC ticks\n", r, k, U64(pass.pages_done),
			       U64(pass.tag_bad), U64(pass.data_bad), U64(rdtsc() - t));
			if (pass.pages_done == STRESS_PAGES && !pass.tag_bad && !pass.data_bad)
				report(true, "... stress: round %u EPTP %u: L2 read, at each of its %u "
				       "pages, the tag of the L1 page this EPTP maps there, and its own "
				       "pattern back", r, k, STRESS_PAGES);
			else
				report(false, "... stress: round %u EPTP %u: L2 read, at each of its %u "
				       "pages, the tag of the L1 page this EPTP maps there, and its own "
				       "pattern back (done %llu; %llu tag, %llu data mismatches; first "
				       "at 0x%llx: 0x%llx, want 0x%llx)", r, k, STRESS_PAGES,
				       U64(pass.pages_done), U64(pass.tag_bad), U64(pass.data_bad),
				       U64(pass.bad_gpa), U64(pass.bad_got), U64(pass.bad_want));
			if (ad_eptp(k))
				check_and_clear_ad(&ept[k], k, r);
			l2_skip(&g);
		}
	}
	printf("vmxept: stress: %u passes in %llu TSC ticks\n", STRESS_ROUNDS * STRESS_EPTPS,
	       U64(rdtsc() - t0));
	check_data();
}
