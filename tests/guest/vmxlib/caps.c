/* SPDX-License-Identifier: MIT */
/*
 * The VMX capability MSRs (SDM Vol. 3C, Appendix A "VMX Capability Reporting
 * Facility"): read once, printed, and asked by every case what it may use.
 * The suite adapts to them: under nestvisor L1 sees a subset of Bochs' VMX.
 */
#include "vmxlib.h"

struct vmx_caps caps;

static struct ctl_cap split(uint64_t msr)
{
	return (struct ctl_cap){ .allowed0 = (uint32_t)msr, .allowed1 = (uint32_t)(msr >> 32) };
}

static bool read_msr(uint32_t msr, uint64_t *v)
{
	int vec = rdmsr_checked(msr, v);

	if (vec != NO_EXCEPTION) {
		report(false, "RDMSR 0x%x (VMX capability) succeeds (got %s)", msr,
		       exception_name(vec));
		return false;
	}
	return true;
}

bool caps_read(void)
{
	uint64_t pin, proc, exit, entry, proc2 = 0;
	struct cpuid_regs r;

	if (!read_msr(MSR_IA32_VMX_BASIC, &caps.basic) ||
	    !read_msr(MSR_IA32_VMX_PINBASED_CTLS, &pin) ||
	    !read_msr(MSR_IA32_VMX_PROCBASED_CTLS, &proc) ||
	    !read_msr(MSR_IA32_VMX_EXIT_CTLS, &exit) ||
	    !read_msr(MSR_IA32_VMX_ENTRY_CTLS, &entry) ||
	    !read_msr(MSR_IA32_VMX_MISC, &caps.misc) ||
	    !read_msr(MSR_IA32_VMX_CR0_FIXED0, &caps.cr0_fixed0) ||
	    !read_msr(MSR_IA32_VMX_CR0_FIXED1, &caps.cr0_fixed1) ||
	    !read_msr(MSR_IA32_VMX_CR4_FIXED0, &caps.cr4_fixed0) ||
	    !read_msr(MSR_IA32_VMX_CR4_FIXED1, &caps.cr4_fixed1) ||
	    !read_msr(MSR_IA32_VMX_VMCS_ENUM, &caps.vmcs_enum))
		return false;
	caps.pin = caps.pin_default1 = split(pin);
	caps.proc = caps.proc_default1 = split(proc);
	caps.exit = caps.exit_default1 = split(exit);
	caps.entry = caps.entry_default1 = split(entry);
	/* A.3.3: PROCBASED_CTLS2 exists only if "activate secondary controls" may be 1. */
	if ((proc >> 32) & PROC_SECONDARY_CONTROLS) {
		if (!read_msr(MSR_IA32_VMX_PROCBASED_CTLS2, &proc2))
			return false;
	}
	caps.proc2 = split(proc2);
	/* A.10: EPT_VPID_CAP exists if "enable EPT" or "enable VPID" may be 1. */
	if (caps.proc2.allowed1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
		if (!read_msr(MSR_IA32_VMX_EPT_VPID_CAP, &caps.ept_vpid))
			return false;
	/* A.11: VMFUNC exists if "enable VM functions" may be 1. */
	if (caps.proc2.allowed1 & PROC2_ENABLE_VMFUNC)
		if (!read_msr(MSR_IA32_VMX_VMFUNC, &caps.vmfunc))
			return false;
	/* A.3.4: PROCBASED_CTLS3 exists if "activate tertiary controls" may be 1. */
	if (caps.proc.allowed1 & PROC_TERTIARY_CONTROLS)
		if (!read_msr(MSR_IA32_VMX_PROCBASED_CTLS3, &caps.proc3_allowed1))
			return false;
	/* A.1: bit 55 says the TRUE_* MSRs exist; they may clear default1 bits. */
	if (caps.basic & BASIC_TRUE_CTLS) {
		if (!read_msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS, &pin) ||
		    !read_msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &proc) ||
		    !read_msr(MSR_IA32_VMX_TRUE_EXIT_CTLS, &exit) ||
		    !read_msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS, &entry))
			return false;
		caps.pin = split(pin);
		caps.proc = split(proc);
		caps.exit = split(exit);
		caps.entry = split(entry);
	}
	caps.revision = (uint32_t)(caps.basic & BASIC_REVISION_MASK);
	r = cpuid(0x80000000);
	caps.maxphyaddr = r.eax >= 0x80000008 ? (cpuid(0x80000008).eax & 0xFF) : 36;
	return true;
}

void caps_print(void)
{
	printf("vmx: IA32_VMX_BASIC            0x%016llx (revision 0x%x, region %llu bytes%s%s)\n",
	       U64(caps.basic), caps.revision, U64(BASIC_REGION_SIZE(caps.basic)),
	       caps.basic & BASIC_TRUE_CTLS ? ", TRUE controls" : "",
	       caps.basic & BASIC_NO_ERRCODE_CHECK ? ", any error code" : "");
	printf("vmx: PINBASED      allowed0 0x%08x allowed1 0x%08x (default1 0x%08x)\n",
	       caps.pin.allowed0, caps.pin.allowed1, caps.pin_default1.allowed0);
	printf("vmx: PROCBASED     allowed0 0x%08x allowed1 0x%08x (default1 0x%08x)\n",
	       caps.proc.allowed0, caps.proc.allowed1, caps.proc_default1.allowed0);
	printf("vmx: PROCBASED2    allowed0 0x%08x allowed1 0x%08x\n",
	       caps.proc2.allowed0, caps.proc2.allowed1);
	printf("vmx: PROCBASED3    allowed1 0x%016llx\n", U64(caps.proc3_allowed1));
	printf("vmx: EXIT          allowed0 0x%08x allowed1 0x%08x (default1 0x%08x)\n",
	       caps.exit.allowed0, caps.exit.allowed1, caps.exit_default1.allowed0);
	printf("vmx: ENTRY         allowed0 0x%08x allowed1 0x%08x (default1 0x%08x)\n",
	       caps.entry.allowed0, caps.entry.allowed1, caps.entry_default1.allowed0);
	printf("vmx: IA32_VMX_MISC             0x%016llx (CR3 targets %u, MSR list max %u, "
	       "VMWRITE any field %s)\n", U64(caps.misc), MISC_CR3_TARGETS(caps.misc),
	       MISC_MSR_LIST_MAX(caps.misc), caps.misc & MISC_VMWRITE_ANY ? "yes" : "no");
	printf("vmx: CR0 FIXED0 0x%016llx FIXED1 0x%016llx\n", U64(caps.cr0_fixed0),
	       U64(caps.cr0_fixed1));
	printf("vmx: CR4 FIXED0 0x%016llx FIXED1 0x%016llx\n", U64(caps.cr4_fixed0),
	       U64(caps.cr4_fixed1));
	printf("vmx: IA32_VMX_VMCS_ENUM        0x%016llx (highest index %llu)\n",
	       U64(caps.vmcs_enum), U64((caps.vmcs_enum >> 1) & 0x1FF));
	printf("vmx: IA32_VMX_EPT_VPID_CAP     0x%016llx\n", U64(caps.ept_vpid));
	printf("vmx: IA32_VMX_VMFUNC           0x%016llx\n", U64(caps.vmfunc));
	printf("vmx: MAXPHYADDR %u\n", caps.maxphyaddr);
}

uint32_t ctl_adjust(const struct ctl_cap *c, uint32_t want)
{
	return want | c->allowed0;
}

bool can_set(const struct ctl_cap *c, uint32_t bits)
{
	return (c->allowed1 & bits) == bits;
}

bool can_set_proc2(uint32_t bits)
{
	return can_set(&caps.proc, PROC_SECONDARY_CONTROLS) && can_set(&caps.proc2, bits);
}

static bool entry_or_exit(uint32_t entry_bit, uint32_t exit_bit)
{
	return (entry_bit && can_set(&caps.entry, entry_bit)) ||
	       (exit_bit && can_set(&caps.exit, exit_bit));
}

bool field_exists(enum field_gate gate)
{
	unsigned cr3_targets = MISC_CR3_TARGETS(caps.misc);
	bool tertiary = can_set(&caps.proc, PROC_TERTIARY_CONTROLS);

	switch (gate) {
	case GATE_ALWAYS:         return true;
	case GATE_VPID:           return can_set_proc2(PROC2_ENABLE_VPID);
	case GATE_POSTED_INTR:    return can_set(&caps.pin, PIN_POSTED_INTR);
	case GATE_EPT_VE:         return can_set_proc2(PROC2_EPT_VE);
	case GATE_HLAT:           return tertiary && (caps.proc3_allowed1 & PROC3_ENABLE_HLAT);
	case GATE_IPI_VIRT:       return tertiary && (caps.proc3_allowed1 & PROC3_IPI_VIRT);
	case GATE_VINTR_DELIVERY: return can_set_proc2(PROC2_VINTR_DELIVERY);
	case GATE_PML:            return can_set_proc2(PROC2_ENABLE_PML);
	case GATE_MSR_BITMAPS:    return can_set(&caps.proc, PROC_USE_MSR_BITMAPS);
	case GATE_DUAL_MONITOR:   return caps.basic & BASIC_DUAL_MONITOR;
	case GATE_TPR_SHADOW:     return can_set(&caps.proc, PROC_TPR_SHADOW);
	case GATE_APIC_ACCESS:    return can_set_proc2(PROC2_VIRT_APIC_ACCESS);
	case GATE_VMFUNC:         return can_set_proc2(PROC2_ENABLE_VMFUNC);
	case GATE_EPT:            return can_set_proc2(PROC2_ENABLE_EPT);
	case GATE_EPTP_SWITCHING: return can_set_proc2(PROC2_ENABLE_VMFUNC) &&
					 (caps.vmfunc & VMFUNC_EPTP_SWITCHING);
	case GATE_SHADOW_VMCS:    return can_set_proc2(PROC2_SHADOW_VMCS);
	case GATE_XSAVES:         return can_set_proc2(PROC2_ENABLE_XSAVES);
	case GATE_ENCLS:          return can_set_proc2(PROC2_ENCLS_EXITING);
	case GATE_SPP:            return can_set_proc2(PROC2_SPP);
	case GATE_TSC_SCALING:    return can_set_proc2(PROC2_TSC_SCALING);
	case GATE_TERTIARY:       return tertiary;
	case GATE_ENCLV:          return can_set_proc2(PROC2_ENCLV_EXITING);
	case GATE_PCONFIG:        return can_set_proc2(PROC2_ENABLE_PCONFIG);
	case GATE_EXIT_SECONDARY: return can_set(&caps.exit, EXIT_SECONDARY_CONTROLS);
	case GATE_GUEST_PAT:      return entry_or_exit(ENTRY_LOAD_PAT, EXIT_SAVE_PAT);
	case GATE_GUEST_EFER:     return entry_or_exit(ENTRY_LOAD_EFER, EXIT_SAVE_EFER);
	case GATE_GUEST_PERF:     return entry_or_exit(ENTRY_LOAD_PERF_GLOBAL, EXIT_SAVE_PERF_GLOBAL);
	case GATE_GUEST_BNDCFGS:  return entry_or_exit(ENTRY_LOAD_BNDCFGS, EXIT_CLEAR_BNDCFGS);
	case GATE_GUEST_RTIT:     return entry_or_exit(ENTRY_LOAD_RTIT_CTL, EXIT_CLEAR_RTIT_CTL);
	case GATE_GUEST_LBR:      return entry_or_exit(ENTRY_LOAD_LBR_CTL, EXIT_CLEAR_LBR_CTL);
	case GATE_GUEST_PKRS:     return entry_or_exit(ENTRY_LOAD_PKRS, 0);
	case GATE_HOST_PAT:       return entry_or_exit(0, EXIT_LOAD_PAT);
	case GATE_HOST_EFER:      return entry_or_exit(0, EXIT_LOAD_EFER);
	case GATE_HOST_PERF:      return entry_or_exit(0, EXIT_LOAD_PERF_GLOBAL);
	case GATE_HOST_PKRS:      return entry_or_exit(0, EXIT_LOAD_PKRS);
	case GATE_SECONDARY:      return can_set(&caps.proc, PROC_SECONDARY_CONTROLS);
	case GATE_PLE:            return can_set_proc2(PROC2_PAUSE_LOOP_EXITING);
	case GATE_PREEMPT_TIMER:  return can_set(&caps.pin, PIN_PREEMPTION_TIMER);
	case GATE_GUEST_CET:      return entry_or_exit(ENTRY_LOAD_CET, 0);
	case GATE_HOST_CET:       return entry_or_exit(0, EXIT_LOAD_CET);
	case GATE_CR3_TARGET0:    return cr3_targets > 0;
	case GATE_CR3_TARGET1:    return cr3_targets > 1;
	case GATE_CR3_TARGET2:    return cr3_targets > 2;
	case GATE_CR3_TARGET3:    return cr3_targets > 3;
	}
	return false;
}

/* A.7 "VMX-Fixed Bits in CR0", A.8 "VMX-Fixed Bits in CR4". */
ureg_t cr0_fixed(ureg_t cr0)
{
	return (cr0 | caps.cr0_fixed0) & caps.cr0_fixed1;
}

ureg_t cr4_fixed(ureg_t cr4)
{
	return (cr4 | caps.cr4_fixed0) & caps.cr4_fixed1;
}
