/* SPDX-License-Identifier: MIT */
/*
 * The VMCS02 control fields computed from VMCS12 and L0's needs (pure: host
 * unit tests check it against tables of L0 x L1 combinations). vmcs02.c
 * writes the result.
 */
#ifndef NESTVISOR_NESTED_MERGE_H
#define NESTVISOR_NESTED_MERGE_H

#include "nested/vmcs12.h"
#include "vmx/caps.h"
#include "vmx/vmx_bits.h"

#include <stdbool.h>
#include <stdint.h>

/* L0's controls for running L2, added to L1's. */
/* HLT: L0 sees every HLT of L2, to tell a halt nothing can wake (nested/l2_exit.c). */
#define L0_PROC02   (PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY | PROC_HLT_EXITING)
#define L0_PROC2_02 PROC2_ENABLE_EPT      /* L2's memory goes through EPT01 */
/* DR7 and DEBUGCTL too: VMCS02 holds L2's, from VMCS12 or L1's current values
 * (nested/vmcs02.c), kept across the exits L0 absorbs, which set DR7 to 400H. */
#define L0_EXIT02   (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | \
		     EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG_CONTROLS)
#define L0_ENTRY02  (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CONTROLS)
/* What L0 itself needs while L2 runs. */
struct l0_needs {
	uint64_t cr0_mask, cr4_mask;   /* L0-owned CR bits (fixed in VMX operation) */
};

struct vmcs02_controls {
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t exception_bitmap, pf_mask, pf_match;
	uint64_t cr0_mask, cr0_shadow, cr4_mask, cr4_shadow;
	uint64_t tsc_offset;
	bool io_bitmaps_from_l1;   /* else: all ports exit (L1's unconditional I/O exiting) or none */
	bool io_all_exit;
	bool msr_bitmap_from_l1;   /* else: every MSR access exits */
};

/* Returns false (naming the control group in *what) if the CPU cannot run the result. */
bool nested_merge_controls(const struct vmcs12 *v12, const struct vmx_caps *hw,
			   const struct l0_needs *l0, struct vmcs02_controls *out,
			   const char **what);

#endif
