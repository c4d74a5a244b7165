/* SPDX-License-Identifier: MIT */
/*
 * L1's memory view as E820 address range types (ACPI 6.4, 15.1 "Address
 * Range Types"): the types of the PVH memory map and of the Linux zero page's
 * e820 table, which both come from nv_l1_view.
 */
#ifndef NESTVISOR_VMX_E820_H
#define NESTVISOR_VMX_E820_H

#include <nestvisor/bootinfo.h>
#include <stdint.h>

#define E820_RAM            1
#define E820_RESERVED       2
#define E820_ACPI           3
#define E820_NVS            4
#define E820_UNUSABLE       5

static inline uint32_t e820_type(uint32_t nv_type)
{
	switch (nv_type) {
	case NV_MEM_USABLE: return E820_RAM;
	case NV_MEM_ACPI_RECLAIM: return E820_ACPI;
	case NV_MEM_ACPI_NVS: return E820_NVS;
	case NV_MEM_BAD: return E820_UNUSABLE;
	default: return E820_RESERVED;
	}
}

#endif
