/* SPDX-License-Identifier: MIT */
#include "vmx/acct.h"
#include "vmx/exit.h"
#include "core/log.h"

#include <nestvisor/string.h>

struct acct acct;

static const char *const level_names[NV_ACCT_LEVELS] = {
	[NV_ACCT_L1] = "L1",
	[NV_ACCT_L1_FOR_L2] = "L1-for-L2",
	[NV_ACCT_L2_ABSORBED] = "L2-absorbed",
	[NV_ACCT_L2_REFLECTED] = "L2-reflected",
};

/*
 * What accounting adds to every exit: the exit stub's timestamp (RDTSC and
 * three instructions) and the charge. Measured at start-up by charging a
 * scratch cell between two timestamps, plus those four stub instructions.
 */
static uint64_t measure_overhead(void)
{
	struct vcpu_frame f = { .exit_tsc = rdtsc() };
	uint64_t t0, t1;

	acct.skip_current = false;
	t0 = rdtsc();
	acct_charge(&f, acct.s.cell[NV_ACCT_L1], NULL, 0);
	t1 = rdtsc();
	memset(&acct.s.cell[NV_ACCT_L1][0], 0, sizeof(acct.s.cell[NV_ACCT_L1][0]));
	return t1 - t0 + 4;
}

void acct_init(bool on)
{
	memset(&acct, 0, sizeof(acct));
	acct.on = on;
	acct_l2_entered();  /* L1 handles no L2 exit */
	acct.s.version = NV_ACCT_VERSION;
	acct.s.size = sizeof(acct.s);
	acct.s.levels = NV_ACCT_LEVELS;
	acct.s.reasons = NV_ACCT_REASONS;
	if (on)
		acct.s.overhead_ticks = measure_overhead();
}

void acct_l1_exit_done(bool in_l2)
{
	acct_charge(&current_vcpu->frame, acct.l1_row, acct.l1_for_l2, acct.reason);
	if (in_l2)
		acct_l2_entered();
}

void acct_l2_exit_done(unsigned level)
{
	unsigned reason = acct.reason;

	acct_charge(&current_vcpu->frame, acct.s.cell[level], NULL, reason);
	if (level == NV_ACCT_L2_REFLECTED)
		acct_l1_handles(reason);
}

void acct_reset(void)
{
	memset(acct.s.cell, 0, sizeof(acct.s.cell));
	memset(acct.s.for_l2, 0, sizeof(acct.s.for_l2));
	acct.skip_current = true;
}

/* Two decimals of a/b without floating point. */
static void ratio(char *buf, size_t size, uint64_t a, uint64_t b)
{
	uint64_t hundredths = b ? (a * 100 + b / 2) / b : 0;

	nv_snprintf(buf, size, "%lu.%02lu", hundredths / 100, hundredths % 100);
}

void acct_print(void)
{
	const struct nv_acct_cell *refl = acct.s.cell[NV_ACCT_L2_REFLECTED];
	char per[24], ticks[24];

	if (!acct.on)
		return;
	log_line("acct: overhead=%lu", acct.s.overhead_ticks);
	for (unsigned l = 0; l < NV_ACCT_LEVELS; l++)
		for (unsigned r = 0; r < NV_ACCT_REASONS; r++)
			if (acct.s.cell[l][r].count)
				log_line("acct: level=%s reason=%s count=%lu ticks=%lu", level_names[l],
					 exit_reason_name(r), acct.s.cell[l][r].count,
					 acct.s.cell[l][r].ticks);
	for (unsigned r = 0; r < NV_ACCT_REASONS; r++) {
		if (!refl[r].count)
			continue;
		ratio(per, sizeof(per), refl[r].count + acct.s.for_l2[r].count, refl[r].count);
		ratio(ticks, sizeof(ticks), refl[r].ticks + acct.s.for_l2[r].ticks, refl[r].count);
		log_line("acct: l2-exit reason=%s reflected=%lu l1_exits=%lu exits_per_l2_exit=%s "
			 "l0_ticks_per_l2_exit=%s", exit_reason_name(r), refl[r].count,
			 acct.s.for_l2[r].count, per, ticks);
	}
}
