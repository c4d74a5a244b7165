/* SPDX-License-Identifier: MIT */
#include "nested/caps.h"
#include "nested/vmcs12.h"
#include "vmx/vmx_bits.h"
#include "core/x86.h"

#include <nestvisor/string.h>

/* Restrict a control MSR pair to the supported allowed-1 bits. */
static struct vmx_ctl_caps restrict_ctl(struct vmx_ctl_caps hw, uint32_t supported)
{
	return (struct vmx_ctl_caps){ hw.must1, hw.may1 & (supported | hw.must1) };
}

static uint64_t ctl_msr(struct vmx_ctl_caps c)
{
	return (uint64_t)c.may1 << 32 | c.must1;
}

/* The default1 class of each control (A.2): the non-TRUE MSRs report them as must-be-1. */
#define PIN_DEFAULT1   0x00000016u
#define PROC_DEFAULT1  0x0401e172u
#define EXIT_DEFAULT1  0x00036dffu
#define ENTRY_DEFAULT1 0x000011ffu

static void set(struct nested_caps *n, uint32_t msr, uint64_t v)
{
	n->msr[msr - MSR_IA32_VMX_FIRST] = v;
	n->msr_exists[msr - MSR_IA32_VMX_FIRST] = true;
}

/* Highest field index L1 can access, for IA32_VMX_VMCS_ENUM (A.9). */
static uint64_t vmcs_enum(const struct nested_caps *n)
{
	uint64_t max = 0;

	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		uint64_t index = VMCS_ENC_INDEX(f->encoding);

		if (n->feature[f->feature] && index > max)
			max = index;
	}
	return max << 1;
}

void nested_caps_init(struct nested_caps *n, const struct vmx_caps *hw)
{
	struct vmx_caps *c = &n->l1;

	memset(n, 0, sizeof(*n));
	c->revision = NV_VMCS12_REVISION;
	c->basic = NV_VMCS12_REVISION | (4096ull << VMX_BASIC_REGION_SIZE_SHIFT) |
		   (VMX_BASIC_MEMTYPE_WB << VMX_BASIC_MEMTYPE_SHIFT) |
		   (hw->basic & VMX_BASIC_INOUT_INFO) | VMX_BASIC_TRUE_CTLS;
	c->pin = restrict_ctl(hw->pin, NESTED_PIN_SUPPORTED);
	c->proc = restrict_ctl(hw->proc, NESTED_PROC_SUPPORTED);
	c->proc2 = restrict_ctl(hw->proc2, NESTED_PROC2_SUPPORTED);
	c->exit = restrict_ctl(hw->exit, NESTED_EXIT_SUPPORTED);
	c->entry = restrict_ctl(hw->entry, NESTED_ENTRY_SUPPORTED);
	/* Controls whose VMCS02 form needs another control of the CPU (merge.c): L1's
	 * I/O bitmaps become unconditional I/O exiting (L0 consults them at each
	 * exit); L2's timer runs on across the exits L0 absorbs, so VMCS02 saves it. */
	if (!(hw->proc.may1 & PROC_UNCOND_IO_EXITING))
		c->proc.may1 &= ~PROC_USE_IO_BITMAPS;
	if (!(hw->exit.may1 & EXIT_SAVE_PREEMPTION_TIMER))
		c->pin.may1 &= ~PIN_PREEMPTION_TIMER;
	/* Virtual NMIs need NMI exiting (26.2.1.1); NMI-window exiting needs virtual NMIs. */
	if (!(c->pin.may1 & PIN_NMI_EXITING))
		c->pin.may1 &= ~PIN_VIRTUAL_NMIS;
	if (!(c->pin.may1 & PIN_VIRTUAL_NMIS))
		c->proc.may1 &= ~PROC_NMI_WINDOW_EXITING;
	if (!c->proc2.may1)
		c->proc.may1 &= ~PROC_ACTIVATE_SECONDARY;
	c->misc = hw->misc & NESTED_MISC_SUPPORTED;
	/* Unrestricted guest needs EPT (26.2.1.1); the timer's exit needs the timer. */
	if (!(c->proc2.may1 & PROC2_ENABLE_EPT))
		c->proc2.may1 &= ~PROC2_UNRESTRICTED_GUEST;
	if (!(c->pin.may1 & PIN_PREEMPTION_TIMER)) {
		c->exit.may1 &= ~EXIT_SAVE_PREEMPTION_TIMER;
		c->misc &= ~0x1full;
	}
	/* FIXED0 keeps PE and PG (VMX operation needs them); with unrestricted
	 * guest L2 may clear them (26.3.1.1), as on hardware. */
	c->cr0_fixed0 = hw->cr0_fixed0;
	c->cr0_fixed1 = hw->cr0_fixed1;
	c->cr4_fixed0 = hw->cr4_fixed0;
	c->cr4_fixed1 = hw->cr4_fixed1;
	c->ept_vpid = 0;
	if (c->proc2.may1 & PROC2_ENABLE_EPT)
		c->ept_vpid |= NESTED_EPT_CAPS | (hw->ept_vpid & NESTED_EPT_HW_CAPS);
	if (c->proc2.may1 & PROC2_ENABLE_VPID)
		c->ept_vpid |= NESTED_VPID_CAPS;
	c->vmfunc = 0;

	n->feature[F_BASE] = true;
	n->feature[F_EPT] = c->proc2.may1 & PROC2_ENABLE_EPT;
	n->feature[F_VPID] = c->proc2.may1 & PROC2_ENABLE_VPID;
	n->feature[F_PREEMPTION_TIMER] = c->pin.may1 & PIN_PREEMPTION_TIMER;

	set(n, MSR_IA32_VMX_BASIC, c->basic);
	set(n, MSR_IA32_VMX_TRUE_PINBASED_CTLS, ctl_msr(c->pin));
	set(n, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, ctl_msr(c->proc));
	set(n, MSR_IA32_VMX_TRUE_EXIT_CTLS, ctl_msr(c->exit));
	set(n, MSR_IA32_VMX_TRUE_ENTRY_CTLS, ctl_msr(c->entry));
	set(n, MSR_IA32_VMX_PINBASED_CTLS, ctl_msr((struct vmx_ctl_caps){
		c->pin.must1 | PIN_DEFAULT1, c->pin.may1 | PIN_DEFAULT1 }));
	set(n, MSR_IA32_VMX_PROCBASED_CTLS, ctl_msr((struct vmx_ctl_caps){
		c->proc.must1 | PROC_DEFAULT1, c->proc.may1 | PROC_DEFAULT1 }));
	set(n, MSR_IA32_VMX_EXIT_CTLS, ctl_msr((struct vmx_ctl_caps){
		c->exit.must1 | EXIT_DEFAULT1, c->exit.may1 | EXIT_DEFAULT1 }));
	set(n, MSR_IA32_VMX_ENTRY_CTLS, ctl_msr((struct vmx_ctl_caps){
		c->entry.must1 | ENTRY_DEFAULT1, c->entry.may1 | ENTRY_DEFAULT1 }));
	set(n, MSR_IA32_VMX_MISC, c->misc);
	set(n, MSR_IA32_VMX_CR0_FIXED0, c->cr0_fixed0);
	set(n, MSR_IA32_VMX_CR0_FIXED1, c->cr0_fixed1);
	set(n, MSR_IA32_VMX_CR4_FIXED0, c->cr4_fixed0);
	set(n, MSR_IA32_VMX_CR4_FIXED1, c->cr4_fixed1);
	if (c->proc.may1 & PROC_ACTIVATE_SECONDARY)
		set(n, MSR_IA32_VMX_PROCBASED_CTLS2, ctl_msr(c->proc2));
	/* EPT_VPID_CAP, VMFUNC and PROCBASED_CTLS3 exist only with their features (A.10, A.11). */
	if (c->proc2.may1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
		set(n, MSR_IA32_VMX_EPT_VPID_CAP, c->ept_vpid);
	set(n, MSR_IA32_VMX_VMCS_ENUM, vmcs_enum(n));
}

struct ept12_caps nested_ept12_caps(const struct vmx_caps *l1, unsigned maxphyaddr)
{
	return (struct ept12_caps){
		.maxphyaddr = maxphyaddr,
		.exec_only = l1->ept_vpid & EPT_CAP_EXEC_ONLY,
		.use_2m = l1->ept_vpid & EPT_CAP_2MB_PAGES,
		.use_1g = l1->ept_vpid & EPT_CAP_1GB_PAGES,
		.ad = l1->ept_vpid & EPT_CAP_AD_FLAGS,
		.mt_uc = l1->ept_vpid & EPT_CAP_MEMTYPE_UC,
		.mt_wb = l1->ept_vpid & EPT_CAP_MEMTYPE_WB,
	};
}

bool nested_caps_rdmsr(const struct nested_caps *n, uint32_t msr, uint64_t *value)
{
	if (msr < MSR_IA32_VMX_FIRST || msr > MSR_IA32_VMX_LAST ||
	    !n->msr_exists[msr - MSR_IA32_VMX_FIRST])
		return false;
	*value = n->msr[msr - MSR_IA32_VMX_FIRST];
	return true;
}
