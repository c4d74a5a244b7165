/* SPDX-License-Identifier: MIT */
/* boot/efimap.c: UEFI memory descriptors to nv ranges. */
#include "unit.h"

#include "boot/efimap.h"

#include <nestvisor/memmap.h>

static uint8_t descs[64 * 64];
static uint64_t map_size;
static char err[128];

/* EFI_MEMORY_DESCRIPTOR at the UEFI offsets, desc_size bytes apart (OVMF uses 48). */
static void add(uint64_t desc_size, uint32_t type, uint64_t phys, uint64_t pages, uint64_t attr)
{
	uint8_t *d = descs + map_size;
	uint64_t virt = 0;

	memset(d, 0xee, desc_size);     /* padding and fields we do not read */
	memcpy(d + 0, &type, 4);
	memcpy(d + 8, &phys, 8);
	memcpy(d + 16, &virt, 8);
	memcpy(d + 24, &pages, 8);
	memcpy(d + 32, &attr, 8);
	map_size += desc_size;
}

TEST(efimap_every_type)
{
	static const uint32_t want[] = {
		[NV_EFI_RESERVED] = NV_MEM_RESERVED,
		[NV_EFI_LOADER_CODE] = NV_MEM_USABLE,
		[NV_EFI_LOADER_DATA] = NV_MEM_USABLE,
		[NV_EFI_BOOT_SERVICES_CODE] = NV_MEM_USABLE,
		[NV_EFI_BOOT_SERVICES_DATA] = NV_MEM_USABLE,
		[NV_EFI_RUNTIME_SERVICES_CODE] = NV_MEM_FW_RUNTIME,
		[NV_EFI_RUNTIME_SERVICES_DATA] = NV_MEM_FW_RUNTIME,
		[NV_EFI_CONVENTIONAL] = NV_MEM_USABLE,
		[NV_EFI_UNUSABLE] = NV_MEM_BAD,
		[NV_EFI_ACPI_RECLAIM] = NV_MEM_ACPI_RECLAIM,
		[NV_EFI_ACPI_NVS] = NV_MEM_ACPI_NVS,
		[NV_EFI_MMIO] = NV_MEM_MMIO,
		[NV_EFI_MMIO_PORT_SPACE] = NV_MEM_MMIO,
		[NV_EFI_PAL_CODE] = NV_MEM_RESERVED,
		[NV_EFI_PERSISTENT] = NV_MEM_RESERVED,
		[NV_EFI_UNACCEPTED] = NV_MEM_RESERVED,
	};

	for (uint32_t t = 0; t < sizeof(want) / sizeof(want[0]); t++) {
		if (!CHECK(nv_efi_type_to_nv(t, 0) == want[t]))
			printf("  efi type %u\n", t);
	}
	CHECK_EQ(nv_efi_type_to_nv(16, 0), NV_MEM_RESERVED);          /* future types */
	CHECK_EQ(nv_efi_type_to_nv(0x70000001u, 0), NV_MEM_RESERVED); /* OEM */
	/* Specific-purpose memory is not general RAM. */
	CHECK_EQ(nv_efi_type_to_nv(NV_EFI_CONVENTIONAL, NV_EFI_MEMORY_SP | 0xf), NV_MEM_RESERVED);
	CHECK_EQ(nv_efi_type_to_nv(NV_EFI_CONVENTIONAL, 0xf), NV_MEM_USABLE);
}

TEST(efimap_custom_types)
{
	for (uint32_t t = 1; t < NV_MEM_TYPE_COUNT; t++)
		CHECK_EQ(nv_efi_type_to_nv(NV_EFI_TYPE(t), 0), t);
	CHECK_EQ(nv_efi_type_to_nv(NV_EFI_TYPE(0), 0), NV_MEM_RESERVED);
	CHECK_EQ(nv_efi_type_to_nv(NV_EFI_TYPE(NV_MEM_TYPE_COUNT), 0), NV_MEM_RESERVED);
	CHECK_EQ(nv_efi_type_to_nv(0xffffffffu, 0), NV_MEM_RESERVED);
}

TEST(efimap_convert_and_normalize)
{
	struct nv_mem_range out[16];
	int n;

	map_size = 0;
	/* Unsorted, as a firmware may give it. */
	add(48, NV_EFI_CONVENTIONAL, 0x100000, 0x100, 0xf);             /* 1M..2M */
	add(48, NV_EFI_CONVENTIONAL, 0x0, 0x9f, 0xf);
	add(48, NV_EFI_RESERVED, 0x9f000, 0x61, 0);
	add(48, NV_EFI_TYPE(NV_MEM_L0_IMAGE), 0x200000, 0x200, 0xf);    /* 2M..4M */
	add(48, NV_EFI_BOOT_SERVICES_DATA, 0x400000, 0x10, 0xf);
	add(48, NV_EFI_LOADER_DATA, 0x410000, 0x10, 0xf);
	add(48, NV_EFI_LOADER_CODE, 0x420000, 0x10, 0xf);
	add(48, NV_EFI_TYPE(NV_MEM_L1_STAGING), 0x430000, 0x10, 0xf);
	add(48, NV_EFI_CONVENTIONAL, 0x440000, 0, 0xf);                 /* empty: dropped */
	add(48, NV_EFI_RUNTIME_SERVICES_DATA, 0x7f00000, 0x100, 0x800000000000000fULL);
	add(48, NV_EFI_MMIO, 0xffc00000, 0x400, 0x8000000000000001ULL);

	n = nv_efimap_convert(descs, map_size, 48, out, 16, err, sizeof(err));
	CHECK_EQ(n, 8);
	CHECK_EQ(out[0].base, 0);
	CHECK_EQ(out[0].size, 0x9f000);
	CHECK_EQ(out[0].type, NV_MEM_USABLE);
	CHECK_EQ(out[1].type, NV_MEM_RESERVED);
	CHECK_EQ(out[2].base, 0x100000);
	CHECK_EQ(out[2].type, NV_MEM_USABLE);
	CHECK_EQ(out[3].base, 0x200000);
	CHECK_EQ(out[3].size, 0x200000);
	CHECK_EQ(out[3].type, NV_MEM_L0_IMAGE);
	/* BS data + loader data + loader code merge into one usable range. */
	CHECK_EQ(out[4].base, 0x400000);
	CHECK_EQ(out[4].size, 0x30000);
	CHECK_EQ(out[4].type, NV_MEM_USABLE);
	CHECK_EQ(out[5].base, 0x430000);
	CHECK_EQ(out[5].type, NV_MEM_L1_STAGING);
	CHECK_EQ(out[6].type, NV_MEM_FW_RUNTIME);
	CHECK_EQ(out[7].base, 0xffc00000);
	CHECK_EQ(out[7].size, 0x400000);
	CHECK_EQ(out[7].type, NV_MEM_MMIO);
}

TEST(efimap_overlap_resolved)
{
	struct nv_mem_range out[8];
	int n;

	/* A (buggy) overlap: the larger nv type wins, as nv_mmap_normalize says. */
	map_size = 0;
	add(40, NV_EFI_CONVENTIONAL, 0x0, 0x100, 0);
	add(40, NV_EFI_TYPE(NV_MEM_L0_POOL), 0x10000, 0x10, 0);
	n = nv_efimap_convert(descs, map_size, 40, out, 8, err, sizeof(err));
	CHECK_EQ(n, 3);
	CHECK_EQ(out[1].base, 0x10000);
	CHECK_EQ(out[1].type, NV_MEM_L0_POOL);
	CHECK_EQ(out[2].base, 0x20000);
	CHECK_EQ(out[2].size, 0xe0000);
}

TEST(efimap_errors)
{
	struct nv_mem_range out[4];

	map_size = 0;
	add(48, NV_EFI_CONVENTIONAL, 0, 1, 0);
	CHECK(nv_efimap_convert(descs, map_size, 24, out, 4, err, sizeof(err)) < 0);
	CHECK_STR(err, "descriptor size 24 is invalid");
	CHECK(nv_efimap_convert(descs, map_size, 44, out, 4, err, sizeof(err)) < 0);

	map_size = 0;
	for (int i = 0; i < 6; i++)
		add(48, i % 2 ? NV_EFI_RESERVED : NV_EFI_CONVENTIONAL, (uint64_t)i << 12, 1, 0);
	CHECK(nv_efimap_convert(descs, map_size, 48, out, 4, err, sizeof(err)) < 0);
	CHECK_STR(err, "more than 4 ranges");

	map_size = 0;
	add(48, NV_EFI_CONVENTIONAL, 0xfffffffffff00000ULL, 0x1000, 0);
	CHECK(nv_efimap_convert(descs, map_size, 48, out, 4, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "wraps");

	/* An empty map is fine, and a partial trailing descriptor is ignored. */
	CHECK_EQ(nv_efimap_convert(descs, 0, 48, out, 4, err, sizeof(err)), 0);
	map_size = 0;
	add(48, NV_EFI_CONVENTIONAL, 0, 1, 0);
	CHECK_EQ(nv_efimap_convert(descs, map_size + 20, 48, out, 4, err, sizeof(err)), 1);
}
