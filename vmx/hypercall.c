/* SPDX-License-Identifier: MIT */
/*
 * nestvisor's CPUID leaves for L1 (include/nestvisor/hypercall.h): the
 * signature, the interface description, and hypercalls through CPUID leaf
 * 0x40000002, which leave every VMX instruction its SDM meaning for L1.
 * When L2 executes CPUID, L1 asked for it unconditionally (SDM Vol. 3C,
 * 25.1.2): these leaves are only ever L1's.
 */
#include "vmx/hypercall.h"
#include "vmx/acct.h"
#include "vmx/guest_mem.h"
#include "vmx/guest_regs.h"
#include "nested/nested.h"

static uint32_t info_flags(void)
{
	return (acct.on ? NV_INFO_ACCOUNTING : 0) | (nested_shadowing_on() ? NV_INFO_VMCS_SHADOW : 0);
}

static void hypercall(struct vcpu *v, struct cpuid_regs *c)
{
	uint64_t *r = v->frame.regs.r;
	/* Outside 64-bit mode only the registers' low halves are L1's arguments. */
	uint64_t width = guest_64bit_mode() ? ~0ull : 0xffffffffull;
	uint64_t buf = r[GPR_RBX] & width, size = r[GPR_RDX] & width;

	if (guest_cpl() != 0) {
		c->eax = NV_HC_EPERM;
		return;
	}
	switch ((uint32_t)r[GPR_RCX]) {
	case NV_HC_NOP:
		c->eax = NV_HC_OK;
		return;
	case NV_HC_ACCT_READ:
		if (!acct.on)
			c->eax = NV_HC_EOFF;
		else if (size < sizeof(acct.s))
			c->eax = NV_HC_EINVAL;
		else if (!l1_is_ram(buf, sizeof(acct.s)) ||
			 l1_write_phys(buf, &acct.s, sizeof(acct.s)) != GM_OK)
			c->eax = NV_HC_EFAULT;
		else {
			c->eax = NV_HC_OK;
			c->ebx = sizeof(acct.s);
		}
		return;
	case NV_HC_ACCT_RESET:
		if (!acct.on) {
			c->eax = NV_HC_EOFF;
			return;
		}
		acct_reset();
		c->eax = NV_HC_OK;
		return;
	default:
		c->eax = NV_HC_ENOSYS;
		return;
	}
}

void nv_cpuid_leaf(struct vcpu *v, uint32_t leaf, struct cpuid_regs *c)
{
	*c = (struct cpuid_regs){ 0 };
	switch (leaf) {
	case NV_CPUID_BASE:
		/* "nestvisor\0\0\0" in EBX, ECX, EDX as KVM does "KVMKVMKVM\0\0\0". */
		c->eax = NV_CPUID_MAX_LEAF;
		c->ebx = 0x7473656e;  /* "nest" */
		c->ecx = 0x6f736976;  /* "viso" */
		c->edx = 0x00000072;  /* "r" */
		break;
	case NV_CPUID_INFO:
		c->eax = NV_INTERFACE_VERSION;
		c->ebx = info_flags();
		c->ecx = acct.on ? (uint32_t)acct.s.overhead_ticks : 0;
		break;
	case NV_CPUID_HYPERCALL:
		hypercall(v, c);
		break;
	default:
		break;
	}
}
