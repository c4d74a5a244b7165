/* SPDX-License-Identifier: MIT */
#include "nested/operand.h"
#include "vmx/guest_regs.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "core/x86.h"

struct segment {
	uint64_t base;
	uint32_t limit;
	uint32_t ar;
};

static struct segment read_segment(enum seg_reg s)
{
	switch (s) {
	case SEG_ES: return (struct segment){ vmreadnat(VMCS_GUEST_ES_BASE),
		vmread32(VMCS_GUEST_ES_LIMIT), vmread32(VMCS_GUEST_ES_AR_BYTES) };
	case SEG_CS: return (struct segment){ vmreadnat(VMCS_GUEST_CS_BASE),
		vmread32(VMCS_GUEST_CS_LIMIT), vmread32(VMCS_GUEST_CS_AR_BYTES) };
	case SEG_SS: return (struct segment){ vmreadnat(VMCS_GUEST_SS_BASE),
		vmread32(VMCS_GUEST_SS_LIMIT), vmread32(VMCS_GUEST_SS_AR_BYTES) };
	case SEG_DS: return (struct segment){ vmreadnat(VMCS_GUEST_DS_BASE),
		vmread32(VMCS_GUEST_DS_LIMIT), vmread32(VMCS_GUEST_DS_AR_BYTES) };
	case SEG_FS: return (struct segment){ vmreadnat(VMCS_GUEST_FS_BASE),
		vmread32(VMCS_GUEST_FS_LIMIT), vmread32(VMCS_GUEST_FS_AR_BYTES) };
	default: return (struct segment){ vmreadnat(VMCS_GUEST_GS_BASE),
		vmread32(VMCS_GUEST_GS_LIMIT), vmread32(VMCS_GUEST_GS_AR_BYTES) };
	}
}

static enum gm_status fault(enum seg_reg s, struct gm_error *err)
{
	/* A stack-segment violation is #SS(0), any other #GP(0). */
	err->vector = s == SEG_SS ? VEC_SS : VEC_GP;
	err->has_error_code = true;
	err->error_code = 0;
	return GM_EXCEPTION;
}

#define SEG_TYPE_CODE       0x8u
#define SEG_TYPE_WRITABLE   0x2u  /* data */
#define SEG_TYPE_READABLE   0x2u  /* code */
#define SEG_TYPE_EXPAND_DOWN 0x4u /* data */

enum gm_status vmx_operand_address(const struct vcpu *v, const struct vmx_insn_info *ii,
				   uint64_t displacement, unsigned len, bool write, uint64_t *la,
				   struct gm_error *err)
{
	uint64_t mask = ii->addr_bits == 64 ? ~0ull
			: ii->addr_bits == 32 ? 0xffffffffull : 0xffffull;
	uint64_t ea = displacement;
	struct segment seg = read_segment(ii->segment);

	if (ii->has_base)
		ea += gpr_read(v, ii->base);
	if (ii->has_index)
		ea += gpr_read(v, ii->index) << ii->scale;
	ea &= mask;

	if (guest_64bit_mode()) {
		/* Only FS and GS have bases in 64-bit mode; no limits, canonical addresses. */
		*la = (ii->segment == SEG_FS || ii->segment == SEG_GS) ? seg.base + ea : ea;
		if (!x86_canonical(*la) || !x86_canonical(*la + len - 1))
			return fault(ii->segment, err);
		return GM_OK;
	}
	/* Protected mode (SDM Vol. 3A, 5.3 "Limit Checking", 5.4 "Type Checking"). */
	unsigned type = seg.ar & AR_TYPE_MASK;

	if (seg.ar & AR_UNUSABLE)
		return fault(ii->segment, err);
	if (write ? (type & SEG_TYPE_CODE) || !(type & SEG_TYPE_WRITABLE)
		  : (type & SEG_TYPE_CODE) && !(type & SEG_TYPE_READABLE))
		return fault(ii->segment, err);
	if (!(type & SEG_TYPE_CODE) && (type & SEG_TYPE_EXPAND_DOWN)) {
		uint64_t upper = (seg.ar & AR_DB) ? 0xffffffffull : 0xffffull;

		if (ea <= seg.limit || ea + len - 1 > upper)
			return fault(ii->segment, err);
	} else if (ea + len - 1 > seg.limit) {
		return fault(ii->segment, err);
	}
	*la = (seg.base + ea) & 0xffffffffull;
	return GM_OK;
}

bool vmx_operand_read(const struct vcpu *v, const struct vmx_insn_info *ii, uint64_t disp,
		      void *buf, unsigned len, uint64_t rip)
{
	struct gm_error err = { 0 };
	uint64_t la;
	enum gm_status st = vmx_operand_address(v, ii, disp, len, false, &la, &err);

	if (st == GM_OK)
		st = l1_read_linear(la, buf, len, &err);
	if (st != GM_OK)
		l1_deliver_gm_error(st, &err, rip);
	return st == GM_OK;
}

bool vmx_operand_write(const struct vcpu *v, const struct vmx_insn_info *ii, uint64_t disp,
		       const void *buf, unsigned len, uint64_t rip)
{
	struct gm_error err = { 0 };
	uint64_t la;
	enum gm_status st = vmx_operand_address(v, ii, disp, len, true, &la, &err);

	if (st == GM_OK)
		st = l1_write_linear(la, buf, len, &err);
	if (st != GM_OK)
		l1_deliver_gm_error(st, &err, rip);
	return st == GM_OK;
}
