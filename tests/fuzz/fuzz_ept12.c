/* SPDX-License-Identifier: MIT */
/*
 * ept/ept12.c: L1's EPT walked on fuzzed tables (ept12_mem.h: L1 memory from
 * the input), for random EPTPs, capabilities, addresses and accesses, with
 * A/D updates that fail on demand. Invariants:
 *  - an EPTP ept12_eptp_check accepts satisfies SDM 26.2.1.1 (memory type
 *    the capabilities allow, 4-level walk, A/D only with the capability,
 *    bits 11:7 and beyond the width clear);
 *  - the walk terminates: at most 4 tries of 4 reads, bounded A/D updates,
 *    every update only setting accessed/dirty flags;
 *  - its status, level, entry address, permissions (the AND of every entry
 *    used, so a subset of each), translation, page size, memory type and
 *    misconfiguration cause agree with the reference walk (ept12_mem.h); A/D
 *    updates that keep failing give EPT12_AD_RACE;
 *  - a successful walk with A/D on leaves the accessed flag in every entry
 *    used and the dirty flag in the leaf for a write (and reports that leaf);
 *    any other walk changes nothing (ept12.h);
 *  - an EPT violation's exit qualification (Table 28-7): bits 2:0 the
 *    access, 5:3 the permissions, 7/8 from the linear-address flag.
 */
#include "ept12_mem.h"

/* The A/D updates an OK walk with A/D on makes: the count of entries it changes. */
static unsigned ref_ad_updates(const struct ref_walk *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->path_len; i++) {
		bool last = i + 1 == r->path_len;
		uint64_t want = r->path_val[i] | EPT_ACCESSED |
				(last && (r->need & EPT_W) ? EPT_DIRTY : 0);

		n += want != r->path_val[i];
	}
	return n;
}

/* Does the path use one entry at two levels? */
static bool ref_path_repeats(const struct ref_walk *r)
{
	for (unsigned i = 0; i < r->path_len; i++)
		for (unsigned j = 0; j < i; j++)
			if (r->path_gpa[i] == r->path_gpa[j])
				return true;
	return false;
}

static bool ref_eptp_ok(uint64_t eptp, const struct ept12_caps *c)
{
	unsigned mt = eptp & 7;

	return ((mt == 0 && c->mt_uc) || (mt == 6 && c->mt_wb)) && (eptp >> 3 & 7) == 3 &&
	       (!(eptp >> 6 & 1) || c->ad) && !(eptp & 0xf80) && !(eptp >> c->maxphyaddr);
}

static void check_walk(const struct ept12_mmu *m, uint64_t gpa, unsigned access, unsigned cas)
{
	struct ref_walk r = ref_ept12_walk(m->eptp, &m->caps, gpa, access);
	bool ad = m->eptp & EPTP_AD_ENABLE;
	struct ept12_walk w;
	enum ept12_status want = r.status;

	l1_log.reads = l1_log.writes = l1_log.stores = 0;
	l1_log.cas_failures = cas;
	if (want == EPT12_OK && ad && ref_ad_updates(&r) && cas >= 4)
		want = EPT12_AD_RACE;
	ept12_walk(m, gpa, access, &w);
	/* An entry used twice in one path (a table referencing itself) makes the
	 * walk's own first A/D update stale for the second use: a retry, which
	 * failing updates may turn into EPT12_AD_RACE. */
	if (want == EPT12_OK && ad && ref_path_repeats(&r) && w.status == EPT12_AD_RACE)
		want = EPT12_AD_RACE;

	INVARIANT(l1_log.reads <= 16 && l1_log.writes <= 16, "%u reads, %u A/D updates",
		  l1_log.reads, l1_log.writes);
	INVARIANT(w.status == want, "gpa 0x%llx access 0x%x: status %d, the SDM says %d (level %u)",
		  (unsigned long long)gpa, access, w.status, want, r.level);
	INVARIANT(w.access == access && w.need == r.need, "access 0x%x need 0x%llx, want 0x%llx",
		  w.access, (unsigned long long)w.need, (unsigned long long)r.need);
	INVARIANT(w.level == r.level && w.entry_gpa == r.entry_gpa,
		  "ended at level %u entry 0x%llx, the SDM says level %u entry 0x%llx", w.level,
		  (unsigned long long)w.entry_gpa, r.level, (unsigned long long)r.entry_gpa);
	if (w.status == EPT12_MISCONFIG)
		INVARIANT(w.why != EPT12_MC_NONE && (r.causes >> w.why & 1),
			  "misconfiguration %s, the SDM's causes 0x%x", ept12_misconfig_name(w.why),
			  r.causes);
	if (w.status == EPT12_OK || w.status == EPT12_VIOLATION) {
		INVARIANT(w.perms == r.perms, "permissions 0x%llx, the SDM says 0x%llx",
			  (unsigned long long)w.perms, (unsigned long long)r.perms);
		/* A subset of every entry's the walk read. */
		for (unsigned i = 0; i < l1_log.reads && i < 64; i++)
			if (l1_slot(l1_log.read_gpa[i]))
				INVARIANT(!(w.perms & ~l1_log.read_val[i] & 7),
					  "permissions 0x%llx beyond entry 0x%llx",
					  (unsigned long long)w.perms,
					  (unsigned long long)l1_log.read_val[i]);
	}
	if (w.status == EPT12_OK) {
		uint64_t leaf = r.leaf_val | (ad ? EPT_ACCESSED | (r.need & EPT_W ? EPT_DIRTY : 0) : 0);

		INVARIANT(w.l1_gpa == r.l1_gpa && w.page_size == r.page_size &&
				  w.memtype == r.memtype && w.ignore_pat == !!(r.leaf_val & EPT_IGNORE_PAT),
			  "gpa 0x%llx -> 0x%llx (%llx), the SDM says 0x%llx (%llx)",
			  (unsigned long long)gpa, (unsigned long long)w.l1_gpa,
			  (unsigned long long)w.page_size, (unsigned long long)r.l1_gpa,
			  (unsigned long long)r.page_size);
		INVARIANT(w.leaf == leaf && w.entry == leaf, "leaf 0x%llx, want 0x%llx",
			  (unsigned long long)w.leaf, (unsigned long long)leaf);
		INVARIANT(!(w.need & ~w.perms), "granted 0x%llx of 0x%llx",
			  (unsigned long long)w.perms, (unsigned long long)w.need);
	}
	if (w.status == EPT12_VIOLATION) {
		bool gla = access & 0x80;
		uint64_t q = ept12_violation_qual(&w, gla);

		INVARIANT((q & 7) == r.need && (q >> 3 & 7) == r.perms && !!(q >> 7 & 1) == gla &&
				  !!(q >> 8 & 1) == (gla && !(access & EPT12_ACC_PAGING)) && !(q >> 9),
			  "qualification 0x%llx for need 0x%llx perms 0x%llx", (unsigned long long)q,
			  (unsigned long long)r.need, (unsigned long long)r.perms);
	}

	/* A/D: only a walk with A/D on that found a translation changes memory (L1
	 * memory changes only through the A/D updates, which check and log what they
	 * do): an OK one exactly the flags of its entries (an entry used at two levels
	 * of a self-referencing table gets both), one that gave up on them
	 * (EPT12_AD_RACE) some of those; every other walk nothing (ept12.h). */
	if (!ad || (w.status != EPT12_OK && w.status != EPT12_AD_RACE)) {
		INVARIANT(l1_log.stores == 0, "a walk with status %d (A/D %s) changed %u entries",
			  w.status, ad ? "on" : "off", l1_log.stores);
		return;
	}
	for (unsigned i = 0; i < l1_log.stores && i < 64; i++) {
		bool on_path = false;

		for (unsigned j = 0; j < r.path_len; j++)
			on_path |= l1_log.store_gpa[i] == r.path_gpa[j];
		INVARIANT(on_path, "A/D update of 0x%llx, not an entry of the walk",
			  (unsigned long long)l1_log.store_gpa[i]);
	}
	for (unsigned i = 0; i < r.path_len; i++) {
		uint64_t most = r.path_val[i], now = *l1_slot(r.path_gpa[i]);

		for (unsigned j = 0; j < r.path_len; j++)
			if (r.path_gpa[j] == r.path_gpa[i])
				most |= EPT_ACCESSED |
					(j + 1 == r.path_len && (r.need & EPT_W) ? EPT_DIRTY : 0);
		if (w.status == EPT12_OK)
			INVARIANT(now == most, "level %u entry 0x%llx -> 0x%llx, want 0x%llx", 4 - i,
				  (unsigned long long)r.path_val[i], (unsigned long long)now,
				  (unsigned long long)most);
		else
			INVARIANT(!(r.path_val[i] & ~now) && !(now & ~most),
				  "after EPT12_AD_RACE, level %u entry 0x%llx is 0x%llx", 4 - i,
				  (unsigned long long)r.path_val[i], (unsigned long long)now);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned flags = (unsigned)take(&in, 1);
	struct ept12_mmu m = { .ops = { l1_read_entry, l1_write_entry, NULL } };

	m.caps = l1_caps_from(&in);
	m.eptp = flags & 1 ? take(&in, 8) : l1_page((unsigned)take(&in, 1)) | take(&in, 2) % 0x1000;
	INVARIANT(!ept12_eptp_valid(m.eptp, &m.caps) || ref_eptp_ok(m.eptp, &m.caps),
		  "EPTP 0x%llx accepted", (unsigned long long)m.eptp);
	INVARIANT(!ept12_eptp_check(m.eptp, &m.caps) == ept12_eptp_valid(m.eptp, &m.caps),
		  "eptp_check and eptp_valid differ");
	if (!ept12_eptp_valid(m.eptp, &m.caps))
		return 0;
	l1_mem_from(&in);
	for (unsigned n = 0; n < 8 && !fuzz_in_done(&in); n++) {
		uint64_t gpa = take(&in, 8);
		unsigned access = (unsigned)take(&in, 1), cas = (unsigned)take(&in, 1) % 6;

		check_walk(&m, gpa, access & 0x8f, cas);
	}
	return 0;
}
