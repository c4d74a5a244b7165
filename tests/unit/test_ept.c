/* SPDX-License-Identifier: MIT */
/* ept/: the builder and walker on fake memory, and the EPT01 policy walked page by page. */
#include "unit.h"

#include "ept/ept01.h"

#include <stdlib.h>

#define POOL_PAGES 4096

static uint8_t *pool;
static unsigned pool_used;

/* Fake "physical" memory: addresses are offsets into pool, +1 page so 0 means failure. */
static uint64_t fake_alloc(void *ctx)
{
	if (pool_used == POOL_PAGES)
		return 0;
	memset(pool + (size_t)pool_used * 4096, 0, 4096);
	return (uint64_t)++pool_used << 12;
}

static uint64_t *fake_table(void *ctx, uint64_t phys)
{
	return (uint64_t *)(pool + ((phys >> 12) - 1) * 4096);
}

static void setup(struct ept *e, bool m2, bool g1)
{
	static const struct ept_ops ops = { fake_alloc, fake_table, NULL };

	if (!pool)
		pool = aligned_alloc(4096, (size_t)POOL_PAGES * 4096);
	pool_used = 0;
	CHECK(ept_init(e, &ops, m2, g1) == 0);
}

TEST(map_and_translate_4k)
{
	struct ept e;
	struct ept_walk w;

	setup(&e, false, false);
	CHECK(ept_map(&e, 0x5000, 0x9000, 0x2000, EPT_R | EPT_W, EPT_MT_WB) == 0);
	ept_translate(&e, 0x5123, &w);
	CHECK(w.present);
	CHECK_EQ(w.hpa, 0x9123);
	CHECK_EQ(w.page_size, EPT_PAGE_4K);
	CHECK_EQ(w.leaf & EPT_PERM_MASK, EPT_R | EPT_W);
	CHECK_EQ((w.leaf & EPT_MT_MASK) >> EPT_MT_SHIFT, EPT_MT_WB);
	ept_translate(&e, 0x7000, &w);
	CHECK(!w.present);
	CHECK_EQ(e.tables, 4);
}

TEST(large_pages_used_when_aligned)
{
	struct ept e;
	struct ept_walk w;

	setup(&e, true, true);
	CHECK(ept_map(&e, 0, 0, 1ull << 31, EPT_RWX, EPT_MT_WB) == 0);
	ept_translate(&e, 0x40001234, &w);
	CHECK(w.present);
	CHECK_EQ(w.page_size, EPT_PAGE_1G);
	CHECK_EQ(w.hpa, 0x40001234);
	CHECK_EQ(e.tables, 2);  /* PML4 + one PDPT */
	CHECK(ept_map(&e, 0x80000000, 0x80000000, 0x201000, EPT_R, EPT_MT_UC) == 0);
	ept_translate(&e, 0x80100000, &w);
	CHECK_EQ(w.page_size, EPT_PAGE_2M);
	ept_translate(&e, 0x80200000, &w);
	CHECK_EQ(w.page_size, EPT_PAGE_4K);
}

/* Write-protecting one 4-KiB page inside 1-GiB and 2-MiB pages splits them and changes only it. */
TEST(set_write_splits_large_pages_and_touches_one_page)
{
	struct ept e;
	struct ept_walk w;
	uint64_t page = 0x40000000ull + 0x123000;

	setup(&e, true, true);
	CHECK(ept_map(&e, 0, 0, 4ull << 30, EPT_RWX, EPT_MT_WB) == 0);
	ept_translate(&e, page, &w);
	CHECK_EQ(w.page_size, EPT_PAGE_1G);
	CHECK(ept_set_write(&e, page, false) == 0);
	ept_translate(&e, page, &w);
	CHECK(w.present && w.page_size == EPT_PAGE_4K && w.hpa == page);
	CHECK_EQ(w.leaf & EPT_PERM_MASK, EPT_R | EPT_X);
	CHECK_EQ((w.leaf & EPT_MT_MASK) >> EPT_MT_SHIFT, EPT_MT_WB);
	/* Its neighbours keep everything, in the sizes the split left. */
	ept_translate(&e, page + 0x1000, &w);
	CHECK(w.page_size == EPT_PAGE_4K && (w.leaf & EPT_PERM_MASK) == EPT_RWX && w.hpa == page + 0x1000);
	ept_translate(&e, page + EPT_PAGE_2M, &w);
	CHECK(w.page_size == EPT_PAGE_2M && (w.leaf & EPT_PERM_MASK) == EPT_RWX &&
	      w.hpa == page + EPT_PAGE_2M);
	ept_translate(&e, 0x80000000ull, &w);
	CHECK(w.page_size == EPT_PAGE_1G && w.hpa == 0x80000000ull);
	/* And back; a second call on a split page allocates nothing. */
	unsigned tables = e.tables;

	CHECK(ept_set_write(&e, page, true) == 0);
	CHECK_EQ(e.tables, tables);
	ept_translate(&e, page, &w);
	CHECK_EQ(w.leaf & EPT_PERM_MASK, EPT_RWX);
	CHECK(ept_set_write(&e, 5ull << 30, false) < 0);   /* unmapped */
}

TEST(map_refuses_overlap_and_misalignment)
{
	struct ept e;

	setup(&e, true, false);
	CHECK(ept_map(&e, 0, 0, 0x200000, EPT_RWX, EPT_MT_WB) == 0);
	CHECK(ept_map(&e, 0x1000, 0x1000, 0x1000, EPT_RWX, EPT_MT_WB) != 0);  /* inside a 2M leaf */
	CHECK(ept_map(&e, 0x400800, 0x400800, 0x1000, EPT_RWX, EPT_MT_WB) != 0);
}

TEST(map_reports_out_of_memory)
{
	struct ept e;

	setup(&e, false, false);
	pool_used = POOL_PAGES - 1;
	CHECK(ept_map(&e, 0, 0, 0x1000, EPT_RWX, EPT_MT_WB) != 0);
}

#define R(b, s, t) ((struct nv_mem_range){ (b), (s), (t), 0 })

/* A UEFI-like map with every kind of range, L0 in the middle of RAM. */
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
	R(0xffc00000, 0x400000, NV_MEM_MMIO),
};
#define BOOT_MAP_N (sizeof(boot_map) / sizeof(boot_map[0]))

static uint32_t type_at(uint64_t a)
{
	for (unsigned i = 0; i < BOOT_MAP_N; i++)
		if (a >= boot_map[i].base && a < boot_map[i].base + boot_map[i].size)
			return boot_map[i].type;
	return 0;
}

static const struct ept01_window *in_win(const struct ept01_window *ro, unsigned n_ro, uint64_t a)
{
	for (unsigned i = 0; i < n_ro; i++)
		if (a >= ro[i].base && a < ro[i].end)
			return &ro[i];
	return NULL;
}

static void check_every_page_ro(uint64_t ram_end, bool m2, bool g1,
				const struct ept01_window *ro, unsigned n_ro, uint64_t top)
{
	struct ept e;
	unsigned bad = 0;

	setup(&e, m2, g1);
	CHECK(ept01_build(&e, boot_map, BOOT_MAP_N, ram_end, ro, n_ro) == 0);
	for (uint64_t a = 0; a < top; a += 0x1000) {
		const struct ept01_window *win = in_win(ro, n_ro, a);
		struct ept01_attr want = win ? (struct ept01_attr){ win->perms, win->perms ? EPT_MT_UC : 0 }
				       : a >= (1ull << 32) ? (struct ept01_attr){ 0, 0 }
				       : ept01_attr_for(type_at(a), a >= ram_end);
		struct ept_walk w;

		ept_translate(&e, a, &w);
		bool ok = w.present == (want.perms != 0) &&
			  (!w.present || (w.hpa == a && (w.leaf & EPT_PERM_MASK) == want.perms &&
					  ((w.leaf & EPT_MT_MASK) >> EPT_MT_SHIFT) == want.memtype));
		if (!ok && bad++ < 5)
			printf("  page 0x%llx: present %d perms 0x%llx, want perms 0x%llx mt %u\n",
			       (unsigned long long)a, w.present,
			       (unsigned long long)(w.leaf & EPT_PERM_MASK),
			       (unsigned long long)want.perms, want.memtype);
	}
	CHECK_EQ(bad, 0);
}

static void check_every_page(uint64_t ram_end, bool m2, bool g1)
{
	check_every_page_ro(ram_end, m2, g1, 0, 0, 1ull << 32);
}

TEST(ept01_every_page_follows_policy_4k)
{
	check_every_page(UINT64_MAX, false, false);
}

TEST(ept01_every_page_follows_policy_large_pages)
{
	check_every_page(UINT64_MAX, true, true);
}

TEST(ept01_l1_memory_limit_unmaps_ram_above)
{
	check_every_page(0x2000000, true, false);
}

/* ECAM windows: in a hole, over a reserved/MMIO range's start, and above the map. */
static const struct ept01_window ecam[] = {
	{ 0xb0000000, 0xc0000000, EPT_R },
	{ 0xffb00000, 0xffd00000, EPT_R },
	{ 0x100000000ull, 0x100200000ull, EPT_R },
};

/* ECAM plus VT-d register pages (no access): in a hole, inside MMIO, next to ECAM. */
static const struct ept01_window ecam_and_vtd[] = {
	{ 0xb0000000, 0xc0000000, EPT_R },
	{ 0xc0000000, 0xc0001000, 0 },
	{ 0xfed90000, 0xfed92000, 0 },
	{ 0xffc01000, 0xffc02000, 0 },
};

TEST(ept01_ecam_windows_read_only_4k)
{
	check_every_page_ro(UINT64_MAX, false, false, ecam, 3, 0x100400000ull);
}

TEST(ept01_ecam_windows_read_only_large_pages)
{
	check_every_page_ro(0x2000000, true, true, ecam, 3, 0x100400000ull);
}

TEST(ept01_vtd_registers_not_mapped_4k)
{
	check_every_page_ro(UINT64_MAX, false, false, ecam_and_vtd, 4, 0x100400000ull);
}

TEST(ept01_vtd_registers_not_mapped_large_pages)
{
	check_every_page_ro(0x2000000, true, true, ecam_and_vtd, 4, 0x100400000ull);
}

TEST(ept01_policy)
{
	CHECK_EQ(ept01_attr_for(NV_MEM_L0_POOL, false).perms, 0);
	CHECK_EQ(ept01_attr_for(NV_MEM_L0_IMAGE, false).perms, 0);
	CHECK_EQ(ept01_attr_for(NV_MEM_L0_BOOT, false).perms, 0);
	CHECK_EQ(ept01_attr_for(NV_MEM_USABLE, true).perms, 0);
	CHECK_EQ(ept01_attr_for(NV_MEM_USABLE, false).perms, EPT_RWX);
	CHECK_EQ(ept01_attr_for(NV_MEM_USABLE, false).memtype, EPT_MT_WB);
	CHECK_EQ(ept01_attr_for(NV_MEM_FW_RUNTIME, false).perms, EPT_R | EPT_X);
	CHECK_EQ(ept01_attr_for(NV_MEM_MMIO, false).memtype, EPT_MT_UC);
	CHECK_EQ(ept01_attr_for(0, false).memtype, EPT_MT_UC);
}

/* What ISA DMA (16 MiB) would reach that L1 cannot write. */
TEST(ept01_unwritable_ram_below_a_limit)
{
	static const struct nv_mem_range low_l0[] = {
		R(0x0, 0xa0000, NV_MEM_USABLE),
		R(0x100000, 0x400000, NV_MEM_USABLE),
		R(0x500000, 0x200000, NV_MEM_L0_POOL),
		R(0x700000, 0x8000000, NV_MEM_USABLE),
		R(0xfec00000, 0x1000, NV_MEM_MMIO),
	};
	static const struct nv_mem_range l1_only[] = {
		R(0x0, 0xa0000, NV_MEM_USABLE),
		R(0x100000, 0x3000000, NV_MEM_USABLE),
		R(0x3100000, 0x200000, NV_MEM_L0_POOL),
		R(0xfec00000, 0x1000, NV_MEM_MMIO),
	};
	struct ept e;
	uint32_t type = 0;

	setup(&e, true, false);
	CHECK(ept01_build(&e, low_l0, 5, UINT64_MAX, 0, 0) == 0);
	CHECK_EQ(ept01_first_unwritable_ram(&e, low_l0, 5, 0x1000000, &type), 0x500000);
	CHECK_EQ(type, NV_MEM_L0_POOL);
	/* Beyond the limit it is not looked for. */
	CHECK_EQ(ept01_first_unwritable_ram(&e, low_l0, 5, 0x500000, &type), UINT64_MAX);

	setup(&e, true, false);
	CHECK(ept01_build(&e, l1_only, 4, UINT64_MAX, 0, 0) == 0);
	CHECK_EQ(ept01_first_unwritable_ram(&e, l1_only, 4, 0x1000000, &type), UINT64_MAX);
	/* RAM beyond l1_memory is not L1's either. */
	setup(&e, true, false);
	CHECK(ept01_build(&e, l1_only, 4, 0x800000, 0, 0) == 0);
	CHECK_EQ(ept01_first_unwritable_ram(&e, l1_only, 4, 0x1000000, &type), 0x800000);
	CHECK_EQ(type, NV_MEM_USABLE);
}

TEST(eptp_format)
{
	struct ept e;

	setup(&e, false, false);
	CHECK_EQ(ept_eptp(&e) & 0xfff, 0x1e);  /* WB, 4-level */
	CHECK_EQ(ept_eptp(&e) & ~0xfffull, e.pml4);
}
