/* SPDX-License-Identifier: MIT */
/* UEFI memory map conversion (pure). */
#include "efimap.h"
#include <nestvisor/unaligned.h>

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

uint32_t nv_efi_type_to_nv(uint32_t efi_type, uint64_t attribute)
{
	/* Our own allocations: OS-loader types 0x80000000.. (see bootinfo.h). */
	if (efi_type >= NV_EFI_TYPE_BASE) {
		uint32_t t = efi_type - NV_EFI_TYPE_BASE;

		return t >= 1 && t < NV_MEM_TYPE_COUNT ? t : NV_MEM_RESERVED;
	}
	switch (efi_type) {
	case NV_EFI_CONVENTIONAL:
		/* UEFI 2.9, 7.2 "GetMemoryMap()": EFI_MEMORY_SP memory is set aside
		 * for a specific purpose; do not hand it out as ordinary RAM. */
		return (attribute & NV_EFI_MEMORY_SP) ? NV_MEM_RESERVED : NV_MEM_USABLE;
	case NV_EFI_LOADER_CODE:
	case NV_EFI_LOADER_DATA:        /* the loader's pool buffers; our data has own types */
	case NV_EFI_BOOT_SERVICES_CODE:
	case NV_EFI_BOOT_SERVICES_DATA:
		return NV_MEM_USABLE;
	case NV_EFI_RUNTIME_SERVICES_CODE:
	case NV_EFI_RUNTIME_SERVICES_DATA:
		return NV_MEM_FW_RUNTIME;
	case NV_EFI_ACPI_RECLAIM:
		return NV_MEM_ACPI_RECLAIM;
	case NV_EFI_ACPI_NVS:
		return NV_MEM_ACPI_NVS;
	case NV_EFI_MMIO:
	case NV_EFI_MMIO_PORT_SPACE:
		return NV_MEM_MMIO;
	case NV_EFI_UNUSABLE:
		return NV_MEM_BAD;
	default:                        /* reserved, PAL code, persistent, unaccepted, OEM */
		return NV_MEM_RESERVED;
	}
}

int nv_efimap_convert(const void *descs, uint64_t map_size, uint64_t desc_size,
		      struct nv_mem_range *out, uint32_t max, char *err, size_t errlen)
{
	const uint8_t *d = descs;
	uint32_t n = 0, count;

	if (desc_size < NV_EFI_DESC_MIN_SIZE || desc_size % 8) {
		nv_snprintf(err, errlen, "descriptor size %llu is invalid",
			    (unsigned long long)desc_size);
		return -1;
	}
	for (uint64_t off = 0; off + desc_size <= map_size; off += desc_size) {
		uint32_t efi_type;
		uint64_t base = nv_rd64(d + off + NV_EFI_DESC_PHYS);
		uint64_t pages = nv_rd64(d + off + NV_EFI_DESC_PAGES);
		struct nv_mem_range r;

		memcpy(&efi_type, d + off + NV_EFI_DESC_TYPE, sizeof(efi_type));
		if (pages == 0)
			continue;
		if (pages > (UINT64_MAX - base) / NV_PAGE_SIZE) {
			nv_snprintf(err, errlen, "descriptor at 0x%llx with 0x%llx pages wraps",
				    (unsigned long long)base, (unsigned long long)pages);
			return -1;
		}
		r = (struct nv_mem_range){ base, pages * NV_PAGE_SIZE,
					   nv_efi_type_to_nv(efi_type, nv_rd64(d + off + NV_EFI_DESC_ATTR)), 0 };
		/* Firmware maps have many neighbours of one type: merge them now so a
		 * long map fits before normalization. */
		if (n && out[n - 1].type == r.type && out[n - 1].base + out[n - 1].size == r.base) {
			out[n - 1].size += r.size;
			continue;
		}
		if (n == max) {
			nv_snprintf(err, errlen, "more than %u ranges", max);
			return -1;
		}
		out[n++] = r;
	}
	count = nv_mmap_normalize(out, n, max);
	if (count & NV_MMAP_TRUNCATED) {
		nv_snprintf(err, errlen, "more than %u ranges after normalization", max);
		return -1;
	}
	return (int)count;
}
