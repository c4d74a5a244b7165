/* SPDX-License-Identifier: MIT */
#include "nested/merge.h"
#include "nested/checks.h"
#include "vmx/vmx_bits.h"

/* L1 controls that act on L2 directly; the rest L0 emulates (MSR lists, EFER/PAT
 * and debug-control loads and saves). */
#define L1_EXIT_PASSED  EXIT_ACK_INTR_ON_EXIT
#define L1_ENTRY_PASSED ENTRY_IA32E_MODE_GUEST

static bool settle(struct vmx_ctl_caps caps, uint32_t want, uint32_t *out)
{
	return vmx_ctl_adjust(caps, want, want, out);
}

bool nested_merge_controls(const struct vmcs12 *v12, const struct vmx_caps *hw,
			   const struct l0_needs *l0, struct vmcs02_controls *out,
			   const char **what)
{
	uint32_t proc12 = v12->CPU_BASED_VM_EXEC_CONTROL;

	*what = 0;
	out->io_bitmaps_from_l1 = proc12 & PROC_USE_IO_BITMAPS;
	/* With I/O bitmaps, "unconditional I/O exiting" is ignored (25.6.2). */
	out->io_all_exit = !out->io_bitmaps_from_l1 && (proc12 & PROC_UNCOND_IO_EXITING);
	out->msr_bitmap_from_l1 = proc12 & PROC_USE_MSR_BITMAPS;
	if (!settle(hw->pin, v12->PIN_BASED_VM_EXEC_CONTROL, &out->pin))
		*what = "pin-based";
	/* I/O L1 may want exits to L0, which decides on L1's bitmap at the time
	 * of the access (bitmaps.c); other I/O goes through L0's own bitmaps. */
	else if (!settle(hw->proc,
			 (proc12 & ~(PROC_UNCOND_IO_EXITING | PROC_USE_IO_BITMAPS)) | L0_PROC02 |
				 (out->io_bitmaps_from_l1 || out->io_all_exit ? PROC_UNCOND_IO_EXITING
									      : PROC_USE_IO_BITMAPS),
			 &out->proc))
		*what = "processor-based";
	else if (!settle(hw->proc2, vmcs12_proc2(v12) | L0_PROC2_02, &out->proc2))
		*what = "secondary";
	/* L2's preemption timer counts on across exits L0 absorbs: VMCS02 saves it. */
	else if (!settle(hw->exit, (v12->VM_EXIT_CONTROLS & L1_EXIT_PASSED) | L0_EXIT02 |
					   (out->pin & PIN_PREEMPTION_TIMER ? EXIT_SAVE_PREEMPTION_TIMER
									    : 0),
			 &out->exit))
		*what = "VM-exit";
	else if (!settle(hw->entry, (v12->VM_ENTRY_CONTROLS & L1_ENTRY_PASSED) | L0_ENTRY02,
			 &out->entry))
		*what = "VM-entry";
	if (*what)
		return false;

	/* L0 intercepts no exceptions for itself: L1's bitmap and #PF filter as they are. */
	out->exception_bitmap = v12->EXCEPTION_BITMAP;
	out->pf_mask = v12->PAGE_FAULT_ERROR_CODE_MASK;
	out->pf_match = v12->PAGE_FAULT_ERROR_CODE_MATCH;

	/* A CR bit is owned if L1 or L0 owns it; where only L0 does, L2 reads the
	 * value L1 gave it in its guest CR (25.6.6). */
	out->cr0_mask = v12->CR0_GUEST_HOST_MASK | l0->cr0_mask;
	out->cr4_mask = v12->CR4_GUEST_HOST_MASK | l0->cr4_mask;
	out->cr0_shadow = (v12->CR0_READ_SHADOW & v12->CR0_GUEST_HOST_MASK) |
			  (v12->GUEST_CR0 & ~v12->CR0_GUEST_HOST_MASK);
	out->cr4_shadow = (v12->CR4_READ_SHADOW & v12->CR4_GUEST_HOST_MASK) |
			  (v12->GUEST_CR4 & ~v12->CR4_GUEST_HOST_MASK);
	/* L0 does not offset L1's TSC: L2's offset is L1's for it. */
	out->tsc_offset = (proc12 & PROC_USE_TSC_OFFSETTING) ? v12->TSC_OFFSET : 0;
	return true;
}
