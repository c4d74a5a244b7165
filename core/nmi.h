/* SPDX-License-Identifier: MIT */
/*
 * NMIs that reached L0 itself (while it ran in VMX root operation) and NMIs
 * that made a guest exit, until vmx/nmi.c delivers them to the guest they
 * belong to. The platform's NMIs are L1's (issue: an L1 that routes its
 * timer to NMI must not panic L0).
 */
#ifndef NESTVISOR_CORE_NMI_H
#define NESTVISOR_CORE_NMI_H

#include <stdint.h>

extern volatile uint32_t nmi_pending;
/* Delivered (vmx/nmi.c, nested/l2_exit.c), and the end-of-run line. */
extern uint64_t nmis_to_l1, nmis_to_l2;
void nmi_print(void);

#endif
