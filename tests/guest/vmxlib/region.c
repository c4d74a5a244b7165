/* SPDX-License-Identifier: MIT */
/*
 * Entering VMX operation for the cases that need it: SDM Vol. 3C, 24.7
 * "Enabling and Entering VMX Operation" (IA32_FEATURE_CONTROL, the fixed
 * CR0/CR4 bits of A.7 and A.8, a VMXON region with the revision identifier).
 */
#include "vmxlib.h"

struct vmx_region vmxon_region;
bool vmx_is_on;

uint64_t region_pa(struct vmx_region *r)
{
	return (uintptr_t)r;            /* identity map */
}

void region_init(struct vmx_region *r, uint32_t revision)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->bytes, &revision, sizeof(revision));
}

void fix_control_registers(void)
{
	write_cr0(cr0_fixed(read_cr0()));
	write_cr4(cr4_fixed(read_cr4() | CR4_VMXE));
}

bool feature_control_enable(void)
{
	uint64_t fc = 0, want = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;

	if (rdmsr_checked(MSR_IA32_FEATURE_CONTROL, &fc) != NO_EXCEPTION)
		return false;
	if (!(fc & FEATURE_CONTROL_LOCKED) &&
	    wrmsr_checked(MSR_IA32_FEATURE_CONTROL, fc | want) != NO_EXCEPTION)
		return false;
	rdmsr_checked(MSR_IA32_FEATURE_CONTROL, &fc);
	return (fc & want) == want;
}

bool vmx_ensure_on(void)
{
	struct vmx_res r;

	if (vmx_is_on)
		return true;
	if (!feature_control_enable()) {
		report(false, "set-up: IA32_FEATURE_CONTROL allows VMXON outside SMX");
		return false;
	}
	fix_control_registers();
	region_init(&vmxon_region, caps.revision);
	r = vmxon(region_pa(&vmxon_region));
	if (r.outcome != VMX_OK)
		report(false, "set-up: VMXON -> VMsucceed (got %s)", res_str(r));
	vmx_is_on = r.outcome == VMX_OK;
	return vmx_is_on;
}
