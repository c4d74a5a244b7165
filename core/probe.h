/* SPDX-License-Identifier: MIT */
/*
 * Instruction-count probes of L0's exit paths, for profiling under Bochs
 * (one TSC tick per retired instruction). Compiled out unless L0 is built
 * with `make PROBES=1` (-DNV_PROBES): then PROBE(P_X) charges the ticks since
 * the previous probe of this exit (the first: since the exit stub's
 * timestamp) to P_X, and the end of the run prints one
 * "probe: name=X count=N ticks_per_hit=T" line per probe that was hit, and
 * what one probe costs itself ("probe: overhead=..."), which every figure
 * includes once.
 */
#ifndef NESTVISOR_CORE_PROBE_H
#define NESTVISOR_CORE_PROBE_H

#include <stdint.h>

/* In path order; tools read the names. */
#define PROBE_LIST(X)                                                                   \
	X(EXIT_READ)        /* exit stub timestamp -> exit information read, recorded */ \
	X(L2_DECIDE)        /* L2 exit: does L1 want it (nested_l1_wants_exit) */         \
	X(REFLECT_SYNC)     /* VMCS02 -> VMCS12: exit information, hot state, MSR store */ \
	X(REFLECT_SHADOW)   /* VMCS12 -> shadow VMCS (exit information, hot state) */     \
	X(REFLECT_HOST)     /* L1's host state into VMCS01 */                             \
	X(ENTRY_ROOT)       /* VMLAUNCH/VMRESUME: dispatch, #UD/#GP and current-VMCS checks */ \
	X(ENTRY_PULL)       /* shadow VMCS -> VMCS12, dirty bits */                      \
	X(ENTRY_CHECKS)     /* the VM-entry checks that must run again */                \
	X(ENTRY_VMCS02)     /* VMCS02 updated from VMCS12 */                              \
	X(ENTRY_MSRS)       /* VM-entry MSR-load list, switch to L2 */                    \
	X(HANDLER)          /* an L1 exit's handler (other than VM entry) */              \
	X(EXIT_DONE)        /* -> just before the next VM entry */

enum probe_id {
#define PROBE_ENUM(name) P_##name,
	PROBE_LIST(PROBE_ENUM)
#undef PROBE_ENUM
	P_COUNT
};

#ifdef NV_PROBES
void probe_start(uint64_t exit_tsc);
void probe_hit(enum probe_id id);
void probe_print(void);
#define PROBE_START(tsc) probe_start(tsc)
#define PROBE(id) probe_hit(id)
#else
#define PROBE_START(tsc) do { } while (0)
#define PROBE(id) do { } while (0)
static inline void probe_print(void) { }
#endif

#endif
