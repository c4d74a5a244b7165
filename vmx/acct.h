/* SPDX-License-Identifier: MIT */
/*
 * Exit accounting: per (level, basic exit reason) the number of exits L0
 * took and the TSC ticks it spent on them, from the exit stub's timestamp to
 * the charge just before the next VM entry. The cells are kept in the guest
 * ABI's own format (include/nestvisor/hypercall.h), so L1 reads them with one
 * copy. Off (nestvisor.cfg: accounting = off), the exit stubs without the
 * timestamp run and nothing is charged (vmx/exit.c).
 */
#ifndef NESTVISOR_VMX_ACCT_H
#define NESTVISOR_VMX_ACCT_H

#include "vmx/vcpu.h"
#include "core/x86.h"

#include <nestvisor/hypercall.h>
#include <stdbool.h>
#include <stdint.h>

struct acct {
	bool on;
	bool skip_current;         /* the exit being handled reset the counters */
	uint16_t reason;           /* of the exit being handled (vmx/exit.c's full path) */
	/* Where an exit of L1 is charged now: the row of its level (L1, or L1
	 * handling a reflected L2 exit), and the for_l2 cell of the reflected L2
	 * exit L1 is handling (NULL: none). Set by acct_l1_handles and
	 * acct_l2_entered. */
	struct nv_acct_cell *l1_row, *l1_for_l2;
	struct nv_acct_snapshot s;
};

extern struct acct acct;

void acct_init(bool on);

/*
 * Charge the exit being handled, just before the next VM entry, with
 * accounting on: to row[reason] (the row of the exit's level), and to
 * for_l2 unless NULL (an exit of L1 handling a reflected L2 exit).
 */
static inline void acct_charge(const struct vcpu_frame *f, struct nv_acct_cell *row,
			       struct nv_acct_cell *for_l2, unsigned reason)
{
	uint64_t ticks = rdtsc() - f->exit_tsc;

	if (acct.skip_current || reason >= NV_ACCT_REASONS) {
		acct.skip_current = false;
		return;
	}
	row[reason].count++;
	row[reason].ticks += ticks;
	if (for_l2) {
		for_l2->count++;
		for_l2->ticks += ticks;
	}
}

/* L1 entered L2 again / L1 now handles a reflected L2 exit of this reason. */
static inline void acct_l2_entered(void)
{
	acct.l1_row = acct.s.cell[NV_ACCT_L1];
	acct.l1_for_l2 = NULL;
}

static inline void acct_l1_handles(unsigned l2_reason)
{
	/* A reason beyond the table is not attributed. */
	if (l2_reason < NV_ACCT_REASONS) {
		acct.l1_row = acct.s.cell[NV_ACCT_L1_FOR_L2];
		acct.l1_for_l2 = &acct.s.for_l2[l2_reason];
	} else {
		acct_l2_entered();
	}
}

/*
 * The last step of an exit's handling with accounting on (vmx/exit.c's full
 * path), out of line, so that
 * the exit path keeps nothing live across its handler for it. An L1 exit is
 * charged at its level (L1, or L1 handling a reflected L2 exit), which ends
 * when L1 entered L2 (in_l2); an L2 exit at the level nested/ decided, and
 * one reflected starts L1's handling of it. The exit's reason is
 * acct_exit_reason()'s.
 */
void acct_l1_exit_done(bool in_l2);
void acct_l2_exit_done(unsigned level);
/* The exit being handled, for the two above (set before its handler). */
static inline void acct_exit_reason(unsigned reason)
{
	acct.reason = (uint16_t)reason;
}

/* NV_HC_ACCT_RESET: zero the counters; the exit being handled is not charged. */
void acct_reset(void);

/* The end-of-run report (tools/FORMATS.md, "acct:" lines). */
void acct_print(void);

#endif
