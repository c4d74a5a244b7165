/* SPDX-License-Identifier: MIT */
/* core/pmm.c over a pool in host memory (L0 maps 1:1, so addresses are pointers). */
#include "unit.h"

#include "core/pmm.h"

#include <stdlib.h>

#define POOL (256 * 4096)

static uint8_t *pool;

static void setup(void)
{
	if (!pool)
		pool = aligned_alloc(4096, POOL);
	struct nv_mem_range map[] = {
		{ 0x1000, 0x10000, NV_MEM_USABLE, 0 },
		{ (uint64_t)pool, POOL, NV_MEM_L0_POOL, 0 },
	};
	CHECK_EQ(pmm_init(map, 2), 256);
}

TEST(only_pool_pages_are_handed_out)
{
	setup();
	size_t free0 = pmm_free_count();

	CHECK_EQ(free0, 255);  /* one page of bitmap */
	for (size_t i = 0; i < free0; i++) {
		uint64_t p = pmm_alloc_page();

		CHECK(p >= (uint64_t)pool && p < (uint64_t)pool + POOL);
		CHECK(pmm_owns(p, 4096));
	}
	CHECK_EQ(pmm_alloc_page(), 0);
	CHECK_EQ(pmm_free_count(), 0);
}

TEST(pages_are_zeroed_and_freed)
{
	setup();
	uint64_t p = pmm_alloc_page();

	memset((void *)p, 0xab, 4096);
	pmm_free_pages(p, 1);
	uint64_t q = pmm_alloc_page();

	CHECK_EQ(q, p);
	CHECK_EQ(((uint8_t *)q)[100], 0);
}

TEST(contiguous_and_aligned)
{
	setup();
	uint64_t a = pmm_alloc_aligned(4, 4);

	CHECK(a != 0);
	CHECK_EQ((a / 4096) % 4, 0);
	uint64_t b = pmm_alloc_pages(8);

	CHECK(b >= a + 4 * 4096 || b + 8 * 4096 <= a);
	CHECK_EQ(pmm_alloc_pages(1000), 0);
}

TEST(owns_rejects_outside_and_wrapping)
{
	setup();
	CHECK(!pmm_owns(0x1000, 4096));
	CHECK(!pmm_owns((uint64_t)pool, POOL + 1));
	CHECK(!pmm_owns(UINT64_MAX - 10, 100));
}
