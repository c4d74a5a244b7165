/* SPDX-License-Identifier: MIT */
/*
 * Shared by the entry_checks and merge harnesses: a VMCS12 made from the
 * input. It starts as tests/unit/nested_fixture.h's valid one for a
 * Bochs-like CPU, whose capabilities the input may narrow (allowed-1 bits
 * dropped, default1 bits made must-be-1, as another CPU could report them), and the
 * input then changes fields: set, xor, set or clear a bit, mostly in the
 * fields the entry checks and the merge read.
 */
#ifndef NESTVISOR_FUZZ_NESTED_INPUT_H
#define NESTVISOR_FUZZ_NESTED_INPUT_H

#include "fuzz.h"

#include "../unit/nested_fixture.h"

/* The fields the checks and the merge read, by enum vmcs12_index. */
static const uint8_t nested_focus[] = {
	V12_PIN_BASED_VM_EXEC_CONTROL, V12_CPU_BASED_VM_EXEC_CONTROL,
	V12_SECONDARY_VM_EXEC_CONTROL, V12_VM_EXIT_CONTROLS, V12_VM_ENTRY_CONTROLS,
	V12_EPT_POINTER, V12_VIRTUAL_PROCESSOR_ID, V12_CR3_TARGET_COUNT, V12_IO_BITMAP_A,
	V12_IO_BITMAP_B, V12_MSR_BITMAP, V12_VM_EXIT_MSR_STORE_ADDR, V12_VM_EXIT_MSR_STORE_COUNT,
	V12_VM_EXIT_MSR_LOAD_ADDR, V12_VM_EXIT_MSR_LOAD_COUNT, V12_VM_ENTRY_MSR_LOAD_ADDR,
	V12_VM_ENTRY_MSR_LOAD_COUNT, V12_VM_ENTRY_INTR_INFO, V12_VM_ENTRY_EXCEPTION_ERROR_CODE,
	V12_VM_ENTRY_INSTRUCTION_LEN, V12_HOST_CR0, V12_HOST_CR3, V12_HOST_CR4,
	V12_HOST_ES_SELECTOR, V12_HOST_CS_SELECTOR, V12_HOST_SS_SELECTOR, V12_HOST_DS_SELECTOR,
	V12_HOST_FS_SELECTOR, V12_HOST_GS_SELECTOR, V12_HOST_TR_SELECTOR, V12_HOST_FS_BASE,
	V12_HOST_GS_BASE, V12_HOST_TR_BASE, V12_HOST_GDTR_BASE, V12_HOST_IDTR_BASE,
	V12_HOST_RIP, V12_HOST_IA32_EFER, V12_HOST_IA32_PAT, V12_HOST_IA32_SYSENTER_ESP,
	V12_HOST_IA32_SYSENTER_EIP, V12_GUEST_CR0, V12_GUEST_CR4, V12_GUEST_RIP,
	V12_GUEST_CS_AR_BYTES, V12_GUEST_ACTIVITY_STATE, V12_VMCS_LINK_POINTER,
	V12_GUEST_IA32_PAT, V12_EXCEPTION_BITMAP, V12_CR0_GUEST_HOST_MASK,
	V12_CR4_GUEST_HOST_MASK, V12_CR0_READ_SHADOW, V12_CR4_READ_SHADOW, V12_TSC_OFFSET,
	V12_PAGE_FAULT_ERROR_CODE_MASK, V12_PAGE_FAULT_ERROR_CODE_MATCH,
};

/*
 * Narrow one control's capabilities as another CPU could report them: drop
 * allowed-1 bits (but those in keep), make default1 bits (SDM Vol. 3D, A.2
 * "Default1 class": must be 1 on CPUs without the TRUE MSRs) must-be-1.
 */
static inline void narrow_ctl(struct fuzz_in *in, struct vmx_ctl_caps *c, uint32_t keep,
			      uint32_t default1)
{
	uint32_t drop = (uint32_t)take(in, 4), add = (uint32_t)take(in, 4);

	c->may1 &= ~(drop & ~keep & ~c->must1);
	c->must1 |= add & default1 & c->may1;
}

/* The default1 classes (A.3.1, A.3.2, A.4, A.5). */
#define PIN_DEFAULT1_CLASS   0x00000016u
#define PROC_DEFAULT1_CLASS  0x0401e172u
#define EXIT_DEFAULT1_CLASS  0x00036dffu
#define ENTRY_DEFAULT1_CLASS 0x000011ffu

/*
 * The hardware: the fixture's, or (narrow) narrowed by the input; keep: per
 * control (pin, proc, proc2, exit, entry), allowed-1 bits never dropped.
 */
static inline struct vmx_caps nested_input_hw(struct fuzz_in *in, bool narrow, const uint32_t *keep)
{
	static const uint32_t none[5];
	struct vmx_caps hw = fixture_hw_caps();

	if (!narrow)
		return hw;
	keep = keep ? keep : none;
	narrow_ctl(in, &hw.pin, keep[0], PIN_DEFAULT1_CLASS);
	narrow_ctl(in, &hw.proc, keep[1], PROC_DEFAULT1_CLASS);
	narrow_ctl(in, &hw.proc2, keep[2], 0);
	narrow_ctl(in, &hw.exit, keep[3], EXIT_DEFAULT1_CLASS);
	narrow_ctl(in, &hw.entry, keep[4], ENTRY_DEFAULT1_CLASS);
	hw.misc &= ~take(in, 4);
	hw.ept_vpid &= ~take(in, 8);
	return hw;
}

/* Change fields of v as the rest of the input says. */
static inline void nested_input_mutate(struct fuzz_in *in, struct vmcs12 *v)
{
	while (!fuzz_in_done(in)) {
		unsigned op = (unsigned)take(in, 1), which = (unsigned)take(in, 1);
		unsigned index = op & 4 ? which % V12_FIELDS
					: nested_focus[which % sizeof(nested_focus)];
		const struct vmcs12_field *f = &vmcs12_fields[index];
		uint64_t old = vmcs12_read(v, f, 0), value;

		switch (op & 3) {
		case 0: value = take(in, 8); break;
		case 1: value = old ^ take(in, 8); break;
		case 2: value = old | 1ull << (take(in, 1) & 63); break;
		default: value = old & ~(1ull << (take(in, 1) & 63)); break;
		}
		vmcs12_write(v, f, 0, value, 64);
	}
}

#endif
