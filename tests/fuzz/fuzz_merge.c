/* SPDX-License-Identifier: MIT */
/*
 * nested/merge.c on the VMCS12s the entry checks accept (nested_input.h: the
 * fixture's valid VMCS12 with fields changed; the fixture's CPU, or one the
 * input narrows that still has what L0 requires at boot, vmx/vmcs01.c).
 * Invariants, for every accepted VMCS12:
 *  - the merge succeeds (vmcs02.c panics otherwise: "L0 bug");
 *  - the VMCS02 controls satisfy the hardware's capabilities: every
 *    must-be-1 bit set, no bit outside allowed-1;
 *  - L0's own controls are set (merge.c's L0_*: MSR bitmaps, secondary
 *    controls, EPT, the host address-space size and EFER/PAT save/load);
 *  - I/O L1 wants to see exits to L0 (unconditional I/O exiting, no I/O
 *    bitmaps); other I/O goes through L0's bitmaps;
 *  - L1's controls that act on L2 directly are there as L1 set them, its
 *    exception bitmap and #PF filter, its TSC offset when it offsets;
 *  - the CR0/CR4 guest/host masks hold L0's bits and L1's; the read shadows
 *    show L1's shadow where L1 owns a bit and L1's guest value where only L0
 *    does.
 */
#include "nested_input.h"

#include "nested/merge.h"
#include "vmx/vmcs01_controls.h"

/* What vmx/vmcs01.c requires of the CPU at boot, per control: pin, proc, proc2, exit, entry. */
static const uint32_t l0_boot[5] = {
	VMCS01_PIN, VMCS01_PROC, VMCS01_PROC2, VMCS01_EXIT, VMCS01_ENTRY,
};

static bool read_l1(uint64_t gpa, void *buf, unsigned len)
{
	uint32_t rev = NV_VMCS12_REVISION;

	memcpy(buf, &rev, len < 4 ? len : 4);
	return true;
}

static void check_ctl(const char *name, struct vmx_ctl_caps hw, uint32_t value, uint32_t l0)
{
	INVARIANT((value & hw.must1) == hw.must1, "%s 0x%x lacks must-be-1 bits 0x%x", name,
		  value, hw.must1 & ~value);
	INVARIANT(!(value & ~hw.may1), "%s 0x%x has bits 0x%x the CPU does not allow", name,
		  value, value & ~hw.may1);
	INVARIANT((value & l0) == l0, "%s 0x%x lacks L0's bits 0x%x", name, value, l0 & ~value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned flags = (unsigned)take(&in, 1);
	struct vmx_caps hw = nested_input_hw(&in, flags & 4, l0_boot);
	static struct nested_caps caps;
	static struct vmcs12 v;
	struct vmcs02_controls out;
	struct entry_check_env env = { &caps, 39, !(flags & 1), read_l1 };
	/* L0's CR bits, as vmcs01.c computes them, and some more from the input. */
	struct l0_needs l0 = {
		(hw.cr0_fixed0 & ~(CR0_PE | CR0_PG)) | (~hw.cr0_fixed1 & 0xffffffff),
		hw.cr4_fixed0 | (~hw.cr4_fixed1 & 0xffffffff),
	};
	const char *what = "unset";
	uint64_t qual;

	if (flags & 8) {
		l0.cr0_mask |= take(&in, 8);
		l0.cr4_mask |= take(&in, 8);
	}
	nested_caps_init(&caps, &hw);
	fixture_vmcs12(&v, &caps);
	nested_input_mutate(&in, &v);
	if (nested_check_controls(&v, &env) || nested_check_host_state(&v, &env) ||
	    nested_check_guest_state(&v, &env, &qual))
		return 0;

	bool ok = nested_merge_controls(&v, &hw, &l0, &out, &what);

	INVARIANT(ok && !what, "merge of an accepted VMCS12 failed: %s controls", what);
	check_ctl("pin-based", hw.pin, out.pin, 0);
	check_ctl("processor-based", hw.proc, out.proc, L0_PROC02);
	check_ctl("secondary", hw.proc2, out.proc2, L0_PROC2_02);
	check_ctl("VM-exit", hw.exit, out.exit, L0_EXIT02);
	check_ctl("VM-entry", hw.entry, out.entry, L0_ENTRY02);

	/* L1's controls on L2 (the hardware runs them: L1's caps are a subset of its). */
	uint32_t proc12 = v.CPU_BASED_VM_EXEC_CONTROL, proc2_12 = vmcs12_proc2(&v);
	bool l1_io = proc12 & (PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING);

	INVARIANT((out.pin & v.PIN_BASED_VM_EXEC_CONTROL) == v.PIN_BASED_VM_EXEC_CONTROL,
		  "pin-based 0x%x lacks L1's 0x%x", out.pin, v.PIN_BASED_VM_EXEC_CONTROL);
	INVARIANT((out.proc & proc12 & ~(PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING)) ==
			  (proc12 & ~(PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING)),
		  "processor-based 0x%x lacks L1's 0x%x", out.proc, proc12);
	INVARIANT((out.proc2 & proc2_12) == proc2_12, "secondary 0x%x lacks L1's 0x%x", out.proc2,
		  proc2_12);
	INVARIANT((out.exit & v.VM_EXIT_CONTROLS & (EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_DEBUG_CONTROLS)) ==
			  (v.VM_EXIT_CONTROLS & (EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_DEBUG_CONTROLS)),
		  "VM-exit 0x%x lacks L1's 0x%x", out.exit, v.VM_EXIT_CONTROLS);
	INVARIANT(!!(out.entry & ENTRY_IA32E_MODE_GUEST) ==
			  !!(v.VM_ENTRY_CONTROLS & ENTRY_IA32E_MODE_GUEST) &&
		  (out.entry & v.VM_ENTRY_CONTROLS & ENTRY_LOAD_DEBUG_CONTROLS) ==
			  (v.VM_ENTRY_CONTROLS & ENTRY_LOAD_DEBUG_CONTROLS),
		  "VM-entry 0x%x, L1's 0x%x", out.entry, v.VM_ENTRY_CONTROLS);
	/* L2's preemption timer runs on across exits L0 absorbs: VMCS02 saves it. */
	INVARIANT(!(out.pin & PIN_PREEMPTION_TIMER) || (out.exit & EXIT_SAVE_PREEMPTION_TIMER),
		  "timer without its save");

	/* I/O: L1's wishes exit to L0 (which asks L1's bitmaps), the rest through L0's. */
	INVARIANT(out.io_bitmaps_from_l1 == !!(proc12 & PROC_USE_IO_BITMAPS) &&
			  out.io_all_exit == (!(proc12 & PROC_USE_IO_BITMAPS) &&
					      (proc12 & PROC_UNCOND_IO_EXITING)) &&
			  out.msr_bitmap_from_l1 == !!(proc12 & PROC_USE_MSR_BITMAPS),
		  "bitmap flags for processor-based 0x%x", proc12);
	if (l1_io)
		INVARIANT((out.proc & PROC_UNCOND_IO_EXITING) && !(out.proc & PROC_USE_IO_BITMAPS),
			  "L1 wants I/O exits, VMCS02 processor-based 0x%x lets I/O through",
			  out.proc);
	else
		INVARIANT(out.proc & PROC_USE_IO_BITMAPS, "L0's I/O bitmaps off: 0x%x", out.proc);

	INVARIANT(out.exception_bitmap == v.EXCEPTION_BITMAP &&
			  out.pf_mask == v.PAGE_FAULT_ERROR_CODE_MASK &&
			  out.pf_match == v.PAGE_FAULT_ERROR_CODE_MATCH,
		  "exception bitmap or #PF filter");
	INVARIANT(out.tsc_offset == (proc12 & PROC_USE_TSC_OFFSETTING ? v.TSC_OFFSET : 0),
		  "TSC offset");

	/* CR0/CR4: owned by L0 or L1; L2 reads L1's shadow, or L1's guest value. */
	INVARIANT((out.cr0_mask & l0.cr0_mask) == l0.cr0_mask &&
			  (out.cr0_mask & v.CR0_GUEST_HOST_MASK) == v.CR0_GUEST_HOST_MASK,
		  "CR0 mask 0x%llx, L0 0x%llx, L1 0x%llx", (unsigned long long)out.cr0_mask,
		  (unsigned long long)l0.cr0_mask, (unsigned long long)v.CR0_GUEST_HOST_MASK);
	INVARIANT((out.cr4_mask & l0.cr4_mask) == l0.cr4_mask &&
			  (out.cr4_mask & v.CR4_GUEST_HOST_MASK) == v.CR4_GUEST_HOST_MASK,
		  "CR4 mask 0x%llx, L0 0x%llx, L1 0x%llx", (unsigned long long)out.cr4_mask,
		  (unsigned long long)l0.cr4_mask, (unsigned long long)v.CR4_GUEST_HOST_MASK);
	for (unsigned b = 0; b < 64; b++) {
		uint64_t m = 1ull << b;

		if (out.cr0_mask & m)
			INVARIANT((out.cr0_shadow & m) ==
					  ((v.CR0_GUEST_HOST_MASK & m) ? v.CR0_READ_SHADOW & m : v.GUEST_CR0 & m),
				  "CR0 read shadow bit %u", b);
		if (out.cr4_mask & m)
			INVARIANT((out.cr4_shadow & m) ==
					  ((v.CR4_GUEST_HOST_MASK & m) ? v.CR4_READ_SHADOW & m : v.GUEST_CR4 & m),
				  "CR4 read shadow bit %u", b);
	}
	return 0;
}
