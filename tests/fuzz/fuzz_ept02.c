/* SPDX-License-Identifier: MIT */
/*
 * ept/ept02*.c: EPT02 composed from EPT12 walks (ept12_mem.h: L1's tables from
 * the input) and an EPT01 built from the input with ept/ept.c, in a small
 * pool, under a random sequence of installs, INVEPTs (single and all),
 * root lookups, L1 changing its EPT12 and L0 changing EPT01. After every
 * step, invariants (ept02.h, ept12.h):
 *  - the pool: every page in exactly one place (a root's tree or the free
 *    list), in_use and each root's table count exact, never above the pool;
 *  - every EPT02 entry is well formed for the CPU (no write without read,
 *    execute-only only where the CPU has it, a valid memory type, no stray
 *    bits), and every leaf translates as EPT12 then EPT01 do (checked at both
 *    ends of its range): the host page is one EPT01 maps, the permissions a
 *    subset of EPT12's and EPT01's (no write before EPT12's dirty flag with A/D
 *    on), the memory type EPT12's unless EPT01 makes the page UC, ignore-PAT
 *    EPT12's. A root whose EPT12 L1 changed may keep stale entries until L1's
 *    INVEPT for it (or all): it is not compared meanwhile;
 *  - an install maps the address with at least the access the walk needed, or
 *    reports an L1 fault exactly when EPT01 denies that access;
 *  - EPT01 translates (ept_translate) as the regions it was built from say.
 */
#include "ept12_mem.h"

#include "ept/ept.h"
#include "ept/ept02.h"

/* Host pages: EPT01's tables, then the EPT02 pool, at host-physical ARENA. */
#define ARENA       0x40000000ull
#define EPT01_PAGES 40
#define POOL_MAX    16
#define NEPTP       3
#define MAX_STEPS   16

static uint64_t arena[EPT01_PAGES + POOL_MAX][EPT_ENTRIES];
static unsigned ept01_used;

FUZZ_NO_COVERAGE static uint64_t *host_table(void *ctx, uint64_t phys)
{
	uint64_t i = (phys - ARENA) >> 12;

	INVARIANT(!(phys & 0xfff) && phys >= ARENA && i < EPT01_PAGES + POOL_MAX,
		  "table at host-physical 0x%llx, not a table page", (unsigned long long)phys);
	return arena[i];
}

static uint64_t ept01_alloc(void *ctx)
{
	if (ept01_used == EPT01_PAGES)
		return 0;
	memset(arena[ept01_used], 0, 4096);
	return ARENA + ((uint64_t)ept01_used++ << 12);
}

static uint64_t pool_page(unsigned i)
{
	return ARENA + ((uint64_t)(EPT01_PAGES + i) << 12);
}

/* ------------------------------------------------------------------------ */
/* EPT01 as built: regions, and 4-KiB pages whose write permission L0 changed. */

struct region {
	uint64_t l1, hpa, size, perms;
	unsigned mt;
};

static struct {
	struct region r[6];
	unsigned n;
	uint64_t wp_page[8];
	bool wp_writable[8];
	unsigned nwp;
} ref01;

struct ref01_t {
	bool present;
	uint64_t hpa, perms;
	unsigned mt;
};

/* EPT01 as the CPU reads it: 4-level EPT "uses only bits 47:0 of each guest-physical
 * address" (SDM Vol. 3C, 29.3.2). */
FUZZ_NO_COVERAGE static struct ref01_t ref01_translate(uint64_t l1)
{
	l1 &= (1ull << 48) - 1;
	for (unsigned i = 0; i < ref01.n; i++) {
		const struct region *r = &ref01.r[i];

		if (l1 - r->l1 < r->size) {
			struct ref01_t t = { true, r->hpa + (l1 - r->l1), r->perms, r->mt };

			for (unsigned j = 0; j < ref01.nwp; j++)
				if (ref01.wp_page[j] == (l1 & ~0xfffull))
					t.perms = ref01.wp_writable[j] ? t.perms | EPT_W : t.perms & ~EPT_W;
			return t;
		}
	}
	return (struct ref01_t){ false, 0, 0, 0 };
}

static bool overlaps(uint64_t l1, uint64_t size)
{
	for (unsigned i = 0; i < ref01.n; i++)
		if (l1 < ref01.r[i].l1 + ref01.r[i].size && ref01.r[i].l1 < l1 + size)
			return true;
	return false;
}

/* ------------------------------------------------------------------------ */

static struct {
	struct ept e01;
	struct ept02 c;
	struct ept12_caps caps;
	uint64_t eptp[NEPTP];
	bool stale[NEPTP];         /* L1 changed EPT12 since the last INVEPT covering it */
	bool cpu_exec_only;
} s;

static int eptp_index(uint64_t eptp12)
{
	for (int i = 0; i < NEPTP; i++)
		if (s.eptp[i] == eptp12)
			return i;
	return -1;
}

/* The pool page index of a host-physical address, or -1. */
FUZZ_NO_COVERAGE static int pool_index(uint64_t phys)
{
	for (unsigned i = 0; i < s.c.npages; i++)
		if (pool_page(i) == phys)
			return (int)i;
	return -1;
}

/* One leaf of EPT02 against EPT12 then EPT01 at address a of its range. */
FUZZ_NO_COVERAGE static void check_composed(uint64_t eptp12, uint64_t leaf, uint64_t size, uint64_t a)
{
	struct ref_walk w12 = ref_ept12_walk(eptp12, &s.caps, a, 0);
	uint64_t perms = leaf & 7, hpa = (leaf & ADDR_51_12 & ~(size - 1)) | (a & (size - 1));
	unsigned mt = leaf >> 3 & 7;
	struct ref01_t t;

	INVARIANT(w12.status == EPT12_OK, "EPT02 maps L2 0x%llx, EPT12 does not (status %d)",
		  (unsigned long long)a, w12.status);
	t = ref01_translate(w12.l1_gpa);
	INVARIANT(t.present, "EPT02 maps L2 0x%llx (L1 0x%llx) to host 0x%llx, EPT01 maps nothing there",
		  (unsigned long long)a, (unsigned long long)w12.l1_gpa, (unsigned long long)hpa);
	INVARIANT(hpa == t.hpa, "L2 0x%llx -> host 0x%llx, EPT12 then EPT01 give 0x%llx",
		  (unsigned long long)a, (unsigned long long)hpa, (unsigned long long)t.hpa);
	INVARIANT(!(perms & ~w12.perms & 7) && !(perms & ~t.perms & 7),
		  "L2 0x%llx: EPT02 grants 0x%llx, EPT12 0x%llx, EPT01 0x%llx", (unsigned long long)a,
		  (unsigned long long)perms, (unsigned long long)w12.perms,
		  (unsigned long long)t.perms);
	INVARIANT(!(perms & EPT_W) || !(eptp12 & EPTP_AD_ENABLE) || (w12.leaf_val & EPT_DIRTY),
		  "L2 0x%llx writable before EPT12's dirty flag", (unsigned long long)a);
	INVARIANT(mt == (t.mt == EPT_MT_UC ? EPT_MT_UC : w12.memtype) &&
			  !!(leaf & EPT_IGNORE_PAT) == !!(w12.leaf_val & EPT_IGNORE_PAT),
		  "L2 0x%llx: memory type %u ipat %d, EPT12 %u/%d, EPT01 %u", (unsigned long long)a,
		  mt, !!(leaf & EPT_IGNORE_PAT), w12.memtype, !!(w12.leaf_val & EPT_IGNORE_PAT),
		  t.mt);
}

static uint8_t seen[POOL_MAX];

/* Walk a tree: count its pages, check every entry, compare every leaf. */
FUZZ_NO_COVERAGE static unsigned audit_table(uint64_t table, unsigned level, uint64_t base, uint64_t eptp12,
			    bool compare)
{
	int pi = pool_index(table);
	unsigned pages = 1;

	INVARIANT(pi >= 0, "EPT02 table at 0x%llx is not a pool page", (unsigned long long)table);
	INVARIANT(!seen[pi]++, "pool page %d used twice", pi);
	for (unsigned i = 0; i < EPT_ENTRIES; i++) {
		uint64_t e = host_table(NULL, table)[i], size = EPT_LEVEL_SIZE(level);
		uint64_t va = base + i * size, perms = e & 7;

		if (!perms) {
			INVARIANT(e == 0, "non-present EPT02 entry 0x%llx", (unsigned long long)e);
			continue;
		}
		INVARIANT(perms != 2 && perms != 6, "EPT02 entry 0x%llx: write without read",
			  (unsigned long long)e);
		if (level > 1 && !(e & EPT_LARGE)) {
			INVARIANT(!(e & ~(ADDR_51_12 | 7)), "EPT02 table entry 0x%llx", (unsigned long long)e);
			pages += audit_table(e & ADDR_51_12, level - 1, va, eptp12, compare);
			continue;
		}
		INVARIANT(level <= 3 && (level == 1 || (level == 2 ? s.c.use_2m : s.c.use_1g)),
			  "EPT02 leaf at level %u", level);
		INVARIANT(perms != 4 || s.cpu_exec_only, "execute-only EPT02 leaf without the CPU's support");
		unsigned mt = e >> 3 & 7;

		INVARIANT(mt != 2 && mt != 3 && mt != 7, "EPT02 leaf memory type %u", mt);
		INVARIANT(!(e & ~((ADDR_51_12 & ~(size - 1)) | 0x7f | (level > 1 ? EPT_LARGE : 0))),
			  "EPT02 leaf 0x%llx at level %u has stray bits", (unsigned long long)e, level);
		if (compare) {
			check_composed(eptp12, e, size, va);
			if (size > EPT_PAGE_4K) {
				check_composed(eptp12, e, size, va + size / 2 + 0x1000);
				check_composed(eptp12, e, size, va + size - 1);
			}
		}
	}
	return pages;
}

FUZZ_NO_COVERAGE static void audit(void)
{
	unsigned used = 0, free_pages = 0;

	memset(seen, 0, sizeof(seen));
	INVARIANT(s.c.stats.in_use <= s.c.npages && s.c.stats.high_water <= s.c.npages,
		  "in use %u, high water %u, pool %u", s.c.stats.in_use, s.c.stats.high_water,
		  s.c.npages);
	for (unsigned i = 0; i < EPT02_ROOTS; i++) {
		const struct ept02_root *r = &s.c.roots[i];
		int k;
		unsigned n;

		if (!r->valid)
			continue;
		for (unsigned j = 0; j < i; j++)
			INVARIANT(!s.c.roots[j].valid || s.c.roots[j].eptp12 != r->eptp12,
				  "two roots for EPTP12 0x%llx", (unsigned long long)r->eptp12);
		k = eptp_index(r->eptp12);
		INVARIANT(k >= 0, "a root for EPTP12 0x%llx nobody asked for", (unsigned long long)r->eptp12);
		n = audit_table(r->phys, EPT_LEVELS, 0, r->eptp12, !s.stale[k]);
		INVARIANT(n == r->tables, "root %u holds %u pages, counts %u", i, n, r->tables);
		used += n;
	}
	INVARIANT(used == s.c.stats.in_use, "%u pages in trees, in_use %u", used, s.c.stats.in_use);
	for (uint64_t p = s.c.free_head; p != EPT02_NO_PAGE; p = host_table(NULL, p)[0]) {
		int pi = pool_index(p);

		INVARIANT(pi >= 0 && !seen[pi]++, "free list: 0x%llx not a pool page or used twice",
			  (unsigned long long)p);
		INVARIANT(++free_pages <= s.c.npages, "free list longer than the pool");
	}
	INVARIANT(used + free_pages == s.c.npages, "%u in trees + %u free != pool %u", used,
		  free_pages, s.c.npages);
	/* A dropped root's stale entries went with it. */
	for (int k = 0; k < NEPTP; k++) {
		bool has_root = false;

		for (unsigned i = 0; i < EPT02_ROOTS; i++)
			has_root |= s.c.roots[i].valid && s.c.roots[i].eptp12 == s.eptp[k];
		if (!has_root)
			s.stale[k] = false;
	}
}

/* The EPT02 leaf (own walk) for l2 under a root, or 0. */
FUZZ_NO_COVERAGE static uint64_t ept02_leaf(uint64_t root, uint64_t l2, uint64_t *size)
{
	uint64_t table = root;

	for (unsigned level = EPT_LEVELS; level >= 1; level--) {
		uint64_t e = host_table(NULL, table)[EPT_INDEX(l2, level)];

		if (!(e & 7))
			return 0;
		if (level == 1 || (e & EPT_LARGE)) {
			*size = EPT_LEVEL_SIZE(level);
			return e;
		}
		table = e & ADDR_51_12;
	}
	return 0;
}

static void install(int k, uint64_t l2, unsigned access)
{
	struct ept12_mmu m = { s.eptp[k], s.caps, { l1_read_entry, l1_write_entry, NULL } };
	struct ept12_walk w12;
	struct ept_walk w01;
	struct ref01_t t;
	enum ept02_status st;
	uint64_t grant, leaf, size = 0, root = 0;
	bool fault;

	ept12_walk(&m, l2, access, &w12);
	if (w12.status != EPT12_OK)
		return;   /* L0 reflects it to L1 */
	ept_translate(&s.e01, w12.l1_gpa, &w01);
	t = ref01_translate(w12.l1_gpa);
	INVARIANT(w01.present == t.present && !w01.misconfigured &&
			  (!t.present || (w01.hpa == t.hpa && (w01.leaf & 7) == t.perms &&
					  (w01.leaf >> 3 & 7) == t.mt)),
		  "EPT01 translates L1 0x%llx to %d/0x%llx/0x%llx, built for %d/0x%llx/0x%llx",
		  (unsigned long long)w12.l1_gpa, w01.present, (unsigned long long)w01.hpa,
		  (unsigned long long)(w01.leaf & 7), t.present, (unsigned long long)t.hpa,
		  (unsigned long long)t.perms);
	grant = w12.perms & t.perms;
	if ((s.eptp[k] & EPTP_AD_ENABLE) && !(w12.leaf & EPT_DIRTY))
		grant &= ~EPT_W;
	fault = !t.present || (w12.need & ~t.perms & 7) || !grant;
	st = ept02_install(&s.c, s.eptp[k], l2, &w12, &w01);
	INVARIANT(st == (fault ? EPT02_L1_FAULT : EPT02_INSTALLED),
		  "install of L2 0x%llx (need 0x%llx, EPT12 0x%llx, EPT01 0x%llx): status %d",
		  (unsigned long long)l2, (unsigned long long)w12.need,
		  (unsigned long long)w12.perms, (unsigned long long)t.perms, st);
	if (fault)
		return;
	/* Mapped now, at the walk's host address, with at least what the access needed. */
	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		if (s.c.roots[i].valid && s.c.roots[i].eptp12 == s.eptp[k])
			root = s.c.roots[i].phys;
	INVARIANT(root, "no root for EPTP12 0x%llx after an install", (unsigned long long)s.eptp[k]);
	leaf = ept02_leaf(root, l2, &size);
	INVARIANT(leaf && ((leaf & ADDR_51_12 & ~(size - 1)) | (l2 & (size - 1))) == w01.hpa &&
			  !(w12.need & ~leaf & 7),
		  "after the install L2 0x%llx maps as 0x%llx (want host 0x%llx, access 0x%llx)",
		  (unsigned long long)l2, (unsigned long long)leaf, (unsigned long long)w01.hpa,
		  (unsigned long long)w12.need);
}

/* EPT01 from the input: up to 5 regions of 4K, 2M or 1G pages (kind bits 1:0),
 * permissions (4:2) and memory type (7:5). */
static bool build_ept01(struct fuzz_in *in, unsigned flags)
{
	static const uint64_t perm_sets[] = { EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_RWX, EPT_X };
	static const unsigned mts[] = { EPT_MT_UC, EPT_MT_WC, EPT_MT_WT, EPT_MT_WP, EPT_MT_WB };
	const struct ept_ops ops = { ept01_alloc, host_table, NULL };

	ept01_used = 0;
	memset(&ref01, 0, sizeof(ref01));
	INVARIANT(ept_init(&s.e01, &ops, flags & 1, flags & 2) == 0, "EPT01 root");
	for (unsigned n = (unsigned)take(in, 1) % 6; n; n--) {
		unsigned kind = (unsigned)take(in, 1), count = (unsigned)take(in, 1);
		uint64_t l1 = take(in, 4), hpa = take(in, 4), size;
		struct region r;

		if ((kind & 3) % 3 == 0) {  /* 1..16 4-KiB pages, L1 below 64 GiB */
			l1 = (l1 & 0xffffff) << 12, hpa = (hpa & 0xffffff) << 12;
			size = (1 + count % 16) * EPT_PAGE_4K;
		} else if ((kind & 3) == 1) { /* 1..4 2-MiB pages */
			l1 = (l1 & 0x7fff) << 21, hpa = (hpa & 0x7fff) << 21;
			size = (1 + count % 4) * EPT_PAGE_2M;
		} else {                    /* a 1-GiB page */
			l1 = (l1 & 0x3f) << 30, hpa = (hpa & 0x3f) << 30;
			size = EPT_PAGE_1G;
		}
		r = (struct region){ l1, hpa, size, perm_sets[(kind >> 2 & 7) % (s.cpu_exec_only ? 5 : 4)],
				     mts[(kind >> 5) % 5] };
		if (overlaps(l1, size) || ref01.n == 6)
			continue;
		if (ept_map(&s.e01, r.l1, r.hpa, r.size, r.perms, r.mt))
			return false;   /* out of EPT01 tables: part mapped, nothing to compare with */
		ref01.r[ref01.n++] = r;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned flags = (unsigned)take(&in, 1), npages;
	uint64_t pages[POOL_MAX];
	const struct ept02_ops ops = { host_table, NULL };

	memset(&s, 0, sizeof(s));
	s.cpu_exec_only = flags & 4;
	s.caps = l1_caps_from(&in);
	s.caps.exec_only &= s.cpu_exec_only;   /* L0 offers it only if the CPU has it */
	for (int k = 0; k < NEPTP; k++) {
		s.eptp[k] = l1_page((unsigned)take(&in, 1)) | EPTP_PWL4 |
			    (take_bool(&in) && s.caps.mt_uc ? EPT_MT_UC : EPTP_MT_WB) |
			    (take_bool(&in) && s.caps.ad ? EPTP_AD_ENABLE : 0);
		if (!ept12_eptp_valid(s.eptp[k], &s.caps))
			return 0;
	}
	if (!build_ept01(&in, flags))
		return 0;
	npages = EPT02_MIN_POOL + (unsigned)take(&in, 1) % (POOL_MAX - EPT02_MIN_POOL + 1);
	for (unsigned i = 0; i < npages; i++)
		pages[i] = pool_page(i);
	INVARIANT(ept02_init(&s.c, &ops, pages, npages, flags & 1, flags & 2) == 0, "pool of %u",
		  npages);
	l1_mem_from(&in);
	audit();

	for (unsigned step = 0; step < MAX_STEPS && !fuzz_in_done(&in); step++) {
		unsigned op = (unsigned)take(&in, 1), k = (op >> 4) % NEPTP;

		switch (op & 15) {
		default: {  /* most steps: an L2 access through EPT02 that faults */
			uint64_t l2 = take(&in, 5);

			install((int)k, l2, (unsigned)take(&in, 1) & 0xf);
			break;
		}
		case 8:     /* L1's INVEPT single-context: roots with the same EP4TA */
			ept02_invalidate(&s.c, s.eptp[k]);
			for (int j = 0; j < NEPTP; j++)
				if (!((s.eptp[j] ^ s.eptp[k]) & ADDR_51_12))
					s.stale[j] = false;
			break;
		case 9:     /* all-context */
			ept02_invalidate_all(&s.c);
			memset(s.stale, 0, sizeof(s.stale));
			break;
		case 10: {  /* the root before a VM entry to L2 */
			uint64_t root = ept02_root_for(&s.c, s.eptp[k]);

			INVARIANT(pool_index(root) >= 0, "root 0x%llx", (unsigned long long)root);
			INVARIANT(ept02_eptp(root, s.eptp[k]) ==
					  (root | EPTP_PWL4 | EPTP_MT_WB | (s.eptp[k] & EPTP_AD_ENABLE)),
				  "EPTP02");
			break;
		}
		case 11: {  /* L1 changes an EPT12 entry: every root may now be stale */
			unsigned page = (unsigned)take(&in, 1) % L1_PAGES;
			unsigned index = (unsigned)take(&in, 2) % EPT_ENTRIES;
			uint64_t value = take(&in, 8);

			if (value & 0x80)
				value = (value & ~ADDR_51_12) | l1_page((unsigned)(value >> 8));
			l1_ram[page][index] = value;
			for (int j = 0; j < NEPTP; j++)
				s.stale[j] = true;
			break;
		}
		case 12: {  /* L0 write-protects or unprotects a page of EPT01, then INVEPTs all */
			uint64_t l1 = ref01.n ? ref01.r[take(&in, 1) % ref01.n].l1 + take(&in, 2) * 4096 : 0;
			bool writable = take_bool(&in);

			if (ref01.nwp < 8 && ref01_translate(l1).present && !ept_set_write(&s.e01, l1, writable)) {
				ref01.wp_page[ref01.nwp] = l1 & ~0xfffull;
				ref01.wp_writable[ref01.nwp++] = writable;
				ept02_invalidate_all(&s.c);
			}
			break;
		}
		}
		audit();
	}
	return 0;
}
