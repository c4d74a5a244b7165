/* SPDX-License-Identifier: MIT */
/* lib/memmap.c: normalization, coverage, L1's RAM cut-off and L1's view. */
#include "unit.h"

#include <nestvisor/memmap.h>

#define R(b, s, t) ((struct nv_mem_range){ (b), (s), (t), 0 })

TEST(normalize_sorts_and_merges)
{
	struct nv_mem_range r[8] = {
		R(0x200000, 0x100000, NV_MEM_USABLE),
		R(0x0, 0x9f000, NV_MEM_USABLE),
		R(0x100000, 0x100000, NV_MEM_USABLE),
		R(0x9f000, 0x1000, NV_MEM_RESERVED),
		R(0x500000, 0, NV_MEM_USABLE),  /* empty: dropped */
	};
	uint32_t n = nv_mmap_normalize(r, 5, 8);

	CHECK_EQ(n, 3);
	CHECK_EQ(r[0].base, 0);
	CHECK_EQ(r[1].type, NV_MEM_RESERVED);
	CHECK_EQ(r[2].base, 0x100000);
	CHECK_EQ(r[2].size, 0x200000);  /* two touching usable ranges merged */
}

TEST(normalize_overlap_higher_type_wins)
{
	/* An L0 pool inside usable RAM splits it in three. */
	struct nv_mem_range r[8] = {
		R(0x100000, 0x1000000, NV_MEM_USABLE),
		R(0x400000, 0x200000, NV_MEM_L0_POOL),
	};
	uint32_t n = nv_mmap_normalize(r, 2, 8);

	CHECK_EQ(n, 3);
	CHECK_EQ(r[0].base, 0x100000);
	CHECK_EQ(r[0].size, 0x300000);
	CHECK_EQ(r[1].type, NV_MEM_L0_POOL);
	CHECK_EQ(r[2].base, 0x600000);
	CHECK_EQ(r[2].size, 0xb00000);
	CHECK_EQ(r[2].type, NV_MEM_USABLE);
}

TEST(normalize_reports_truncation)
{
	struct nv_mem_range r[2] = {
		R(0x0, 0x1000000, NV_MEM_USABLE),
		R(0x400000, 0x1000, NV_MEM_L0_BOOT),
	};
	uint32_t n = nv_mmap_normalize(r, 2, 2);

	CHECK(n & NV_MMAP_TRUNCATED);
}

TEST(covers_and_touches)
{
	struct nv_mem_range r[] = {
		R(0x0, 0x1000, NV_MEM_USABLE),
		R(0x1000, 0x1000, NV_MEM_USABLE),
		R(0x3000, 0x1000, NV_MEM_L0_POOL),
	};

	CHECK(nv_mmap_covers(r, 3, 0x800, 0x1000, NV_MEM_BIT(NV_MEM_USABLE)));
	CHECK(!nv_mmap_covers(r, 3, 0x1800, 0x1000, NV_MEM_BIT(NV_MEM_USABLE)));  /* hole */
	CHECK(!nv_mmap_covers(r, 3, UINT64_MAX - 10, 100, NV_MEM_BIT(NV_MEM_USABLE)));
	CHECK(nv_mmap_touches(r, 3, 0x2fff, 2, NV_MEM_L0_MASK));
	CHECK(!nv_mmap_touches(r, 3, 0x2000, 0x1000, NV_MEM_L0_MASK));
}

TEST(ram_end_counts_free_ram_in_order)
{
	struct nv_mem_range r[] = {
		R(0x0, 0xa0000, NV_MEM_USABLE),            /* 640 KiB */
		R(0x100000, 0x300000, NV_MEM_USABLE),      /* 3 MiB */
		R(0x400000, 0x100000, NV_MEM_L0_POOL),     /* not counted */
		R(0x500000, 0x1000000, NV_MEM_L1_STAGING), /* counted */
	};

	CHECK_EQ(nv_l1_ram_end(r, 4, 0), UINT64_MAX);
	CHECK_EQ(nv_l1_ram_end(r, 4, 0xa0000 + 0x100000), 0x200000);
	CHECK_EQ(nv_l1_ram_end(r, 4, 0xa0000 + 0x300000 + 0x1000), 0x501000);
	CHECK_EQ(nv_l1_ram_end(r, 4, 1ull << 40), UINT64_MAX);
}

TEST(l1_view_hides_l0_and_ram_beyond_limit)
{
	struct nv_mem_range r[] = {
		R(0x0, 0xa0000, NV_MEM_USABLE),
		R(0x100000, 0x300000, NV_MEM_USABLE),
		R(0x400000, 0x100000, NV_MEM_L0_IMAGE),
		R(0x500000, 0x100000, NV_MEM_L1_STAGING),
		R(0x600000, 0xa00000, NV_MEM_USABLE),
		R(0x1000000, 0x10000, NV_MEM_ACPI_RECLAIM),
	};
	struct nv_mem_range v[16];
	uint32_t n = nv_l1_view(r, 6, 0x800000, v, 16);

	CHECK_EQ(n, 5);
	CHECK_EQ(v[1].base, 0x100000);
	CHECK_EQ(v[1].size, 0x300000);
	CHECK_EQ(v[2].type, NV_MEM_RESERVED);       /* L0 shown reserved */
	CHECK_EQ(v[3].base, 0x500000);              /* staging + usable merged, cut at 8 MiB */
	CHECK_EQ(v[3].size, 0x300000);
	CHECK_EQ(v[3].type, NV_MEM_USABLE);
	CHECK_EQ(v[4].type, NV_MEM_ACPI_RECLAIM);   /* non-RAM ranges stay */
}

TEST(type_names)
{
	CHECK_STR(nv_mem_type_name(NV_MEM_L0_POOL), "l0-pool");
	CHECK_STR(nv_mem_type_name(999), "unknown");
}
