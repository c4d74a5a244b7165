/* SPDX-License-Identifier: MIT */
/*
 * The Xen PVH boot ABI's start info, version 1, as L0 hands it to a PVH L1
 * (Xen's public arch-x86/hvm/start_info.h, "hvm_start_info"; the same layout
 * QEMU gives Linux's vmlinux). Memory map types are E820's (vmx/e820.h).
 */
#ifndef NESTVISOR_VMX_PVH_H
#define NESTVISOR_VMX_PVH_H

#include "vmx/e820.h"

#include <nestvisor/bootinfo.h>
#include <stddef.h>
#include <stdint.h>

#define HVM_START_MAGIC     0x336ec578u   /* "xEn3" with the 0x80 bit of the "E" set */
#define HVM_START_VERSION   1             /* version 1 has the memory map */

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;     /* struct hvm_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr;     /* NUL-terminated */
	uint64_t rsdp_paddr;        /* ACPI RSDP, 0 if none */
	uint64_t memmap_paddr;      /* struct hvm_memmap_table_entry[memmap_entries] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;              /* E820_* */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info is 56 bytes");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40, "memmap_paddr at 40");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry is 32 bytes");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry is 24 bytes");

/*
 * vmx/l1_pvh.c: build the hvm_start_info (version 1) in the area the loader
 * reserved (bi->l1.mbi_base): command line, module list, L1's memory map up to
 * ram_end as E820 entries, the RSDP. Returns its address, L1's EBX.
 */
uint64_t l1_build_pvh_start_info(const struct nv_bootinfo *bi, uint64_t ram_end);

#endif
