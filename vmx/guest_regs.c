/* SPDX-License-Identifier: MIT */
#include "vmx/guest_regs.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"

bool guest_64bit_mode(void)
{
	return l1_long_mode() && (vmread32(VMCS_GUEST_CS_AR_BYTES) & AR_L);
}

bool guest_compat_mode(void)
{
	return l1_long_mode() && !(vmread32(VMCS_GUEST_CS_AR_BYTES) & AR_L);
}

uint64_t guest_visible_cr0(void)
{
	uint64_t mask = vmreadnat(VMCS_CR0_GUEST_HOST_MASK);

	return (vmreadnat(VMCS_GUEST_CR0) & ~mask) | (vmreadnat(VMCS_CR0_READ_SHADOW) & mask);
}

uint64_t guest_visible_cr4(void)
{
	uint64_t mask = vmreadnat(VMCS_CR4_GUEST_HOST_MASK);

	return (vmreadnat(VMCS_GUEST_CR4) & ~mask) | (vmreadnat(VMCS_CR4_READ_SHADOW) & mask);
}
