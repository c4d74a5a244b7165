/* SPDX-License-Identifier: MIT */
/*
 * vmxfuzz: what main.c (the VMCS fuzzer) and ept.c (its EPT iterations) share.
 */
#ifndef VMXFUZZ_H
#define VMXFUZZ_H

#include "vmxlib.h"

/* The L2-physical pages L2 reaches in its sandbox (main.c's box): its four
 * page tables, code, IDT, GDT (with its TSS) and two stack pages. L2's own
 * paging maps each at the linear address equal to its L1 address. */
enum box_page {
	BOX_PML4, BOX_PDPT, BOX_PD, BOX_PT, BOX_CODE, BOX_IDT, BOX_GDT, BOX_STACK0, BOX_STACK1,
	BOX_PAGES
};

/* One EPT iteration: what ept_plan_make generated (SDM Vol. 3C, 25.6.11
 * "Extended-Page-Table Pointer (EPTP)", 29.3 "The Extended Page Table
 * Mechanism (EPT)"). */
struct ept_plan {
	bool pure;              /* no other VMCS corruption: the outcome is the EPT's */
	uint64_t eptp;
	bool eptp_valid;        /* passes the VM-entry checks on the EPTP (26.2.1.1) */
	bool pristine;          /* EPT12 as built: every box page identity-mapped RWX WB */
	bool identity;          /* every box page maps onto itself or nowhere: L2's page
				 * tables read as L1 sees them (the GPA oracle applies) */
	bool vpid, ug;          /* "enable VPID" (with .vpid_value), "unrestricted guest" */
	uint16_t vpid_value;
	char desc[200];         /* the mutations, for the iteration's line */
};

/* "enable EPT" may be 1 (and INVEPT all-context works), so that EPT iterations can run. */
bool ept_fuzz_offered(void);
/* Whether iteration n of this seed is an EPT iteration, decided by a random
 * stream of its own (seed, n), so that pure iterations are the same on every
 * VMX implementation with the same EPT capabilities; if so, builds its EPT12
 * over box_gpa (L1 addresses = L2-physical addresses), fills *p and
 * invalidates (INVEPT all-context: the tables live at the same addresses
 * every iteration). */
bool ept_plan_make(uint32_t seed, unsigned n, const uint64_t box_gpa[BOX_PAGES], struct ept_plan *p);

/* The GPA oracle: after an EPT violation with qualification `qual` at guest
 * linear address `linear`, with L2's CR3 `cr3`: is `gpa` the address L2
 * accessed? Walks L2's 4-level page tables (through `readable`, which says
 * which L1 addresses may be read). */
enum gpa_verdict { GPA_RIGHT, GPA_WRONG, GPA_UNKNOWN };
enum gpa_verdict ept_gpa_check(uint64_t cr3, uint64_t linear, uint64_t qual, uint64_t gpa,
			       bool (*readable)(uint64_t pa), char *why, size_t n);

#endif
