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

/*
 * Events L0 latched for the guest: NMIs (counted) and a restartable machine
 * check (core/mce.h). One 64-bit word, so that every VM exit tests both with
 * one compare (l0_events_pending).
 */
union l0_events {
	struct {
		uint32_t nmi;  /* NMIs not yet delivered */
		uint32_t mce;  /* 1: a restartable machine check for L1 */
	} n;
	uint64_t any;
};
extern volatile union l0_events l0_events;

static inline int l0_events_pending(void)
{
	int pending;

	/* One compare of memory: a volatile load and a test would be two. */
	__asm__ volatile("cmpq $0, %1" : "=@ccnz"(pending) : "m"(l0_events.any));
	return pending;
}
/* Delivered (vmx/nmi.c, nested/l2_exit.c), and the end-of-run line. */
extern uint64_t nmis_to_l1, nmis_to_l2;
void nmi_print(void);

#endif
