/* SPDX-License-Identifier: MIT */
/*
 * CPUID: the hardware's answers with VMX (emulated by nested/ for L1), the
 * hypervisor-present bit set, and nestvisor's leaves at 0x40000000.
 */
#include "vmx/exit.h"
#include "vmx/hypercall.h"
#include "vmx/vmcs.h"
#include "core/x86.h"

/* nestvisor's leaves (hypercalls among them): off the hot path. */
static __attribute__((noinline)) void nestvisor_leaf(struct vcpu *v, const struct exit_ctx *x,
						     uint32_t leaf)
{
	uint64_t *r = v->frame.regs.r;
	struct cpuid_regs c;

	nv_cpuid_leaf(v, leaf, &c);
	r[GPR_RAX] = c.eax;
	r[GPR_RBX] = c.ebx;
	r[GPR_RCX] = c.ecx;
	r[GPR_RDX] = c.edx;
	vcpu_skip_instruction(x);
}

/*
 * Every L0 exit path's benchmark: the answers go straight from CPUID's
 * registers into the frame (CPUID zero-extends them in 64-bit mode).
 */
void handle_cpuid(struct vcpu *v, const struct exit_ctx *x)
{
	uint64_t *r = v->frame.regs.r;
	uint32_t leaf = (uint32_t)r[GPR_RAX], subleaf = (uint32_t)r[GPR_RCX];
	uint64_t a = leaf, b, c = subleaf, d;

	if ((leaf & 0xf0000000u) == NV_CPUID_BASE) {
		nestvisor_leaf(v, x, leaf);
		return;
	}
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (leaf == 1) {
		c |= CPUID1_ECX_VMX | CPUID1_ECX_HYPERVISOR;
		/* OSXSAVE mirrors the guest's CR4, not L0's. */
		c &= ~(uint64_t)CPUID1_ECX_OSXSAVE;
		if (vmreadnat(VMCS_GUEST_CR4) & CR4_OSXSAVE)
			c |= CPUID1_ECX_OSXSAVE;
	} else if (leaf == 7 && subleaf == 0) {
		c &= ~(uint64_t)CPUID7_ECX_OSPKE;
		if (vmreadnat(VMCS_GUEST_CR4) & CR4_PKE)
			c |= CPUID7_ECX_OSPKE;
	}
	r[GPR_RAX] = a;
	r[GPR_RBX] = b;
	r[GPR_RCX] = c;
	r[GPR_RDX] = d;
	vcpu_skip_instruction(x);
}
