/* SPDX-License-Identifier: MIT */
/*
 * VMREAD and VMWRITE outside IA-32e mode (SDM Vol. 3C, 31.3): the operand size
 * is 32 bits. A field shorter than that is zero-extended on VMREAD and the
 * source's high bits are ignored on VMWRITE; a longer field (64-bit, natural
 * width) is truncated on VMREAD and its high bits are cleared on VMWRITE. The
 * high half of a 64-bit field has its own encoding (access type 1, 25.11.2);
 * other fields have none. A memory destination receives exactly 4 bytes.
 */
#include "vmx32.h"

#define GUARD 0x67676767u
#define POISON 0x5A5A5A5Au

static const enum mem_mode rw_modes[] = { M_BASE, M_SIB, M_ABS, M_A16, M_FS, M_GS, M_SS, M_EBP };

static uint32_t *buf_of(enum mem_mode m)
{
	return m == M_ABS ? abs_area : form_area;
}

/* VMREAD of enc to memory at form_area[2] / abs_area[2]; checks the 4 bytes
 * stored and that the words around them are untouched. */
static void vmread_mem_case(enum mem_mode mode, uint32_t enc, uint32_t want, const char *what)
{
	uint32_t *b = buf_of(mode);
	struct vres r;

	for (unsigned i = 0; i < 6; i++)
		b[i] = GUARD;
	b[2] = POISON;
	r = vmx_mem(OP_VMREAD, mem_at(mode, (uint32_t)(uintptr_t)&b[2]), enc);
	if (!check_res(r, WANT_OK, "VMREAD %s of 0x%04x to %s", what, enc, mode_name(mode)))
		return;
	report(b[2] == want && b[1] == GUARD && b[3] == GUARD,
	       "VMREAD %s of 0x%04x to %s stored exactly 4 bytes 0x%08x (got 0x%08x, around "
	       "0x%x | 0x%x)", what, enc, mode_name(mode), want, b[2], b[1], b[3]);
}

void test_vmread_write(void)
{
	struct vres r;
	uint32_t v;

	printf("vmx32: --- VMREAD / VMWRITE with 32-bit operands (31.3, 25.11.2) ---\n");
	vmclear_pa(pa_of(&vmcs_a));
	region_init(&vmcs_a, caps.revision);
	check_res(vmclear_pa(pa_of(&vmcs_a)), WANT_OK, "VMCLEAR of a fresh VMCS A");
	check_res(vmptrld_pa(pa_of(&vmcs_a)), WANT_OK, "VMPTRLD of VMCS A");

	/* 64-bit field, full and high access. */
	check_res(vmwrite(F_TSC_OFFSET | 1, 0xFFFFFFFFu), WANT_OK, "VMWRITE TSC_OFFSET_HIGH = 0xFFFFFFFF");
	check_res(vmwrite(F_TSC_OFFSET, 0x12345678u), WANT_OK,
		  "VMWRITE TSC_OFFSET (full) = 0x12345678 with a 32-bit operand");
	r = vmread(F_TSC_OFFSET);
	report(r.outcome == VMX_OK && r.value == 0x12345678u,
	       "VMREAD TSC_OFFSET (full) returns bits 31:0 = 0x12345678 (got %s 0x%x)", res_str(r),
	       r.value);
	r = vmread(F_TSC_OFFSET | 1);
	report(r.outcome == VMX_OK && r.value == 0,
	       "the 32-bit full VMWRITE cleared bits 63:32: VMREAD TSC_OFFSET_HIGH = 0 (got %s 0x%x)",
	       res_str(r), r.value);
	check_res(vmwrite(F_TSC_OFFSET | 1, 0x11223344u), WANT_OK, "VMWRITE TSC_OFFSET_HIGH = 0x11223344");
	r = vmread(F_TSC_OFFSET);
	report(r.outcome == VMX_OK && r.value == 0x12345678u,
	       "the high VMWRITE kept bits 31:0 (0x12345678; got %s 0x%x)", res_str(r), r.value);
	r = vmread(F_TSC_OFFSET | 1);
	report(r.outcome == VMX_OK && r.value == 0x11223344u,
	       "VMREAD TSC_OFFSET_HIGH returns bits 63:32 = 0x11223344 (got %s 0x%x)", res_str(r),
	       r.value);
	vmread_mem_case(M_BASE, F_TSC_OFFSET, 0x12345678u, "(64-bit field, full)");
	vmread_mem_case(M_BASE, F_TSC_OFFSET | 1, 0x11223344u, "(64-bit field, high)");
	/* VMWRITE from memory reads 4 bytes: the dword after the operand is not used. */
	form_area[2] = 0x9ABCDEF0u;
	form_area[3] = 0xFFFFFFFFu;
	check_res(vmx_mem(OP_VMWRITE, mem_at(M_BASE, (uint32_t)(uintptr_t)&form_area[2]), F_TSC_OFFSET),
		  WANT_OK, "VMWRITE TSC_OFFSET (full) from [ecx] = 0x9ABCDEF0, next dword 0xFFFFFFFF");
	r = vmread(F_TSC_OFFSET | 1);
	report(vmr(F_TSC_OFFSET) == 0x9ABCDEF0u && r.value == 0,
	       "VMWRITE from memory used 4 bytes and cleared bits 63:32 (low 0x%x, high 0x%x)",
	       vmr(F_TSC_OFFSET), r.value);

	/* Natural-width fields are 32 bits wide here, and have no high access. */
	check_res(vmwrite(F_GUEST_RSP, 0xFEDCBA98u), WANT_OK, "VMWRITE GUEST_RSP (natural) = 0xFEDCBA98");
	r = vmread_reg(0, F_GUEST_RSP, 0x5A5A5A5Au);
	report(r.outcome == VMX_OK && r.value == 0xFEDCBA98u,
	       "VMREAD GUEST_RSP (natural) returns 0xFEDCBA98 (got %s 0x%x)", res_str(r), r.value);
	vmread_mem_case(M_BASE, F_GUEST_RSP, 0xFEDCBA98u, "(natural width)");
	check_res(vmread(F_GUEST_RSP | 1), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
		  "VMREAD 0x%04x (a natural-width field with access type 1)", F_GUEST_RSP | 1);
	check_res(vmwrite(F_GUEST_RSP | 1, 1), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
		  "VMWRITE 0x%04x (a natural-width field with access type 1)", F_GUEST_RSP | 1);
	check_res(vmread(F_GUEST_ES_LIMIT | 1), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
		  "VMREAD 0x%04x (a 32-bit field with access type 1)", F_GUEST_ES_LIMIT | 1);
	check_res(vmread(0x80000000u | F_GUEST_ES_LIMIT), WANT_VALID(VMXERR_UNSUPPORTED_FIELD),
		  "VMREAD with encoding 0x%08x (bit 31 set)", 0x80000000u | F_GUEST_ES_LIMIT);

	/* 16-bit field: the source's bits 31:16 are ignored, VMREAD zero-extends. */
	check_res(vmwrite(F_GUEST_ES_SEL, 0xABCD1234u), WANT_OK, "VMWRITE GUEST_ES_SEL (16-bit) = 0xABCD1234");
	r = vmread_reg(0, F_GUEST_ES_SEL, 0xFFFFFFFFu);
	report(r.outcome == VMX_OK && r.value == 0x1234u,
	       "VMREAD GUEST_ES_SEL into a register holding 0xFFFFFFFF gives 0x00001234 (got %s 0x%x)",
	       res_str(r), r.value);
	vmread_mem_case(M_BASE, F_GUEST_ES_SEL, 0x1234u, "(16-bit field: zero-extended to 32)");

	/* Read-only fields (VMfailValid 13 unless IA32_VMX_MISC[29]). */
	if (caps.misc & MISC_VMWRITE_ANY)
		report_skip("VMWRITE to EXIT_REASON: IA32_VMX_MISC[29] allows it");
	else
		check_res(vmwrite(F_EXIT_REASON, 0), WANT_VALID(VMXERR_VMWRITE_READ_ONLY),
			  "VMWRITE EXIT_REASON (a read-only field)");

	/* Every memory form, on a 32-bit field. */
	for (unsigned i = 0; i < sizeof(rw_modes) / sizeof(rw_modes[0]); i++) {
		enum mem_mode m = rw_modes[i];
		uint32_t *b = buf_of(m), val = 0x10203040u + i * 0x01010101u;

		b[2] = val;
		b[3] = GUARD;
		check_res(vmx_mem(OP_VMWRITE, mem_at(m, (uint32_t)(uintptr_t)&b[2]), F_GUEST_ES_LIMIT),
			  WANT_OK, "VMWRITE GUEST_ES_LIMIT from %s = 0x%x", mode_name(m), val);
		v = vmr(F_GUEST_ES_LIMIT);
		report(v == val, "VMWRITE from %s wrote 0x%x (got 0x%x)", mode_name(m), val, v);
		vmread_mem_case(m, F_GUEST_ES_LIMIT, val, "(32-bit field)");
	}

	/* Register forms. */
	for (unsigned i = 0; i < VMWRITE_REG_VARIANTS; i++) {
		uint32_t val = 0xC0DE0000u + i;

		check_res(vmwrite_reg(i, F_GUEST_ES_LIMIT, val), WANT_OK, "%s (GUEST_ES_LIMIT = 0x%x)",
			  vmwrite_reg_name(i), val);
		r = vmread_reg(i < VMREAD_REG_VARIANTS ? i : 0, F_GUEST_ES_LIMIT, 0xDEADBEEFu);
		report(r.outcome == VMX_OK && r.value == val, "%s read back 0x%x (got %s 0x%x)",
		       vmread_reg_name(i), val, res_str(r), r.value);
	}
	r = vmread_reg(3, F_GUEST_ES_LIMIT, 0);
	report(r.outcome == VMX_OK && r.value == 0xC0DE0002u,
	       "%s (encoding and destination in one register) gives 0x%x (got %s 0x%x)",
	       vmread_reg_name(3), 0xC0DE0002u, res_str(r), r.value);
}
