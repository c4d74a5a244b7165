/* SPDX-License-Identifier: MIT */
/*
 * ept/ept02*.c: EPT02 composed from EPT12 walks and EPT01 translations on fake
 * memory. Hand-made walks for permissions, memory types, A/D, page sizes,
 * the root cache and invalidation; then random EPT01 and EPT12 maps, several
 * roots and a pool far smaller than what they touch, every EPT02 leaf audited
 * against the maps' descriptions.
 */
#include "unit.h"

#include "ept/ept02.h"

#include <stdlib.h>

/* Host memory: EPT01 tables, then the EPT02 pool. Page i is at host-physical (i + 1) << 12. */
#define EPT01_PAGES 1024
#define POOL_MAX    64
#define HOST_PAGES  (EPT01_PAGES + POOL_MAX)

static uint8_t *host;
static unsigned ept01_used;
static uint64_t pool_pages[POOL_MAX];
static struct ept02 c;

static uint64_t *host_table(void *ctx, uint64_t phys)
{
	return (uint64_t *)(host + ((phys >> 12) - 1) * 4096);
}

static uint64_t ept01_alloc(void *ctx)
{
	if (ept01_used == EPT01_PAGES)
		return 0;
	memset(host + (size_t)ept01_used * 4096, 0, 4096);
	return (uint64_t)++ept01_used << 12;
}

static bool pool_page(uint64_t phys)
{
	return phys > (uint64_t)EPT01_PAGES << 12 && phys <= (uint64_t)HOST_PAGES << 12 &&
	       !(phys & 0xfff);
}

static void setup(uint32_t npages, bool use_2m, bool use_1g)
{
	static const struct ept02_ops ops = { host_table, NULL };

	if (!host)
		host = aligned_alloc(4096, (size_t)HOST_PAGES * 4096);
	ept01_used = 0;
	for (unsigned i = 0; i < POOL_MAX; i++)
		pool_pages[i] = (uint64_t)(EPT01_PAGES + i + 1) << 12;
	CHECK(ept02_init(&c, &ops, pool_pages, npages, use_2m, use_1g) == 0);
}

/* The cached root of eptp12, without touching its LRU stamp. */
static const struct ept02_root *root_of(uint64_t eptp12)
{
	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		if (c.roots[i].valid && c.roots[i].eptp12 == eptp12)
			return &c.roots[i];
	return NULL;
}

/* EPT02's translation of l2 under eptp12 (ept_translate on the root). */
static struct ept_walk t02(uint64_t eptp12, uint64_t l2)
{
	const struct ept02_root *r = root_of(eptp12);
	struct ept_walk w = { 0 };

	if (r) {
		struct ept e = { .pml4 = r->phys, .ops = { NULL, host_table, NULL } };

		ept_translate(&e, l2, &w);
	}
	return w;
}

static unsigned mt_of(uint64_t leaf)
{
	return (leaf & EPT_MT_MASK) >> EPT_MT_SHIFT;
}

/* ------------------------------------------------------------------------ */
/* Hand-made walks. */

#define EPTP_A (0x111000ull | EPTP_PWL4 | EPTP_MT_WB)
#define EPTP_B (0x222000ull | EPTP_PWL4 | EPTP_MT_WB)

static struct ept12_walk w12(uint64_t l1_gpa, uint64_t size, uint64_t perms, unsigned mt,
			     unsigned access)
{
	uint64_t need = access & EPT_PERM_MASK;

	return (struct ept12_walk){
		.status = EPT12_OK, .level = size == EPT_PAGE_4K ? 1 : size == EPT_PAGE_2M ? 2 : 3,
		.access = access, .need = need, .perms = perms, .l1_gpa = l1_gpa, .page_size = size,
		.memtype = mt,
		.leaf = (l1_gpa & EPT_ADDR_MASK & ~(size - 1)) | perms | (uint64_t)mt << EPT_MT_SHIFT |
			(size > EPT_PAGE_4K ? EPT_LARGE : 0),
	};
}

static struct ept_walk w01(uint64_t hpa, uint64_t size, uint64_t perms, unsigned mt)
{
	return (struct ept_walk){
		.present = perms != 0, .hpa = hpa, .page_size = size,
		.leaf = (hpa & EPT_ADDR_MASK & ~(size - 1)) | perms | (uint64_t)mt << EPT_MT_SHIFT |
			(size > EPT_PAGE_4K ? EPT_LARGE : 0),
	};
}

static enum ept02_status install(uint64_t eptp12, uint64_t l2, struct ept12_walk a, struct ept_walk b)
{
	return ept02_install(&c, eptp12, l2, &a, &b);
}

TEST(ept02_init_rejects_small_or_misaligned_pool)
{
	static const struct ept02_ops ops = { host_table, NULL };

	setup(EPT02_MIN_POOL, false, false);
	CHECK(ept02_init(&c, &ops, pool_pages, EPT02_MIN_POOL - 1, false, false) < 0);
	pool_pages[2] |= 0x800;
	CHECK(ept02_init(&c, &ops, pool_pages, EPT02_MIN_POOL, false, false) < 0);
}

TEST(ept02_installs_a_4k_leaf)
{
	setup(16, true, true);
	CHECK_EQ(install(EPTP_A, 0x5123, w12(0x9123, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x77123, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	struct ept_walk w = t02(EPTP_A, 0x5abc);

	CHECK(w.present);
	CHECK_EQ(w.hpa, 0x77abc);
	CHECK_EQ(w.page_size, EPT_PAGE_4K);
	CHECK_EQ(w.leaf & EPT_PERM_MASK, EPT_RWX);
	CHECK_EQ(mt_of(w.leaf), EPT_MT_WB);
	CHECK_EQ(c.stats.in_use, 4);
	CHECK_EQ(root_of(EPTP_A)->tables, 4);
	CHECK(pool_page(root_of(EPTP_A)->phys));
	CHECK(!t02(EPTP_A, 0x6000).present);
	CHECK_EQ(ept02_eptp(root_of(EPTP_A)->phys, EPTP_A | EPTP_AD_ENABLE),
		 root_of(EPTP_A)->phys | EPTP_PWL4 | EPTP_MT_WB | EPTP_AD_ENABLE);
	CHECK(!ept02_take_invept(&c));
}

TEST(ept02_permissions_are_ept12_and_ept01)
{
	static const uint64_t p12[] = { EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_RWX };
	static const uint64_t p01[] = { EPT_R, EPT_R | EPT_X, EPT_RWX };

	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 3; j++) {
			setup(16, false, false);
			CHECK_EQ(install(EPTP_A, 0x5000, w12(0x9000, EPT_PAGE_4K, p12[i], EPT_MT_WB, EPT_R),
					 w01(0x77000, EPT_PAGE_4K, p01[j], EPT_MT_WB)), EPT02_INSTALLED);
			CHECK_EQ(t02(EPTP_A, 0x5000).leaf & EPT_PERM_MASK, p12[i] & p01[j]);
		}
	}
}

/* Nothing is written, not even a root, when EPT01 does not give L1 the access. */
TEST(ept02_l1_fault_when_ept01_forbids)
{
	setup(16, false, false);
	CHECK_EQ(install(EPTP_A, 0x5000, w12(0x9000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0, EPT_PAGE_4K, 0, 0)), EPT02_L1_FAULT);
	CHECK_EQ(install(EPTP_A, 0x5000, w12(0x9000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_W),
			 w01(0x77000, EPT_PAGE_4K, EPT_R | EPT_X, EPT_MT_WB)), EPT02_L1_FAULT);
	CHECK_EQ(install(EPTP_A, 0x5000, w12(0x9000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_X),
			 w01(0x77000, EPT_PAGE_4K, EPT_R, EPT_MT_WB)), EPT02_L1_FAULT);
	/* A paging-structure access with EPT12 A/D needs write too. */
	struct ept12_walk pw = w12(0x9000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_R | EPT_W);

	pw.access |= EPT12_ACC_PAGING;
	CHECK_EQ(ept02_install(&c, EPTP_A | EPTP_AD_ENABLE, 0x5000, &pw,
			       &(struct ept_walk){ .present = true, .hpa = 0x77000, .page_size = EPT_PAGE_4K,
						   .leaf = 0x77000 | EPT_R | EPT_X }),
		 EPT02_L1_FAULT);
	CHECK_EQ(c.stats.in_use, 0);
	CHECK_EQ(c.stats.l1_faults, 4);
	CHECK(!root_of(EPTP_A));
	/* Read goes through on the R/X page, without write. */
	CHECK_EQ(install(EPTP_A, 0x5000, w12(0x9000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x77000, EPT_PAGE_4K, EPT_R | EPT_X, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK_EQ(t02(EPTP_A, 0x5000).leaf & EPT_PERM_MASK, EPT_R | EPT_X);
}

TEST(ept02_memory_type_ept12_unless_ept01_uncacheable)
{
	static const unsigned mts[] = { EPT_MT_UC, EPT_MT_WC, EPT_MT_WT, EPT_MT_WP, EPT_MT_WB };

	for (unsigned i = 0; i < 5; i++) {
		setup(16, false, false);
		struct ept12_walk a = w12(0x9000, EPT_PAGE_4K, EPT_RWX, mts[i], EPT_R);

		a.ignore_pat = true;
		CHECK_EQ(install(EPTP_A, 0x5000, a, w01(0x77000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)),
			 EPT02_INSTALLED);
		CHECK_EQ(mt_of(t02(EPTP_A, 0x5000).leaf), mts[i]);
		CHECK(t02(EPTP_A, 0x5000).leaf & EPT_IGNORE_PAT);
		CHECK_EQ(install(EPTP_A, 0x6000, w12(0xa000, EPT_PAGE_4K, EPT_RWX, mts[i], EPT_R),
				 w01(0x78000, EPT_PAGE_4K, EPT_RWX, EPT_MT_UC)), EPT02_INSTALLED);
		CHECK_EQ(mt_of(t02(EPTP_A, 0x6000).leaf), EPT_MT_UC);
		CHECK(!(t02(EPTP_A, 0x6000).leaf & EPT_IGNORE_PAT));
	}
}

/* With EPT12 A/D on, write is granted only once the EPT12 leaf is dirty. */
TEST(ept02_write_waits_for_ept12_dirty)
{
	uint64_t ad = EPTP_A | EPTP_AD_ENABLE;
	struct ept12_walk a = w12(0x9000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_R);

	setup(16, false, false);
	CHECK_EQ(install(ad, 0x5000, a, w01(0x77000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK_EQ(t02(ad, 0x5000).leaf & EPT_PERM_MASK, EPT_R | EPT_X);
	a = w12(0x9000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_W);
	a.leaf |= EPT_ACCESSED | EPT_DIRTY;
	CHECK_EQ(install(ad, 0x5000, a, w01(0x77000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK_EQ(t02(ad, 0x5000).leaf & EPT_PERM_MASK, EPT_RWX);
	CHECK(!ept02_take_invept(&c));   /* widening needs no INVEPT */
	/* Without A/D, write right away. */
	CHECK_EQ(install(EPTP_A, 0x5000, w12(0x9000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x77000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK_EQ(t02(EPTP_A, 0x5000).leaf & EPT_PERM_MASK, EPT_RWX);
}

/* A 2-MiB EPT12 page over 4-KiB EPT01 pages that are not contiguous in host memory. */
TEST(ept02_ept12_large_page_split_where_ept01_is_finer)
{
	static const uint64_t host_of[] = { 0x700000, 0x3000, 0x5550000, 0x1ff000 };
	uint64_t l2 = 0x40000000, l1 = 0x800000;

	setup(16, true, true);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t off = i * 0x7f000 + 0x10;
		struct ept12_walk a = w12(l1 + off, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB, EPT_R);

		CHECK_EQ(install(EPTP_A, l2 + off, a,
				 w01(host_of[i] | (off & 0xfff), EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)),
			 EPT02_INSTALLED);
	}
	for (unsigned i = 0; i < 4; i++) {
		uint64_t off = i * 0x7f000;
		struct ept_walk w = t02(EPTP_A, l2 + off + 0x234);

		CHECK(w.present);
		CHECK_EQ(w.page_size, EPT_PAGE_4K);
		CHECK_EQ(w.hpa, host_of[i] | 0x234);
		CHECK(!t02(EPTP_A, l2 + off + 0x1000).present);
	}
	CHECK_EQ(c.stats.in_use, 4);   /* one path, four PTEs */
}

TEST(ept02_large_leaf_when_both_allow)
{
	/* 2M over 2M. */
	setup(16, true, true);
	CHECK_EQ(install(EPTP_A, 0x40012345, w12(0x80012345, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x1c0012345, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	struct ept_walk w = t02(EPTP_A, 0x401fffff);

	CHECK(w.present && w.page_size == EPT_PAGE_2M && w.hpa == 0x1c01fffff);
	CHECK_EQ(c.stats.in_use, 3);
	/* 1G over 2M: 2M. */
	CHECK_EQ(install(EPTP_A, 0x80212345, w12(0x40212345, EPT_PAGE_1G, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x3c0212345, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	w = t02(EPTP_A, 0x80200000);
	CHECK(w.present && w.page_size == EPT_PAGE_2M && w.hpa == 0x3c0200000);
	CHECK(!t02(EPTP_A, 0x80000000).present);
	/* 1G over 1G, with the offset arithmetic at both ends. */
	CHECK_EQ(install(EPTP_A, 0x1c0000000 + 0x12345678,
			 w12(0x40000000 + 0x12345678, EPT_PAGE_1G, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x2c0000000 + 0x12345678, EPT_PAGE_1G, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	w = t02(EPTP_A, 0x1c0000000);
	CHECK(w.present && w.page_size == EPT_PAGE_1G && w.hpa == 0x2c0000000);
	w = t02(EPTP_A, 0x1ffffffff);
	CHECK(w.present && w.hpa == 0x2ffffffff);
	/* Without CPU support for large EPT02 pages: 4K. */
	setup(16, false, false);
	CHECK_EQ(install(EPTP_A, 0x40012345, w12(0x80012345, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x1c0012345, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	w = t02(EPTP_A, 0x40012000);
	CHECK(w.present && w.page_size == EPT_PAGE_4K && w.hpa == 0x1c0012000);
	CHECK(!t02(EPTP_A, 0x40013000).present);
}

/*
 * A 2M install under a page table already there goes into that table; a 4K
 * install inside a 2M leaf splits it off (dropping the rest: an INVEPT).
 */
TEST(ept02_large_and_small_leaves_coexist)
{
	setup(16, true, false);
	CHECK_EQ(install(EPTP_A, 0x40005000, w12(0x80005000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x1c0005000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK_EQ(install(EPTP_A, 0x40007000, w12(0x80007000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x1c0007000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK(t02(EPTP_A, 0x40005000).present);
	CHECK_EQ(t02(EPTP_A, 0x40007000).page_size, EPT_PAGE_4K);
	CHECK(!ept02_take_invept(&c));

	CHECK_EQ(install(EPTP_A, 0x80000000, w12(0x80000000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(0x80000000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK_EQ(t02(EPTP_A, 0x80100000).page_size, EPT_PAGE_2M);
	CHECK_EQ(install(EPTP_A, 0x80100000, w12(0x80100000, EPT_PAGE_4K, EPT_R, EPT_MT_WB, EPT_R),
			 w01(0x80100000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK(ept02_take_invept(&c));
	CHECK_EQ(t02(EPTP_A, 0x80100000).leaf & EPT_PERM_MASK, EPT_R);
	CHECK(!t02(EPTP_A, 0x80000000).present);
	/* Narrowing a leaf in place needs an INVEPT too. */
	CHECK_EQ(install(EPTP_A, 0x40005000, w12(0x80005000, EPT_PAGE_4K, EPT_R, EPT_MT_WB, EPT_R),
			 w01(0x1c0005000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
	CHECK(ept02_take_invept(&c));
	CHECK(!ept02_take_invept(&c));
}

static uint64_t eptp_n(unsigned n)
{
	return (0x100000ull + n * 0x1000ull) | EPTP_PWL4 | EPTP_MT_WB;
}

TEST(ept02_root_cache_lru)
{
	uint64_t phys[EPT02_ROOTS + 1];

	setup(POOL_MAX, false, false);
	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		phys[i] = ept02_root_for(&c, eptp_n(i));
	CHECK_EQ(c.stats.in_use, EPT02_ROOTS);
	CHECK_EQ(ept02_root_for(&c, eptp_n(0)), phys[0]);   /* a hit: 0 is now the newest */
	phys[EPT02_ROOTS] = ept02_root_for(&c, eptp_n(EPT02_ROOTS));
	CHECK_EQ(c.stats.evictions, 1);
	CHECK(!root_of(eptp_n(1)));                           /* the least recently used */
	CHECK(root_of(eptp_n(0)) && root_of(eptp_n(2)));
	CHECK_EQ(phys[EPT02_ROOTS], phys[1]);                /* its page, reused */
	ept02_root_for(&c, eptp_n(1));
	CHECK_EQ(c.stats.evictions, 2);
	CHECK(!root_of(eptp_n(2)));
	CHECK_EQ(c.stats.in_use, EPT02_ROOTS);
	CHECK(ept02_take_invept(&c));
}

static void install_simple(uint64_t eptp12, uint64_t l2)
{
	CHECK_EQ(install(eptp12, l2, w12(l2, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB, EPT_R),
			 w01(l2, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB)), EPT02_INSTALLED);
}

/* Single-context drops every root with the EP4TA, A/D bit or not, and only those. */
TEST(ept02_invalidate_single_and_all_context)
{
	uint64_t a_ad = EPTP_A | EPTP_AD_ENABLE;

	setup(POOL_MAX, false, false);
	install_simple(EPTP_A, 0x5000);
	install_simple(a_ad, 0x5000);
	install_simple(EPTP_B, 0x5000);
	install_simple(EPTP_B, 0x8000000000ull);
	uint64_t phys_a = root_of(EPTP_A)->phys;

	CHECK_EQ(c.stats.in_use, 4 + 4 + 7);
	CHECK(!ept02_take_invept(&c));
	ept02_invalidate(&c, (EPTP_A & ~EPTP_MT_MASK) | EPT_MT_UC);
	CHECK(ept02_take_invept(&c));
	CHECK(!t02(EPTP_A, 0x5000).present);
	CHECK(!t02(a_ad, 0x5000).present);
	CHECK(t02(EPTP_B, 0x5000).present);
	CHECK(t02(EPTP_B, 0x8000000000ull).present);
	CHECK_EQ(root_of(EPTP_A)->phys, phys_a);   /* the root stays: EPTP02 stays valid */
	CHECK_EQ(root_of(EPTP_A)->tables, 1);
	CHECK_EQ(c.stats.in_use, 1 + 1 + 7);
	ept02_invalidate_all(&c);
	CHECK(ept02_take_invept(&c));
	CHECK(!t02(EPTP_B, 0x5000).present);
	CHECK_EQ(c.stats.in_use, 3);
	install_simple(EPTP_A, 0x5000);
	CHECK(t02(EPTP_A, 0x5000).present);
}

/* One root, a pool of four pages: the second path empties the root itself. */
TEST(ept02_self_flush_when_no_other_root)
{
	setup(EPT02_MIN_POOL, false, false);
	install_simple(EPTP_A, 0x5000);
	CHECK_EQ(c.stats.in_use, 4);
	install_simple(EPTP_A, 0x6000);            /* same path: no table needed */
	CHECK_EQ(c.stats.reclaims, 0);
	install_simple(EPTP_A, 0x8000000000ull);   /* another PML4E: three tables */
	CHECK_EQ(c.stats.reclaims, 1);
	CHECK_EQ(c.stats.self_flushes, 1);
	CHECK(t02(EPTP_A, 0x8000000000ull).present);
	CHECK(!t02(EPTP_A, 0x5000).present);
	CHECK(ept02_take_invept(&c));
	/* A second root takes the whole pool back from the first. */
	install_simple(EPTP_B, 0x5000);
	CHECK_EQ(c.stats.reclaims, 2);
	CHECK_EQ(c.stats.roots_reclaimed, 1);
	CHECK(!root_of(EPTP_A));
	CHECK(t02(EPTP_B, 0x5000).present);
	CHECK_EQ(c.stats.high_water, EPT02_MIN_POOL);
}

/* ------------------------------------------------------------------------ */
/*
 * Random maps. EPT01 maps L1-physical [0, L1_SPACE) in runs of random size,
 * permissions and type, with holes, to host addresses HOST_SHIFT higher;
 * each EPT12 maps random non-overlapping L2 regions onto L1-physical space
 * (sometimes beyond what EPT01 maps). Both are built by ept_map and known by
 * their region lists, which are the reference.
 */

#define L1_SPACE    (1ull << 30)
#define HOST_SHIFT  (1ull << 34)
#define L1T_BASE    0x7f000000ull    /* L1-physical pages holding the EPT12 tables */
#define L1T_PAGES   2048
#define NROOTS      5
#define MAX_REGIONS 512
#define MAX_WP      64

struct region {
	uint64_t base, size, target, perms;
	unsigned mt;
};

struct map {
	struct region r[MAX_REGIONS];
	unsigned n;
};

static uint64_t *l1t;
static unsigned l1t_used;
static struct map map01, map12[NROOTS];
static uint64_t eptp12[NROOTS];
static struct ept ept01, ept12[NROOTS];
static uint64_t wp[MAX_WP];       /* L1 pages L0 write-protected in EPT01 since it was built */
static unsigned nwp;

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned rnd_below(unsigned n)
{
	return rnd() % n;
}

static bool chance(unsigned percent)
{
	return rnd_below(100) < percent;
}

static uint64_t l1t_alloc(void *ctx)
{
	if (l1t_used == L1T_PAGES)
		return 0;
	memset(&l1t[(size_t)l1t_used * 512], 0, 4096);
	return L1T_BASE + 4096ull * l1t_used++;
}

static uint64_t *l1t_ptr(void *ctx, uint64_t phys)
{
	return &l1t[(phys - L1T_BASE) / 8];
}

static bool l1_read(void *ctx, uint64_t gpa, uint64_t *val)
{
	if (gpa < L1T_BASE || gpa >= L1T_BASE + 4096ull * l1t_used)
		return false;
	*val = *l1t_ptr(ctx, gpa);
	return true;
}

static bool l1_write(void *ctx, uint64_t gpa, uint64_t old, uint64_t new)
{
	*l1t_ptr(ctx, gpa) = new;
	return true;
}

static const struct region *lookup(const struct map *m, uint64_t a)
{
	for (unsigned i = 0; i < m->n; i++)
		if (a >= m->r[i].base && a - m->r[i].base < m->r[i].size)
			return &m->r[i];
	return NULL;
}

static bool write_protected(uint64_t l1)
{
	for (unsigned i = 0; i < nwp; i++)
		if (wp[i] == (l1 & ~0xfffull))
			return true;
	return false;
}

/* EPT01's permissions for an L1 page by the reference: the run's, less write if protected. */
static uint64_t ref_perms01(const struct region *r, uint64_t l1)
{
	return r->perms & ~(write_protected(l1) ? EPT_W : 0);
}

static uint64_t rnd_run_size(void)
{
	return chance(60) ? (1 + rnd_below(16)) * EPT_PAGE_4K : (1 + rnd_below(8)) * EPT_PAGE_2M;
}

static void build_ept01(void)
{
	static const struct ept_ops ops = { ept01_alloc, host_table, NULL };
	uint64_t at = 0;

	ept01_used = 0;
	map01.n = 0;
	nwp = 0;
	CHECK(ept_init(&ept01, &ops, true, true) == 0);
	while (at < L1_SPACE && map01.n < MAX_REGIONS) {
		uint64_t size = rnd_run_size();
		struct region r = { at, size, at + HOST_SHIFT, EPT_RWX, chance(80) ? EPT_MT_WB : EPT_MT_UC };

		if (size > L1_SPACE - at)
			size = r.size = L1_SPACE - at;
		if (chance(20))
			r.perms = chance(50) ? EPT_R | EPT_X : EPT_R;
		if (!chance(15)) {
			CHECK(ept_map(&ept01, r.base, r.target, r.size, r.perms, r.mt) == 0);
			map01.r[map01.n++] = r;
		}
		at += size;
	}
}

static bool overlaps(const struct map *m, uint64_t base, uint64_t size)
{
	for (unsigned i = 0; i < m->n; i++)
		if (base < m->r[i].base + m->r[i].size && m->r[i].base < base + size)
			return true;
	return false;
}

/* One random EPT12 region: small runs, 2M pages, now and then a 1G page. */
static void rnd_region12(struct ept *e, struct map *m)
{
	static const uint64_t perms[] = { EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_RWX };
	static const unsigned mts[] = { EPT_MT_UC, EPT_MT_WC, EPT_MT_WT, EPT_MT_WP, EPT_MT_WB };
	unsigned kind = rnd_below(100);
	uint64_t align = kind < 60 ? EPT_PAGE_4K : kind < 97 ? EPT_PAGE_2M : EPT_PAGE_1G;
	uint64_t size = align == EPT_PAGE_1G ? align : (1 + rnd_below(8)) * align;
	/* L2 addresses over 1 TiB, so roots need many tables. */
	uint64_t base = (rnd() & ((1ull << 40) - 1)) & ~(align - 1);
	uint64_t target = (rnd() % (L1_SPACE + L1_SPACE / 8)) & ~(align - 1);
	struct region r = { base, size, target, perms[rnd_below(4)], mts[rnd_below(5)] };

	if (m->n == MAX_REGIONS || overlaps(m, base, size))
		return;
	if (ept_map(e, r.base, r.target, r.size, r.perms, r.mt) == 0)
		m->r[m->n++] = r;
}

static void build_ept12s(void)
{
	static const struct ept_ops ops = { l1t_alloc, l1t_ptr, NULL };

	l1t_used = 0;
	for (unsigned i = 0; i < NROOTS; i++) {
		CHECK(ept_init(&ept12[i], &ops, true, true) == 0);
		map12[i].n = 0;
		for (unsigned k = 0; k < 60; k++)
			rnd_region12(&ept12[i], &map12[i]);
		eptp12[i] = ept_eptp(&ept12[i]) | (chance(50) ? EPTP_AD_ENABLE : 0);
	}
}

/* An L2 address of root i: mostly inside its regions, sometimes anywhere. */
static uint64_t rnd_l2(unsigned i)
{
	const struct region *r;

	if (!map12[i].n || chance(5))
		return rnd() & ((1ull << 40) - 1);
	r = &map12[i].r[rnd_below(map12[i].n)];
	return r->base + rnd() % r->size;
}

static unsigned rnd_access(void)
{
	static const unsigned kinds[] = { EPT12_ACC_READ, EPT12_ACC_WRITE, EPT12_ACC_FETCH,
					  EPT12_ACC_READ | EPT12_ACC_PAGING, EPT12_ACC_READ | EPT12_ACC_WRITE };

	return kinds[rnd_below(5)];
}

/*
 * Check one L2 address inside an EPT02 leaf against the references: EPT12
 * maps it, EPT01 maps the L1 page, the host address is theirs, the
 * permissions no more than both give (and no write before the EPT12 leaf is
 * dirty), the memory type by the rule.
 */
static bool leaf_ok(unsigned i, uint64_t l2, uint64_t hpa, uint64_t leaf)
{
	const struct region *r12 = lookup(&map12[i], l2), *r01;
	uint64_t perms = leaf & EPT_PERM_MASK, l1;

	if (!r12)
		return false;
	l1 = r12->target + (l2 - r12->base);
	r01 = lookup(&map01, l1);
	if (!r01 || hpa != r01->target + (l1 - r01->base))
		return false;
	if (!perms || (perms & ~(r12->perms & ref_perms01(r01, l1))))
		return false;
	if ((perms & EPT_W) && (eptp12[i] & EPTP_AD_ENABLE)) {
		struct ept_walk w;

		ept_translate(&ept12[i], l2, &w);
		if (!(w.leaf & EPT_DIRTY))
			return false;
	}
	return mt_of(leaf) == (r01->mt == EPT_MT_UC ? EPT_MT_UC : r12->mt);
}

struct audit {
	unsigned root, leaves, bad;
	uint32_t tables;
};

static void audit_table(struct audit *a, uint64_t table, unsigned level, uint64_t base)
{
	uint64_t *t = host_table(NULL, table);

	a->tables++;
	for (unsigned idx = 0; idx < EPT_ENTRIES; idx++) {
		uint64_t e = t[idx], l2 = base + idx * EPT_LEVEL_SIZE(level);
		uint64_t size = EPT_LEVEL_SIZE(level);

		if (!(e & EPT_PERM_MASK))
			continue;
		if (level > 1 && !(e & EPT_LARGE)) {
			a->bad += !pool_page(e & EPT_ADDR_MASK);
			audit_table(a, e & EPT_ADDR_MASK, level - 1, l2);
			continue;
		}
		uint64_t offs[] = { 0, size - EPT_PAGE_4K, (rnd() % size) & ~0xfffull };

		a->leaves++;
		for (unsigned k = 0; k < 3; k++) {
			uint64_t hpa = (e & EPT_ADDR_MASK & ~(size - 1)) + offs[k];

			if (!leaf_ok(a->root, l2 + offs[k], hpa, e) && a->bad++ < 3)
				printf("  root %u: L2 0x%llx -> 0x%llx (leaf 0x%llx) disagrees\n",
				       a->root, (unsigned long long)(l2 + offs[k]),
				       (unsigned long long)hpa, (unsigned long long)e);
		}
	}
}

/* Every leaf of every root, and the pool's bookkeeping. */
static unsigned audit_all(unsigned *leaves)
{
	unsigned bad = 0;
	uint32_t in_use = 0;

	for (unsigned s = 0; s < EPT02_ROOTS; s++) {
		const struct ept02_root *r = &c.roots[s];
		struct audit a = { 0 };

		if (!r->valid)
			continue;
		for (a.root = 0; a.root < NROOTS && eptp12[a.root] != r->eptp12; a.root++)
			;
		if (a.root == NROOTS) {
			/* An EPTP12 of maps since replaced: flushed then, empty since. */
			bad += r->tables != 1 || !pool_page(r->phys);
			in_use += r->tables;
			continue;
		}
		audit_table(&a, r->phys, EPT_LEVELS, 0);
		bad += a.bad + (a.tables != r->tables);
		in_use += a.tables;
		*leaves += a.leaves;
	}
	return bad + (in_use != c.stats.in_use) + (c.stats.high_water > c.npages);
}

/* What install must answer, by the references. */
static enum ept02_status expected(const struct ept12_walk *w)
{
	const struct region *r01 = lookup(&map01, w->l1_gpa);

	return r01 && !(w->need & ~ref_perms01(r01, w->l1_gpa)) ? EPT02_INSTALLED : EPT02_L1_FAULT;
}

/* L0 write-protects a random mapped L1 page in EPT01, then flushes EPT02. */
static void write_protect_one(void)
{
	const struct region *r = &map01.r[rnd_below(map01.n)];
	uint64_t page = (r->base + rnd() % r->size) & ~0xfffull;

	if (nwp == MAX_WP || !(r->perms & EPT_W) || write_protected(page))
		return;
	CHECK(ept_set_write(&ept01, page, false) == 0);
	wp[nwp++] = page;
	ept02_invalidate_all(&c);
}

#define EPOCHS      10
#define STEPS       2000
#define POOL_RANDOM 48
#define AUDIT_EVERY 50

struct run_counts {
	unsigned installs, faults, walk_faults, audits, leaves, bad, multi_reclaim, wrong;
};

static void one_step(struct run_counts *n)
{
	unsigned i = chance(70) ? rnd_below(2) : rnd_below(NROOTS);   /* two busy roots */
	uint64_t l2 = rnd_l2(i), reclaims = c.stats.reclaims;
	struct ept12_mmu m = { eptp12[i],
			       { .maxphyaddr = 46, .use_2m = true, .use_1g = true, .ad = true,
				 .mt_uc = true, .mt_wb = true },
			       { l1_read, l1_write, NULL } };
	struct ept12_walk w;
	struct ept_walk w1;
	enum ept02_status st;

	ept12_walk(&m, l2, rnd_access(), &w);
	if (w.status != EPT12_OK) {
		n->walk_faults++;
		return;
	}
	ept_translate(&ept01, w.l1_gpa, &w1);
	st = ept02_install(&c, eptp12[i], l2, &w, &w1);
	n->wrong += st != expected(&w);
	n->multi_reclaim += c.stats.reclaims - reclaims > 1;
	if (st == EPT02_L1_FAULT) {
		n->faults++;
		return;
	}
	n->installs++;
	/* What was just installed is there, and right. */
	struct ept_walk t = t02(eptp12[i], l2);

	n->bad += !t.present || !(t.leaf & w.need) || !leaf_ok(i, l2, t.hpa, t.leaf);
}

TEST(ept02_random_maps_small_pool_many_roots)
{
	struct run_counts n = { 0 };

	if (!l1t)
		l1t = aligned_alloc(4096, L1T_PAGES * 4096ull);
	rng_state = 0x2545f4914f6cdd1dull;
	setup(POOL_RANDOM, true, true);
	for (unsigned epoch = 0; epoch < EPOCHS; epoch++) {
		/* New maps: L0 and L1 both flush, as INVEPT requires. */
		build_ept01();
		build_ept12s();
		ept02_invalidate_all(&c);
		for (unsigned step = 0; step < STEPS; step++) {
			one_step(&n);
			if (chance(1))
				ept02_invalidate(&c, eptp12[rnd_below(NROOTS)]);
			if (chance(1))
				write_protect_one();
			if (step % AUDIT_EVERY == 0) {
				n.audits++;
				n.bad += audit_all(&n.leaves);
			}
		}
	}
	CHECK_EQ(n.wrong, 0);
	CHECK_EQ(n.bad, 0);
	CHECK_EQ(n.multi_reclaim, 0);
	CHECK(n.installs > EPOCHS * STEPS / 4);
	CHECK(n.faults > 100);
	CHECK(c.stats.reclaims > 100);
	CHECK(c.stats.roots_reclaimed > 100);
	CHECK_EQ(c.stats.high_water, POOL_RANDOM);
	CHECK(c.stats.in_use <= POOL_RANDOM);
	printf("  %u installs, %u L1 faults, %u EPT12 faults; %llu reclaims dropping %llu roots, "
	       "%llu self-flushes, %llu evictions; %u audits of %u leaves\n", n.installs, n.faults,
	       n.walk_faults, (unsigned long long)c.stats.reclaims,
	       (unsigned long long)c.stats.roots_reclaimed, (unsigned long long)c.stats.self_flushes,
	       (unsigned long long)c.stats.evictions, n.audits, n.leaves);
}
