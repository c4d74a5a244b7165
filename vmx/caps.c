/* SPDX-License-Identifier: MIT */
#include "vmx/caps.h"
#include "vmx/vmx_bits.h"
#include "core/x86.h"

struct vmx_caps vmx_caps;

void vmx_caps_read(struct vmx_caps *c)
{
	/* A.3.1-A.5: with bit 55 of IA32_VMX_BASIC, the TRUE_* MSRs give the real
	 * default-1 settings (CR3 exiting etc. may then be cleared). */
	bool true_ctls;

	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->revision = (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK);
	true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
	c->pin = vmx_ctl_caps_from_msr(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
						       : MSR_IA32_VMX_PINBASED_CTLS));
	c->proc = vmx_ctl_caps_from_msr(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
							: MSR_IA32_VMX_PROCBASED_CTLS));
	c->exit = vmx_ctl_caps_from_msr(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS
							: MSR_IA32_VMX_EXIT_CTLS));
	c->entry = vmx_ctl_caps_from_msr(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS
							 : MSR_IA32_VMX_ENTRY_CTLS));
	c->proc2 = (c->proc.may1 & PROC_ACTIVATE_SECONDARY)
			   ? vmx_ctl_caps_from_msr(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2))
			   : (struct vmx_ctl_caps){ 0, 0 };
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	c->ept_vpid = (c->proc2.may1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
			      ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	c->vmfunc = (c->proc2.may1 & PROC2_ENABLE_VMFUNC) ? rdmsr(MSR_IA32_VMX_VMFUNC) : 0;
}

bool vmx_ctl_adjust(struct vmx_ctl_caps c, uint32_t want, uint32_t required, uint32_t *out)
{
	*out = (want | c.must1) & c.may1;
	return (*out & required) == required;
}
