/* SPDX-License-Identifier: MIT */
/* boot/pagetable.c: the hand-over page tables, walked as the CPU would. */
#include "unit.h"

#include "boot/pagetable.h"

#include <stdlib.h>

#define FAKE_PHYS 0x7700000ULL   /* where the "CPU" sees the buffer */

static uint64_t *buf;
static uint32_t npages;
static char err[128];

static uint64_t *table(uint64_t entry)
{
	uint64_t phys = entry & 0x000ffffffffff000ULL;

	if (phys < FAKE_PHYS || phys >= FAKE_PHYS + npages * 4096ULL)
		return NULL;
	return buf + (phys - FAKE_PHYS) / 8;
}

/* Translate va; UINT64_MAX if not mapped (or not present/writable). */
static uint64_t walk(uint64_t cr3, uint64_t va)
{
	uint64_t *t = table(cr3), e;

	for (int shift = 39; shift >= 21; shift -= 9) {
		e = t[(va >> shift) & 511];
		if ((e & 3) != 3)
			return UINT64_MAX;
		if ((e & 0x80) && shift <= 30)
			return (e & 0x000fffffffe00000ULL & ~((1ULL << shift) - 1)) | (va & ((1ULL << shift) - 1));
		if (!(t = table(e)))
			return UINT64_MAX;
	}
	return UINT64_MAX;   /* no 4 KiB pages here */
}

static uint64_t build(struct nv_pt_params *p)
{
	uint64_t cr3 = 0;

	npages = nv_pt_pages(p);
	free(buf);
	buf = aligned_alloc(4096, npages * 4096ULL);
	memset(buf, 0xa5, npages * 4096ULL);
	if (nv_pt_build(p, buf, FAKE_PHYS, npages, &cr3, err, sizeof(err)))
		return 0;
	return cr3;
}

TEST(pt_identity_top)
{
	struct nv_mem_range m[2] = { { 0, 0x8000000, 1, 0 }, { 0xfee00000, 0x1000, 5, 0 } };

	CHECK_EQ(nv_pt_identity_top(m, 2), 1ULL << 32);
	m[1] = (struct nv_mem_range){ 0x100000000ULL, 0x40001000ULL, 1, 0 };
	CHECK_EQ(nv_pt_identity_top(m, 2), 6ULL << 30);
}

static void check_maps(bool gb)
{
	struct nv_pt_params p = { .top = 8ULL << 30, .gb_pages = gb, .core_phys = 0x7400000,
				  .core_span = 0x201000 };
	uint64_t cr3 = build(&p);

	CHECK_EQ(cr3, FAKE_PHYS);
	CHECK_EQ(npages, gb ? 1 + 1 + 2 : 1 + 1 + 8 + 2);
	CHECK_EQ(walk(cr3, 0), 0);
	CHECK_EQ(walk(cr3, 0x1234567), 0x1234567);
	CHECK_EQ(walk(cr3, 0xfee00020), 0xfee00020);
	CHECK_EQ(walk(cr3, (8ULL << 30) - 1), (8ULL << 30) - 1);
	CHECK_EQ(walk(cr3, 8ULL << 30), UINT64_MAX);
	CHECK_EQ(walk(cr3, NV_CORE_VBASE), 0x7400000);
	CHECK_EQ(walk(cr3, NV_CORE_VBASE + 0x3ffff8), 0x77ffff8);   /* span rounded up to 4 MiB */
	CHECK_EQ(walk(cr3, NV_CORE_VBASE + 0x400000), UINT64_MAX);
	CHECK_EQ(walk(cr3, NV_CORE_VBASE - 0x1000), UINT64_MAX);
}

TEST(pt_2m_pages)
{
	check_maps(false);
}

TEST(pt_1g_pages)
{
	check_maps(true);
}

TEST(pt_big_and_bad)
{
	struct nv_pt_params p = { .top = 1ULL << 40, .gb_pages = true, .core_phys = 0x200000,
				  .core_span = 0x1000 };
	uint64_t cr3 = build(&p);

	CHECK_EQ(npages, 1 + 2 + 2);
	CHECK_EQ(walk(cr3, (1ULL << 40) - 8), (1ULL << 40) - 8);
	CHECK_EQ(walk(cr3, 0x8000000000ULL + 0x1234), 0x8000000000ULL + 0x1234);
	p.top = (1ULL << 47) + (1ULL << 30);
	CHECK_EQ(nv_pt_pages(&p), 0);
	npages = 8;
	CHECK(nv_pt_build(&p, buf, FAKE_PHYS, npages, &cr3, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "4-level paging");
	p.top = 1ULL << 32;
	p.core_phys = 0x201000;     /* not 2 MiB aligned */
	CHECK(nv_pt_build(&p, buf, FAKE_PHYS, npages, &cr3, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "bad page-table parameters");
	free(buf);
	buf = NULL;
}
