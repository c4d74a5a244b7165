/* SPDX-License-Identifier: MIT */
/*
 * vmx/task_switch.c: L1's hardware task switches, with L1 choosing the GDT,
 * LDT, both TSSs, TR and LDTR, the selector and what started the switch. The
 * engine runs over 64 KiB of modelled guest memory at linear 0 (beyond it:
 * TS_MEM_ABORT; a page-faulting range; a write-protected range whose writes
 * fault). Invariants, from SDM Vol. 3A, 7.3 "Task Switching", 7.4 "Task
 * Linking", Table 7-1, and Vol. 3C, 26.3.1.2 "Checks on Guest Segment
 * Registers" (the VM-entry checks the result must pass when L0 writes it back):
 *  - every access is 1..0x68 bytes inside a structure the CPU would touch: the
 *    GDT within GDTR's limit, the old or new LDT within its limit, the old TSS
 *    within TR's limit, the new TSS within its descriptor's limit, the new stack
 *    within SS's limit (the error code push); reads only at offsets the CPU
 *    reads (descriptors 8-aligned in their table);
 *  - the outcome is one of the five; TS_ABORT names the address the memory
 *    refused; faults are #TS/#NP/#SS/#GP with the selector error code
 *    (index, TI, EXT) or 0, or the memory's #PF as it was given;
 *  - before the commit point the state is exactly the input's; the writes made
 *    are, in order, a prefix of: the old TSS's dynamic fields (EIP = the
 *    request's, EFLAGS with NT cleared for IRET, the GPRs, the selectors, the
 *    reserved halves kept), the old TSS descriptor's type byte with busy clear
 *    (JMP, IRET), the back link = old TR (CALL, gate), the new TSS descriptor's
 *    type byte with busy set (CALL, JMP, gate; unless busy already);
 *  - TS_DONE or committed only if the new TSS is a present 32-bit TSS in the
 *    GDT, busy exactly for IRET, limit >= 0x67, the old one a busy 32-bit TSS
 *    with limit >= 0x5f; then TR is the new TSS (busy, the descriptor's base
 *    and limit) and CR0.TS is set; after it, only accessed-flag writes (a
 *    present code/data descriptor's type byte gaining bit 0) and one error
 *    code push (the request's code, at SS.base + the new ESP, last);
 *  - TS_DONE: EIP, the GPRs (ESP less the push), the selectors, LDTR, CR3 (with
 *    paging), the T flag, EFLAGS (loadable bits, bit 1, NT for CALL/gate) are
 *    the new TSS's; the state passes the VM-entry checks a protected-mode guest
 *    without unrestricted guest must pass (CS/SS types, S, P, DPLs, RPLs,
 *    accessed, G and limit, TR busy TSS, LDTR an LDT, virtual-8086 segments),
 *    and each loaded descriptor cache is what its descriptor in memory says;
 *  - committed faults from an input state L0's VM entry accepts (unrestricted
 *    guest, as L1 runs) leave a state it accepts too (CS.DPL and SS.DPL agree
 *    whichever of them were loaded).
 *
 * Input: see struct hdr; then memory patches (addr16, len8, bytes) to the end.
 */
#include "fuzz.h"

#include "vmx/task_switch.h"

/* The engine, #included (fuzz.mk: FUZZ_DEPS) so that its static helpers are this file's. */
#include "vmx/task_switch.c"

#define MEM 0x10000u

static uint8_t mem[MEM], mem0[MEM];

struct hdr {
	uint8_t flags;          /* 0 PG, 1 CR3 load ok, 2 EXT, 3 push error, 5:4 source,
				 * 6 old segments as given (else a valid ring-cpl task), 7 V86 old task */
	uint8_t cpl;            /* the old task's CPL (bits 1:0) */
	uint16_t selector;
	uint32_t old_eip, error_code, eflags;
	uint16_t gdt_base, gdt_limit;
	uint16_t tr_sel, tr_base, tr_limit;
	uint8_t tr_type;        /* bits 3:0 the type, bit 4 not present, bit 5 S */
	uint16_t ldt_sel, ldt_base, ldt_limit;
	uint8_t ldt_usable;
	uint16_t pf_lo, pf_len, wp_lo, wp_len;
	uint16_t seg_sel[6];
	uint32_t seg_ar[6];
} __attribute__((packed));

static struct hdr h;

/* ---- The memory, with a log of every access. */
struct access {
	bool write;
	uint32_t la;
	unsigned len;
	uint8_t before[0x68], data[0x68];
	enum ts_mem_status st;
};

#define MAXLOG 64
static struct access acc[MAXLOG];
static unsigned nacc;
static unsigned cr3_loads;
static uint32_t cr3_value;

FUZZ_NO_COVERAGE static bool in_range(uint32_t la, unsigned len, uint32_t lo, uint32_t n)
{
	return (uint64_t)la + len > lo && la < (uint64_t)lo + n;
}

static enum ts_mem_status mem_access(uint32_t la, void *buf, unsigned len, bool write,
				     struct ts_fault *f)
{
	struct access *a;

	INVARIANT(len >= 1 && len <= 0x68, "an access of %u bytes at 0x%x", len, la);
	INVARIANT(nacc < MAXLOG, "more than %u accesses", MAXLOG);
	a = &acc[nacc++];
	*a = (struct access){ .write = write, .la = la, .len = len };
	if ((uint64_t)la + len > MEM)
		return a->st = TS_MEM_ABORT;
	memcpy(a->before, mem + la, len);
	if (write)
		memcpy(a->data, buf, len);
	if (in_range(la, len, h.pf_lo, h.pf_len) || (write && in_range(la, len, h.wp_lo, h.wp_len))) {
		*f = (struct ts_fault){ .vector = 14, .has_error = true, .error_code = write ? 3 : 1,
					.cr2 = la < h.pf_lo ? h.pf_lo : la };
		return a->st = TS_MEM_FAULT;
	}
	if (write) {
		memcpy(mem + la, buf, len);
	} else {
		memcpy(buf, mem + la, len);
	}
	return a->st = TS_MEM_OK;
}

static enum ts_mem_status mem_read(void *ctx, uint32_t la, void *buf, unsigned len,
				   struct ts_fault *f)
{
	return mem_access(la, buf, len, false, f);
}

static enum ts_mem_status mem_write(void *ctx, uint32_t la, const void *buf, unsigned len,
				    struct ts_fault *f)
{
	return mem_access(la, (void *)buf, len, true, f);
}

static bool load_cr3(void *ctx, uint32_t cr3)
{
	cr3_loads++;
	cr3_value = cr3;
	return h.flags & 2;
}

/* ---- Descriptors as the SDM lays them out (Vol. 3A, 3.4.5, Figure 3-8). */
struct d {
	uint32_t base, limit, ar;   /* ar in the VMCS format */
	unsigned type, dpl;
	bool s, p;
};

FUZZ_NO_COVERAGE static uint32_t m32(const uint8_t *m, uint32_t a)
{
	return m[a] | m[a + 1] << 8 | m[a + 2] << 16 | (uint32_t)m[a + 3] << 24;
}

FUZZ_NO_COVERAGE static uint16_t m16(const uint8_t *m, uint32_t a)
{
	return (uint16_t)(m[a] | m[a + 1] << 8);
}

FUZZ_NO_COVERAGE static struct d ref_desc(const uint8_t *m, uint32_t a)
{
	struct d d = { 0 };
	uint8_t acc_byte = m[a + 5], fl = m[a + 6];

	d.base = m16(m, a + 2) | (uint32_t)m[a + 4] << 16 | (uint32_t)m[a + 7] << 24;
	d.limit = m16(m, a) | (uint32_t)(fl & 0xf) << 16;
	if (fl & 0x80)
		d.limit = d.limit << 12 | 0xfff;
	d.ar = acc_byte | (uint32_t)(fl & 0xf0) << 8;
	d.type = acc_byte & 0xf, d.s = acc_byte & 0x10, d.dpl = acc_byte >> 5 & 3,
	d.p = acc_byte & 0x80;
	return d;
}

/* Where the descriptor of sel lies in a table [base, base + limit]; false if beyond. */
FUZZ_NO_COVERAGE static bool ref_slot(uint32_t base, uint32_t limit, uint16_t sel, uint32_t *a)
{
	if ((uint32_t)(sel | 7) > limit)
		return false;
	*a = base + (sel & 0xfff8u);
	return *a + 8 <= MEM && *a >= base;
}

/* ---- The VM-entry checks on the result (SDM Vol. 3C, 26.3.1.2). */

FUZZ_NO_COVERAGE static bool g_ok(uint32_t limit, uint32_t ar)
{
	if ((limit & 0xfff) != 0xfff && (ar & TS_AR_G))
		return false;
	if ((limit >> 20) && !(ar & TS_AR_G))
		return false;
	return !(ar & 0xf00) && !(ar >> 17);
}

/* Which check fails, or NULL. ug: L0's unrestricted guest (no RPL/DPL checks). */
FUZZ_NO_COVERAGE static const char *entry_check(const struct ts_state *s, bool ug)
{
	const struct ts_seg *cs = &s->seg[TS_CS], *ss = &s->seg[TS_SS];
	const struct ts_seg *tr = &s->seg[TS_TR], *ldtr = &s->seg[TS_LDTR];
	unsigned cst = cs->ar & 0xf, csdpl = cs->ar >> 5 & 3, ssdpl = ss->ar >> 5 & 3;

	if (s->eflags & ~0x3f7fd7u || !(s->eflags & 2))
		return "RFLAGS reserved bits";
	if ((tr->sel & 4) || (tr->ar & TS_AR_UNUSABLE) || (tr->ar & 0xf) != TS_TYPE_TSS32_BUSY ||
	    (tr->ar & TS_AR_S) || !(tr->ar & TS_AR_P) || !g_ok(tr->limit, tr->ar))
		return "TR";
	if (!(ldtr->ar & TS_AR_UNUSABLE) &&
	    ((ldtr->sel & 4) || (ldtr->ar & 0xf) != TS_TYPE_LDT || (ldtr->ar & TS_AR_S) ||
	     !(ldtr->ar & TS_AR_P) || !g_ok(ldtr->limit, ldtr->ar)))
		return "LDTR";
	if (s->eflags & TS_EFLAGS_VM) {
		for (int i = TS_ES; i <= TS_GS; i++)
			if (s->seg[i].base != (uint32_t)s->seg[i].sel << 4 || s->seg[i].limit != 0xffff ||
			    s->seg[i].ar != 0xf3)
				return "a virtual-8086 segment";
		return NULL;
	}
	if (cs->ar & TS_AR_UNUSABLE || (cst != 9 && cst != 11 && cst != 13 && cst != 15) ||
	    !(cs->ar & TS_AR_S) || !(cs->ar & TS_AR_P) || !g_ok(cs->limit, cs->ar))
		return "CS type, S, P, G";
	if (cst & 4 ? csdpl > ssdpl : csdpl != ssdpl)
		return "CS.DPL against SS.DPL";
	if (!(ss->ar & TS_AR_UNUSABLE) &&
	    (((ss->ar & 0xf) != 3 && (ss->ar & 0xf) != 7) || !(ss->ar & TS_AR_S) ||
	     !(ss->ar & TS_AR_P) || !g_ok(ss->limit, ss->ar)))
		return "SS type, S, P, G";
	if (!ug && ((ss->sel & 3) != (cs->sel & 3) || ssdpl != (ss->sel & 3u)))
		return "SS/CS RPL, SS.DPL";
	for (int i = TS_ES; i <= TS_GS; i++) {
		const struct ts_seg *g = &s->seg[i];
		unsigned t = g->ar & 0xf;

		if (i == TS_CS || i == TS_SS || (g->ar & TS_AR_UNUSABLE))
			continue;
		if (!(t & 1) || ((t & 8) && !(t & 2)) || !(g->ar & TS_AR_S) || !(g->ar & TS_AR_P) ||
		    !g_ok(g->limit, g->ar))
			return "data segment type, S, P, G";
		if (!ug && t < 12 && (g->ar >> 5 & 3) < (g->sel & 3u))
			return "data segment DPL below RPL";
	}
	return NULL;
}

/* ---- The input state. */

static void make_state(struct ts_state *s, struct fuzz_in *in)
{
	unsigned cpl = h.cpl & 3;
	uint64_t x = take(in, 8);

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 8; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		s->gpr[i] = (uint32_t)(x >> 32);
	}
	s->eip = 0x1000;
	s->eflags = (h.eflags & 0x3f7fd5u & ~TS_EFLAGS_VM) | 2;
	s->cr0 = 0x11 | (h.flags & 1 ? TS_CR0_PG : 0);
	s->cr3 = 0x7000;
	s->gdtr_base = h.gdt_base;
	s->gdtr_limit = h.gdt_limit;
	for (int i = TS_ES; i <= TS_GS; i++) {
		if (h.flags & 0x40) {
			s->seg[i] = (struct ts_seg){ h.seg_sel[i], 0, 0xffffffff, h.seg_ar[i] & 0x1f0ff };
		} else if (h.flags & 0x80) {
			s->eflags |= TS_EFLAGS_VM;
			s->seg[i] = (struct ts_seg){ h.seg_sel[i], (uint32_t)h.seg_sel[i] << 4, 0xffff, 0xf3 };
		} else {
			/* Flat ring-cpl segments (the selectors as given, RPL the CPL). */
			uint32_t ar = (i == TS_CS ? 0xc09b : 0xc093) | cpl << 5;

			s->seg[i] = (struct ts_seg){ (uint16_t)((h.seg_sel[i] & ~3u) | cpl), 0, 0xffffffff, ar };
		}
	}
	s->seg[TS_LDTR] = h.ldt_usable & 1
		? (struct ts_seg){ h.ldt_sel, h.ldt_base, h.ldt_limit, 0x82 }
		: (struct ts_seg){ h.ldt_sel, 0, 0, TS_AR_UNUSABLE };
	s->seg[TS_TR] = (struct ts_seg){ h.tr_sel, h.tr_base, h.tr_limit,
					 (h.tr_type & 0xf) | (h.tr_type & 0x20 ? TS_AR_S : 0) |
						 (h.tr_type & 0x10 ? 0 : TS_AR_P) };
}

/* ---- Checking one switch. */

struct allowed {
	uint32_t base, limit;       /* [base, base + limit] */
	const char *what;
};

FUZZ_NO_COVERAGE static bool inside(const struct allowed *r, uint32_t la, unsigned len)
{
	uint32_t off = la - r->base;

	return off <= r->limit && len - 1 <= r->limit - off;
}

FUZZ_NO_COVERAGE static void check_accesses(const struct ts_state *in, const struct ts_state *out,
					    const struct ts_request *r, uint32_t new_base,
					    uint32_t new_limit)
{
	struct allowed rs[6];
	unsigned n = 0;

	rs[n++] = (struct allowed){ in->gdtr_base, in->gdtr_limit, "GDT" };
	if (!(in->seg[TS_LDTR].ar & TS_AR_UNUSABLE))
		rs[n++] = (struct allowed){ in->seg[TS_LDTR].base, in->seg[TS_LDTR].limit, "old LDT" };
	if (!(out->seg[TS_LDTR].ar & TS_AR_UNUSABLE))
		rs[n++] = (struct allowed){ out->seg[TS_LDTR].base, out->seg[TS_LDTR].limit, "new LDT" };
	rs[n++] = (struct allowed){ in->seg[TS_TR].base, in->seg[TS_TR].limit, "old TSS" };
	rs[n++] = (struct allowed){ new_base, new_limit, "new TSS" };
	for (unsigned i = 0; i < nacc; i++) {
		const struct access *a = &acc[i];
		bool ok = false;

		for (unsigned k = 0; k < n && !ok; k++)
			ok = inside(&rs[k], a->la, a->len);
		/* The error code push: 4 bytes within the new SS (checked below). */
		if (!ok && a->write && a->len == 4 && r->push_error && i == nacc - 1)
			ok = true;
		INVARIANT(ok, "access %u (%s of %u bytes at 0x%x) outside the GDT, LDTs and TSSs", i,
			  a->write ? "write" : "read", a->len, a->la);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct ts_state s, s0;
	struct ts_request r;
	struct ts_result res;
	const struct ts_mem m = { NULL, mem_read, mem_write, load_cr3 };
	enum ts_source src;
	bool nesting, unnest, pre_ok = true;
	uint32_t nla = 0, ola = 0, new_base = 0, new_limit = 0;
	struct d nd = { 0 };
	const char *bad0;

	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < sizeof(h); i++)
		((uint8_t *)&h)[i] = (uint8_t)take(&in, 1);
	make_state(&s, &in);
	memset(mem, 0, sizeof(mem));
	while (!fuzz_in_done(&in)) {
		uint32_t a = (uint32_t)take(&in, 2), len = (uint32_t)take(&in, 1);

		for (uint32_t i = 0; i < len && !fuzz_in_done(&in); i++)
			mem[(a + i) % MEM] = (uint8_t)take(&in, 1);
	}
	memcpy(mem0, mem, MEM);
	src = (enum ts_source)(h.flags >> 4 & 3);
	r = (struct ts_request){ .source = src, .selector = h.selector, .old_eip = h.old_eip,
				 .ext = h.flags & 4, .push_error = h.flags & 8,
				 .error_code = h.error_code };
	nesting = src == TS_SRC_CALL || src == TS_SRC_IDT_GATE;
	unnest = !nesting;
	s0 = s;
	bad0 = entry_check(&s0, true);
	nacc = 0, cr3_loads = 0;

	res = task_switch(&s, &r, &m);

	INVARIANT(res.outcome == TS_DONE || res.outcome == TS_FAULT || res.outcome == TS_UNSUPPORTED ||
		  res.outcome == TS_ABORT || res.outcome == TS_UNREPRESENTABLE, "outcome %d",
		  res.outcome);
	/* Only a switch out of virtual-8086 mode whose SS or CS fails after the commit point. */
	if (res.outcome == TS_UNREPRESENTABLE)
		INVARIANT(res.committed && (s0.eflags & TS_EFLAGS_VM) && !(s.eflags & TS_EFLAGS_VM),
			  "UNREPRESENTABLE (%s), old EFLAGS 0x%x, new 0x%x", res.why, s0.eflags,
			  s.eflags);
	INVARIANT(res.why || res.outcome == TS_DONE, "outcome %d without why", res.outcome);
	if (res.outcome == TS_ABORT)
		INVARIANT(nacc && acc[nacc - 1].st == TS_MEM_ABORT && acc[nacc - 1].la == res.abort_la,
			  "TS_ABORT at 0x%x, not the refused access", res.abort_la);
	for (unsigned i = 0; i + 1 < nacc; i++)
		INVARIANT(acc[i].st == TS_MEM_OK, "access %u refused (%d), the switch went on", i,
			  acc[i].st);
	if (res.outcome == TS_FAULT) {
		const struct ts_fault *f = &res.fault;
		bool from_mem = nacc && acc[nacc - 1].st == TS_MEM_FAULT;

		if (from_mem) {
			INVARIANT(f->vector == 14 && f->has_error, "memory fault passed as vector %u",
				  f->vector);
		} else {
			INVARIANT(f->vector == 10 || f->vector == 11 || f->vector == 12 || f->vector == 13,
				  "vector %u (%s)", f->vector, res.why);
			INVARIANT(f->has_error && (f->error_code == 0 || (f->error_code & 3) == (r.ext ? 1u : 0u)),
				  "error code 0x%x (%s)", f->error_code, res.why);
			INVARIANT(f->error_code >> 16 == 0, "error code 0x%x", f->error_code);
		}
	}
	if (res.outcome == TS_UNSUPPORTED)
		INVARIANT(!res.committed && nacc <= 2 && !acc[0].write, "UNSUPPORTED after %u accesses",
			  nacc);

	/* What the CPU checked before the commit point (in the memory as it was). */
	if (!(h.selector & 4) && ref_slot(s0.gdtr_base, s0.gdtr_limit, h.selector, &nla)) {
		nd = ref_desc(mem0, nla);
		new_base = nd.base, new_limit = nd.limit;
	} else {
		pre_ok = false;
	}
	pre_ok = pre_ok && !nd.s && (nd.type == 9 || nd.type == 11) && nd.p &&
		 !!(nd.type & 2) == (src == TS_SRC_IRET) && nd.limit >= 0x67 &&
		 (s0.seg[TS_TR].ar & 0xf) == 11 && s0.seg[TS_TR].limit >= 0x5f;
	if (unnest)
		pre_ok = pre_ok && !(s0.seg[TS_TR].sel & 4) &&
			 ref_slot(s0.gdtr_base, s0.gdtr_limit, s0.seg[TS_TR].sel, &ola);
	if (res.outcome == TS_DONE || res.committed)
		INVARIANT(pre_ok, "committed (%s) with new TSS 0x%x type %u limit 0x%x, old type %u "
			  "limit 0x%x", res.why ? res.why : "done", h.selector, nd.type, nd.limit,
			  s0.seg[TS_TR].ar & 0xf, s0.seg[TS_TR].limit);
	check_accesses(&s0, &s, &r, new_base, new_limit);

	if (!res.committed) {
		INVARIANT(res.outcome != TS_DONE, "done, not committed");
		INVARIANT(!memcmp(&s, &s0, sizeof(s)), "the state changed before the commit point (%s)",
			  res.why);
		INVARIANT(!cr3_loads, "CR3 loaded before the commit point");
	}

	/* The writes before the commit point, in order. */
	if (pre_ok) {
		uint8_t save[0x40];
		unsigned w = 0;
		const struct access *wl[MAXLOG];
		uint32_t ef = s0.eflags & ~(src == TS_SRC_IRET ? TS_EFLAGS_NT : 0);
		uint32_t tb = s0.seg[TS_TR].base;

		for (unsigned i = 0; i < nacc; i++)
			if (acc[i].write)
				wl[w++] = &acc[i];
		memcpy(save, mem0 + (tb + 0x20 <= MEM - 0x40 ? tb + 0x20 : 0), 0x40);
		for (int i = 0; i < 4; i++) {
			save[i] = (uint8_t)(r.old_eip >> 8 * i);
			save[4 + i] = (uint8_t)(ef >> 8 * i);
			for (int g = 0; g < 8; g++)
				save[8 + 4 * g + i] = (uint8_t)(s0.gpr[g] >> 8 * i);
		}
		for (int i = 0; i < 6; i++)
			save[0x28 + 4 * i] = (uint8_t)s0.seg[i].sel,
			save[0x29 + 4 * i] = (uint8_t)(s0.seg[i].sel >> 8);
		unsigned k = 0;
		struct { uint32_t la; unsigned len; const uint8_t *data; } exp[4];
		uint8_t oldbyte = (uint8_t)((mem0[ola + 5] & 0xf0) | 9);
		uint8_t newbyte = (uint8_t)((mem0[nla + 5] & 0xf0) | 11);
		uint8_t link[2] = { (uint8_t)s0.seg[TS_TR].sel, (uint8_t)(s0.seg[TS_TR].sel >> 8) };
		unsigned nexp = 0;

		exp[nexp++] = (typeof(exp[0])){ tb + 0x20, 0x40, save };
		if (unnest)
			exp[nexp++] = (typeof(exp[0])){ ola + 5, 1, &oldbyte };
		if (nesting)
			exp[nexp++] = (typeof(exp[0])){ new_base, 2, link };
		if (!(nd.type & 2))
			exp[nexp++] = (typeof(exp[0])){ nla + 5, 1, &newbyte };
		for (k = 0; k < nexp && k < w; k++) {
			const struct access *a = wl[k];

			INVARIANT(a->la == exp[k].la && a->len == exp[k].len &&
				  (a->st != TS_MEM_OK || !memcmp(a->data, exp[k].data, a->len)),
				  "write %u: %u bytes at 0x%x, expected %u at 0x%x (source %d)", k, a->len,
				  a->la, exp[k].len, exp[k].la, src);
		}
		if (res.committed) {
			INVARIANT(w >= nexp, "committed after %u of %u writes", w, nexp);
		} else {
			INVARIANT(w <= nexp, "%u writes before the commit point", w);
		}
		/* After it: accessed flags, then at most the error code push, last. */
		for (; k < w; k++) {
			const struct access *a = wl[k];

			if (a->len == 1 && !(a->before[0] & 1) && (a->before[0] & 0x90) == 0x90 &&
			    a->data[0] == (a->before[0] | 1))
				continue;
			INVARIANT(r.push_error && a->len == 4 && a == &acc[nacc - 1] &&
				  (a->st == TS_MEM_ABORT || m32(a->data, 0) == r.error_code) &&
				  res.committed,
				  "write %u after the commit point: %u bytes at 0x%x", k, a->len, a->la);
			if (a->st == TS_MEM_OK && res.outcome == TS_DONE)
				INVARIANT(a->la == s.seg[TS_SS].base + (s.seg[TS_SS].ar & TS_AR_DB ? s.gpr[4] : s.gpr[4] & 0xffff),
					  "error code at 0x%x, SS:ESP 0x%x:0x%x", a->la, s.seg[TS_SS].base,
					  s.gpr[4]);
		}
	}

	if (res.committed) {
		const struct ts_seg *tr = &s.seg[TS_TR];

		INVARIANT(tr->sel == h.selector && tr->base == new_base && tr->limit == new_limit &&
			  (tr->ar & 0xf) == 11 && (s.cr0 & TS_CR0_TS),
			  "TR 0x%x base 0x%x limit 0x%x ar 0x%x, CR0 0x%x", tr->sel, tr->base, tr->limit,
			  tr->ar, s.cr0);
		/* The busy flags in memory (unless a later write covered them). */
		if (unnest && ola != nla)
			INVARIANT((mem[ola + 5] & 0xf) == 9 || (mem[ola + 5] & 0xf) == 11,
				  "old TSS descriptor type %u", mem[ola + 5] & 0xf);
	}
	/* A fault after the commit point leaves a state L0 can enter L1 with: across
	 * virtual-8086 mode too (found by this harness: the v86 caches are loaded
	 * before the LDT and CR3, and a switch out of v86 whose SS/CS fails is
	 * TS_UNREPRESENTABLE, not a state VM entry refuses). */
	if (res.committed && res.outcome == TS_FAULT && !bad0) {
		const char *bad = entry_check(&s, true);
		INVARIANT(!bad, "a committed fault (%s, vector %u) leaves a state VM entry refuses: %s "
			  "(EFLAGS 0x%x, CS 0x%x ar 0x%x, SS 0x%x ar 0x%x)", res.why, res.fault.vector,
			  bad, s.eflags, s.seg[TS_CS].sel, s.seg[TS_CS].ar, s.seg[TS_SS].sel,
			  s.seg[TS_SS].ar);
	}
	if (res.outcome == TS_DONE) {
		const uint8_t *t = mem0 + new_base;
		const char *bad = entry_check(&s, false);
		uint32_t ef = (m32(t, 0x24) & 0x3f7fd5u) | 2 | (nesting ? TS_EFLAGS_NT : 0);

		INVARIANT(new_base + 0x68 <= MEM, "new TSS at 0x%x", new_base);
		INVARIANT(!bad, "done, but VM entry would refuse the state: %s (EFLAGS 0x%x)", bad,
			  s.eflags);
		INVARIANT(s.eip == m32(t, 0x20) && s.eflags == ef && s.seg[TS_LDTR].sel == m16(t, 0x60) &&
			  res.debug_trap == (m16(t, 0x64) & 1),
			  "EIP 0x%x EFLAGS 0x%x LDTR 0x%x T %d; the TSS's 0x%x 0x%x 0x%x 0x%x", s.eip,
			  s.eflags, s.seg[TS_LDTR].sel, res.debug_trap, m32(t, 0x20), ef, m16(t, 0x60),
			  m16(t, 0x64));
		for (int g = 0; g < 8; g++)
			INVARIANT(s.gpr[g] == m32(t, 0x28 + 4 * g) || (g == 4 && r.push_error),
				  "GPR %d 0x%x, the TSS's 0x%x", g, s.gpr[g], m32(t, 0x28 + 4 * g));
		for (int i = TS_ES; i <= TS_GS; i++)
			INVARIANT(s.seg[i].sel == m16(t, 0x48 + 4 * i), "segment %d selector 0x%x, TSS 0x%x",
				  i, s.seg[i].sel, m16(t, 0x48 + 4 * i));
		INVARIANT(s.cr3 == (s0.cr0 & TS_CR0_PG ? m32(t, 0x1c) : s0.cr3), "CR3 0x%x", s.cr3);
		/* Each loaded cache is its descriptor (as memory has it now). */
		if (!(s.eflags & TS_EFLAGS_VM) && !r.push_error) {
			for (int i = TS_ES; i <= TS_LDTR; i++) {
				const struct ts_seg *g = &s.seg[i];
				uint32_t base = g->sel & 4 ? s.seg[TS_LDTR].base : s0.gdtr_base, a;
				struct d d;

				if (g->ar & TS_AR_UNUSABLE)
					continue;
				INVARIANT(base + (g->sel & 0xfff8u) + 8 <= MEM, "segment %d outside memory", i);
				a = base + (g->sel & 0xfff8u);
				d = ref_desc(mem, a);
				INVARIANT(g->base == d.base && g->limit == d.limit && g->ar == d.ar,
					  "segment %d 0x%x: cache %x/%x/%x, descriptor %x/%x/%x", i, g->sel,
					  g->base, g->limit, g->ar, d.base, d.limit, d.ar);
			}
		}
	}
	return 0;
}
