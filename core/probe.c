/* SPDX-License-Identifier: MIT */
/* Instruction-count probes (core/probe.h): only in a `make PROBES=1` build. */
#include "core/probe.h"

#ifdef NV_PROBES
#include "core/log.h"
#include "core/x86.h"

static const char *const names[P_COUNT] = {
#define PROBE_NAME(name) #name,
	PROBE_LIST(PROBE_NAME)
#undef PROBE_NAME
};

static uint64_t last, ticks[P_COUNT], hits[P_COUNT];

void probe_start(uint64_t exit_tsc)
{
	last = exit_tsc;
}

__attribute__((noinline)) void probe_hit(enum probe_id id)
{
	uint64_t now = rdtsc();

	ticks[id] += now - last;
	hits[id]++;
	last = rdtsc();  /* the probe's own cost after the first read is not charged */
}

void probe_print(void)
{
	uint64_t t = ticks[P_EXIT_DONE], h = hits[P_EXIT_DONE], before, overhead;

	/* Two probes back to back: the second one's charge is a probe's own cost. */
	probe_hit(P_EXIT_DONE);
	before = ticks[P_EXIT_DONE];
	probe_hit(P_EXIT_DONE);
	overhead = ticks[P_EXIT_DONE] - before;
	ticks[P_EXIT_DONE] = t;
	hits[P_EXIT_DONE] = h;
	log_line("probe: overhead=%lu (included once in every ticks_per_hit)", overhead);
	for (unsigned i = 0; i < P_COUNT; i++)
		if (hits[i])
			log_line("probe: name=%s count=%lu ticks_per_hit=%lu", names[i], hits[i],
				 ticks[i] / hits[i]);
}
#endif
