/* SPDX-License-Identifier: MIT */
/*
 * Does L1 want this exit from L2? SDM Vol. 3C, 25.1 "Instructions That Cause
 * VM Exits" (25.1.2 unconditionally, 25.1.3 conditionally) and 25.2 "Other
 * Causes of VM Exits", decided from VMCS12's controls. Pure.
 */
#ifndef NESTVISOR_NESTED_REFLECT_H
#define NESTVISOR_NESTED_REFLECT_H

#include "nested/vmcs12.h"
#include "vmx/exit_reasons.h"

#include <stdbool.h>
#include <stdint.h>

struct l2_exit {
	uint32_t reason;          /* basic exit reason */
	uint64_t qualification;
	uint32_t intr_info;       /* VM-exit interruption information */
	uint32_t intr_error_code;
	uint32_t msr;             /* RDMSR/WRMSR: ECX */
	uint64_t cr_value;        /* MOV to CR: the source register's value */
};

/* Reads L1's bitmaps (L0 passes its entry-time snapshots); false = unreadable. */
typedef bool (*l1_reader_fn)(uint64_t gpa, void *buf, unsigned len);

bool nested_l1_wants_exit(const struct vmcs12 *v, const struct l2_exit *e, l1_reader_fn read);

/*
 * Exits L1 gets whatever its controls say: unconditional ones (SDM Vol. 3C,
 * 25.1.2 "Instructions That Cause VM Exits Unconditionally") and events L1
 * always sees. nested_l1_wants_exit starts from this set; the exit path
 * tests it first, before it gathers what the other decisions need.
 */
#define REFLECT_BIT(r) (1ull << (r))
#define NESTED_ALWAYS_REFLECTED                                                              \
	(REFLECT_BIT(EXIT_REASON_TRIPLE_FAULT) | REFLECT_BIT(EXIT_REASON_INIT_SIGNAL) |       \
	 REFLECT_BIT(EXIT_REASON_SIPI) | REFLECT_BIT(EXIT_REASON_TASK_SWITCH) |               \
	 REFLECT_BIT(EXIT_REASON_CPUID) | REFLECT_BIT(EXIT_REASON_GETSEC) |                   \
	 REFLECT_BIT(EXIT_REASON_INVD) | REFLECT_BIT(EXIT_REASON_VMCALL) |                    \
	 REFLECT_BIT(EXIT_REASON_VMCLEAR) | REFLECT_BIT(EXIT_REASON_VMLAUNCH) |               \
	 REFLECT_BIT(EXIT_REASON_VMPTRLD) | REFLECT_BIT(EXIT_REASON_VMPTRST) |                \
	 REFLECT_BIT(EXIT_REASON_VMREAD) | REFLECT_BIT(EXIT_REASON_VMRESUME) |                \
	 REFLECT_BIT(EXIT_REASON_VMWRITE) | REFLECT_BIT(EXIT_REASON_VMXOFF) |                 \
	 REFLECT_BIT(EXIT_REASON_VMXON) | REFLECT_BIT(EXIT_REASON_INVEPT) |                   \
	 REFLECT_BIT(EXIT_REASON_INVVPID) | REFLECT_BIT(EXIT_REASON_XSETBV) |                 \
	 REFLECT_BIT(EXIT_REASON_INVALID_GUEST_STATE) | REFLECT_BIT(EXIT_REASON_MSR_LOADING) | \
	 REFLECT_BIT(EXIT_REASON_MCE_DURING_VMENTRY))

static inline bool nested_exit_always_reflected(uint32_t reason)
{
	return reason < 64 && (NESTED_ALWAYS_REFLECTED >> reason & 1);
}

#endif
