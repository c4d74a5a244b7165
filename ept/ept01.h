/* SPDX-License-Identifier: MIT */
/* EPT01: how L1's guest-physical space maps onto the machine (the identity). */
#ifndef NESTVISOR_EPT_EPT01_H
#define NESTVISOR_EPT_EPT01_H

#include "ept/ept.h"

#include <nestvisor/bootinfo.h>

struct ept01_attr {
	uint64_t perms;     /* 0 = not mapped: an L1 access is an EPT violation */
	unsigned memtype;
};

/*
 * Policy, by boot-map type: free RAM L1 gets is RWX write-back; RAM above
 * ram_end (beyond l1_memory) and all of L0's memory is not mapped; firmware
 * runtime memory is read/execute only (L0 calls it to power off); ACPI tables
 * are write-back; reserved ranges, MMIO and holes between ranges are
 * uncacheable (devices).
 */
struct ept01_attr ept01_attr_for(uint32_t type, bool above_ram_end);

/*
 * Device windows with their own rule: [base, end), 4-KiB aligned, disjoint.
 * Whatever the boot map says there, EPT01 maps them with perms, uncacheable:
 * EPT_R for PCI Express ECAM (L1 reads it; every write exits to L0,
 * vmx/exit_ecam.c), 0 for what L1 may not touch at all (the VT-d units'
 * registers: an access ends the run as one to L0's memory does).
 */
struct ept01_window {
	uint64_t base, end;
	uint64_t perms;     /* EPT_R or 0 */
};

/*
 * Build the identity map [0, max(4 GiB, end of the map)) for a normalized boot
 * map, plus the windows wherever they are. Returns 0 or -1 (out of
 * table memory).
 */
int ept01_build(struct ept *e, const struct nv_mem_range *map, uint32_t n, uint64_t ram_end,
		const struct ept01_window *win, unsigned n_win);

/*
 * The first page below limit that holds RAM (a map range of any type but
 * MMIO) which EPT01 does not let L1 write, or UINT64_MAX; *type is its map
 * type. What a device that DMAs by physical address below limit could reach
 * that L1 itself cannot (vmx/l1.c: the ISA DMA controllers, limit 16 MiB).
 */
uint64_t ept01_first_unwritable_ram(const struct ept *e, const struct nv_mem_range *map, uint32_t n,
				    uint64_t limit, uint32_t *type);

#endif
