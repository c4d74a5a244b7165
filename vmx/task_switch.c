/* SPDX-License-Identifier: MIT */
/*
 * The task-switch engine (task_switch.h). The steps follow SDM Vol. 3A, 7.3
 * "Task Switching"; the faults and their error codes Table 7-1 "Exception
 * Conditions Checked During a Task Switch" (whose order, the SDM says, is the
 * P6 family's and model-specific) and 6.15 "Interrupt 10—Invalid TSS
 * Exception (#TS)", Table 6-6.
 *
 * Before the commit point (TR loaded) nothing of the state changes and a fault
 * is raised in the old task's context; the new TSS is read whole and the old
 * TSS's dynamic fields read back before anything is written, so that a page
 * fault comes before any change (step "checks that the old TSS, new TSS ... are
 * paged into system memory"). After it, a fault in loading the new task's
 * registers is raised in the new task's context, the registers not yet
 * qualified keeping their new selectors: a data segment register unusable (its
 * use faults), CS and SS their old descriptor caches (the VMCS cannot hold an
 * unusable CS), which is the "architectural state may be corrupted" the SDM
 * allows there.
 */
#include "vmx/task_switch.h"

#include <stddef.h>

/* SDM Vol. 3A, 7.2.1 "Task-State Segment (TSS)", Figure 7-2: the 32-bit TSS. */
enum {
	TSS_LINK = 0x00, TSS_CR3 = 0x1c, TSS_EIP = 0x20, TSS_EFLAGS = 0x24, TSS_EAX = 0x28,
	TSS_ES = 0x48, TSS_LDT = 0x60, TSS_T = 0x64,
	TSS_DYNAMIC_END = 0x60,     /* EIP..GS: what a switch saves */
	TSS32_SIZE = 0x68,          /* what a switch reads (the I/O map base included) */
	TSS32_MIN_LIMIT = 0x67,
	TSS16_MIN_LIMIT = 0x2b,
};

enum { VEC_DB = 1, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14 };

/* EFLAGS bits a task switch loads (the rest reserved); bit 1 reads as 1. */
#define EFLAGS_LOADABLE 0x003f7fd5u
#define EFLAGS_FIXED1   0x2u

/* Code/data descriptor types (SDM Vol. 3A, 3.4.5.1, Table 3-1). */
#define TYPE_ACCESSED   0x1u
#define TYPE_WRITABLE   0x2u   /* data */
#define TYPE_READABLE   0x2u   /* code */
#define TYPE_EXPAND_DN  0x4u   /* data */
#define TYPE_CONFORMING 0x4u   /* code */
#define TYPE_CODE       0x8u

/* Virtual-8086 segments: base selector * 16, limit 64 KiB, present DPL 3 accessed data. */
#define AR_V86 0xf3u

struct desc {
	uint32_t lo, hi;
};

static uint32_t desc_base(struct desc d)
{
	return (d.lo >> 16) | ((d.hi & 0xff) << 16) | (d.hi & 0xff000000u);
}

static uint32_t desc_limit(struct desc d)
{
	uint32_t raw = (d.lo & 0xffff) | (d.hi & 0xf0000);

	return (d.hi & (1u << 23)) ? (raw << 12) | 0xfff : raw;
}

/* The VMCS access-rights format: type, S, DPL, P, then AVL, L, D/B, G. */
static uint32_t desc_ar(struct desc d)
{
	return (d.hi >> 8) & 0xf0ffu;
}

static unsigned ar_type(uint32_t ar) { return ar & TS_AR_TYPE_MASK; }
static unsigned ar_dpl(uint32_t ar) { return (ar >> TS_AR_DPL_SHIFT) & 3; }

/* One switch in progress. */
struct sw {
	struct ts_state *s;
	const struct ts_request *r;
	const struct ts_mem *m;
	struct ts_result res;
	uint16_t ext;               /* EXT bit of the selector error codes */
	bool v86_caches;            /* SS/CS still hold virtual-8086 caches under VM = 0 */
};

/* Every failure goes through here: returns false for "stop". */
static bool fault(struct sw *w, unsigned vector, bool has_error, uint32_t code, const char *why)
{
	w->res.outcome = TS_FAULT;
	w->res.fault = (struct ts_fault){ .vector = (uint8_t)vector, .has_error = has_error,
					  .error_code = code };
	w->res.why = why;
	return false;
}

/* A selector-based error code: index and TI, with EXT (SDM Vol. 3A, 6.13 "Error Code"). */
static bool fault_sel(struct sw *w, unsigned vector, uint16_t sel, const char *why)
{
	return fault(w, vector, true, (sel & 0xfffcu) | w->ext, why);
}

static bool mem_status(struct sw *w, enum ts_mem_status st, uint32_t la, struct ts_fault *f,
		       const char *why)
{
	if (st == TS_MEM_OK)
		return true;
	if (st == TS_MEM_ABORT) {
		w->res.outcome = TS_ABORT;
		w->res.abort_la = la;
		w->res.why = why;
		return false;
	}
	w->res.outcome = TS_FAULT;
	w->res.fault = *f;
	w->res.why = why;
	return false;
}

static bool rd(struct sw *w, uint32_t la, void *buf, unsigned len, const char *why)
{
	struct ts_fault f = { 0 };

	return mem_status(w, w->m->read(w->m->ctx, la, buf, len, &f), la, &f, why);
}

static bool wr(struct sw *w, uint32_t la, const void *buf, unsigned len, const char *why)
{
	struct ts_fault f = { 0 };

	return mem_status(w, w->m->write(w->m->ctx, la, buf, len, &f), la, &f, why);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

/*
 * Where the descriptor of sel lies: in the GDT, or (TI = 1) in the LDT that
 * LDTR holds now. False if beyond the table's limit (or TI = 1 with no LDT).
 */
static bool desc_addr(const struct ts_state *s, uint16_t sel, uint32_t *la)
{
	uint32_t base = s->gdtr_base, limit = s->gdtr_limit;

	if (sel & 4) {
		if (s->seg[TS_LDTR].ar & TS_AR_UNUSABLE)
			return false;
		base = s->seg[TS_LDTR].base;
		limit = s->seg[TS_LDTR].limit;
	}
	if ((uint32_t)(sel | 7) > limit)
		return false;
	*la = base + (sel & 0xfff8u);
	return true;
}

static bool read_desc(struct sw *w, uint32_t la, struct desc *d)
{
	uint8_t b[8];

	if (!rd(w, la, b, 8, "descriptor read"))
		return false;
	d->lo = get32(b);
	d->hi = get32(b + 4);
	return true;
}

/* Sets a bit of a descriptor's type byte in memory (the accessed and busy
 * flags: the CPU writes them, SDM Vol. 3A, 3.4.5.1 and 7.2.2). */
static bool set_type_byte(struct sw *w, uint32_t la, struct desc *d, uint8_t type, const char *why)
{
	uint8_t byte = (uint8_t)((d->hi >> 8 & 0xf0) | type);

	d->hi = (d->hi & ~0xf00u) | (uint32_t)type << 8;
	return wr(w, la + 5, &byte, 1, why);
}

static struct ts_seg seg_of(uint16_t sel, struct desc d)
{
	return (struct ts_seg){ .sel = sel, .base = desc_base(d), .limit = desc_limit(d),
				.ar = desc_ar(d) };
}

/*
 * SDM 26.4.2 checks 2-4, which the CPU makes before the exit: L0 makes them
 * again (same answer; they matter if the GDT is not what it was): the selector
 * in the GDT (#GP, #TS for IRET), the type (an available 32-bit TSS; busy for
 * IRET: #GP, #TS for IRET), present (#NP), the limit (#TS). All with the new
 * TSS's selector as the error code (Table 7-1).
 */
static bool check_new_tss(struct sw *w, uint32_t *la, struct desc *d)
{
	const struct ts_state *s = w->s;
	uint16_t sel = w->r->selector;
	bool iret = w->r->source == TS_SRC_IRET;
	unsigned bad = iret ? VEC_TS : VEC_GP, type;

	if ((sel & 4) || !desc_addr(s, sel, la))
		return fault_sel(w, bad, sel, "new TSS selector not in the GDT");
	if (!read_desc(w, *la, d))
		return false;
	type = ar_type(desc_ar(*d));
	if ((desc_ar(*d) & TS_AR_S) ||
	    (type != TS_TYPE_TSS32_AVAIL && type != TS_TYPE_TSS32_BUSY &&
	     type != TS_TYPE_TSS16_AVAIL && type != TS_TYPE_TSS16_BUSY))
		return fault_sel(w, bad, sel, "new TSS descriptor is not a TSS");
	if (!!(type & TS_TYPE_BUSY_BIT) != iret)
		return fault_sel(w, bad, sel, iret ? "IRET to a TSS that is not busy"
						   : "new TSS is busy");
	if (!(desc_ar(*d) & TS_AR_P))
		return fault_sel(w, VEC_NP, sel, "new TSS not present");
	if (desc_limit(*d) < (type & 8 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
		return fault_sel(w, VEC_TS, sel, "new TSS limit too small");
	return true;
}

/* ---- After the commit point: the new task's segment registers. ---- */

/* LDTR: null, or an LDT descriptor in the GDT, present (#TS, Table 7-1). */
static bool load_ldtr(struct sw *w, uint16_t sel)
{
	struct ts_state *s = w->s;
	struct desc d;
	uint32_t la;

	s->seg[TS_LDTR] = (struct ts_seg){ .sel = sel, .ar = TS_AR_UNUSABLE };
	if (!(sel & 0xfffc))
		return true;
	if ((sel & 4) || !desc_addr(s, sel, &la))
		return fault_sel(w, VEC_TS, sel, "LDT selector not in the GDT");
	if (!read_desc(w, la, &d))
		return false;
	if ((desc_ar(d) & TS_AR_S) || ar_type(desc_ar(d)) != TS_TYPE_LDT)
		return fault_sel(w, VEC_TS, sel, "LDT selector is not an LDT");
	if (!(desc_ar(d) & TS_AR_P))
		return fault_sel(w, VEC_TS, sel, "LDT not present");
	s->seg[TS_LDTR] = seg_of(sel, d);
	return true;
}

/*
 * One of ES..GS from the new TSS, with the checks of Table 7-1 (SS: #TS, not
 * present #SS; CS: #TS, not present #NP; data: #TS, not present #NP), and its
 * accessed flag set as a load sets it.
 */
static bool load_seg(struct sw *w, enum ts_sreg r, uint16_t sel, unsigned cpl)
{
	struct ts_state *s = w->s;
	unsigned rpl = sel & 3, type, dpl;
	struct desc d;
	uint32_t la, ar;

	if (!(sel & 0xfffc)) {
		if (r == TS_CS || r == TS_SS)
			return fault_sel(w, VEC_TS, sel, r == TS_CS ? "null CS" : "null SS");
		s->seg[r] = (struct ts_seg){ .sel = sel, .ar = TS_AR_UNUSABLE };
		return true;
	}
	if (!desc_addr(s, sel, &la))
		return fault_sel(w, VEC_TS, sel, "segment selector beyond its table");
	if (!read_desc(w, la, &d))
		return false;
	ar = desc_ar(d);
	type = ar_type(ar);
	dpl = ar_dpl(ar);
	if (!(ar & TS_AR_S))
		return fault_sel(w, VEC_TS, sel, "segment selector names a system descriptor");
	switch (r) {
	case TS_SS:
		if ((type & TYPE_CODE) || !(type & TYPE_WRITABLE))
			return fault_sel(w, VEC_TS, sel, "SS is not a writable data segment");
		if (rpl != cpl || dpl != cpl)
			return fault_sel(w, VEC_TS, sel, "SS RPL or DPL is not the CPL");
		if (!(ar & TS_AR_P))
			return fault_sel(w, VEC_SS, sel, "SS not present");
		break;
	case TS_CS:
		if (!(type & TYPE_CODE))
			return fault_sel(w, VEC_TS, sel, "CS is not a code segment");
		if ((type & TYPE_CONFORMING) ? dpl > rpl : dpl != rpl)
			return fault_sel(w, VEC_TS, sel, "CS DPL does not match its RPL");
		if (!(ar & TS_AR_P))
			return fault_sel(w, VEC_NP, sel, "CS not present");
		break;
	default:
		if ((type & TYPE_CODE) && !(type & TYPE_READABLE))
			return fault_sel(w, VEC_TS, sel, "data segment register: execute-only code");
		if ((!(type & TYPE_CODE) || !(type & TYPE_CONFORMING)) && (rpl > dpl || cpl > dpl))
			return fault_sel(w, VEC_TS, sel, "data segment DPL below RPL or CPL");
		if (!(ar & TS_AR_P))
			return fault_sel(w, VEC_NP, sel, "data segment not present");
		break;
	}
	if (!(type & TYPE_ACCESSED) &&
	    !set_type_byte(w, la, &d, (uint8_t)(type | TYPE_ACCESSED), "accessed flag write"))
		return false;
	s->seg[r] = seg_of(sel, d);
	return true;
}

/* 6.12.2: the error code of an exception that switched tasks, onto the new stack. */
static bool push_error_code(struct sw *w)
{
	struct ts_state *s = w->s;
	const struct ts_seg *ss = &s->seg[TS_SS];
	bool big = ss->ar & TS_AR_DB;
	uint32_t esp = s->gpr[4];
	uint32_t top = big ? 0xffffffffu : 0xffff;
	uint32_t sp = (esp - 4) & top;
	uint8_t b[4];

	if (ar_type(ss->ar) & TYPE_EXPAND_DN) {
		if (sp <= ss->limit || sp > top - 3)
			return fault(w, VEC_SS, true, 0, "error code push beyond SS's limit");
	} else if (sp > ss->limit || ss->limit - sp < 3 || sp > top - 3) {
		return fault(w, VEC_SS, true, 0, "error code push beyond SS's limit");
	}
	put32(b, w->r->error_code);
	if (!wr(w, ss->base + sp, b, 4, "error code push"))
		return false;
	s->gpr[4] = big ? sp : (esp & 0xffff0000u) | sp;
	return true;
}

/* The state of the new TSS that a switch loads (read before the commit point). */
struct new_task {
	uint8_t tss[TSS32_SIZE];
};

static bool load_new_task(struct sw *w, const struct new_task *n)
{
	struct ts_state *s = w->s;
	const uint8_t *t = n->tss;
	uint32_t eflags = (get32(t + TSS_EFLAGS) & EFLAGS_LOADABLE) | EFLAGS_FIXED1;
	uint32_t old_eflags = s->eflags;
	bool nesting = w->r->source == TS_SRC_CALL || w->r->source == TS_SRC_IDT_GATE;
	uint16_t sel[6];
	unsigned cpl;

	/* 7.4 "Task Linking": a CALL or an event sets NT in the new task. */
	if (nesting)
		eflags |= TS_EFLAGS_NT;
	s->eflags = eflags;
	s->eip = get32(t + TSS_EIP);
	for (int i = 0; i < 8; i++)
		s->gpr[i] = get32(t + TSS_EAX + 4 * i);
	for (int i = TS_ES; i <= TS_GS; i++) {
		sel[i] = get16(t + TSS_ES + 4 * i);
		s->seg[i].sel = sel[i];
		/* Not qualified yet (see the top of the file). */
		if (i != TS_CS && i != TS_SS)
			s->seg[i] = (struct ts_seg){ .sel = sel[i], .ar = TS_AR_UNUSABLE };
	}
	s->seg[TS_LDTR] = (struct ts_seg){ .sel = get16(t + TSS_LDT), .ar = TS_AR_UNUSABLE };

	/* Into virtual-8086 mode: every segment as the real-mode rules (20.2.1).
	 * These loads cannot fault, so they come first: a fault of the LDT or CR3
	 * below is then taken in a consistent virtual-8086 state (VM entry checks
	 * exactly these caches, SDM Vol. 3C, 26.3.1.2). */
	if (eflags & TS_EFLAGS_VM)
		for (int i = TS_ES; i <= TS_GS; i++)
			s->seg[i] = (struct ts_seg){ .sel = sel[i], .base = (uint32_t)sel[i] << 4,
						     .limit = 0xffff, .ar = AR_V86 };
	/*
	 * Out of virtual-8086 mode: until SS and CS are loaded, their caches are
	 * the old task's virtual-8086 ones under EFLAGS.VM = 0, a state a CPU can
	 * hold but no VM entry accepts. A fault there cannot be given to L1.
	 */
	w->v86_caches = (old_eflags & TS_EFLAGS_VM) && !(eflags & TS_EFLAGS_VM);

	/* CR3 (with paging: a switch without paging leaves it, as Bochs does). */
	if (s->cr0 & TS_CR0_PG) {
		uint32_t cr3 = get32(t + TSS_CR3);

		if (!w->m->load_cr3(w->m->ctx, cr3))
			return fault(w, VEC_GP, true, 0, "new CR3: invalid PAE PDPTEs");
		s->cr3 = cr3;
	}
	if (!load_ldtr(w, get16(t + TSS_LDT)))
		return false;
	if (!(eflags & TS_EFLAGS_VM)) {
		/* Table 7-1's order, in effect: SS and CS, then the data segments. */
		struct ts_seg old_ss = s->seg[TS_SS];

		cpl = sel[TS_CS] & 3;
		if (!load_seg(w, TS_SS, sel[TS_SS], cpl))
			return false;
		if (!load_seg(w, TS_CS, sel[TS_CS], cpl)) {
			/* CS keeps the old task's cache: so does SS, or CS.DPL and SS.DPL
			 * (the CPL) could disagree, which no VM entry accepts (26.3.1.2). */
			s->seg[TS_SS] = old_ss;
			s->seg[TS_SS].sel = sel[TS_SS];
			return false;
		}
		w->v86_caches = false;
		for (int i = TS_ES; i <= TS_GS; i++)
			if (i != TS_CS && i != TS_SS && !load_seg(w, (enum ts_sreg)i, sel[i], cpl))
				return false;
	}
	/* The JMP/CALL/IRET pseudo-code: "IF EIP not within code segment limit THEN #GP(0)". */
	if (s->eip > s->seg[TS_CS].limit)
		return fault(w, VEC_GP, true, 0, "new EIP beyond CS's limit");
	if (w->r->push_error && !push_error_code(w))
		return false;
	w->res.debug_trap = get16(t + TSS_T) & 1;
	return true;
}

struct ts_result task_switch(struct ts_state *s, const struct ts_request *r,
			     const struct ts_mem *m)
{
	struct sw w = { .s = s, .r = r, .m = m, .ext = r->ext ? 1 : 0 };
	bool nesting = r->source == TS_SRC_CALL || r->source == TS_SRC_IDT_GATE;
	bool unnest = r->source == TS_SRC_JMP || r->source == TS_SRC_IRET;
	const struct ts_seg *tr = &s->seg[TS_TR];
	uint8_t old[TSS_DYNAMIC_END - TSS_EIP];
	struct new_task n;
	struct desc nd, od = { 0, 0 };
	uint32_t nla, ola = 0;
	uint32_t eflags_image = s->eflags;

	w.res.outcome = TS_DONE;
	if (!check_new_tss(&w, &nla, &nd))
		return w.res;
	if (!(ar_type(desc_ar(nd)) & 8) || ar_type(tr->ar) != TS_TYPE_TSS32_BUSY) {
		w.res.outcome = TS_UNSUPPORTED;
		w.res.why = !(ar_type(desc_ar(nd)) & 8) ? "the new TSS is a 16-bit TSS"
							 : "the current TSS is a 16-bit TSS";
		return w.res;
	}
	/* Table 6-6: "Stores to the old TSS encounter a fault condition". */
	if (tr->limit < TSS_DYNAMIC_END - 1) {
		fault_sel(&w, VEC_TS, tr->sel, "old TSS limit too small");
		return w.res;
	}
	/* The old TSS descriptor, for its busy flag (JMP, IRET). */
	if (unnest && ((tr->sel & 4) || !desc_addr(s, tr->sel, &ola))) {
		fault_sel(&w, VEC_TS, tr->sel, "old TSS selector not in the GDT");
		return w.res;
	}
	if (unnest && !read_desc(&w, ola, &od))
		return w.res;
	/* Everything read before anything is written. */
	if (!rd(&w, desc_base(nd), n.tss, sizeof(n.tss), "new TSS read") ||
	    !rd(&w, tr->base + TSS_EIP, old, sizeof(old), "old TSS read"))
		return w.res;

	/* 7.3: IRET clears NT in the EFLAGS image it saves. */
	if (r->source == TS_SRC_IRET)
		eflags_image &= ~TS_EFLAGS_NT;
	/* Save the old task's dynamic state: EIP, EFLAGS, the GPRs, ES..GS (the
	 * selector slots' upper halves are reserved: kept as they were). */
	put32(old + TSS_EIP - TSS_EIP, r->old_eip);
	put32(old + TSS_EFLAGS - TSS_EIP, eflags_image);
	for (int i = 0; i < 8; i++)
		put32(old + TSS_EAX - TSS_EIP + 4 * i, s->gpr[i]);
	for (int i = TS_ES; i <= TS_GS; i++)
		put16(old + (TSS_ES - TSS_EIP) + 4 * i, s->seg[i].sel);
	if (!wr(&w, tr->base + TSS_EIP, old, sizeof(old), "old TSS write"))
		return w.res;
	/* JMP and IRET: the old task is no longer busy. */
	if (unnest &&
	    !set_type_byte(&w, ola, &od, TS_TYPE_TSS32_AVAIL, "old TSS busy flag write"))
		return w.res;
	/* CALL and events: the back link, then the new task's busy flag (7.4). */
	if (nesting) {
		uint8_t link[2];

		put16(link, tr->sel);
		if (!wr(&w, desc_base(nd) + TSS_LINK, link, 2, "back link write"))
			return w.res;
	}
	if (!(ar_type(desc_ar(nd)) & TS_TYPE_BUSY_BIT) &&
	    !set_type_byte(&w, nla, &nd, TS_TYPE_TSS32_BUSY, "new TSS busy flag write"))
		return w.res;

	/* The commit point: TR holds the new task; every switch sets CR0.TS (2.5). */
	s->seg[TS_TR] = seg_of(r->selector, nd);
	s->cr0 |= TS_CR0_TS;
	w.res.committed = true;
	if (!load_new_task(&w, &n) && w.v86_caches && w.res.outcome == TS_FAULT) {
		w.res.outcome = TS_UNREPRESENTABLE;
		w.res.why = "a fault after the commit point, leaving virtual-8086 mode before SS and "
			    "CS were loaded";
	}
	return w.res;
}

static bool contributory(unsigned v)
{
	return v == 0 || v == VEC_TS || v == VEC_NP || v == VEC_SS || v == VEC_GP;
}

int ts_fault_during_exception(unsigned first, unsigned second)
{
	bool serious = contributory(second) || second == VEC_PF;

	if (first == VEC_DF)
		return serious ? TS_SHUTDOWN : (int)second;
	if (first == VEC_PF)
		return serious ? TS_VEC_DF : (int)second;
	if (contributory(first))
		return contributory(second) ? TS_VEC_DF : (int)second;
	return (int)second;
}
