/* SPDX-License-Identifier: MIT */
/*
 * Operands of VMX instructions, decoded from the VM-exit instruction
 * information and qualification. SDM Vol. 3C, 28.2.5 "Information for VM
 * Exits Due to Instruction Execution", Tables 28-13 and 28-14.
 */
#ifndef NESTVISOR_NESTED_OPERAND_H
#define NESTVISOR_NESTED_OPERAND_H

#include "vmx/guest_mem.h"
#include "vmx/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

enum seg_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

struct vmx_insn_info {
	unsigned scale;        /* bits 1:0: index scaled by 1 << scale */
	unsigned reg1;         /* bits 6:3: VMREAD/VMWRITE register operand (reg_form) */
	unsigned addr_bits;    /* bits 9:7: 16, 32 or 64 */
	bool reg_form;         /* bit 10: VMREAD/VMWRITE operand is a register */
	enum seg_reg segment;  /* bits 17:15 */
	unsigned index;        /* bits 21:18 */
	bool has_index;        /* bit 22 clear */
	unsigned base;         /* bits 26:23 */
	bool has_base;         /* bit 27 clear */
	unsigned reg2;         /* bits 31:28: VMREAD/VMWRITE field-encoding register */
};

/* The register-form fields alone, for VMREAD/VMWRITE's hot path (no full decode). */
static inline bool vmx_info_reg_form(uint32_t info) { return (info >> 10) & 1; }
static inline unsigned vmx_info_reg1(uint32_t info) { return (info >> 3) & 15; }
static inline unsigned vmx_info_reg2(uint32_t info) { return (info >> 28) & 15; }

static inline struct vmx_insn_info decode_vmx_insn_info(uint32_t info)
{
	static const unsigned addr_bits[8] = { 16, 32, 64, 0, 0, 0, 0, 0 };

	return (struct vmx_insn_info){
		.scale = info & 3,
		.reg1 = vmx_info_reg1(info),
		.addr_bits = addr_bits[(info >> 7) & 7],
		.reg_form = vmx_info_reg_form(info),
		.segment = (enum seg_reg)((info >> 15) & 7),
		.index = (info >> 18) & 15,
		.has_index = !((info >> 22) & 1),
		.base = (info >> 23) & 15,
		.has_base = !((info >> 27) & 1),
		.reg2 = vmx_info_reg2(info),
	};
}

/*
 * Compute the linear address of a memory operand of len bytes, with the
 * segmentation checks of SDM Vol. 3A, 5.3 "Limit Checking" / 3.3.7.1
 * "Canonical Addressing". On a fault, err holds the exception.
 */
enum gm_status vmx_operand_address(const struct vcpu *v, const struct vmx_insn_info *ii,
				   uint64_t displacement, unsigned len, bool write, uint64_t *la,
				   struct gm_error *err);

/* Read or write a memory operand; on failure the exception (or run end) is delivered. */
bool vmx_operand_read(const struct vcpu *v, const struct vmx_insn_info *ii, uint64_t disp,
		      void *buf, unsigned len, uint64_t rip);
bool vmx_operand_write(const struct vcpu *v, const struct vmx_insn_info *ii, uint64_t disp,
		       const void *buf, unsigned len, uint64_t rip);

#endif
