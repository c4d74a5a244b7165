/* SPDX-License-Identifier: MIT */
/* Multiboot 0.6.96, 3.3 "Boot information format": what L0 hands L1. */
#ifndef NESTVISOR_VMX_MULTIBOOT_H
#define NESTVISOR_VMX_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#define MBI_FLAG_MEM          (1u << 0)
#define MBI_FLAG_BOOT_DEVICE  (1u << 1)
#define MBI_FLAG_CMDLINE      (1u << 2)
#define MBI_FLAG_MODS         (1u << 3)
#define MBI_FLAG_MMAP         (1u << 6)
#define MBI_FLAG_LOADER_NAME  (1u << 9)

#define MB_MMAP_AVAILABLE     1
#define MB_MMAP_RESERVED      2
#define MB_MMAP_ACPI_RECLAIM  3
#define MB_MMAP_ACPI_NVS      4
#define MB_MMAP_BAD           5

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[6];
} __attribute__((packed));
_Static_assert(offsetof(struct mb_info, mmap_addr) == 48, "Multiboot info layout");
_Static_assert(offsetof(struct mb_info, boot_loader_name) == 64, "Multiboot info layout");

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

/* "size" counts the bytes after itself (20). */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t base_addr, length;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "Multiboot mmap entry layout");

#endif
