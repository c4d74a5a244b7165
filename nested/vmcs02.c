/* SPDX-License-Identifier: MIT */
/*
 * VMCS02 = VMCS12 + what L0 needs. L1's controls are taken as they are (L0
 * advertised only what it can honour), L0 adds its own: EPT01 for L2's
 * memory (L1 has no EPT yet), its host state, and the intercepts it keeps
 * for itself, merged into the bitmaps. Events L1 injects are passed on.
 */
#include "nested/internal.h"
#include "nested/checks.h"
#include "nested/ept.h"
#include "nested/merge.h"
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/x86.h"

#include <nestvisor/string.h>

/* Events L1 injects (26.6 "Event Injection"): passed on as they are. */
static void write_event_injection(const struct vmcs12 *v12)
{
	vmwrite32(VMCS_VM_ENTRY_INTR_INFO, v12->VM_ENTRY_INTR_INFO);
	vmwrite32(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, v12->VM_ENTRY_EXCEPTION_ERROR_CODE);
	vmwrite32(VMCS_VM_ENTRY_INSTRUCTION_LEN, v12->VM_ENTRY_INSTRUCTION_LEN);
}

static void setup_controls(const struct vmcs12 *v12)
{
	const struct l0_needs l0 = { vmcs01_cr0_mask(), vmcs01_cr4_mask() };
	struct vmcs02_controls c;
	const char *what;

	/* L1's part was checked against caps that are a subset of the hardware's. */
	if (!nested_merge_controls(v12, &vmx_caps, &l0, &c, &what))
		panic("VMCS02 %s controls not allowed by the CPU (L0 bug)", what);
	vmwrite32(VMCS_PIN_BASED_VM_EXEC_CONTROL, c.pin);
	vmwrite32(VMCS_CPU_BASED_VM_EXEC_CONTROL, c.proc);
	vmwrite32(VMCS_SECONDARY_VM_EXEC_CONTROL, c.proc2);
	vmwrite32(VMCS_VM_EXIT_CONTROLS, c.exit);
	vmwrite32(VMCS_VM_ENTRY_CONTROLS, c.entry);
	vmwrite32(VMCS_EXCEPTION_BITMAP, c.exception_bitmap);
	vmwrite32(VMCS_PAGE_FAULT_ERROR_CODE_MASK, c.pf_mask);
	vmwrite32(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, c.pf_match);
	vmwrite32(VMCS_CR3_TARGET_COUNT, v12->CR3_TARGET_COUNT);
	vmwritenat(VMCS_CR3_TARGET_VALUE0, v12->CR3_TARGET_VALUE0);
	vmwritenat(VMCS_CR3_TARGET_VALUE1, v12->CR3_TARGET_VALUE1);
	vmwritenat(VMCS_CR3_TARGET_VALUE2, v12->CR3_TARGET_VALUE2);
	vmwritenat(VMCS_CR3_TARGET_VALUE3, v12->CR3_TARGET_VALUE3);
	vmwrite64(VMCS_TSC_OFFSET, c.tsc_offset);
	vmwritenat(VMCS_CR0_GUEST_HOST_MASK, c.cr0_mask);
	vmwritenat(VMCS_CR4_GUEST_HOST_MASK, c.cr4_mask);
	vmwritenat(VMCS_CR0_READ_SHADOW, c.cr0_shadow);
	vmwritenat(VMCS_CR4_READ_SHADOW, c.cr4_shadow);

	/* L0 processes L1's MSR lists itself (msr_lists.c); a store list may hold
	 * IA32_TSC, stored as of the exit: the stub that takes a timestamp. */
	vmwritenat(VMCS_HOST_RIP, vmx_exit_stub_l2_addr(v12->VM_EXIT_MSR_STORE_COUNT != 0));
	vmwrite32(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite32(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite32(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	write_event_injection(v12);
}

static bool dirty(unsigned index)
{
	return nested.dirty[index / 64] >> (index % 64) & 1;
}

/*
 * The guest state VMCS02 takes from VMCS12 by a rule, not by copy. After a
 * VM exit VMCS02 holds L2's values; they are what the next entry needs
 * unless L1 wrote the field, or VMCS12's controls load a value the exit did
 * not save into VMCS12 (then VMCS12's older one counts), or L2 inherits
 * L1's current value (26.3.2.1). all: a new VMCS02, or new controls.
 */
static bool setup_special_guest_state(const struct vmcs12 *v12, const struct l1_inherited *inh,
				      bool all)
{
	uint32_t entry = v12->VM_ENTRY_CONTROLS, exit = v12->VM_EXIT_CONTROLS;
	bool ia32e = entry & ENTRY_IA32E_MODE_GUEST;

	if (all || dirty(V12_GUEST_CR0))
		vmwritenat(VMCS_GUEST_CR0, v12->GUEST_CR0);
	if (all || dirty(V12_GUEST_CR4))
		vmwritenat(VMCS_GUEST_CR4, v12->GUEST_CR4);
	/* With "IA-32e mode guest", EFER.LMA and LME follow that control. */
	if (all || dirty(V12_GUEST_IA32_EFER) || !(entry & ENTRY_LOAD_EFER) || !(exit & EXIT_SAVE_EFER))
		vmwrite64(VMCS_GUEST_IA32_EFER,
			  (entry & ENTRY_LOAD_EFER) ? v12->GUEST_IA32_EFER
			  : (inh->efer & ~(EFER_LMA | EFER_LME)) | (ia32e ? EFER_LMA | EFER_LME : 0));
	if (all || dirty(V12_GUEST_IA32_PAT) || !(entry & ENTRY_LOAD_PAT) || !(exit & EXIT_SAVE_PAT))
		vmwrite64(VMCS_GUEST_IA32_PAT,
			  (entry & ENTRY_LOAD_PAT) ? v12->GUEST_IA32_PAT : inh->pat);
	if (!(entry & ENTRY_LOAD_DEBUG_CONTROLS)) {
		vmwritenat(VMCS_GUEST_DR7, inh->dr7);
		vmwrite64(VMCS_GUEST_IA32_DEBUGCTL, inh->debugctl);
	} else if (all || dirty(V12_GUEST_DR7) || dirty(V12_GUEST_IA32_DEBUGCTL) ||
		   !(exit & EXIT_SAVE_DEBUG_CONTROLS)) {
		vmwritenat(VMCS_GUEST_DR7, v12->GUEST_DR7);
		vmwrite64(VMCS_GUEST_IA32_DEBUGCTL, v12->GUEST_IA32_DEBUGCTL);
	}
	/* The timer starts from VMCS12's value at every entry from L1 (26.7.4). */
	if (v12->PIN_BASED_VM_EXEC_CONTROL & PIN_PREEMPTION_TIMER)
		vmwrite32(VMCS_VMX_PREEMPTION_TIMER_VALUE, v12->VMX_PREEMPTION_TIMER_VALUE);
	if (!(v12->GUEST_CR0 & CR0_PG) || !(v12->GUEST_CR4 & CR4_PAE) || ia32e)
		return true;
	if (!nested_ept_on(v12))
		return l1_load_pdptes(v12->GUEST_CR3);  /* L2's CR3 is an L1 address */
	/* With EPT the PDPTEs come from VMCS12's fields (26.3.2.4). */
	vmwrite64(VMCS_GUEST_PDPTE0, v12->GUEST_PDPTE0);
	vmwrite64(VMCS_GUEST_PDPTE1, v12->GUEST_PDPTE1);
	vmwrite64(VMCS_GUEST_PDPTE2, v12->GUEST_PDPTE2);
	vmwrite64(VMCS_GUEST_PDPTE3, v12->GUEST_PDPTE3);
	return true;
}

static void alloc_vmcs02(void)
{
	nested.vmcs02 = vmx_new_vmcs();  /* also makes it current */
	vmwrite64(VMCS_VMCS_LINK_POINTER, ~0ull);
}

int nested_prepare_vmcs02(struct vcpu *v, const struct l1_inherited *inh)
{
	const struct vmcs12 *v12 = nested.vmcs12;
	bool full = nested.vmcs02_owner != nested.current_ptr;
	bool new_controls = full || (nested.dirty_groups & DG_CONTROLS);

	if (!nested.vmcs02)
		alloc_vmcs02();
	else
		vmx_load_vmcs(nested.vmcs02);
	if (full) {
		vmcs_write_host_state(v);
		setup_controls(v12);
		nested_write_bitmap_addresses();
		nested_write_guest_hot(v12, true);
		nested_write_guest(v12, true);
	} else {
		if (new_controls)
			setup_controls(v12);
		else if (nested.dirty_groups & DG_EVENT)
			write_event_injection(v12);
		if (nested.dirty_groups & DG_GUEST_HOT)
			nested_write_guest_hot(v12, false);
		if (nested.dirty_groups & DG_GUEST)
			nested_write_guest(v12, false);
	}
	nested_setup_bitmaps(v12);
	if (!setup_special_guest_state(v12, inh, new_controls)) {
		vmx_load_vmcs(nested.vmcs01);
		nested.vmcs02_owner = VMPTR_INVALID;
		return 2 + 1;  /* qualification 2: PDPTE loading failed (26.8) */
	}
	nested_ept_before_entry(v12, new_controls);
	nested_clear_dirty();
	nested.vmcs02_owner = nested.current_ptr;
	return 0;
}
