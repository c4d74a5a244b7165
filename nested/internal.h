/* SPDX-License-Identifier: MIT */
/* Shared between the files of nested/ only. */
#ifndef NESTVISOR_NESTED_INTERNAL_H
#define NESTVISOR_NESTED_INTERNAL_H

#include "nested/nested.h"

/* #UD/#GP(0) checks of every VMX instruction but VMXON; false if a fault was injected. */
bool nested_check_vmx_root(void);

/* VMREAD, VMWRITE, VMLAUNCH, VMRESUME with no current VMCS: VMfailInvalid,
 * the instruction completes. False then. */
bool nested_require_current_vmcs(const struct exit_ctx *x);

/* L1 state VMCS02 inherits when VMCS12 does not load it (read from VMCS01). */
struct l1_inherited {
	uint64_t efer, pat, dr7, debugctl;
};

/*
 * Build VMCS02 from the current VMCS12 and make it current. Returns 0, or an
 * entry-failure exit qualification + 1 when L2's guest state cannot be loaded
 * (PDPTEs): VMCS01 is current again then.
 */
int nested_build_vmcs02(struct vcpu *v, const struct l1_inherited *inh);

/* SDM 26.4 "Loading MSRs": 0, or the 1-based index of the failing entry. */
uint32_t nested_load_msr_list(uint64_t addr, uint32_t count);
/* SDM 27.4 "Saving MSRs": false on a bad entry (a VMX abort). */
bool nested_store_msr_list(uint64_t addr, uint32_t count);

/* L1's host state from VMCS12 into VMCS01's guest area (SDM 27.5), VMCS01 current. */
void nested_load_l1_host_state(struct vcpu *v, uint64_t prev_cr0, uint64_t prev_efer);

/* A VM-entry failure reported to L1 as an exit (SDM 26.8), VMCS01 current. */
void nested_entry_failure_to_l1(struct vcpu *v, uint32_t reason, uint64_t qualification,
				uint64_t prev_cr0, uint64_t prev_efer);

/* An L2 exit L1 asked for: VMCS12 updated, L1 resumes at its host RIP (VMCS01 current). */
void nested_reflect_to_l1(struct vcpu *v);

/* L1's I/O and MSR bitmaps as snapshotted at the last entry (for exit decisions). */
bool nested_read_l1_bitmap(uint64_t gpa, void *buf, unsigned len);

/* Reads of L1 memory for bitmaps and pointers (false if not L1's). */
bool nested_read_l1(uint64_t gpa, void *buf, unsigned len);

#endif
