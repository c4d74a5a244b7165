/* SPDX-License-Identifier: MIT */
/*
 * CPUID: the hardware's answers with VMX (emulated by nested/ for L1), the
 * hypervisor-present bit set, and nestvisor's leaves at 0x40000000.
 */
#include "vmx/exit.h"
#include "vmx/hypercall.h"
#include "vmx/vmcs.h"
#include "core/x86.h"

void handle_cpuid(struct vcpu *v, const struct exit_ctx *x)
{
	uint64_t *r = v->frame.regs.r;
	uint32_t leaf = (uint32_t)r[GPR_RAX], subleaf = (uint32_t)r[GPR_RCX];
	struct cpuid_regs c;

	if ((leaf & 0xf0000000u) == NV_CPUID_BASE) {
		nv_cpuid_leaf(v, leaf, &c);
	} else {
		c = cpuid(leaf, subleaf);
		if (leaf == 1) {
			c.ecx |= CPUID1_ECX_VMX | CPUID1_ECX_HYPERVISOR;
			/* OSXSAVE mirrors the guest's CR4, not L0's. */
			c.ecx &= ~CPUID1_ECX_OSXSAVE;
			if (vmreadnat(VMCS_GUEST_CR4) & CR4_OSXSAVE)
				c.ecx |= CPUID1_ECX_OSXSAVE;
		} else if (leaf == 7 && subleaf == 0) {
			c.ecx &= ~CPUID7_ECX_OSPKE;
			if (vmreadnat(VMCS_GUEST_CR4) & CR4_PKE)
				c.ecx |= CPUID7_ECX_OSPKE;
		}
	}
	r[GPR_RAX] = c.eax;
	r[GPR_RBX] = c.ebx;
	r[GPR_RCX] = c.ecx;
	r[GPR_RDX] = c.edx;
	vcpu_skip_instruction(x);
}
