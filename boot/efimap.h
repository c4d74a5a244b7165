/* SPDX-License-Identifier: MIT */
/* UEFI memory map -> nv memory map (pure: reads descriptors by offset, no efi.h). */
#ifndef NV_BOOT_EFIMAP_H
#define NV_BOOT_EFIMAP_H

#include <nestvisor/bootinfo.h>
#include <stddef.h>
#include <stdint.h>

/* UEFI 2.9, 7.2 "EFI_BOOT_SERVICES.AllocatePages()", table "Memory Type Usage". */
enum nv_efi_memory_type {
	NV_EFI_RESERVED = 0,
	NV_EFI_LOADER_CODE,
	NV_EFI_LOADER_DATA,
	NV_EFI_BOOT_SERVICES_CODE,
	NV_EFI_BOOT_SERVICES_DATA,
	NV_EFI_RUNTIME_SERVICES_CODE,
	NV_EFI_RUNTIME_SERVICES_DATA,
	NV_EFI_CONVENTIONAL,
	NV_EFI_UNUSABLE,
	NV_EFI_ACPI_RECLAIM,
	NV_EFI_ACPI_NVS,
	NV_EFI_MMIO,
	NV_EFI_MMIO_PORT_SPACE,
	NV_EFI_PAL_CODE,
	NV_EFI_PERSISTENT,
	NV_EFI_UNACCEPTED,      /* UEFI 2.10: must be accepted before use */
};

/* UEFI 2.9, 7.2 "EFI_BOOT_SERVICES.GetMemoryMap()": EFI_MEMORY_DESCRIPTOR. */
#define NV_EFI_DESC_TYPE      0   /* UINT32 Type */
#define NV_EFI_DESC_PHYS      8   /* EFI_PHYSICAL_ADDRESS PhysicalStart */
#define NV_EFI_DESC_PAGES     24  /* UINT64 NumberOfPages (4 KiB) */
#define NV_EFI_DESC_ATTR      32  /* UINT64 Attribute */
#define NV_EFI_DESC_MIN_SIZE  40
#define NV_EFI_MEMORY_SP      0x40000ULL /* "specific purpose": not general RAM */

/* The nv type of one UEFI descriptor. */
uint32_t nv_efi_type_to_nv(uint32_t efi_type, uint64_t attribute);

/*
 * Convert the map descs[0..map_size), descriptors desc_size bytes apart,
 * into out[max] and normalize it (nv_mmap_normalize). Allocates nothing and
 * calls nothing, so it may run between GetMemoryMap and ExitBootServices.
 * Returns the count, or -1 with a message (bad descriptor size, truncated).
 */
int nv_efimap_convert(const void *descs, uint64_t map_size, uint64_t desc_size,
		      struct nv_mem_range *out, uint32_t max, char *err, size_t errlen);

#endif
