/* SPDX-License-Identifier: MIT */
#ifndef NESTVISOR_CORE_PAGING_H
#define NESTVISOR_CORE_PAGING_H

#include <nestvisor/bootinfo.h>

/*
 * Build L0's own page tables from pool pages and switch to them: all physical
 * memory identity-mapped (large pages; firmware runtime code runs there), and
 * the core image at NV_CORE_VBASE with 4 KiB pages, text read-only and
 * executable, rodata read-only, data and bss non-executable.
 */
void paging_init(const struct nv_bootinfo *bi);

/*
 * Make sure L0 can reach the device range [base, base+size) at its physical
 * address. Inside the identity map it already can: the firmware's MTRRs make
 * device ranges uncacheable there. Beyond it (above the highest boot-map
 * address) it is added with uncacheable 2-MiB pages (PCD, PWT: PAT entry 3).
 */
void paging_map_device(uint64_t base, uint64_t size);

/* Physical address of something in the core image (statics, stacks). */
uint64_t core_virt_to_phys(const void *p);

#endif
