/* SPDX-License-Identifier: MIT */
/*
 * VMREAD and VMWRITE (SDM Vol. 3C, 31.3) on every field the capability MSRs
 * say exists (vmcs_fields.def), with the width rules of 25.11.2 "VMREAD,
 * VMWRITE, and Encodings of VMCS Fields": a narrower field ignores the high
 * bits written and reads back zero-extended; the "high" access type (bit 0)
 * of a 64-bit field is its bits 63:32; in 64-bit mode the operands are 64 bits
 * wide, in registers and in memory.
 */
#include "vmx.h"

struct field_desc {
	const char *name;
	uint32_t enc;
	enum field_gate gate;
	enum field_access access;
};

static const struct field_desc fields[] = {
#define VMCS_FIELD(name, enc, gate, access) { #name, enc, gate, access },
#include "vmcs_fields.def"
#undef VMCS_FIELD
};
#define NUM_FIELDS (sizeof(fields) / sizeof(fields[0]))

static unsigned width_bits(uint32_t enc)
{
	static const unsigned bits[4] = { 16, 64, 32, 64 };

	return bits[VMCS_ENC_WIDTH(enc)];
}

static uint64_t width_mask(uint32_t enc)
{
	unsigned b = width_bits(enc);

	return b == 64 ? ~0ull : (1ull << b) - 1;
}

/*
 * Exact: every bit the field has reads back as written. (Checked on bare
 * Bochs 2.7: it keeps all 32 bits of the access-rights fields too, reserved
 * bits 11:8 and 31:17 included, so nothing needs masking; the SDM names no
 * field that may drop bits on VMWRITE.)
 */
static bool same(uint32_t enc, uint64_t got, uint64_t want)
{
	return got == (want & width_mask(enc));
}

/* A fresh current VMCS to scribble on. */
static void scratch_vmcs(void)
{
	uint64_t a = region_pa(&vmcs_a);

	vmclear(a);
	region_init(&vmcs_a, caps.revision);
	vmclear(a);
	vmptrld(a);
}

static uint64_t pattern(uint32_t enc)
{
	return 0x0123456789ABCDEFull ^ ((uint64_t)enc * 0x9E3779B97F4A7C15ull);
}

/* One field: all-ones through registers, a pattern through a memory form,
 * and for a 64-bit field its high half both ways. */
static void round_trip(const struct field_desc *f, enum vmx_form mem)
{
	uint64_t mask = width_mask(f->enc), p = pattern(f->enc), hi_in = 0x89ABCDEFull;
	struct vmx_res w1, r1, w2, r2, r3, rh, wh, r4;
	bool ok;

	w1 = vmwrite(f->enc, ~0ull);
	r1 = vmread(f->enc);
	w2 = vmwrite_form(f->enc, p, mem);
	r2 = vmread_form(f->enc, mem);
	r3 = vmread_form(f->enc, FORM_REG_HIGH);
	ok = w1.outcome == VMX_OK && r1.outcome == VMX_OK && same(f->enc, r1.value, mask) &&
	     w2.outcome == VMX_OK && r2.outcome == VMX_OK && same(f->enc, r2.value, p & mask) &&
	     r3.outcome == VMX_OK && r3.value == r2.value;
	if (VMCS_ENC_WIDTH(f->enc) != VMCS_WIDTH_64) {
		if (ok)
			report(true, "VMWRITE/VMREAD %s (0x%04x, %u-bit): all-ones reads 0x%llx, "
			       "0x%016llx via %s reads 0x%llx", f->name, f->enc, width_bits(f->enc),
			       U64(mask), U64(p), form_name(mem), U64(p & mask));
		else
			report(false, "VMWRITE/VMREAD %s (0x%04x, %u-bit): all-ones reads 0x%llx, "
			       "0x%016llx via %s reads 0x%llx (got %s %s 0x%llx, %s %s 0x%llx, r12 0x%llx)",
			       f->name, f->enc, width_bits(f->enc), U64(mask), U64(p), form_name(mem),
			       U64(p & mask), res_str(w1), res_str(r1), U64(r1.value), res_str(w2),
			       res_str(r2), U64(r2.value), U64(r3.value));
		return;
	}
	rh = vmread(f->enc | VMCS_ENC_HIGH);
	wh = vmwrite(f->enc | VMCS_ENC_HIGH, 0xFFFFFFFF00000000ull | hi_in);
	r4 = vmread(f->enc);
	ok = ok && rh.outcome == VMX_OK && rh.value == p >> 32 && wh.outcome == VMX_OK &&
	     r4.outcome == VMX_OK && r4.value == ((p & 0xFFFFFFFFull) | (hi_in << 32));
	if (ok)
		report(true, "VMWRITE/VMREAD %s (0x%04x, 64-bit): all-ones, 0x%016llx via %s, high "
		       "half (0x%04x) reads 0x%llx, writing it 0x%llx gives 0x%016llx", f->name, f->enc,
		       U64(p), form_name(mem), f->enc | VMCS_ENC_HIGH, U64(p >> 32), U64(hi_in),
		       U64((p & 0xFFFFFFFFull) | (hi_in << 32)));
	else
		report(false, "VMWRITE/VMREAD %s (0x%04x, 64-bit): all-ones, 0x%016llx via %s, high "
		       "half reads 0x%llx, writing it 0x%llx gives 0x%016llx (got %s 0x%llx, %s %s "
		       "0x%llx, high %s 0x%llx, %s 0x%llx)", f->name, f->enc, U64(p), form_name(mem),
		       U64(p >> 32), U64(hi_in), U64((p & 0xFFFFFFFFull) | (hi_in << 32)), res_str(r1),
		       U64(r1.value), res_str(w2), res_str(r2), U64(r2.value), res_str(rh),
		       U64(rh.value), res_str(wh), U64(r4.value));
}

/* A read-only field without "VMWRITE to any field": VMfailValid(13), value
 * kept (the VM-instruction error field itself then holds that 13). */
static void read_only(const struct field_desc *f)
{
	struct vmx_res before = vmread(f->enc), w, after;
	uint64_t want;

	w = vmwrite(f->enc, pattern(f->enc));
	after = vmread(f->enc);
	want = f->enc == VMCS_VM_INSTRUCTION_ERROR ? VMXERR_VMWRITE_READ_ONLY : before.value;
	report(res_is(w, WANT_VALID(VMXERR_VMWRITE_READ_ONLY)) && after.outcome == VMX_OK &&
	       after.value == want,
	       "VMWRITE of read-only %s (0x%04x) -> VMfailValid(13), reads 0x%llx after (got %s, "
	       "0x%llx -> 0x%llx)", f->name, f->enc, U64(want), res_str(w), U64(before.value),
	       U64(after.value));
}

static void every_field(void)
{
	unsigned n = 0, highest = 0;
	enum vmx_form mem = FORM_FIRST_MEM;

	scratch_vmcs();
	for (size_t i = 0; i < NUM_FIELDS; i++) {
		const struct field_desc *f = &fields[i];

		if (!field_exists(f->gate))
			continue;
		n++;
		if (VMCS_ENC_INDEX(f->enc) > highest)
			highest = VMCS_ENC_INDEX(f->enc);
		if (f->access == RO && !(caps.misc & MISC_VMWRITE_ANY)) {
			read_only(f);
			continue;
		}
		round_trip(f, mem);
		mem = mem + 1 < NUM_FORMS ? mem + 1 : FORM_FIRST_MEM;
	}
	printf("vmx: %u fields exist per the capability MSRs; highest index among them %u, "
	       "IA32_VMX_VMCS_ENUM says %llu\n", n, highest, U64((caps.vmcs_enum >> 1) & 0x1FF));
}

static void unsupported_encodings(void)
{
	static const struct { uint64_t enc; const char *why; } bad[] = {
		{ 0x7FFF, "index 0x1ff, natural width, high access" },
		{ VMCS_GUEST_ES_SEL | VMCS_ENC_RESERVED_BIT12, "bit 12 set (reserved)" },
		{ VMCS_GUEST_RIP | VMCS_ENC_RESERVED_BIT12, "bit 12 set (reserved)" },
		{ VMCS_EXIT_REASON | (1u << 15), "bit 15 set (bits 31:15 reserved)" },
		{ VMCS_EXIT_REASON | (1u << 31), "bit 31 set (bits 31:15 reserved)" },
		{ VMCS_EXIT_REASON | (1ull << 32), "bit 32 set (64-bit mode: bits 63:32 are part of it)" },
		{ VMCS_GUEST_ES_SEL | VMCS_ENC_HIGH, "high access to a 16-bit field" },
		{ VMCS_EXIT_REASON | VMCS_ENC_HIGH, "high access to a 32-bit field" },
		{ VMCS_GUEST_RIP | VMCS_ENC_HIGH, "high access to a natural-width field" },
		{ 0x4830, "32-bit guest-state index 0x18 (none defined)" },
		{ 0x6C40, "natural-width host-state index 0x20 (none defined)" },
	};
	struct vmx_res r;

	scratch_vmcs();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_res(vmread(bad[i].enc), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
			  "VMREAD of encoding 0x%llx (%s)", U64(bad[i].enc), bad[i].why);
		check_res(vmwrite(bad[i].enc, 0), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
			  "VMWRITE of encoding 0x%llx (%s)", U64(bad[i].enc), bad[i].why);
	}
	/* 0x0006 is the HLAT prefix size (tertiary control "enable HLAT"). */
	if (!field_exists(GATE_HLAT)) {
		check_res(vmread(VMCS_HLAT_PREFIX_SIZE), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
			  "VMREAD of 0x0006 (HLAT prefix size; HLAT not supported)");
		check_res(vmwrite(VMCS_HLAT_PREFIX_SIZE, 0), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
			  "VMWRITE of 0x0006 (HLAT prefix size; HLAT not supported)");
	}
	/* The error number is in the current VMCS, which keeps working. */
	r = vmread(VMCS_VM_INSTRUCTION_ERROR);
	report(r.outcome == VMX_OK && r.value == VMXERR_UNSUPPORTED_FIELD,
	       "VM-instruction error field reads 12 after them (got %s %llu)", res_str(r), U64(r.value));
}

/* Register and memory operands of every form on one 64-bit field, and the
 * zero-extension and 8-byte stores of 64-bit mode. */
static void operand_forms(void)
{
	uint64_t buf[4];
	uint8_t *bytes = (uint8_t *)buf;
	struct vmx_res r;
	bool ok;

	scratch_vmcs();
	for (enum vmx_form wf = 0; wf < NUM_FORMS; wf++) {
		uint64_t v = 0xFEDCBA9876543210ull ^ wf;

		ok = res_is(vmwrite_form(VMCS_GUEST_RSP, v, wf), WANT_OK);
		for (enum vmx_form rf = 0; rf < NUM_FORMS; rf++) {
			r = vmread_form(VMCS_GUEST_RSP, rf);
			if (r.outcome != VMX_OK || r.value != v) {
				ok = false;
				printf("vmx: GUEST_RSP written via %s, read via %s: %s 0x%llx\n",
				       form_name(wf), form_name(rf), res_str(r), U64(r.value));
			}
		}
		report(ok, "VMWRITE GUEST_RSP via %s, VMREAD via every form: 0x%016llx", form_name(wf),
		       U64(v));
	}

	vmw(VMCS_GUEST_ES_LIMIT, 0x89ABCDEF);
	r = vmread_reg_prefilled(VMCS_GUEST_ES_LIMIT, ~0ull);
	report(r.outcome == VMX_OK && r.value == 0x89ABCDEF,
	       "VMREAD of a 32-bit field into a 64-bit register zero-extends (0x89abcdef, got %s "
	       "0x%llx)", res_str(r), U64(r.value));
	vmw(VMCS_GUEST_ES_SEL, 0xFFFF);
	r = vmread_reg_prefilled(VMCS_GUEST_ES_SEL, ~0ull);
	report(r.outcome == VMX_OK && r.value == 0xFFFF,
	       "VMREAD of a 16-bit field into a 64-bit register zero-extends (0xffff, got %s 0x%llx)",
	       res_str(r), U64(r.value));
	vmw(VMCS_TSC_OFFSET, 0x1122334455667788ull);
	r = vmread_reg_prefilled(VMCS_TSC_OFFSET | VMCS_ENC_HIGH, ~0ull);
	report(r.outcome == VMX_OK && r.value == 0x11223344,
	       "VMREAD of the high half of a 64-bit field zero-extends (0x11223344, got %s 0x%llx)",
	       res_str(r), U64(r.value));

	/* Memory destination: 8 bytes, at an unaligned address, nothing around it. */
	memset(buf, 0xCC, sizeof(buf));
	r = vmread_to(VMCS_GUEST_ES_SEL, bytes + 3);
	ok = r.outcome == VMX_OK && bytes[2] == 0xCC && bytes[11] == 0xCC &&
	     bytes[3] == 0xFF && bytes[4] == 0xFF;
	for (int i = 5; i < 11; i++)
		ok = ok && bytes[i] == 0;
	report(ok, "VMREAD of a 16-bit field to memory writes 8 bytes, zero-extended, nothing else "
	       "(got %s: %02x [%02x %02x %02x %02x %02x %02x %02x %02x] %02x)", res_str(r), bytes[2],
	       bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
	       bytes[11]);
	/* Memory source: 8 bytes; the field keeps what fits. */
	buf[1] = 0x1122334455667788ull;
	r = vmwrite_from(VMCS_GUEST_SYSENTER_CS, &buf[1]);
	report(r.outcome == VMX_OK && vmr(VMCS_GUEST_SYSENTER_CS) == 0x55667788,
	       "VMWRITE of a 32-bit field from memory keeps bits 31:0 (0x55667788, got %s 0x%llx)",
	       res_str(r), U64(vmr(VMCS_GUEST_SYSENTER_CS)));
	r = vmwrite_from(VMCS_TSC_OFFSET, &buf[1]);
	report(r.outcome == VMX_OK && vmr(VMCS_TSC_OFFSET) == 0x1122334455667788ull,
	       "VMWRITE of a 64-bit field from memory reads 8 bytes (got %s 0x%llx)", res_str(r),
	       U64(vmr(VMCS_TSC_OFFSET)));
	check_res(vmread_to(VMCS_GUEST_RSP, (void *)0x8000000000000000ull), WANT_EXC(VEC_GP),
		  "VMREAD to a non-canonical memory operand");
	check_res(vmwrite_from(VMCS_GUEST_RSP, (const void *)0x8000000000000000ull), WANT_EXC(VEC_GP),
		  "VMWRITE from a non-canonical memory operand");
	check_res(vmwrite(VMCS_GUEST_RSP | (1ull << 32), 0), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
		  "VMWRITE with encoding register bits 63:32 = 1 (field GUEST_RSP otherwise)");
}

/*
 * RSP and RBP as operands, R13-R15 as destinations, and R12-R15/RBP kept
 * across an exit: under nestvisor the frame's RSP slot holds ~0 (no field
 * encoding) and the entry loads RBP and R12-R15 only when L0 wrote one
 * (vmx/entry.asm), so these take paths the common forms do not. setbe: CF or
 * ZF, a VMfail; RSP is restored before anything uses the stack.
 */
static void register_corners(void)
{
	uint64_t got, sp, v[5];
	uint8_t bad;

	scratch_vmcs();
	vmw(VMCS_GUEST_ES_LIMIT, 0x12345);
	vmw(VMCS_GUEST_RSP, 0x76543210);
	asm volatile("mov %%rsp, %%r10\n\tmov %[enc], %%rsp\n\tvmread %%rsp, %[got]\n\t"
		     "setbe %[bad]\n\tmov %%r10, %%rsp"
		     : [got] "=&r"(got), [bad] "=&q"(bad)
		     : [enc] "r"((uint64_t)VMCS_GUEST_ES_LIMIT) : "r10", "cc", "memory");
	report(!bad && got == 0x12345, "VMREAD with the encoding in RSP (GUEST_ES_LIMIT): 0x12345 "
	       "(got %s 0x%llx)", bad ? "VMfail" : "VMsucceed", U64(got));
	asm volatile("mov %%rsp, %%r10\n\tvmread %[enc], %%rsp\n\tsetbe %[bad]\n\t"
		     "mov %%rsp, %[got]\n\tmov %%r10, %%rsp"
		     : [got] "=&r"(got), [bad] "=&q"(bad)
		     : [enc] "r"((uint64_t)VMCS_GUEST_RSP) : "r10", "cc", "memory");
	report(!bad && got == 0x76543210, "VMREAD into RSP: 0x76543210 (got %s 0x%llx)",
	       bad ? "VMfail" : "VMsucceed", U64(got));
	asm volatile("mov %%rsp, %[sp]\n\tvmwrite %%rsp, %[enc]\n\tsetbe %[bad]"
		     : [sp] "=&r"(sp), [bad] "=&q"(bad)
		     : [enc] "r"((uint64_t)VMCS_GUEST_RSP) : "cc", "memory");
	got = vmr(VMCS_GUEST_RSP);
	report(!bad && got == sp, "VMWRITE from RSP: GUEST_RSP reads 0x%llx (got %s 0x%llx)",
	       U64(sp), bad ? "VMfail" : "VMsucceed", U64(got));
	vmw(VMCS_GUEST_RSP, 0x76543210);
	asm volatile("mov %%rbp, %%r10\n\tvmread %[enc], %%rbp\n\tsetbe %[bad]\n\t"
		     "mov %%rbp, %[got]\n\tmov %%r10, %%rbp"
		     : [got] "=&r"(got), [bad] "=&q"(bad)
		     : [enc] "r"((uint64_t)VMCS_GUEST_RSP) : "r10", "cc", "memory");
	report(!bad && got == 0x76543210, "VMREAD into RBP: 0x76543210 (got %s 0x%llx)",
	       bad ? "VMfail" : "VMsucceed", U64(got));
	asm volatile("vmread %[enc], %%r13\n\tvmread %[enc], %%r14\n\tvmread %[enc], %%r15\n\t"
		     "mov %%r13, 0(%[v])\n\tmov %%r14, 8(%[v])\n\tmov %%r15, 16(%[v])"
		     : : [enc] "r"((uint64_t)VMCS_GUEST_ES_LIMIT), [v] "r"(v)
		     : "r13", "r14", "r15", "cc", "memory");
	report(v[0] == 0x12345 && v[1] == 0x12345 && v[2] == 0x12345,
	       "VMREAD into R13, R14, R15: 0x12345 each (got 0x%llx 0x%llx 0x%llx)", U64(v[0]),
	       U64(v[1]), U64(v[2]));
	/* VMREADs into RAX only: R12-R15 and RBP come back as they were. */
	asm volatile("mov %%rbp, %%r10\n\tmov $0x1201, %%r12\n\tmov $0x1301, %%r13\n\t"
		     "mov $0x1401, %%r14\n\tmov $0x1501, %%r15\n\tmov $0xb501, %%rbp\n\t"
		     "vmread %[enc], %%rax\n\tvmread %[enc], %%rax\n\t"
		     "mov %%r12, 0(%[v])\n\tmov %%r13, 8(%[v])\n\tmov %%r14, 16(%[v])\n\t"
		     "mov %%r15, 24(%[v])\n\tmov %%rbp, 32(%[v])\n\tmov %%r10, %%rbp"
		     : : [enc] "r"((uint64_t)VMCS_GUEST_ES_LIMIT), [v] "r"(v)
		     : "rax", "r10", "r12", "r13", "r14", "r15", "cc", "memory");
	report(v[0] == 0x1201 && v[1] == 0x1301 && v[2] == 0x1401 && v[3] == 0x1501 &&
	       v[4] == 0xb501, "R12-R15 and RBP kept across VMREADs into RAX (got 0x%llx 0x%llx "
	       "0x%llx 0x%llx 0x%llx)", U64(v[0]), U64(v[1]), U64(v[2]), U64(v[3]), U64(v[4]));
}

/*
 * In VMX operation with a current VMCS, every VMX instruction but VMXON in
 * compatibility mode is #UD, which the SDM puts before the VM exit (26.1.1
 * "Relative Priority of Faults and VM Exits", 31.3's pseudocode): under
 * nestvisor the CPU raises it in L1, and L0's emulation relies on that.
 * VMX operation and the current VMCS are as before.
 */
static void compat_mode_ud(void)
{
	static const struct { enum compat_insn insn; const char *name; } insns[] = {
		{ COMPAT_VMREAD, "VMREAD" }, { COMPAT_VMWRITE, "VMWRITE" },
		{ COMPAT_VMPTRLD, "VMPTRLD" }, { COMPAT_VMPTRST, "VMPTRST" },
		{ COMPAT_VMCLEAR, "VMCLEAR" }, { COMPAT_VMLAUNCH, "VMLAUNCH" },
		{ COMPAT_VMRESUME, "VMRESUME" }, { COMPAT_VMXOFF, "VMXOFF" },
	};
	struct vmx_res r;

	scratch_vmcs();
	vmw(VMCS_GUEST_ES_LIMIT, 0x12345);
	for (size_t i = 0; i < sizeof(insns) / sizeof(insns[0]); i++)
		check_res(vmx_insn_compat(insns[i].insn, region_pa(&vmcs_a), VMCS_GUEST_ES_LIMIT),
			  WANT_EXC(VEC_UD), "%s in compatibility mode (CS.L = 0, EFER.LMA = 1)",
			  insns[i].name);
	r = vmread(VMCS_GUEST_ES_LIMIT);
	report(r.outcome == VMX_OK && r.value == 0x12345,
	       "after them VMX operation and the current VMCS are unchanged (GUEST_ES_LIMIT "
	       "0x12345, got %s 0x%llx)", res_str(r), U64(r.value));
}

void test_vmread_write(void)
{
	printf("vmx: --- VMREAD / VMWRITE (SDM 25.11.2, 31.3, Appendix B) ---\n");
	if (!vmx_ensure_on())
		return;
	every_field();
	unsupported_encodings();
	operand_forms();
	register_corners();
	compat_mode_ud();
	if (caps.misc & MISC_VMWRITE_ANY)
		report_skip("VMWRITE of a read-only field -> VMfailValid(13): IA32_VMX_MISC[29] allows it");
	vmclear(region_pa(&vmcs_a));
}
