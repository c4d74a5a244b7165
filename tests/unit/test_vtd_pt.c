/* SPDX-License-Identifier: MIT */
/* drivers/vtd_pt.c: the DMA domain walked page by page, and the root/context tables. */
#include "unit.h"

#include "drivers/vtd_pt.h"
#include "ept/ept01.h"

#include <stdlib.h>

#define POOL_PAGES 4096

static uint8_t *pool;
static unsigned pool_used, pool_limit = POOL_PAGES;

/* Fake "physical" memory: offsets into pool, +1 page so 0 means failure. */
static uint64_t fake_alloc(void *ctx)
{
	if (pool_used == pool_limit)
		return 0;
	memset(pool + (size_t)pool_used * 4096, 0, 4096);
	return (uint64_t)++pool_used << 12;
}

static uint64_t *fake_table(void *ctx, uint64_t phys)
{
	return (uint64_t *)(pool + ((phys >> 12) - 1) * 4096);
}

static const struct vtd_pt_ops ops = { fake_alloc, fake_table, NULL };

static void setup(struct vtd_domain *d, bool m2, bool g1)
{
	if (!pool)
		pool = aligned_alloc(4096, (size_t)POOL_PAGES * 4096);
	pool_used = 0;
	pool_limit = POOL_PAGES;
	CHECK(vtd_domain_init(d, &ops, m2, g1) == 0);
}

#define R(b, s, t) ((struct nv_mem_range){ (b), (s), (t), 0 })

/* A UEFI-like map with every kind of range, L0 in the middle of RAM (as test_ept.c's). */
static const struct nv_mem_range boot_map[] = {
	R(0x0, 0xa0000, NV_MEM_USABLE),
	R(0x100000, 0x700000, NV_MEM_USABLE),
	R(0x800000, 0x100000, NV_MEM_ACPI_NVS),
	R(0x900000, 0x3000000, NV_MEM_USABLE),
	R(0x3900000, 0x200000, NV_MEM_L0_IMAGE),
	R(0x3b00000, 0x2000000, NV_MEM_L0_POOL),
	R(0x5b00000, 0x5000, NV_MEM_L0_BOOT),
	R(0x5b05000, 0x100000, NV_MEM_L1_STAGING),
	R(0x5c05000, 0x1fb000, NV_MEM_USABLE),
	R(0x5e00000, 0x80000, NV_MEM_FW_RUNTIME),
	R(0x5e80000, 0x20000, NV_MEM_ACPI_RECLAIM),
	R(0x5ea0000, 0x2160000, NV_MEM_USABLE),
	R(0x8000000, 0x1000, NV_MEM_BAD),
	R(0x8001000, 0x1f000, NV_MEM_RESERVED),
	R(0xfed90000, 0x1000, NV_MEM_MMIO),
	R(0xffc00000, 0x400000, NV_MEM_MMIO),
	R(0x100000000ull, 0x40000000ull, NV_MEM_USABLE),
};
#define BOOT_MAP_N (sizeof(boot_map) / sizeof(boot_map[0]))

/* Two RMRRs: one in reserved memory, one in a hole. */
static const struct vtd_range rmrr[] = {
	{ 0x8002000, 0x8004000 },
	{ 0xc0000000, 0xc0200000 },
};

static uint32_t type_at(uint64_t a)
{
	for (unsigned i = 0; i < BOOT_MAP_N; i++)
		if (a >= boot_map[i].base && a < boot_map[i].base + boot_map[i].size)
			return boot_map[i].type;
	return 0;
}

static bool in_rmrr(uint64_t a)
{
	for (unsigned i = 0; i < 2; i++)
		if (a >= rmrr[i].base && a < rmrr[i].end)
			return true;
	return false;
}

/* What DMA may reach: L1's RAM below ram_end, ACPI tables/NVS, the RMRRs. */
static bool want_mapped(uint64_t a, uint64_t ram_end)
{
	uint32_t t = type_at(a);

	if (in_rmrr(a))
		return true;
	if (t == NV_MEM_USABLE || t == NV_MEM_L1_STAGING)
		return a < ram_end;
	return t == NV_MEM_ACPI_NVS || t == NV_MEM_ACPI_RECLAIM;
}

static void check_every_page(uint64_t ram_end, bool m2, bool g1, unsigned levels)
{
	struct vtd_domain d;
	unsigned bad = 0;
	uint64_t root;

	setup(&d, m2, g1);
	CHECK(vtd_domain_build(&d, boot_map, BOOT_MAP_N, ram_end, rmrr, 2) == 0);
	root = vtd_domain_root(&d, levels);
	CHECK(root != 0);
	for (uint64_t a = 0; a < 0x140200000ull; a += 0x1000) {
		uint64_t size = 0, e = vtd_translate(&ops, root, levels, a, &size);
		bool want = want_mapped(a, ram_end);
		bool ok = want ? e && (e & (VTD_SL_R | VTD_SL_W)) == (VTD_SL_R | VTD_SL_W) &&
					 (e & VTD_SL_ADDR & ~(size - 1)) == (a & ~(size - 1)) &&
					 /* no memory-type, snoop or other bits: reserved without MTS/SC */
					 (e & ~VTD_SL_ADDR & ~(VTD_SL_R | VTD_SL_W | VTD_SL_PS)) == 0
			       : e == 0;

		if (!ok && bad++ < 5)
			printf("  page 0x%llx (type %u): entry 0x%llx, want %s\n", (unsigned long long)a,
			       type_at(a), (unsigned long long)e, want ? "mapped RW" : "absent");
	}
	CHECK_EQ(bad, 0);
}

TEST(vtd_domain_every_page_4k)
{
	check_every_page(UINT64_MAX, false, false, 4);
}

TEST(vtd_domain_every_page_large_pages)
{
	check_every_page(UINT64_MAX, true, true, 4);
}

TEST(vtd_domain_l1_memory_limit)
{
	check_every_page(0x2000000, true, false, 4);
	check_every_page(0x5c06000, false, false, 4);
}

TEST(vtd_domain_five_levels)
{
	check_every_page(UINT64_MAX, true, true, 5);
}

TEST(vtd_domain_three_levels_below_512g)
{
	check_every_page(UINT64_MAX, true, true, 3);
}

TEST(vtd_domain_three_levels_refused_above_512g)
{
	struct vtd_domain d;

	setup(&d, true, true);
	CHECK(vtd_domain_map(&d, 0x8000000000ull, 0x8000200000ull) == 0);
	CHECK_EQ(vtd_domain_root(&d, 3), 0);
	CHECK(vtd_domain_root(&d, 4) != 0);
	CHECK_EQ(vtd_domain_root(&d, 2), 0);
	CHECK_EQ(vtd_domain_root(&d, 6), 0);
}

TEST(vtd_domain_large_pages_used_when_aligned)
{
	struct vtd_domain d;
	uint64_t size = 0, e;

	setup(&d, true, true);
	CHECK(vtd_domain_map(&d, 0x40000000, 0x80200000) == 0);
	e = vtd_translate(&ops, d.pml4, 4, 0x40001000, &size);
	CHECK_EQ(size, 1ull << 30);
	CHECK_EQ(e, 0x40000000 | VTD_SL_R | VTD_SL_W | VTD_SL_PS);
	e = vtd_translate(&ops, d.pml4, 4, 0x80100000, &size);
	CHECK_EQ(size, 2ull << 20);
	CHECK_EQ(e, 0x80000000 | VTD_SL_R | VTD_SL_W | VTD_SL_PS);
	CHECK_EQ(vtd_translate(&ops, d.pml4, 4, 0x80200000, &size), 0);
	/* Mapping over what is mapped changes nothing and takes no table. */
	unsigned tables = d.tables;
	CHECK(vtd_domain_map(&d, 0x40100000, 0x40200000) == 0);
	CHECK_EQ(d.tables, tables);
	/* Non-leaf entries carry R and W, nothing else. */
	uint64_t pml4e = fake_table(0, d.pml4)[0];
	CHECK_EQ(pml4e & ~VTD_SL_ADDR, VTD_SL_R | VTD_SL_W);
}

TEST(vtd_domain_out_of_memory_and_bounds)
{
	struct vtd_domain d;

	setup(&d, false, false);
	pool_limit = pool_used + 1;
	CHECK(vtd_domain_map(&d, 0, 0x1000) != 0);
	setup(&d, false, false);
	CHECK(vtd_domain_map(&d, 0, (1ull << 48) + 0x1000) != 0);
	CHECK(vtd_domain_map(&d, 0x5000, 0x5000) == 0);
	CHECK_EQ(d.top, 0);
	pool_used = 0;
	pool_limit = 0;
	CHECK(vtd_domain_init(&d, &ops, false, false) != 0);
	pool_limit = POOL_PAGES;
}

TEST(vtd_policy_is_ept01s_writable_ram)
{
	CHECK(vtd_dma_may_reach(NV_MEM_USABLE, false));
	CHECK(!vtd_dma_may_reach(NV_MEM_USABLE, true));
	CHECK(vtd_dma_may_reach(NV_MEM_L1_STAGING, false));
	CHECK(vtd_dma_may_reach(NV_MEM_ACPI_RECLAIM, false));
	CHECK(vtd_dma_may_reach(NV_MEM_ACPI_NVS, false));
	CHECK(!vtd_dma_may_reach(NV_MEM_L0_IMAGE, false));
	CHECK(!vtd_dma_may_reach(NV_MEM_L0_POOL, false));
	CHECK(!vtd_dma_may_reach(NV_MEM_L0_BOOT, false));
	CHECK(!vtd_dma_may_reach(NV_MEM_FW_RUNTIME, false));
	CHECK(!vtd_dma_may_reach(NV_MEM_BAD, false));
	CHECK(!vtd_dma_may_reach(NV_MEM_RESERVED, false));
	CHECK(!vtd_dma_may_reach(NV_MEM_MMIO, false));
	CHECK(!vtd_dma_may_reach(0, false));
}

TEST(vtd_context_tables_name_the_domain_for_every_source)
{
	struct vtd_domain d;
	uint64_t root, *r, *c;

	setup(&d, false, false);
	root = vtd_context_build(&ops, d.pml4, VTD_AW_48BIT, 1);
	CHECK(root != 0);
	r = fake_table(0, root);
	for (unsigned bus = 0; bus < 256; bus++) {
		CHECK_EQ(r[2 * bus] & VTD_ROOT_P, VTD_ROOT_P);
		CHECK_EQ(r[2 * bus] & ~VTD_SL_ADDR, VTD_ROOT_P);
		CHECK_EQ(r[2 * bus + 1], 0);
		CHECK_EQ(r[2 * bus] & VTD_SL_ADDR, r[0] & VTD_SL_ADDR);
	}
	c = fake_table(0, r[0] & VTD_SL_ADDR);
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		/* present, fault processing enabled, translation type 00, the domain's table */
		CHECK_EQ(c[2 * devfn], d.pml4 | VTD_CTX_P);
		/* address width 48 bits (4 levels), domain id 1 */
		CHECK_EQ(c[2 * devfn + 1], VTD_AW_48BIT | (1u << VTD_CTX_DID_SHIFT));
	}
	CHECK_EQ(vtd_context_build(&ops, 0, VTD_AW_48BIT, 1), 0);
	pool_limit = pool_used + 1;
	CHECK_EQ(vtd_context_build(&ops, d.pml4, VTD_AW_48BIT, 1), 0);
	pool_limit = POOL_PAGES;
}
