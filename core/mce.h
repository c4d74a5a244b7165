/* SPDX-License-Identifier: MIT */
/*
 * Machine checks (SDM Vol. 3B, 16 "Machine-Check Architecture"). L0 does not
 * intercept #MC: one while L1 or L2 runs goes through the guest's IDT, as on
 * its own CPU (VMCS01's exception bitmap has bit 18 clear; L2's follows
 * L1's). One that reaches L0 itself (while L0 runs, or delivered after a
 * "VM-entry failure due to machine-check event", SDM Vol. 3C, 26.8) is
 * reported with the banks that hold an error, then:
 *   - restartable (MCG_STATUS.RIPV = 1, no bank with PCC): it was the
 *     platform's, which L1 owns: latched, and injected into L1 as #MC at its
 *     next entry from L0 (a machine check while L2 runs waits for L1); the
 *     banks and MCG_STATUS are left for L1's handler, as its CPU would;
 *   - otherwise L0's own context is lost: the run ends with the report.
 */
#ifndef NESTVISOR_CORE_MCE_H
#define NESTVISOR_CORE_MCE_H

#include "core/nmi.h"
#include "core/trap.h"

#include <stdint.h>

/* l0_events.n.mce (core/nmi.h): a restartable machine check for L1. */
extern uint64_t mces_to_l1;

/* Vector 18 in L0's IDT. Returns only for a restartable machine check. */
void mce_in_l0(const struct trap_frame *f);

#endif
