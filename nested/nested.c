/* SPDX-License-Identifier: MIT */
/* L1's VMX state and its view of the MSRs L0 owns. */
#include "nested/internal.h"
#include "nested/ept.h"
#include "vmx/caps.h"
#include "core/pmm.h"
#include "core/x86.h"

struct nested_vmx nested;

void nested_init(uint64_t vmcs01, bool shadowing, bool shadow_wide, uint32_t ept02_pool_pages)
{
	nested_caps_init(&nested.caps, &vmx_caps);
	nested.current_ptr = VMPTR_INVALID;
	nested.vmcs12 = phys_to_virt(pmm_alloc_page_or_panic("nested"));
	nested.staging = phys_to_virt(pmm_alloc_page_or_panic("nested"));
	nested.vmcs01 = vmcs01;
	nested.vmcs02_owner = VMPTR_INVALID;
	nested.checked = VMPTR_INVALID;
	nested_ept_init(ept02_pool_pages);
	nested_bitmaps_init();
	nested_shadow_init(shadowing, shadow_wide);
	nested_sync_init(nested.shadow_wide);  /* wide fields are not cold then */
	nested_fast_slots_init();              /* after the caps and the dirty groups */
	nested_msr_lists_init();
	/* Unlocked, as firmware leaves it: L1 enables and locks VMX itself. */
	nested.feature_control = 0;
}

/* Bits L1 may set in IA32_FEATURE_CONTROL: lock and VMX outside SMX (no SMX here). */
#define L1_FEATURE_CONTROL_BITS (FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX)

bool nested_rdmsr(uint32_t msr, uint64_t *value)
{
	if (msr == MSR_IA32_FEATURE_CONTROL) {
		*value = nested.feature_control;
		return true;
	}
	return nested_caps_rdmsr(&nested.caps, msr, value);
}

void nested_restore_msr(uint32_t msr, uint64_t value)
{
	if (msr == MSR_IA32_FEATURE_CONTROL)
		nested.feature_control = value;  /* even past the lock: an undo */
}

bool nested_wrmsr(uint32_t msr, uint64_t value)
{
	/* SDM Vol. 3C, 24.7: once locked, writes fault until reset. */
	if (msr != MSR_IA32_FEATURE_CONTROL || (nested.feature_control & FEATURE_CONTROL_LOCK) ||
	    (value & ~(uint64_t)L1_FEATURE_CONTROL_BITS))
		return false;
	nested.feature_control = value;
	return true;
}
