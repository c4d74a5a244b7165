/* SPDX-License-Identifier: MIT */
/* Nested EPT and VPID for L2 (nested/ept.c). */
#ifndef NESTVISOR_NESTED_EPT_H
#define NESTVISOR_NESTED_EPT_H

#include "nested/vmcs12.h"
#include "vmx/exit.h"

#include <stdbool.h>
#include <stdint.h>

/* Exit qualification bit 12 of EPT violations: NMI unblocking due to IRET (28.2.3). */
#define EPT_QUAL_NMI_UNBLOCKING (1ull << 12)

/* The EPT02 pool and L1's EPT capabilities (after nested_caps_init). */
void nested_ept_init(uint32_t pool_pages);
/* VMCS12 enables EPT (and its secondary controls are active). */
bool nested_ept_on(const struct vmcs12 *v12);
/* The VM-entry checks of an EPTP12 (26.2.1.1): the failing check's name, or NULL. */
const char *nested_ept_check_eptp(uint64_t eptp12);
/*
 * VMCS02 current, before every entry to L2: EPT pointer (EPT02 or EPT01) and
 * VPID. new_controls: VMCS02's controls were just written from VMCS12 (its
 * EPT pointer and VPID may have changed); otherwise there is work only while
 * VMCS12 enables EPT or VPID, and the test is inline.
 */
extern bool nested_ept_vpid12_on;
void nested_ept_before_entry_slow(const struct vmcs12 *v12, bool new_controls);
static inline void nested_ept_before_entry(const struct vmcs12 *v12, bool new_controls)
{
	if (new_controls || nested_ept_vpid12_on)
		nested_ept_before_entry_slow(v12, new_controls);
}
/* L0 changed EPT01: EPT02 mappings composed from it go. */
void nested_ept01_changed(void);
/* INVEPT for L1: all contexts, or the EPTP12's. */
void nested_invept(bool all, uint64_t eptp12);
/* INVVPID for L1 (any type): L2's VPID02 is flushed. */
void nested_invvpid(void);
/*
 * An EPT violation of L2 while VMCS12 enables EPT: NV_ACCT_L2_ABSORBED (EPT02
 * filled, L2 retries) or NV_ACCT_L2_REFLECTED (L1 got an EPT violation or
 * misconfiguration exit).
 */
unsigned nested_ept_l2_violation(struct vcpu *v, const struct exit_ctx *x);
/* End of run: the EPT02 pool's figures. */
void nested_ept_print(void);

#endif
