/* SPDX-License-Identifier: MIT */
/*
 * ept/ept12.c: L1's EPT walked on fake L1 memory. Hand-written cases for each
 * misconfiguration and violation with its exit qualification, A/D flags and
 * large pages; then random tables against a reference model written apart
 * from the walker, from the SDM's tables.
 */
#include "unit.h"

#include "ept/ept12.h"

#include <stdlib.h>

/* Fake L1 RAM: L1_PAGES pages at L1-physical L1_BASE; anything else is not RAM. */
#define L1_BASE   0x100000ull
#define L1_PAGES  256
#define L1_END    (L1_BASE + L1_PAGES * 4096ull)
#define NOT_RAM   0x40000000ull   /* an L1-physical page outside the RAM */

static uint64_t *ram;          /* L1_PAGES * 512 entries */
static unsigned pages_used;
static unsigned reads, writes, cas_failures_left;

struct logged_write {
	uint64_t gpa, val;
};
#define LOG_MAX 16
static struct logged_write wlog[LOG_MAX];

static bool in_ram(uint64_t gpa)
{
	return gpa >= L1_BASE && gpa + 8 <= L1_END && !(gpa & 7);
}

static uint64_t *slot_at(uint64_t gpa)
{
	return &ram[(gpa - L1_BASE) / 8];
}

static bool fake_read(void *ctx, uint64_t gpa, uint64_t *val)
{
	if (!in_ram(gpa))
		return false;
	reads++;
	*val = *slot_at(gpa);
	return true;
}

/* Compare-and-set; cas_failures_left simulates another vCPU changing the entry first. */
static bool fake_write(void *ctx, uint64_t gpa, uint64_t old, uint64_t new)
{
	if (!in_ram(gpa) || *slot_at(gpa) != old)
		return false;
	if (cas_failures_left) {
		cas_failures_left--;
		return false;
	}
	if (writes < LOG_MAX)
		wlog[writes] = (struct logged_write){ gpa, new };
	writes++;
	*slot_at(gpa) = new;
	return true;
}

static void reset_ram(void)
{
	if (!ram)
		ram = aligned_alloc(4096, L1_PAGES * 4096ull);
	memset(ram, 0, L1_PAGES * 4096ull);
	pages_used = 0;
	reads = writes = cas_failures_left = 0;
}

static uint64_t new_table(void)
{
	return L1_BASE + 4096ull * pages_used++;
}

static uint64_t *entry(uint64_t table, unsigned index)
{
	return slot_at(table + index * 8ull);
}

static struct ept12_caps default_caps(void)
{
	return (struct ept12_caps){ .maxphyaddr = 40, .use_2m = true, .use_1g = true,
				    .ad = true, .mt_uc = true, .mt_wb = true };
}

/* ------------------------------------------------------------------------ */
/* Hand-written cases: one chain of four tables for GPA. */

#define IDX4 3
#define IDX3 5
#define IDX2 7
#define IDX1 9
#define OFFSET 0xabcull
#define GPA ((uint64_t)IDX4 << 39 | (uint64_t)IDX3 << 30 | (uint64_t)IDX2 << 21 | \
	     (uint64_t)IDX1 << 12 | OFFSET)
#define TARGET 0x12345000ull        /* L1-physical page GPA maps to */
#define PAGE_2M 0x3fe00000ull       /* a 2-MiB-aligned L1-physical page */
#define PAGE_1G 0x80000000ull       /* a 1-GiB-aligned one */

static struct {
	uint64_t table[EPT_LEVELS + 1];  /* [level]: the table holding that level's entry */
	struct ept12_mmu mmu;
} ch;

static const unsigned chain_index[EPT_LEVELS + 1] = { 0, IDX1, IDX2, IDX3, IDX4 };

/* The entry of the chain at this level. */
static uint64_t *at(unsigned level)
{
	return entry(ch.table[level], chain_index[level]);
}

static uint64_t at_gpa(unsigned level)
{
	return ch.table[level] + chain_index[level] * 8ull;
}

static void chain_setup(bool ad)
{
	reset_ram();
	for (unsigned level = EPT_LEVELS; level >= 1; level--)
		ch.table[level] = new_table();
	for (unsigned level = EPT_LEVELS; level > 1; level--)
		*at(level) = ch.table[level - 1] | EPT_RWX;
	*at(1) = TARGET | EPT_RWX | (uint64_t)EPT_MT_WB << EPT_MT_SHIFT;
	ch.mmu = (struct ept12_mmu){
		.eptp = ch.table[EPT_LEVELS] | EPTP_PWL4 | EPTP_MT_WB | (ad ? EPTP_AD_ENABLE : 0),
		.caps = default_caps(),
		.ops = { fake_read, fake_write, NULL },
	};
}

static struct ept12_walk walk(unsigned access)
{
	struct ept12_walk w;

	reads = writes = 0;
	ept12_walk(&ch.mmu, GPA, access, &w);
	return w;
}

/* A large leaf at level 2 or 3 mapping page (2M or 1G aligned). */
static void chain_large(unsigned level, uint64_t page, unsigned mt)
{
	*at(level) = page | EPT_RWX | EPT_LARGE | (uint64_t)mt << EPT_MT_SHIFT;
}

static const unsigned accesses[] = { EPT12_ACC_READ, EPT12_ACC_WRITE, EPT12_ACC_FETCH };

TEST(ept12_translates_4k_through_four_levels)
{
	chain_setup(false);
	struct ept12_walk w = walk(EPT12_ACC_READ);

	CHECK_EQ(w.status, EPT12_OK);
	CHECK_EQ(w.l1_gpa, TARGET | OFFSET);
	CHECK_EQ(w.page_size, EPT_PAGE_4K);
	CHECK_EQ(w.perms, EPT_RWX);
	CHECK_EQ(w.memtype, EPT_MT_WB);
	CHECK(!w.ignore_pat);
	CHECK_EQ(w.leaf, *at(1));
	CHECK_EQ(w.level, 1);
	CHECK_EQ(w.entry_gpa, at_gpa(1));
	CHECK_EQ(reads, 4);
	CHECK_EQ(writes, 0);

	*at(1) = TARGET | EPT_R | EPT_IGNORE_PAT | (uint64_t)EPT_MT_WT << EPT_MT_SHIFT;
	w = walk(EPT12_ACC_READ);
	CHECK_EQ(w.status, EPT12_OK);
	CHECK(w.ignore_pat);
	CHECK_EQ(w.memtype, EPT_MT_WT);
	/* Bits 63:52 and 11:8 are ignored at every level, bit 7 in a PTE too. */
	for (unsigned level = 1; level <= EPT_LEVELS; level++)
		*at(level) |= 0xfff0000000000e00ull;
	*at(1) |= EPT_LARGE;
	w = walk(EPT12_ACC_READ);
	CHECK_EQ(w.status, EPT12_OK);
	CHECK_EQ(w.l1_gpa, TARGET | OFFSET);
}

/* Bits 5:3 of the qualification: the AND over all levels; the access in bits 2:0. */
TEST(ept12_permissions_are_the_and_of_all_levels)
{
	static const uint64_t sets[] = { EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_RWX, EPT_X };

	for (unsigned level = 1; level <= EPT_LEVELS; level++) {
		for (unsigned s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
			chain_setup(false);
			ch.mmu.caps.exec_only = true;
			*at(level) = (*at(level) & ~EPT_PERM_MASK) | sets[s];
			for (unsigned a = 0; a < 3; a++) {
				struct ept12_walk w = walk(accesses[a]);

				CHECK_EQ(w.perms, sets[s]);
				if (accesses[a] & ~sets[s]) {
					CHECK_EQ(w.status, EPT12_VIOLATION);
					CHECK_EQ(w.level, 1);
					CHECK_EQ(ept12_violation_qual(&w, false),
						 accesses[a] | sets[s] << 3);
				} else {
					CHECK_EQ(w.status, EPT12_OK);
				}
			}
		}
	}
}

/* A not-present entry ends the walk: bits 5:3 are 0, the tables below are not read. */
TEST(ept12_not_present_at_each_level)
{
	for (unsigned level = 1; level <= EPT_LEVELS; level++) {
		chain_setup(false);
		*at(level) = 0xfff0000000000ff8ull;   /* bits 2:0 clear, the rest ignored */
		for (unsigned a = 0; a < 3; a++) {
			struct ept12_walk w = walk(accesses[a]);

			CHECK_EQ(w.status, EPT12_VIOLATION);
			CHECK_EQ(w.level, level);
			CHECK_EQ(w.entry_gpa, at_gpa(level));
			CHECK_EQ(w.perms, 0);
			CHECK_EQ(reads, EPT_LEVELS + 1 - level);
			CHECK_EQ(ept12_violation_qual(&w, false), accesses[a]);
			CHECK_EQ(ept12_violation_qual(&w, true),
				 accesses[a] | EPT12_QUAL_GLA_VALID | EPT12_QUAL_GLA_FINAL);
		}
	}
}

static void expect_misconfig(unsigned level, enum ept12_misconfig why)
{
	struct ept12_walk w = walk(EPT12_ACC_READ);

	if (!unit_check(w.status == EPT12_MISCONFIG && w.why == why && w.level == level,
			"misconfiguration", __FILE__, __LINE__))
		unit_fail_detail("  level %u entry 0x%llx: status %d why %d (%s) level %u\n", level,
				 (unsigned long long)*at(level), w.status, w.why,
				 ept12_misconfig_name(w.why), w.level);
}

static void expect_ok(unsigned level)
{
	struct ept12_walk w = walk(EPT12_ACC_READ);

	if (!unit_check(w.status == EPT12_OK, "translation", __FILE__, __LINE__))
		unit_fail_detail("  level %u entry 0x%llx: status %d why %s\n", level,
				 (unsigned long long)*at(level), w.status,
				 ept12_misconfig_name(w.why));
}

TEST(ept12_misconfig_write_without_read)
{
	for (unsigned level = 1; level <= EPT_LEVELS; level++) {
		for (unsigned exec_only = 0; exec_only < 2; exec_only++) {
			chain_setup(false);
			ch.mmu.caps.exec_only = exec_only;
			*at(level) = (*at(level) & ~EPT_PERM_MASK) | EPT_W;            /* 010b */
			expect_misconfig(level, EPT12_MC_WRITE_NO_READ);
			*at(level) = (*at(level) & ~EPT_PERM_MASK) | EPT_W | EPT_X;    /* 110b */
			expect_misconfig(level, EPT12_MC_WRITE_NO_READ);
		}
	}
}

TEST(ept12_execute_only_needs_the_capability)
{
	for (unsigned level = 1; level <= EPT_LEVELS; level++) {
		chain_setup(false);
		*at(level) = (*at(level) & ~EPT_PERM_MASK) | EPT_X;                    /* 100b */
		expect_misconfig(level, EPT12_MC_EXEC_ONLY);
		ch.mmu.caps.exec_only = true;
		struct ept12_walk w = walk(EPT12_ACC_FETCH);

		CHECK_EQ(w.status, EPT12_OK);
		w = walk(EPT12_ACC_READ);
		CHECK_EQ(w.status, EPT12_VIOLATION);
		CHECK_EQ(ept12_violation_qual(&w, false), 0x21);   /* read; executable only */
		w = walk(EPT12_ACC_WRITE);
		CHECK_EQ(ept12_violation_qual(&w, false), 0x22);
	}
}

/* Bits 7:3 of the PML4E and of PDPTEs and PDEs that reference tables are reserved. */
TEST(ept12_misconfig_reserved_bits_7_3_in_non_leaf_entries)
{
	for (unsigned level = 2; level <= EPT_LEVELS; level++) {
		for (unsigned bit = 3; bit <= 7; bit++) {
			chain_setup(false);
			if (bit == 7 && level < EPT_LEVELS)
				continue;   /* bit 7 there makes a large page: below */
			*at(level) |= 1ull << bit;
			expect_misconfig(level, EPT12_MC_RESERVED);
		}
	}
}

/* Bit 7 is reserved in a PDPTE without 1-GiB pages and in a PDE without 2-MiB pages. */
TEST(ept12_misconfig_large_page_not_offered)
{
	chain_setup(false);
	ch.mmu.caps.use_1g = false;
	chain_large(3, PAGE_1G, EPT_MT_WB);
	expect_misconfig(3, EPT12_MC_RESERVED);
	ch.mmu.caps.use_1g = true;
	expect_ok(3);

	chain_setup(false);
	ch.mmu.caps.use_2m = false;
	chain_large(2, PAGE_2M, EPT_MT_WB);
	expect_misconfig(2, EPT12_MC_RESERVED);
	ch.mmu.caps.use_2m = true;
	expect_ok(2);
}

/* Bits 51:N at every level, N = MAXPHYADDR; no such bits when N = 52. */
TEST(ept12_misconfig_address_beyond_maxphyaddr)
{
	static const unsigned widths[] = { 36, 39, 46, 52 };

	for (unsigned i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		for (unsigned level = 1; level <= EPT_LEVELS; level++) {
			for (unsigned bit = 36; bit <= 51; bit++) {
				chain_setup(false);
				ch.mmu.caps.maxphyaddr = widths[i];
				*at(level) |= 1ull << bit;
				if (bit >= widths[i]) {
					expect_misconfig(level, EPT12_MC_RESERVED);
				} else if (level == 1) {
					/* A PTE address bit: translates elsewhere. */
					expect_ok(level);
				}
			}
		}
	}
}

/* The address bits below a large page's size are reserved: 29:12 (1G), 20:12 (2M). */
TEST(ept12_misconfig_large_page_address_bits)
{
	for (unsigned bit = 12; bit <= 29; bit++) {
		chain_setup(false);
		chain_large(3, PAGE_1G | 1ull << bit, EPT_MT_WB);
		expect_misconfig(3, EPT12_MC_RESERVED);
	}
	for (unsigned bit = 12; bit <= 20; bit++) {
		chain_setup(false);
		chain_large(2, PAGE_2M | 1ull << bit, EPT_MT_WB);
		expect_misconfig(2, EPT12_MC_RESERVED);
	}
	chain_setup(false);
	chain_large(2, PAGE_2M | 1ull << 21, EPT_MT_WB);
	expect_ok(2);
}

/* Memory types 2, 3 and 7 in the last entry, whichever level it is at. */
TEST(ept12_misconfig_reserved_memory_type)
{
	for (unsigned level = 1; level <= 3; level++) {
		for (unsigned mt = 0; mt < 8; mt++) {
			chain_setup(false);
			if (level == 1)
				*at(1) = TARGET | EPT_RWX | (uint64_t)mt << EPT_MT_SHIFT;
			else
				chain_large(level, level == 3 ? PAGE_1G : PAGE_2M, mt);
			if (mt == 2 || mt == 3 || mt == 7) {
				expect_misconfig(level, EPT12_MC_MEMTYPE);
			} else {
				struct ept12_walk w = walk(EPT12_ACC_READ);

				CHECK_EQ(w.status, EPT12_OK);
				CHECK_EQ(w.memtype, mt);
			}
		}
	}
}

/* A misconfiguration anywhere on the path beats a permission violation (29.3.3.2). */
TEST(ept12_misconfig_takes_priority_over_permissions)
{
	chain_setup(false);
	*at(4) = (*at(4) & ~EPT_PERM_MASK) | EPT_R;
	*at(1) = TARGET | EPT_RWX | 7ull << EPT_MT_SHIFT;
	struct ept12_walk w = walk(EPT12_ACC_WRITE);

	CHECK_EQ(w.status, EPT12_MISCONFIG);
	CHECK_EQ(w.why, EPT12_MC_MEMTYPE);
	/* But a not-present entry above the bad one ends the walk first. */
	*at(2) = 0;
	w = walk(EPT12_ACC_WRITE);
	CHECK_EQ(w.status, EPT12_VIOLATION);
	CHECK_EQ(w.level, 2);
	CHECK_EQ(ept12_violation_qual(&w, false), EPT12_ACC_WRITE);
}

TEST(ept12_large_pages_offset_arithmetic)
{
	static const uint64_t offs2m[] = { 0, 0x1000, 0xabc, 0x1fffff, 0x123456 };
	static const uint64_t offs1g[] = { 0, 0x3fffffff, 0x12345678, 0x200000 };

	for (unsigned i = 0; i < sizeof(offs2m) / sizeof(offs2m[0]); i++) {
		struct ept12_walk w;
		uint64_t gpa = (GPA & ~(EPT_PAGE_2M - 1)) | offs2m[i];

		chain_setup(false);
		chain_large(2, PAGE_2M, EPT_MT_UC);
		ept12_walk(&ch.mmu, gpa, EPT12_ACC_FETCH, &w);
		CHECK_EQ(w.status, EPT12_OK);
		CHECK_EQ(w.l1_gpa, PAGE_2M | offs2m[i]);
		CHECK_EQ(w.page_size, EPT_PAGE_2M);
		CHECK_EQ(w.level, 2);
		CHECK_EQ(w.memtype, EPT_MT_UC);
	}
	for (unsigned i = 0; i < sizeof(offs1g) / sizeof(offs1g[0]); i++) {
		struct ept12_walk w;
		uint64_t gpa = (GPA & ~(EPT_PAGE_1G - 1)) | offs1g[i];

		chain_setup(false);
		chain_large(3, PAGE_1G, EPT_MT_WB);
		ept12_walk(&ch.mmu, gpa, EPT12_ACC_WRITE, &w);
		CHECK_EQ(w.status, EPT12_OK);
		CHECK_EQ(w.l1_gpa, PAGE_1G | offs1g[i]);
		CHECK_EQ(w.page_size, EPT_PAGE_1G);
		CHECK_EQ(w.level, 3);
	}
}

TEST(ept12_no_flag_written_without_ad)
{
	chain_setup(false);
	for (unsigned a = 0; a < 3; a++) {
		struct ept12_walk w = walk(accesses[a] | EPT12_ACC_PAGING);

		CHECK_EQ(w.status, EPT12_OK);
		CHECK_EQ(writes, 0);
	}
	for (unsigned level = 1; level <= EPT_LEVELS; level++)
		CHECK(!(*at(level) & (EPT_ACCESSED | EPT_DIRTY)));
}

/* 29.3.5: accessed in every entry used, dirty in the leaf for a write only. */
TEST(ept12_ad_flags_read_then_write)
{
	chain_setup(true);
	struct ept12_walk w = walk(EPT12_ACC_READ);

	CHECK_EQ(w.status, EPT12_OK);
	CHECK_EQ(writes, 4);
	for (unsigned level = 1; level <= EPT_LEVELS; level++) {
		CHECK(*at(level) & EPT_ACCESSED);
		CHECK(!(*at(level) & EPT_DIRTY));
	}
	CHECK_EQ(w.leaf, *at(1));
	/* Top-down, one write per entry. */
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(wlog[i].gpa, at_gpa(EPT_LEVELS - i));
	w = walk(EPT12_ACC_FETCH);
	CHECK_EQ(writes, 0);
	w = walk(EPT12_ACC_WRITE);
	CHECK_EQ(writes, 1);
	CHECK(*at(1) & EPT_DIRTY);
	CHECK(w.leaf & EPT_DIRTY);
	for (unsigned level = 2; level <= EPT_LEVELS; level++)
		CHECK(!(*at(level) & EPT_DIRTY));   /* bit 9 is ignored above the leaf */
}

/* With A/D on, paging-structure accesses are writes: need W, set D, report R and W. */
TEST(ept12_ad_paging_structure_access_is_a_write)
{
	chain_setup(true);
	struct ept12_walk w = walk(EPT12_ACC_READ | EPT12_ACC_PAGING);

	CHECK_EQ(w.status, EPT12_OK);
	CHECK_EQ(w.need, EPT_R | EPT_W);
	CHECK(*at(1) & EPT_DIRTY);

	chain_setup(true);
	*at(1) &= ~EPT_W;
	w = walk(EPT12_ACC_READ | EPT12_ACC_PAGING);
	CHECK_EQ(w.status, EPT12_VIOLATION);
	CHECK_EQ(ept12_violation_qual(&w, false), 0x3 | (EPT_R | EPT_X) << 3);
	/* A paging-structure access: bit 7 without bit 8. */
	CHECK_EQ(ept12_violation_qual(&w, true), 0x3 | (EPT_R | EPT_X) << 3 | EPT12_QUAL_GLA_VALID);
	CHECK_EQ(writes, 0);   /* faulting walks set no flag */
	/* Without A/D the same access is a read and goes through. */
	ch.mmu.eptp &= ~EPTP_AD_ENABLE;
	w = walk(EPT12_ACC_READ | EPT12_ACC_PAGING);
	CHECK_EQ(w.status, EPT12_OK);
	CHECK_EQ(w.need, EPT_R);
}

TEST(ept12_ad_flags_on_large_leaf)
{
	chain_setup(true);
	chain_large(2, PAGE_2M, EPT_MT_WB);
	struct ept12_walk w = walk(EPT12_ACC_WRITE);

	CHECK_EQ(w.status, EPT12_OK);
	CHECK_EQ(writes, 3);
	CHECK_EQ(*at(2) & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED | EPT_DIRTY);
	CHECK(!(*at(1) & EPT_ACCESSED));   /* no longer on the path */
}

TEST(ept12_ad_no_flag_on_fault)
{
	chain_setup(true);
	*at(1) = 0;
	CHECK_EQ(walk(EPT12_ACC_READ).status, EPT12_VIOLATION);
	*at(1) = TARGET | EPT_W;
	CHECK_EQ(walk(EPT12_ACC_READ).status, EPT12_MISCONFIG);
	*at(1) = TARGET | EPT_R;
	CHECK_EQ(walk(EPT12_ACC_WRITE).status, EPT12_VIOLATION);
	for (unsigned level = 1; level <= EPT_LEVELS; level++)
		CHECK(!(*at(level) & EPT_ACCESSED));
}

/* An entry changed under the walk: it starts over, and gives up after a few tries. */
TEST(ept12_ad_update_races)
{
	chain_setup(true);
	cas_failures_left = 1;
	struct ept12_walk w;

	ept12_walk(&ch.mmu, GPA, EPT12_ACC_WRITE, &w);
	CHECK_EQ(w.status, EPT12_OK);
	CHECK(*at(1) & EPT_DIRTY);

	chain_setup(true);
	cas_failures_left = 1000;
	ept12_walk(&ch.mmu, GPA, EPT12_ACC_WRITE, &w);
	CHECK_EQ(w.status, EPT12_AD_RACE);
}

TEST(ept12_table_outside_l1_ram)
{
	chain_setup(false);
	ch.mmu.eptp = NOT_RAM | EPTP_PWL4 | EPTP_MT_WB;
	struct ept12_walk w = walk(EPT12_ACC_READ);

	CHECK_EQ(w.status, EPT12_TABLE_UNREADABLE);
	CHECK_EQ(w.level, 4);
	CHECK_EQ(w.entry_gpa, NOT_RAM + IDX4 * 8);

	chain_setup(false);
	*at(2) = NOT_RAM | EPT_RWX;
	w = walk(EPT12_ACC_READ);
	CHECK_EQ(w.status, EPT12_TABLE_UNREADABLE);
	CHECK_EQ(w.level, 1);
	CHECK_EQ(w.entry_gpa, NOT_RAM + IDX1 * 8);
}

TEST(ept12_qualification_bits)
{
	chain_setup(false);
	*at(3) &= ~EPT_W;
	struct ept12_walk w = walk(EPT12_ACC_WRITE | EPT12_ACC_READ);   /* read-modify-write */

	CHECK_EQ(w.status, EPT12_VIOLATION);
	CHECK_EQ(ept12_violation_qual(&w, false), 0x3 | (EPT_R | EPT_X) << 3);
	CHECK_EQ(ept12_violation_qual(&w, true), 0x3 | (EPT_R | EPT_X) << 3 | 0x180);
	w = walk(EPT12_ACC_WRITE | EPT12_ACC_PAGING);   /* an A-bit update, A/D off */
	CHECK_EQ(ept12_violation_qual(&w, true), 0x2 | (EPT_R | EPT_X) << 3 | 0x80);
}

TEST(ept12_eptp_checks)
{
	struct ept12_caps c = default_caps();
	uint64_t ok = 0x5000 | EPTP_PWL4 | EPTP_MT_WB;

	CHECK(ept12_eptp_valid(ok, &c));
	CHECK(ept12_eptp_valid(0x5000 | EPTP_PWL4 | EPT_MT_UC, &c));
	CHECK(ept12_eptp_valid(ok | EPTP_AD_ENABLE, &c));
	c.mt_uc = false;
	CHECK_CONTAINS(ept12_eptp_check(0x5000 | EPTP_PWL4 | EPT_MT_UC, &c), "memory type");
	c = default_caps();
	c.mt_wb = false;
	CHECK_CONTAINS(ept12_eptp_check(ok, &c), "memory type");
	c = default_caps();
	for (unsigned mt = 0; mt < 8; mt++)
		CHECK_EQ(ept12_eptp_valid((ok & ~EPTP_MT_MASK) | mt, &c),
			 mt == EPT_MT_UC || mt == EPT_MT_WB);
	for (unsigned pwl = 0; pwl < 8; pwl++)
		if (pwl != 3)
			CHECK_CONTAINS(ept12_eptp_check((ok & ~EPTP_PWL_MASK) | pwl << 3, &c),
				       "page-walk length");
	c.ad = false;
	CHECK_CONTAINS(ept12_eptp_check(ok | EPTP_AD_ENABLE, &c), "accessed and dirty");
	for (unsigned bit = 7; bit <= 11; bit++)
		CHECK_CONTAINS(ept12_eptp_check(ok | 1ull << bit, &c), "reserved bits 11:7");
	for (unsigned bit = 40; bit <= 63; bit++)
		CHECK_CONTAINS(ept12_eptp_check(ok | 1ull << bit, &c), "physical-address width");
	CHECK(ept12_eptp_valid(ok | 1ull << 39, &c));
}

/* ------------------------------------------------------------------------ */
/*
 * The reference model: the SDM's rules restated as data and predicates, a
 * recursive walk, and its own list of the A/D writes hardware would make.
 */

enum ref_format { F_PML4E, F_PDPTE_1G, F_PDPTE_PD, F_PDE_2M, F_PDE_PT, F_PTE };

struct ref_range {
	unsigned hi, lo;
};

/* Reserved ranges by entry format (Tables 29-1..29-6), besides bits 51:MAXPHYADDR. */
static const struct ref_range ref_reserved_ranges[][2] = {
	[F_PML4E]    = { { 7, 3 }, { 0, 1 } },
	[F_PDPTE_1G] = { { 29, 12 }, { 0, 1 } },
	[F_PDPTE_PD] = { { 7, 3 }, { 0, 1 } },
	[F_PDE_2M]   = { { 20, 12 }, { 0, 1 } },
	[F_PDE_PT]   = { { 7, 3 }, { 0, 1 } },
	[F_PTE]      = { { 0, 1 }, { 0, 1 } },   /* {0, 1}: an empty range */
};

static const uint64_t ref_page_size[] = {
	[F_PDPTE_1G] = 1ull << 30, [F_PDE_2M] = 1ull << 21, [F_PTE] = 1ull << 12,
};

struct ref_env {
	struct ept12_caps caps;
	bool ad;
	uint64_t root;
};

/* Which table in 29.3.2 describes this entry: bit 7 chooses, when it may. */
static enum ref_format ref_format(uint64_t e, unsigned level, const struct ref_env *env)
{
	bool bit7 = (e >> 7) & 1;

	switch (level) {
	case 4:
		return F_PML4E;
	case 3:
		return bit7 && env->caps.use_1g ? F_PDPTE_1G : F_PDPTE_PD;
	case 2:
		return bit7 && env->caps.use_2m ? F_PDE_2M : F_PDE_PT;
	default:
		return F_PTE;
	}
}

static bool ref_is_leaf(enum ref_format f)
{
	return f == F_PDPTE_1G || f == F_PDE_2M || f == F_PTE;
}

static bool ref_reserved_set(uint64_t e, enum ref_format f, const struct ref_env *env)
{
	for (unsigned b = env->caps.maxphyaddr; b <= 51; b++)
		if ((e >> b) & 1)
			return true;
	for (unsigned r = 0; r < 2; r++)
		for (unsigned b = ref_reserved_ranges[f][r].lo; b <= ref_reserved_ranges[f][r].hi; b++)
			if ((e >> b) & 1)
				return true;
	return false;
}

struct ref_result {
	enum ept12_status status;
	enum ept12_misconfig why;
	unsigned level;
	uint64_t entry_gpa, and_rwx, l1_gpa, size, leaf, qual;
	unsigned memtype;
	bool ipat;
	unsigned nused;
	uint64_t used[EPT_LEVELS];
	unsigned nwrites;
	struct logged_write writes[EPT_LEVELS];
};

struct ref_access {
	bool read, write, fetch, paging, gla;
};

static bool ref_needs(const struct ref_access *a, const struct ref_env *env, unsigned bit)
{
	bool as_write = a->paging && env->ad;

	return bit == 0 ? a->read || as_write : bit == 1 ? a->write || as_write : a->fetch;
}

/* Table 28-7 from scratch. */
static uint64_t ref_qual(const struct ref_access *a, const struct ref_env *env, uint64_t and_rwx)
{
	uint64_t q = 0;

	for (unsigned bit = 0; bit < 3; bit++)
		if (ref_needs(a, env, bit))
			q |= 1ull << bit;
	q |= and_rwx << 3;
	if (a->gla)
		q |= 1ull << 7 | (a->paging ? 0 : 1ull << 8);
	return q;
}

static bool ref_misconfigured(uint64_t e, unsigned level, const struct ref_env *env,
			      enum ept12_misconfig *why)
{
	unsigned rwx = e & 7, mt = (e >> 3) & 7;
	enum ref_format f = ref_format(e, level, env);

	if (rwx == 2 || rwx == 6)
		*why = EPT12_MC_WRITE_NO_READ;
	else if (rwx == 4 && !env->caps.exec_only)
		*why = EPT12_MC_EXEC_ONLY;
	else if (ref_reserved_set(e, f, env))
		*why = EPT12_MC_RESERVED;
	else if (ref_is_leaf(f) && (mt == 2 || mt == 3 || mt == 7))
		*why = EPT12_MC_MEMTYPE;
	else
		return false;
	return true;
}

static void ref_leaf(uint64_t gpa, uint64_t e, enum ref_format f, const struct ref_access *a,
		     const struct ref_env *env, struct ref_result *r)
{
	uint64_t size = ref_page_size[f];
	bool allowed = true;

	for (unsigned bit = 0; bit < 3; bit++)
		if (ref_needs(a, env, bit) && !((r->and_rwx >> bit) & 1))
			allowed = false;
	r->size = size;
	r->l1_gpa = (e & ((1ull << 52) - 1) & ~(size - 1)) + gpa % size;
	r->memtype = (e >> 3) & 7;
	r->ipat = (e >> 6) & 1;
	r->leaf = e;
	r->status = allowed ? EPT12_OK : EPT12_VIOLATION;
	r->qual = ref_qual(a, env, r->and_rwx);
}

static void ref_walk_table(uint64_t table, unsigned level, uint64_t gpa, const struct ref_access *a,
			   const struct ref_env *env, struct ref_result *r)
{
	uint64_t egpa = table + ((gpa >> (12 + 9 * (level - 1))) % 512) * 8, e;

	r->level = level;
	r->entry_gpa = egpa;
	if (!in_ram(egpa)) {
		r->status = EPT12_TABLE_UNREADABLE;
		return;
	}
	e = *slot_at(egpa);
	r->and_rwx &= e & 7;
	if ((e & 7) == 0) {
		r->status = EPT12_VIOLATION;
		r->qual = ref_qual(a, env, r->and_rwx);
		return;
	}
	if (ref_misconfigured(e, level, env, &r->why)) {
		r->status = EPT12_MISCONFIG;
		return;
	}
	r->used[r->nused++] = egpa;
	if (ref_is_leaf(ref_format(e, level, env)))
		ref_leaf(gpa, e, ref_format(e, level, env), a, env, r);
	else
		ref_walk_table(e & ((1ull << 52) - 1) & ~0xfffull, level - 1, gpa, a, env, r);
}

/* The A/D writes (29.3.5) of a translation that succeeded, top-down, skipping no-ops. */
static void ref_ad(const struct ref_access *a, const struct ref_env *env, struct ref_result *r)
{
	for (unsigned i = 0; i < r->nused && env->ad && r->status == EPT12_OK; i++) {
		uint64_t old = *slot_at(r->used[i]), want = old | 1ull << 8;

		if (i == r->nused - 1 && ref_needs(a, env, 1))
			want |= 1ull << 9;
		if (want != old)
			r->writes[r->nwrites++] = (struct logged_write){ r->used[i], want };
		if (i == r->nused - 1)
			r->leaf = want;
	}
}

static void ref_walk(const struct ref_env *env, uint64_t gpa, const struct ref_access *a,
		     struct ref_result *r)
{
	*r = (struct ref_result){ .and_rwx = 7 };
	ref_walk_table(env->root, 4, gpa, a, env, r);
	ref_ad(a, env, r);
}

/* ------------------------------------------------------------------------ */
/* Random EPT12s: a few populated indices per table, tables drawn per level. */

#define RND_INDICES 4    /* indices 0..3 populated; 4 never is */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

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

/* Tables per level come from their own pages, so no entry serves two levels. */
#define PAGES_PER_LEVEL 48
static unsigned level_pages[EPT_LEVELS + 1];

static uint64_t level_table(unsigned level, bool *fresh)
{
	unsigned base = (level - 1) * PAGES_PER_LEVEL;

	*fresh = level_pages[level] < PAGES_PER_LEVEL && chance(85);
	if (*fresh)
		return L1_BASE + 4096ull * (base + level_pages[level]++);
	if (!level_pages[level])
		return NOT_RAM;
	return L1_BASE + 4096ull * (base + rnd_below(level_pages[level]));
}

/* Mostly valid combinations, and mostly everything in entries that reference tables. */
static uint64_t rnd_perms(bool leaf)
{
	static const uint64_t valid[] = { EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_RWX };

	if (!leaf && chance(70))
		return EPT_RWX;
	return chance(85) ? valid[rnd_below(4)] : rnd_below(8);
}

/* Mostly the five defined memory types, now and then any (2, 3, 7 are reserved). */
static uint64_t rnd_memtype(void)
{
	static const unsigned defined[] = { EPT_MT_UC, EPT_MT_WC, EPT_MT_WT, EPT_MT_WP, EPT_MT_WB };

	return chance(85) ? defined[rnd_below(5)] : rnd_below(8);
}

/* Bits that may be set without meaning anything, or a reserved one now and then. */
static uint64_t rnd_noise(const struct ept12_caps *c)
{
	uint64_t n = 0;

	if (chance(30))
		n |= rnd() & 0xfff0000000000f00ull;
	if (chance(2) && c->maxphyaddr < 52)
		n |= 1ull << (c->maxphyaddr + rnd_below(52 - c->maxphyaddr));
	if (chance(2))
		n |= 1ull << (3 + rnd_below(5));
	return n;
}

static void rnd_fill(uint64_t table, unsigned level, const struct ept12_caps *c);

static uint64_t rnd_entry(unsigned level, const struct ept12_caps *c)
{
	bool large = (level == 2 || level == 3) && chance(30);
	uint64_t perms = chance(5) ? 0 : rnd_perms(level == 1 || large);
	uint64_t e = perms | rnd_noise(c);

	if (level == 1 || large) {
		uint64_t size = EPT_LEVEL_SIZE(level);
		uint64_t addr = (rnd() & ((1ull << 36) - 1)) & ~(size - 1);

		if (chance(3))
			addr |= (rnd() & (size - 1)) & ~0xfffull;   /* misaligned: reserved bits */
		e |= addr | rnd_memtype() << EPT_MT_SHIFT | (chance(30) ? EPT_IGNORE_PAT : 0);
		return e | (large ? EPT_LARGE : 0);
	}
	bool fresh;
	uint64_t t = chance(2) ? NOT_RAM : level_table(level - 1, &fresh);

	if (t != NOT_RAM && fresh)
		rnd_fill(t, level - 1, c);
	return e | t;
}

static void rnd_fill(uint64_t table, unsigned level, const struct ept12_caps *c)
{
	for (unsigned i = 0; i < RND_INDICES; i++)
		*entry(table, i) = chance(5) ? rnd() & ~EPT_PERM_MASK : rnd_entry(level, c);
}

static struct ept12_caps rnd_caps(void)
{
	static const unsigned widths[] = { 36, 39, 40, 46, 52 };

	return (struct ept12_caps){ .maxphyaddr = widths[rnd_below(5)], .exec_only = chance(50),
				    .use_2m = chance(80), .use_1g = chance(60), .ad = true,
				    .mt_uc = true, .mt_wb = true };
}

static uint64_t rnd_gpa(void)
{
	uint64_t gpa = rnd() & 0xfff;

	for (unsigned level = 1; level <= EPT_LEVELS; level++)
		gpa |= (uint64_t)(chance(8) ? RND_INDICES : rnd_below(RND_INDICES))
		       << EPT_LEVEL_SHIFT(level);
	return gpa;
}

static struct ref_access rnd_access(void)
{
	struct ref_access a = { 0 };

	switch (rnd_below(4)) {
	case 0: a.read = true; break;
	case 1: a.write = true; break;
	case 2: a.fetch = true; break;
	default: a.read = a.write = true; break;
	}
	a.paging = chance(30) && !a.fetch;
	a.gla = chance(70);
	return a;
}

static unsigned access_bits(const struct ref_access *a)
{
	return (a->read ? EPT12_ACC_READ : 0) | (a->write ? EPT12_ACC_WRITE : 0) |
	       (a->fetch ? EPT12_ACC_FETCH : 0) | (a->paging ? EPT12_ACC_PAGING : 0);
}

static bool same(const struct ept12_walk *w, const struct ref_result *r, const struct ref_access *a)
{
	bool ok = w->status == r->status && w->level == r->level && w->entry_gpa == r->entry_gpa;

	if (w->status == EPT12_MISCONFIG)
		ok = ok && w->why == r->why;
	if (w->status == EPT12_VIOLATION)
		ok = ok && ept12_violation_qual(w, a->gla) == r->qual;
	if (w->status == EPT12_OK)
		ok = ok && w->l1_gpa == r->l1_gpa && w->page_size == r->size &&
		     w->memtype == r->memtype && w->ignore_pat == r->ipat && w->leaf == r->leaf &&
		     w->perms == r->and_rwx;
	ok = ok && writes == r->nwrites;
	for (unsigned i = 0; ok && i < r->nwrites; i++)
		ok = wlog[i].gpa == r->writes[i].gpa && wlog[i].val == r->writes[i].val;
	return ok;
}

#define RANDOM_TABLES 5000
#define WALKS_PER_TABLE 8

TEST(ept12_random_tables_match_the_reference)
{
	unsigned bad = 0, seen[5] = { 0 };

	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned t = 0; t < RANDOM_TABLES; t++) {
		struct ref_env env = { .caps = rnd_caps(), .ad = chance(50) };
		struct ept12_mmu m;

		reset_ram();
		memset(level_pages, 0, sizeof(level_pages));
		level_pages[4] = 1;
		env.root = L1_BASE + 4096ull * (EPT_LEVELS - 1) * PAGES_PER_LEVEL;
		rnd_fill(env.root, 4, &env.caps);
		m = (struct ept12_mmu){ env.root | EPTP_PWL4 | EPTP_MT_WB | (env.ad ? EPTP_AD_ENABLE : 0),
					env.caps, { fake_read, fake_write, NULL } };
		for (unsigned i = 0; i < WALKS_PER_TABLE; i++) {
			uint64_t gpa = rnd_gpa();
			struct ref_access a = rnd_access();
			struct ref_result r;
			struct ept12_walk w;

			ref_walk(&env, gpa, &a, &r);   /* before the walker changes A/D */
			writes = 0;
			ept12_walk(&m, gpa, access_bits(&a), &w);
			seen[w.status]++;
			if (!same(&w, &r, &a) && bad++ < 5)
				printf("  table %u gpa 0x%llx access 0x%x: walker %d/%d level %u, "
				       "reference %d/%d level %u\n", t, (unsigned long long)gpa,
				       access_bits(&a), w.status, w.why, w.level, r.status, r.why,
				       r.level);
		}
	}
	CHECK_EQ(bad, 0);
	/* The generator reaches every outcome a good number of times. */
	for (unsigned s = EPT12_OK; s <= EPT12_TABLE_UNREADABLE; s++)
		CHECK(seen[s] > RANDOM_TABLES / 10);
	printf("  %u walks: %u translated, %u violations, %u misconfigurations, %u unreadable\n",
	       RANDOM_TABLES * WALKS_PER_TABLE, seen[EPT12_OK], seen[EPT12_VIOLATION],
	       seen[EPT12_MISCONFIG], seen[EPT12_TABLE_UNREADABLE]);
}
