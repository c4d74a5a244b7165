/* SPDX-License-Identifier: MIT */
/*
 * L0's DMA policy (README, "What L1 sees"). Where ACPI lists VT-d units
 * (DMAR), L0 programs every one of them for legacy-mode DMA remapping with
 * one domain (drivers/vtd_pt.h) that reaches only the memory L1 may write as
 * RAM, and lets L1 enable bus mastering. Where there is no DMAR, the DMAR is
 * malformed, or a unit cannot do what L0 needs, L0 falls back to refusing
 * bus mastering (drivers/pci.c, vmx/pci_guard.c). Interrupt remapping is not
 * used: MSIs of L1's devices reach the CPUs as L1 programs them.
 * Intel VT-d Specification (rev. 4.1), 10.4 "Register Descriptions",
 * 6.5.1 "Register-based Invalidation Interface", 3.16 "Handling Requests to
 * Protected Memory Regions" (PMRs).
 */
#ifndef NESTVISOR_DRIVERS_VTD_H
#define NESTVISOR_DRIVERS_VTD_H

#include "drivers/dmar.h"

#include <nestvisor/bootinfo.h>
#include <stdbool.h>
#include <stdint.h>

struct vtd_state {
	bool on;              /* every unit translates: no DMA reaches L0's memory */
	unsigned nunits;
	struct { uint64_t base, end; } regs[DMAR_MAX_UNITS];  /* register sets, L0's alone */
};
extern struct vtd_state vtd;

/*
 * Find the DMAR, check it and the units, build the tables in L0's pool and
 * enable translation on every unit; log the policy in force. Runs before
 * VMX is touched and before EPT01 is built (which leaves the register sets
 * out). A unit that does not complete a command in bounded time is a panic.
 */
void vtd_init(const struct nv_bootinfo *bi);

/* Does pa lie in a VT-d unit's register set (with vtd.on)? */
bool vtd_owns(uint64_t pa);

/* At the end of a run: the units' fault status and the first recorded fault. */
void vtd_print_faults(void);

#endif
