/* SPDX-License-Identifier: MIT */
#include "vmx/vmx.h"
#include "vmx/caps.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/run.h"
#include "core/x86.h"

static uint64_t vmxon_region;

/* SDM Vol. 3C, 24.7 and 24.8 "Restrictions on VMX Operation". */
static void check_feature_control(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (fc & FEATURE_CONTROL_LOCK) {
		if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
			run_end_failure("VMX is disabled by the firmware: IA32_FEATURE_CONTROL "
					"is locked (0x%lx) without 'enable VMX outside SMX'; "
					"enable VT-x in the firmware setup", fc);
		return;
	}
	/* Unlocked (as OVMF leaves it): enable VMX outside SMX and lock. */
	if (wrmsr_safe(MSR_IA32_FEATURE_CONTROL,
		       fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX) >= 0)
		run_end_failure("cannot lock IA32_FEATURE_CONTROL (0x%lx)", fc);
	pr_debug("vmx: IA32_FEATURE_CONTROL locked with VMX enabled");
}

static void require(bool ok, const char *what)
{
	if (!ok)
		run_end_failure("this CPU lacks %s, which nestvisor needs", what);
}

void vmx_enable(void)
{
	struct vmx_caps *c = &vmx_caps;
	uint64_t cr0, cr4;
	uint8_t fail;

	if (!(cpuid(1, 0).ecx & CPUID1_ECX_VMX))
		run_end_failure("no VMX: CPUID.1:ECX.VMX[bit 5] = 0 (this CPU or emulator "
				"cannot run nestvisor; QEMU TCG has no VMX, use Bochs or KVM "
				"with nested=1 on an Intel host)");
	check_feature_control();
	vmx_caps_read(c);

	require(c->proc.may1 & PROC_ACTIVATE_SECONDARY, "secondary processor-based controls");
	require(c->proc2.may1 & PROC2_ENABLE_EPT, "EPT");
	require(c->proc2.may1 & PROC2_UNRESTRICTED_GUEST,
		"unrestricted guest (needed to start a Multiboot L1 with paging off)");
	require(c->ept_vpid & EPT_CAP_PWL4, "4-level EPT");
	require(c->ept_vpid & EPT_CAP_MEMTYPE_WB, "write-back EPT paging structures");
	require(c->misc & VMX_MISC_ACTIVITY_HLT, "the HLT activity state");

	pr_info("vmx: revision 0x%x, EPT caps 0x%lx, secondary controls 0x%x", c->revision,
		c->ept_vpid, c->proc2.may1);

	/* SDM 24.8: CR0/CR4 bits fixed in VMX operation. */
	cr0 = (read_cr0() | c->cr0_fixed0) & c->cr0_fixed1;
	cr4 = (read_cr4() | c->cr4_fixed0 | CR4_VMXE) & c->cr4_fixed1;
	write_cr0(cr0);
	write_cr4(cr4);

	vmxon_region = pmm_alloc_page_or_panic("VMXON region");
	*(uint32_t *)phys_to_virt(vmxon_region) = c->revision;
	__asm__ volatile("vmxon %1; setna %0" : "=q"(fail) : "m"(vmxon_region) : "cc", "memory");
	if (fail)
		run_end_failure("VMXON failed (is another hypervisor active?)");
	pr_info("vmx: VMXON done");
}

uint64_t vmx_new_vmcs(void)
{
	return vmx_new_vmcs_of(vmx_caps.revision);
}

uint64_t vmx_new_vmcs_of(uint32_t revision)
{
	uint64_t vmcs = pmm_alloc_page_or_panic("VMCS");
	uint8_t fail;

	*(uint32_t *)phys_to_virt(vmcs) = revision;
	__asm__ volatile("vmclear %1; setna %0" : "=q"(fail) : "m"(vmcs) : "cc", "memory");
	if (fail)
		panic("vmx: VMCLEAR of a new VMCS failed");
	__asm__ volatile("vmptrld %1; setna %0" : "=q"(fail) : "m"(vmcs) : "cc", "memory");
	if (fail)
		panic("vmx: VMPTRLD of a new VMCS failed");
	return vmcs;
}

void vmx_load_vmcs_failed(uint64_t vmcs)
{
	panic("vmx: VMPTRLD of 0x%lx failed", vmcs);
}

/* SDM Vol. 3C, 31.3 "INVEPT": type 1 single-context, 2 all-context. */
static void invept(uint64_t type, uint64_t eptp)
{
	struct { uint64_t eptp, reserved; } desc = { eptp, 0 };
	uint8_t fail;

	__asm__ volatile("invept %1, %2; setna %0" : "=q"(fail) : "m"(desc), "r"(type)
			 : "cc", "memory");
	if (fail)
		panic("vmx: INVEPT type %lu of 0x%lx failed", type, eptp);
}

void vmx_invept_all(void)
{
	invept(2, 0);
}

void vmx_invvpid_single(uint16_t vpid)
{
	/* SDM Vol. 3C, 31.3 "INVVPID": type 1 single-context, 2 all-context. */
	struct { uint64_t vpid, address; } desc = { vpid, 0 };
	uint64_t type = (vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE) ? 1 : 2;
	uint8_t fail;

	__asm__ volatile("invvpid %1, %2; setna %0" : "=q"(fail) : "m"(desc), "r"(type)
			 : "cc", "memory");
	if (fail)
		panic("vmx: INVVPID type %lu of VPID %u failed", type, vpid);
}

void vmx_invept_single(uint64_t eptp)
{
	invept((vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE) ? 1 : 2, eptp);
}
