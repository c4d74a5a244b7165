/* SPDX-License-Identifier: MIT */
/* Entering VMX operation. SDM Vol. 3C, 24.7 "Enabling and Entering VMX Operation". */
#ifndef NESTVISOR_VMX_VMX_H
#define NESTVISOR_VMX_VMX_H

#include <stdint.h>

/*
 * Check CPUID and IA32_FEATURE_CONTROL, read the capabilities, set CR0/CR4
 * for VMX and execute VMXON. On any problem the run ends with a failure that
 * says why (it never touches CR4.VMXE on a CPU without VMX: that hangs QEMU).
 */
void vmx_enable(void);

/* VMCLEAR + VMPTRLD of a fresh VMCS region (revision id set); returns its address. */
uint64_t vmx_new_vmcs(void);
/* The same with this revision identifier (bit 31: a shadow VMCS, SDM 25.2). */
uint64_t vmx_new_vmcs_of(uint32_t revision);
/* Make a VMCS current (VMPTRLD); a failure is an L0 bug. Inline: the nested
 * paths switch VMCSs a few times on every exit. */
__attribute__((noreturn, cold)) void vmx_load_vmcs_failed(uint64_t vmcs);
static inline __attribute__((always_inline)) void vmx_load_vmcs(uint64_t vmcs)
{
	__asm__ goto("vmptrld %0\n\tjna %l[fail]" : : "m"(vmcs) : "cc", "memory" : fail);
	return;
fail:
	vmx_load_vmcs_failed(vmcs);
}
/* Drop the CPU's cached translations of one EPT (all EPTs where single-context is missing). */
void vmx_invept_single(uint64_t eptp);
/* Drop the cached translations of every EPT. */
void vmx_invept_all(void);
/* Drop the cached linear translations of one VPID (all VPIDs where single-context is missing). */
void vmx_invvpid_single(uint16_t vpid);

#endif
