/* SPDX-License-Identifier: MIT */
/*
 * vmxfuzz's EPT iterations: an EPT12 hierarchy and an EPTP generated for L2's
 * sandbox (SDM Vol. 3C, 25.6.11 "Extended-Page-Table Pointer (EPTP)", 29.3.2
 * "EPT Translation Mechanism", 29.3.3 "EPT-Induced VM Exits"), and the oracle
 * that checks the guest-physical address of an EPT violation.
 *
 * The tables start as an identity map of the box pages (4 KiB leaves, RWX,
 * write-back) and get 0..4 mutations: permissions (write-only and write/execute
 * are misconfigurations; execute-only where offered is not), leaf memory types
 * (2, 3, 7 are misconfigurations), reserved bits (low ones of non-leaf entries,
 * bits MAXPHYADDR..51), ignored bits (which must change nothing), preset A/D
 * flags, holes, 2 MiB and 1 GiB identity leaves (misaligned ones reserved),
 * leaves sent to another box page, a scratch page, an address above RAM or one
 * beyond MAXPHYADDR, and table pointers sent to an empty table, a copy of the
 * table, the local APIC page 0xFEE00000, above RAM or beyond MAXPHYADDR. The
 * EPTP is valid (WB or UC, A/D where offered) or broken: memory type, walk
 * length, reserved bits 11:7, bits beyond MAXPHYADDR; its PML4 may be the
 * empty table, the APIC page or above RAM. (apic_table() says why the APIC
 * page is never a leaf, and why on bare Bochs it is no table either.)
 *
 * What keeps L1 safe whatever L2 does: the only L1 RAM an EPT12 leaf ever
 * reaches is the box, the scratch pages, or (2 MiB / 1 GiB identity leaves,
 * pure iterations only, where L2 runs its fixed program with paging) the
 * region around the box; never these tables. Table pointers go to tables of
 * the same level only. The APIC page is a table in pure iterations only,
 * where L2 touches nothing but the box pages: a walk would read (and with A/D
 * flags, write) APIC offsets 0 and 8 * (box page number % 512), reserved
 * registers since the box is above 1 MiB and below 2 MiB (as the EPTP's PML4
 * it is read at offset 0 only, in mixed iterations too).
 */
#include "vmxfuzz.h"

#define EPT_EVERY        4u     /* one iteration in EPT_EVERY is an EPT iteration */
#define MAX_MUTATIONS    4u
#define SCRATCH_PAGES    4u
#define APIC_PAGE        0xFEE00000ull
#define EPT_INDEX(gpa, level) (((gpa) >> (12 + 9 * ((level) - 1))) & 511u)

/* The tables an EPT iteration uses; rebuilt every time. */
enum { T_PT = 1, T_PD, T_PDPT, T_PML4,  /* by level */
       T_PT_ALT, T_PD_COPY, T_PDPT_COPY, T_ZERO, NUM_TABLES };
static struct ept_mem {
	uint64_t table[NUM_TABLES][EPT_ENTRIES];
	uint8_t scratch[SCRATCH_PAGES][PAGE_SIZE];
} ept_mem __attribute__((aligned(PAGE_SIZE)));

static const char *const box_names[BOX_PAGES] = {
	"pml4", "pdpt", "pd", "pt", "code", "idt", "gdt", "stack0", "stack1",
};
static const char *const level_names[5] = { "", "PTE", "PDE", "PDPTE", "PML4E" };

/* ---- The iteration's own random stream (splitmix64 of seed and n) ---------- */

static uint64_t erng;
static bool apic_safe;          /* the APIC offsets a box walk reads are reserved ones */

static uint64_t ernd(void)
{
	uint64_t z = (erng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t ebelow(uint32_t n)
{
	return (uint32_t)((ernd() >> 32) % n);
}

/* ---- Building ---------------------------------------------------------------- */

static uint64_t pa(const void *p)
{
	return (uintptr_t)p;
}

static uint64_t *table(unsigned t)
{
	return ept_mem.table[t];
}

static uint64_t above_ram(void)
{
	/* Half the physical-address width: far above any RAM a test machine has. */
	return 1ull << (caps.maxphyaddr - 1);
}

static uint64_t beyond_width(void)
{
	return caps.maxphyaddr < 52 ? 1ull << caps.maxphyaddr : 0;
}

/* An EPT table on the local APIC page. Bochs 2.7 panics on the 8-byte reads
 * of an EPT walk there ("APIC read ... spans 32-bit boundary"): on bare Bochs
 * the table is put above RAM instead. (Under nestvisor, EPT12 is read as L1
 * RAM only: a table there reads as all ones, and the APIC is not touched.)
 * For the same reason no leaf maps a page L2 uses onto the APIC page: L2's
 * 8-byte accesses would reach Bochs' APIC, bare or under nestvisor. */
static uint64_t apic_table(void)
{
	return bare_metal_bochs ? above_ram() : APIC_PAGE;
}

bool ept_fuzz_offered(void)
{
	return can_set_proc2(PROC2_ENABLE_EPT) && (caps.ept_vpid & EPT_CAP_WALK4) &&
	       (caps.ept_vpid & (EPT_CAP_WB | EPT_CAP_UC)) && (caps.ept_vpid & EPT_CAP_INVEPT) &&
	       (caps.ept_vpid & EPT_CAP_INVEPT_ALL);
}

/* INVEPT all-context: the tables live at the same addresses every iteration. */
static void ept_flush(void)
{
	struct invept_desc d = { 0, 0 };

	invept(INVEPT_ALL, &d);
}

static size_t desc_len;

static void describe(struct ept_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void describe(struct ept_plan *p, const char *fmt, ...)
{
	va_list ap;

	if (desc_len >= sizeof(p->desc) - 1)
		return;
	va_start(ap, fmt);
	desc_len += (size_t)nv_vsnprintf(p->desc + desc_len, sizeof(p->desc) - desc_len, fmt, ap);
	va_end(ap);
	if (desc_len > sizeof(p->desc) - 1)
		desc_len = sizeof(p->desc) - 1;
}

/* The identity map of the box pages (they share one EPT page table: the box is
 * 64 KiB-aligned), and the redirect targets: copies of the PDPT and PD, a PT
 * with the box leaves rotated by one page, an empty table. */
static void build_identity(const uint64_t box[BOX_PAGES])
{
	const uint64_t leaf = EPT_RWX | EPT_MEMTYPE(MT_WB);
	uint64_t g = box[0];

	memset(&ept_mem, 0, sizeof(ept_mem));
	table(T_PML4)[EPT_INDEX(g, 4)] = pa(table(T_PDPT)) | EPT_RWX;
	table(T_PDPT)[EPT_INDEX(g, 3)] = pa(table(T_PD)) | EPT_RWX;
	table(T_PD)[EPT_INDEX(g, 2)] = pa(table(T_PT)) | EPT_RWX;
	for (unsigned j = 0; j < BOX_PAGES; j++) {
		table(T_PT)[EPT_INDEX(box[j], 1)] = box[j] | leaf;
		table(T_PT_ALT)[EPT_INDEX(box[j], 1)] = box[(j + 1) % BOX_PAGES] | leaf;
	}
	memcpy(table(T_PDPT_COPY), table(T_PDPT), PAGE_SIZE);
	memcpy(table(T_PD_COPY), table(T_PD), PAGE_SIZE);
}

/* The entry at `level` on the walk of box page j, in the tables as built. */
static uint64_t *path_entry(const uint64_t box[BOX_PAGES], unsigned j, unsigned level)
{
	return &table(level)[EPT_INDEX(box[j], level)];
}

/* Reserved bits of an entry at `level` that is not a leaf (Tables 29-1 to 29-6):
 * 7:3 in a PML4E, 6:3 in a PDPTE or PDE that references a table. */
static uint64_t low_reserved_bit(unsigned level)
{
	return 1ull << (3 + ebelow(level == 4 ? 5 : 4));
}

static uint64_t high_reserved_bit(void)
{
	return caps.maxphyaddr < 52 ? 1ull << (caps.maxphyaddr + ebelow(52 - caps.maxphyaddr)) : 0;
}

static void mutate(struct ept_plan *p, const uint64_t box[BOX_PAGES])
{
	unsigned j = ebelow(BOX_PAGES), level = 1 + ebelow(4), kind = ebelow(9);
	uint64_t *e = path_entry(box, j, level);

	switch (kind) {
	case 0: {       /* permissions */
		uint64_t perms = ebelow(8);

		*e = (*e & ~EPT_PERM_MASK) | perms;
		describe(p, " %s(%s).perm=%llu", level_names[level], box_names[j], U64(perms));
		break;
	}
	case 1: {       /* the memory type of box page j's leaf; ignore-PAT at random */
		uint64_t mt = ebelow(8), ipat = ebelow(2) ? EPT_IGNORE_PAT : 0;

		e = path_entry(box, j, 1);
		*e = (*e & ~(EPT_MEMTYPE_MASK | EPT_IGNORE_PAT)) | EPT_MEMTYPE(mt) | ipat;
		describe(p, " PTE(%s).mt=%llu%s", box_names[j], U64(mt), ipat ? "+ipat" : "");
		break;
	}
	case 2: {       /* a reserved bit */
		uint64_t bit = level > 1 && ebelow(2) ? low_reserved_bit(level) : high_reserved_bit();

		*e |= bit;
		describe(p, " %s(%s).rsv=0x%llx", level_names[level], box_names[j], U64(bit));
		break;
	}
	case 3: {       /* an ignored bit (8-11 without A/D and mode-based execute; 52-62) */
		static const uint8_t ignored[] = { 10, 11, 52, 53, 55, 58, 61, 62 };
		unsigned bit = ignored[ebelow(sizeof(ignored))];

		*e |= 1ull << bit;
		describe(p, " %s(%s).ign%u", level_names[level], box_names[j], bit);
		break;
	}
	case 4:         /* accessed and dirty flags already set */
		*e |= EPT_ACCESSED | (level == 1 ? EPT_DIRTY : 0);
		describe(p, " %s(%s).ad", level_names[level], box_names[j]);
		break;
	case 5:         /* a hole */
		if (ebelow(2))
			*e = 0;
		else
			*e &= ~EPT_PERM_MASK;
		describe(p, " %s(%s).hole", level_names[level], box_names[j]);
		break;
	case 6: {       /* box page j's leaf elsewhere */
		static const char *const what[] = { "box", "scratch", "above-RAM", "beyond-width" };
		unsigned t = ebelow(4);
		uint64_t to = t == 0 ? box[(j + 1 + ebelow(BOX_PAGES - 1)) % BOX_PAGES]
			    : t == 1 ? pa(ept_mem.scratch[ebelow(SCRATCH_PAGES)])
			    : t == 2 ? above_ram() : beyond_width();

		e = path_entry(box, j, 1);
		*e = (*e & ~EPT_ADDR_MASK) | (to & EPT_ADDR_MASK);
		describe(p, " PTE(%s)->%s", box_names[j], what[t]);
		if (t != 3)
			p->identity = false;
		break;
	}
	case 7: {       /* a table pointer elsewhere: same level only */
		static const char *const what[] = { "empty", "copy", "APIC", "above-RAM",
						     "beyond-width" };
		static const unsigned copy_of[5] = { 0, 0, T_PT_ALT, T_PD_COPY, T_PDPT_COPY };
		unsigned t = ebelow(5);
		uint64_t to;

		if (level == 1)
			level = 2 + ebelow(3);
		if (t == 2 && (!p->pure || !apic_safe)) /* the APIC page: pure iterations only */
			t = 3;
		e = path_entry(box, j, level);
		to = t == 0 ? pa(table(T_ZERO)) : t == 1 ? pa(table(copy_of[level]))
		   : t == 2 ? apic_table() : t == 3 ? above_ram() : beyond_width();
		*e = (*e & ~EPT_ADDR_MASK) | (to & EPT_ADDR_MASK);
		describe(p, " %s->%s", level_names[level], what[t]);
		if (t == 2 && bare_metal_bochs)
			describe(p, "(bare Bochs: above-RAM)");
		if (t == 2 || t == 3 || (t == 1 && level == 2))
			p->identity = false;
		break;
	}
	case 8: {       /* a large identity leaf, or bit 7 where it is reserved */
		uint64_t g = box[0];

		if (level == 1)
			level = 2 + ebelow(3);
		e = path_entry(box, j, level);
		if (level == 4) {
			*e |= EPT_LARGE;        /* reserved in a PML4E */
			describe(p, " PML4E.bit7");
			break;
		}
		if (!p->pure) {                 /* large leaves: pure iterations only */
			*e &= ~EPT_PERM_MASK;
			describe(p, " %s.hole", level_names[level]);
			break;
		}
		{
			uint64_t size = level == 2 ? EPT_PAGE_2M : EPT_PAGE_1G;
			uint64_t misalign = ebelow(4) == 0 ? EPT_PAGE_4K << ebelow(level == 2 ? 9 : 18) : 0;

			*e = (g & ~(size - 1)) | misalign | EPT_LARGE | EPT_RWX | EPT_MEMTYPE(MT_WB);
			if (misalign)
				describe(p, " %s.large%s+rsv=0x%llx", level_names[level],
					 level == 2 ? "2M" : "1G", U64(misalign));
			else
				describe(p, " %s.large%s", level_names[level], level == 2 ? "2M" : "1G");
		}
		break;
	}
	}
}

/* Table 25-9: a valid EPTP, or one of the ways the VM-entry checks reject one. */
static void make_eptp(struct ept_plan *p)
{
	uint64_t c = caps.ept_vpid, pml4 = pa(table(T_PML4));
	uint64_t mt = (c & EPT_CAP_WB) && (!(c & EPT_CAP_UC) || ebelow(4)) ? MT_WB : MT_UC;
	uint64_t ad = (c & EPT_CAP_AD) && ebelow(2) ? EPTP_AD : 0;
	unsigned how = ebelow(16);     /* 12..15: broken (a quarter) */

	p->eptp_valid = true;
	if (ebelow(8) == 0) {
		static const char *const what[] = { "empty", "APIC", "above-RAM" };
		unsigned t = ebelow(3);

		pml4 = t == 0 ? pa(table(T_ZERO)) : t == 1 ? apic_table() : above_ram();
		describe(p, " EPTP.pml4->%s%s", what[t],
			 t == 1 && bare_metal_bochs ? "(bare Bochs: above-RAM)" : "");
		if (t)
			p->identity = false;
		p->pristine = false;
	}
	p->eptp = pml4 | EPTP_MEMTYPE(mt) | EPTP_WALK4 | ad;
	if (how == 12) {                /* a memory type the EPTP may not have */
		static const uint8_t bad[] = { 1, 2, 3, 4, 5, 7 };
		uint64_t t = bad[ebelow(sizeof(bad))];

		if (!(c & EPT_CAP_UC) && ebelow(4) == 0)
			t = MT_UC;
		p->eptp = (p->eptp & ~7ull) | t;
		describe(p, " EPTP.mt=%llu", U64(t));
		p->eptp_valid = false;
	} else if (how == 13) {         /* a walk length other than 4 (or 5 where offered) */
		unsigned len;

		do
			len = 1 + ebelow(8);
		while (len == 4 || (len == 5 && (c & EPT_CAP_WALK5)));
		p->eptp = (p->eptp & ~EPTP_WALK_MASK) | EPTP_WALK(len);
		describe(p, " EPTP.walk=%u", len);
		p->eptp_valid = false;
	} else if (how == 14) {         /* reserved bits 11:7 (7 is SSS where offered) */
		unsigned bit = 7 + ebelow(5);

		if (bit == 7 && (c & EPT_CAP_SSS))
			bit = 8;
		p->eptp |= 1ull << bit;
		describe(p, " EPTP.bit%u", bit);
		p->eptp_valid = false;
	} else if (how == 15 && caps.maxphyaddr < 52) { /* beyond the physical-address width */
		p->eptp |= high_reserved_bit();
		describe(p, " EPTP.beyond-width");
		p->eptp_valid = false;
	}
	if ((p->eptp & EPTP_AD) && !(c & EPT_CAP_AD))
		p->eptp_valid = false;
	describe(p, " eptp=0x%llx", U64(p->eptp));
}

bool ept_plan_make(uint32_t seed, unsigned n, const uint64_t box_gpa[BOX_PAGES], struct ept_plan *p)
{
	unsigned mutations;

	erng = ((uint64_t)seed << 32 | n) ^ 0x5EED0E9700000000ull;
	if (!ept_fuzz_offered() || ebelow(EPT_EVERY) != 0)
		return false;
	memset(p, 0, sizeof(*p));
	desc_len = 0;
	p->pure = ebelow(2);
	p->identity = true;
	/* xAPIC registers end at offset 0x3F0 (SDM Vol. 3A, Table 11-1): an entry
	 * read there by a box walk is a reserved register. */
	apic_safe = true;
	for (unsigned j = 0; j < BOX_PAGES; j++)
		apic_safe = apic_safe && 8 * EPT_INDEX(box_gpa[j], 1) >= 0x400 &&
			    EPT_INDEX(box_gpa[j], 2) == 0 && EPT_INDEX(box_gpa[j], 3) == 0 &&
			    EPT_INDEX(box_gpa[j], 4) == 0;
	mutations = p->pure ? ebelow(MAX_MUTATIONS + 1) : 1 + ebelow(MAX_MUTATIONS - 1);
	p->pristine = mutations == 0;
	describe(p, " EPT(%s)", p->pure ? "pure" : "mixed");
	build_identity(box_gpa);
	for (unsigned m = 0; m < mutations; m++)
		mutate(p, box_gpa);
	make_eptp(p);
	if (can_set_proc2(PROC2_ENABLE_VPID) && ebelow(3) == 0) {
		p->vpid = true;
		p->vpid_value = ebelow(8) == 0 ? 0 : (uint16_t)(1 + ebelow(0xFFFF));
		describe(p, " VPID=%u", p->vpid_value);
	}
	if (can_set_proc2(PROC2_UNRESTRICTED_GUEST) && ebelow(3) == 0) {
		p->ug = true;
		describe(p, " UG");
	}
	ept_flush();
	return true;
}

/* ---- The GPA oracle ---------------------------------------------------------- */

#define PTE_P           (1ull << 0)
#define PTE_PS          (1ull << 7)

enum walk_end { WALK_DONE, WALK_NOT_PRESENT, WALK_UNREADABLE };

/* L2's 4-level walk of `linear` as L1 reads its tables: the addresses of the
 * entries it reads (up to 4) and, if it completes, the translation. */
static enum walk_end l2_walk(uint64_t cr3, uint64_t linear, bool (*readable)(uint64_t),
			     uint64_t entries[4], unsigned *count, uint64_t *final)
{
	uint64_t addr = ((1ull << caps.maxphyaddr) - 1) & ~0xFFFull;
	uint64_t t = cr3 & addr;

	*count = 0;
	for (unsigned level = 4; level >= 1; level--) {
		uint64_t at = t + 8 * EPT_INDEX(linear, level), e;

		entries[(*count)++] = at;
		if (!readable(at))
			return WALK_UNREADABLE;
		e = *(volatile uint64_t *)(uintptr_t)at;
		if (!(e & PTE_P))
			return WALK_NOT_PRESENT;
		if ((level == 3 || level == 2) && (e & PTE_PS)) {
			uint64_t size = level == 3 ? EPT_PAGE_1G : EPT_PAGE_2M;

			*final = (e & addr & ~(size - 1)) | (linear & (size - 1));
			return WALK_DONE;
		}
		t = e & addr;
	}
	*final = t | (linear & 0xFFF);
	return WALK_DONE;
}

enum gpa_verdict ept_gpa_check(uint64_t cr3, uint64_t linear, uint64_t qual, uint64_t gpa,
			       bool (*readable)(uint64_t), char *why, size_t n)
{
	uint64_t entries[4], final = 0;
	unsigned count;
	enum walk_end end;

	/* Table 28-7: bit 7, the guest-linear address field is valid; bit 8, the
	 * access was to the translation of that linear address, not to one of
	 * the paging-structure entries used to translate it. */
	if (!(qual & EPT_QUAL_GLA_VALID))
		return GPA_UNKNOWN;
	end = l2_walk(cr3, linear, readable, entries, &count, &final);
	if (qual & EPT_QUAL_TRANSLATED) {
		if (end == WALK_UNREADABLE)
			return GPA_UNKNOWN;
		if (end == WALK_DONE && gpa == final)
			return GPA_RIGHT;
		nv_snprintf(why, n, "linear 0x%llx translates to 0x%llx (%s), got 0x%llx", U64(linear),
			    U64(final), end == WALK_DONE ? "walk complete" : "walk NOT complete",
			    U64(gpa));
		return GPA_WRONG;
	}
	for (unsigned i = 0; i < count; i++)
		if (gpa == entries[i])
			return GPA_RIGHT;
	if (end == WALK_UNREADABLE)
		return GPA_UNKNOWN;
	nv_snprintf(why, n, "a paging-structure entry of linear 0x%llx (0x%llx 0x%llx 0x%llx 0x%llx, "
		    "%u read), got 0x%llx", U64(linear), U64(entries[0]), U64(count > 1 ? entries[1] : 0),
		    U64(count > 2 ? entries[2] : 0), U64(count > 3 ? entries[3] : 0), count, U64(gpa));
	return GPA_WRONG;
}
