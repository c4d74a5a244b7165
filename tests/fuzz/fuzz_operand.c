/* SPDX-License-Identifier: MIT */
/*
 * nested/operand.c: the linear address and the fault of a VMX instruction's
 * memory operand, for random instruction information, displacement,
 * registers, segment state and mode, against a reference model written here
 * from the SDM:
 *  - Table 28-13 "Format of the VM-Exit Instruction-Information Field as Used
 *    for INVEPT, INVPCID, and INVVPID" / 28-14 (VMCLEAR ... VMWRITE): scale
 *    1:0, address size 9:7, segment 17:15, index 21:18 (invalid: bit 22),
 *    base 26:23 (invalid: bit 27); the displacement is the exit qualification;
 *  - the effective address is base + index * scale + displacement, truncated
 *    to the address size (Vol. 1, 3.7.5 "Specifying an Offset");
 *  - 64-bit mode (Vol. 3A, 3.3.7.1 "Canonical Addressing"): only FS and GS
 *    add their bases, no limit or type checks; every byte must be canonical,
 *    else #SS(0) for SS and #GP(0) for the others;
 *  - otherwise (Vol. 3A, 5.3 "Limit Checking", 5.4 "Type Checking"): an
 *    unusable segment faults; a write needs a writable data segment, a read a
 *    data or readable code segment; every byte offset must be within the limit
 *    (expand-down: above the limit, up to 0xffff or, with B, 0xffffffff);
 *    accesses that wrap past an effective limit of 0xffffffff may or may not
 *    fault ("implementation-specific", 5.3); the linear address is 32 bits.
 * Also vmx_operand_read/write: a faulting operand is never read or written
 * and its fault is delivered; a good one is accessed at that address.
 *
 * operand.c reads the VMCS through vmread32/vmreadnat, which NV_HOST_TEST
 * leaves undefined: this file defines them over a fake VMCS and includes
 * operand.c itself (as test_string.c does lib/string.c).
 */
#include "fuzz.h"

#include "vmx/vmcs.h"

static uint64_t fake_vmread(uint32_t encoding);
static void fake_vmwrite(uint32_t encoding, uint64_t value);

#define vmread32(f)      ((uint32_t)fake_vmread(f))
#define vmreadnat(f)     fake_vmread(f)
#define vmwritenat(f, v) fake_vmwrite(f, v)

#include "nested/operand.c"

/* L1's state for one input. */
struct seg_state {
	uint64_t base;
	uint32_t limit, ar;
};

static struct {
	struct seg_state seg[6];   /* ES CS SS DS FS GS */
	uint64_t rsp;              /* in the VMCS, not in the register frame */
	bool mode64;
} st;

static uint64_t fake_vmread(uint32_t encoding)
{
	switch (encoding) {
#define SEG(i, S)                                                     \
	case VMCS_GUEST_##S##_BASE: return st.seg[i].base;            \
	case VMCS_GUEST_##S##_LIMIT: return st.seg[i].limit;          \
	case VMCS_GUEST_##S##_AR_BYTES: return st.seg[i].ar;
	SEG(0, ES) SEG(1, CS) SEG(2, SS) SEG(3, DS) SEG(4, FS) SEG(5, GS)
#undef SEG
	case VMCS_GUEST_RSP:
		return st.rsp;
	}
	INVARIANT(0, "VMREAD of field 0x%x", encoding);
	return 0;
}

static void fake_vmwrite(uint32_t encoding, uint64_t value)
{
	INVARIANT(0, "VMWRITE of field 0x%x", encoding);
}

bool guest_64bit_mode(void)
{
	return st.mode64;
}

/* The guest-memory side of vmx_operand_read/write: one access, recorded. */
static struct {
	enum gm_status answer;     /* what the access returns */
	unsigned accesses, deliveries;
	uint64_t la;
	size_t len;
	enum gm_status delivered;
	struct gm_error err;
	uint64_t rip;
} mem;

static enum gm_status mem_access(uint64_t la, size_t len, struct gm_error *err)
{
	mem.accesses++;
	mem.la = la;
	mem.len = len;
	if (mem.answer == GM_EXCEPTION)
		*err = (struct gm_error){ .vector = VEC_PF, .has_error_code = true, .error_code = 2,
					  .cr2 = la };
	return mem.answer;
}

enum gm_status l1_read_linear(uint64_t la, void *buf, size_t len, struct gm_error *err)
{
	memset(buf, 0x5a, len);    /* the whole operand buffer (ASan) */
	return mem_access(la, len, err);
}

enum gm_status l1_write_linear(uint64_t la, const void *buf, size_t len, struct gm_error *err)
{
	uint8_t copy[64];

	memcpy(copy, buf, len);
	return mem_access(la, len, err);
}

void l1_deliver_gm_error(enum gm_status s, const struct gm_error *err, uint64_t rip)
{
	mem.deliveries++;
	mem.delivered = s;
	mem.err = *err;
	mem.rip = rip;
}

/* ------------------------------------------------------------------------ */
/* The reference model (see the top of the file). */

enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS };

struct ref {
	bool defined;     /* an encoding and mode the CPU can report */
	bool fault, may_fault_anyway;
	unsigned vector;
	uint64_t la;
};

static uint64_t reg(const struct vcpu *v, unsigned n)
{
	return n == 4 ? st.rsp : v->frame.regs.r[n];
}

static bool canonical(uint64_t a)
{
	uint64_t top = a >> 47;

	return top == 0 || top == 0x1ffff;
}

static struct ref reference(const struct vcpu *v, uint32_t info, uint64_t disp, unsigned len,
			    bool write)
{
	unsigned scale = info & 3, asize = (info >> 7) & 7, sreg = (info >> 15) & 7;
	unsigned index = (info >> 18) & 15, base = (info >> 23) & 15;
	bool index_valid = !(info >> 22 & 1), base_valid = !(info >> 27 & 1);
	struct ref r = { .defined = true };
	uint64_t ea;

	/* 64-bit mode has 32- and 64-bit addressing, other modes 16 and 32; segments 0..5. */
	if (asize > 2 || sreg > 5 || (st.mode64 && asize == 0) || (!st.mode64 && asize == 2))
		return (struct ref){ .defined = false };
	ea = disp + (base_valid ? reg(v, base) : 0) + (index_valid ? reg(v, index) << scale : 0);
	ea &= asize == 0 ? 0xffff : asize == 1 ? 0xffffffff : ~0ull;
	r.vector = sreg == R_SS ? 12 : 13;

	if (st.mode64) {
		r.la = ea + (sreg == R_FS || sreg == R_GS ? st.seg[sreg].base : 0);
		for (unsigned i = 0; i < len; i++)
			r.fault |= !canonical(r.la + i);
		return r;
	}
	const struct seg_state *s = &st.seg[sreg];
	unsigned type = s->ar & 15;
	bool code = type & 8, unusable = s->ar >> 16 & 1;
	uint64_t last = ea + len - 1;    /* no wrap: ea < 2^32 */

	if (unusable || (write && (code || !(type & 2))) || (!write && code && !(type & 2))) {
		r.fault = true;
		return r;
	}
	if (!code && (type & 4)) {
		uint64_t upper = (s->ar >> 14 & 1) ? 0xffffffff : 0xffff;

		r.fault = ea <= s->limit || last > upper;
		r.may_fault_anyway = upper == 0xffffffff && last > upper;
	} else {
		r.fault = last > s->limit;
		r.may_fault_anyway = s->limit == 0xffffffff && last > s->limit;
	}
	if (r.may_fault_anyway)
		r.fault = false;   /* either answer is right */
	r.la = (s->base + ea) & 0xffffffff;
	return r;
}

/* ------------------------------------------------------------------------ */

static void check(const struct vcpu *v, uint32_t info, uint64_t disp, unsigned len, bool write,
		  enum gm_status answer, uint64_t rip)
{
	struct vmx_insn_info ii = decode_vmx_insn_info(info);
	struct ref r = reference(v, info, disp, len, write);
	struct gm_error err = { 0 }, err2 = { 0 };
	uint64_t la = 0xdead, la2 = 0xbeef;
	uint8_t buf[16] = { 0 };
	enum gm_status s = vmx_operand_address(v, &ii, disp, len, write, &la, &err);
	bool ok;

	INVARIANT(s == GM_OK || s == GM_EXCEPTION, "status %d", s);
	INVARIANT(vmx_operand_address(v, &ii, disp, len, write, &la2, &err2) == s &&
			  (s != GM_OK || la2 == la),
		  "not deterministic");
	if (s == GM_EXCEPTION)
		INVARIANT((err.vector == VEC_GP || err.vector == VEC_SS) && err.has_error_code &&
				  err.error_code == 0,
			  "fault vector %u error code %u/%u", err.vector, err.has_error_code,
			  err.error_code);
	if (r.defined) {
		if (!r.may_fault_anyway || s == GM_OK)
			INVARIANT((s == GM_EXCEPTION) == r.fault,
				  "info 0x%08x disp 0x%llx len %u %s mode64 %d: %s, the SDM says %s",
				  info, (unsigned long long)disp, len, write ? "write" : "read",
				  st.mode64, s == GM_OK ? "no fault" : "fault",
				  r.fault ? "fault" : "no fault");
		if (s == GM_EXCEPTION)
			INVARIANT(err.vector == r.vector, "info 0x%08x: vector %u, the SDM says %u",
				  info, err.vector, r.vector);
		else
			INVARIANT(la == r.la, "info 0x%08x disp 0x%llx mode64 %d: la 0x%llx, the SDM says 0x%llx",
				  info, (unsigned long long)disp, st.mode64,
				  (unsigned long long)la, (unsigned long long)r.la);
	}

	/* The access: only of a good operand, at its address; every failure delivered. */
	memset(&mem, 0, sizeof(mem));
	mem.answer = answer;
	ok = write ? vmx_operand_write(v, &ii, disp, buf, len, rip)
		   : vmx_operand_read(v, &ii, disp, buf, len, rip);
	if (s != GM_OK) {
		INVARIANT(!ok && mem.accesses == 0 && mem.deliveries == 1 &&
				  mem.delivered == GM_EXCEPTION && mem.err.vector == err.vector &&
				  mem.rip == rip,
			  "faulting operand: ok %d, %u accesses, %u deliveries", ok, mem.accesses,
			  mem.deliveries);
		return;
	}
	INVARIANT(mem.accesses == 1 && mem.la == la && mem.len == len,
		  "%u accesses, at 0x%llx (%zu bytes), operand at 0x%llx (%u)", mem.accesses,
		  (unsigned long long)mem.la, mem.len, (unsigned long long)la, len);
	INVARIANT(ok == (answer == GM_OK) &&
			  mem.deliveries == (answer == GM_OK ? 0u : 1u) &&
			  (answer == GM_OK || (mem.delivered == answer && mem.rip == rip)),
		  "access answered %d: ok %d, %u deliveries", answer, ok, mem.deliveries);
	if (answer == GM_EXCEPTION)
		INVARIANT(mem.err.vector == VEC_PF && mem.err.cr2 == la, "the access's #PF was not delivered");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned lens[] = { 1, 2, 4, 8, 16, 3, 6, 12 };
	struct fuzz_in in = { data, size };
	struct vcpu v;
	uint32_t info = (uint32_t)take(&in, 4);
	uint64_t disp = take(&in, 8);
	unsigned flags = (unsigned)take(&in, 1);
	unsigned len = lens[flags & 7];
	bool write = flags & 8;
	/* Narrow registers and displacement: offsets near segment limits. */
	uint64_t narrow = flags & 0x10 ? 0xffff : flags & 0x20 ? 0xffffffff : ~0ull;
	enum gm_status answer = (enum gm_status)((flags >> 6) % 3);

	memset(&v, 0, sizeof(v));
	st.mode64 = take_bool(&in);
	disp &= narrow;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		v.frame.regs.r[i] = take(&in, 8) & narrow;
	st.rsp = take(&in, 8) & narrow;
	v.frame.regs.r[GPR_RSP] = ~st.rsp;   /* must not be used */
	for (unsigned i = 0; i < 6; i++) {
		st.seg[i].base = take(&in, 8);
		st.seg[i].limit = (uint32_t)take(&in, 4);
		st.seg[i].ar = (uint32_t)take(&in, 4);
		/* Usable segments are present code or data segments (S = 1), as a VM entry
		 * required of L1's state (SDM Vol. 3C, 26.3.1.2). */
		if (!(st.seg[i].ar & AR_UNUSABLE))
			st.seg[i].ar |= AR_S | AR_P;
	}
	check(&v, info, disp, len, write, answer, take(&in, 8));
	return 0;
}
