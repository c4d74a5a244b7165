/* SPDX-License-Identifier: MIT */
/*
 * The VM-entry checks L0 performs in software on a VMCS12 (SDM Vol. 3C, 26.2
 * "Checks on VMX Controls and Host-State Area", and those guest-state checks
 * of 26.3.1 that the hardware cannot make on VMCS02 for L1). Pure: host unit
 * tests run each check against single corruptions of a valid VMCS12.
 */
#ifndef NESTVISOR_NESTED_CHECKS_H
#define NESTVISOR_NESTED_CHECKS_H

#include "nested/caps.h"
#include "nested/vmcs12.h"
#include "vmx/vmx_bits.h"
#include "core/x86.h"

#include <stdbool.h>

struct entry_check_env {
	const struct nested_caps *caps;
	unsigned maxphyaddr;
	bool l1_long_mode;        /* L1's IA32_EFER.LMA at VMLAUNCH/VMRESUME */
	/* Reads L1 memory (for the VMCS link pointer's revision); NULL = not readable. */
	bool (*read_l1)(uint64_t gpa, void *buf, unsigned len);
};

/* The name of the first failing check, or NULL if all pass. */
const char *nested_check_controls(const struct vmcs12 *v, const struct entry_check_env *env);
const char *nested_check_host_state(const struct vmcs12 *v, const struct entry_check_env *env);
/*
 * Guest-state checks done in software; the rest are the hardware's, on
 * VMCS02. On failure returns the check's name and sets *qualification to the
 * VM-entry-failure exit qualification (SDM 26.8: 0, or 4 for the link pointer).
 * They include those that must precede L0's loading of a PAE guest's PDPTEs
 * (26.3.1.1 on CR0/CR4/IA32_EFER against "IA-32e mode guest").
 */
const char *nested_check_guest_state(const struct vmcs12 *v, const struct entry_check_env *env,
				     uint64_t *qualification);

/*
 * The guest RIP check alone (one of nested_check_guest_state's):
 * 26.3.1.4 "Checks on Guest RIP, RFLAGS, and SSP" (Bochs 2.7 omits the
 * canonical check, so L0 must make it for L1's CPU to be right). Inline: the
 * one guest check of the common entry (L1 moved RIP past what it emulated).
 */
static inline const char *nested_check_guest_rip(const struct vmcs12 *v)
{
	if ((v->VM_ENTRY_CONTROLS & ENTRY_IA32E_MODE_GUEST) && (v->GUEST_CS_AR_BYTES & AR_L))
		return x86_canonical(v->GUEST_RIP) ? 0 : "guest RIP not canonical for a 64-bit guest";
	return !(v->GUEST_RIP >> 32) ? 0 : "guest RIP above 4 GiB outside 64-bit mode";
}
/*
 * Is this guest field (enum vmcs12_index) one nested_check_guest_state
 * reads, RIP aside? An entry after which L1 changed none of those, nor the
 * controls, needs the RIP check at most.
 */
bool nested_guest_field_checked(unsigned index);

/* The secondary controls in effect (0 unless "activate secondary controls"). */
uint32_t vmcs12_proc2(const struct vmcs12 *v);

#endif
