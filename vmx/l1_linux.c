/* SPDX-License-Identifier: MIT */
/*
 * Starting a bzImage L1 at its 32-bit entry (the kernel's
 * Documentation/arch/x86/boot.rst, "32-bit BOOT PROTOCOL"; zero-page.rst):
 * L0 writes the zero page, the command line and a GDT into the area the
 * loader reserved; vmx/vmcs01.c starts L1 in 32-bit protected mode, paging
 * off, interrupts off, CS = __BOOT_CS, DS = ES = SS = __BOOT_DS (flat 4 GiB),
 * ESI = the zero page, EBX = EBP = EDI = 0.
 */
#include "vmx/l1_area.h"
#include "vmx/linux_zp.h"
#include "vmx/e820.h"
#include "core/log.h"
#include "core/run.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

/* Flat 4 GiB, G = 1, D/B = 1, present, DPL 0: code execute/read and data read/write, accessed. */
#define GDT_CODE32 0x00cf9b000000ffffull
#define GDT_DATA32 0x00cf93000000ffffull


static void put(uint8_t *zp, uint32_t off, uint64_t v, uint32_t bytes)
{
	for (uint32_t i = 0; i < bytes; i++)
		zp[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *zp, uint32_t off, uint32_t bytes)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < bytes; i++)
		v |= (uint64_t)zp[off + i] << (8 * i);
	return v;
}

static void fill_e820(uint8_t *zp, const struct nv_bootinfo *bi, uint64_t ram_end)
{
	static struct nv_mem_range view[NV_MMAP_MAX];
	uint32_t n = nv_l1_view(bi->mmap, bi->mmap_count, ram_end, view, NV_MMAP_MAX);

	/* The zero page holds 128; more would need a SETUP_E820_EXT setup_data. */
	if (n & NV_MMAP_TRUNCATED || n > BP_E820_MAX)
		run_end_failure("L1 memory map has more than %u ranges, the zero page's e820 table holds %u",
				n & NV_MMAP_TRUNCATED ? NV_MMAP_MAX : n, BP_E820_MAX);
	for (uint32_t i = 0; i < n; i++) {
		struct boot_e820_entry e = { view[i].base, view[i].size, e820_type(view[i].type) };

		memcpy(zp + BP_E820_TABLE + i * sizeof(e), &e, sizeof(e));
		pr_debug("L1 map: 0x%016lx-0x%016lx %s", view[i].base, view[i].base + view[i].size,
			 nv_mem_type_name(view[i].type));
	}
	zp[BP_E820_ENTRIES] = (uint8_t)n;
}

void l1_build_linux_zero_page(const struct nv_bootinfo *bi, uint64_t ram_end,
			      struct l1_linux_boot *out)
{
	const struct nv_l1_plan *p = &bi->l1;
	struct l1_area a = { p->mbi_base, p->mbi_size, 0, "Linux boot information (zero page, command line, GDT)" };
	uint64_t zp_at = l1_area_alloc(&a, BP_SIZE, BP_SIZE);
	uint64_t cmdline_at = l1_area_alloc(&a, strlen(p->cmdline) + 1, 8);
	uint64_t gdt_at = l1_area_alloc(&a, 4 * sizeof(uint64_t), 8);
	uint8_t *zp = l1_ptr(zp_at);
	uint64_t *gdt = l1_ptr(gdt_at);
	uint32_t hdr_len = p->linux_hdr_len < LB_HDR_MAX ? p->linux_hdr_len : LB_HDR_MAX;

	/* zero-page.rst: everything a boot loader does not fill is zero. */
	memset(zp, 0, BP_SIZE);
	memcpy(zp + LB_SETUP_SECTS, p->linux_hdr, hdr_len);
	/* boot.rst, "Details of header fields": what the boot loader writes. */
	zp[LB_TYPE_OF_LOADER] = LB_TYPE_UNDEFINED;
	zp[LB_LOADFLAGS] &= (uint8_t)~(LB_CAN_USE_HEAP | LB_KEEP_SEGMENTS);
	put(zp, LB_HEAP_END_PTR, 0, 2);
	put(zp, LB_CODE32_START, p->entry, 4);
	put(zp, LB_SETUP_DATA, 0, 8);

	memcpy(l1_ptr(cmdline_at), p->cmdline, strlen(p->cmdline) + 1);
	put(zp, LB_CMD_LINE_PTR, (uint32_t)cmdline_at, 4);
	put(zp, BP_EXT_CMD_LINE_PTR, cmdline_at >> 32, 4);

	/* The first module is the initrd, as QEMU's -initrd; without one, none (not the file's values). */
	{
		uint64_t start = p->nmodules ? p->modules[0].start : 0;
		uint64_t size = p->nmodules ? p->modules[0].end - start : 0;

		put(zp, LB_RAMDISK_IMAGE, (uint32_t)start, 4);
		put(zp, LB_RAMDISK_SIZE, (uint32_t)size, 4);
		put(zp, BP_EXT_RAMDISK_IMAGE, start >> 32, 4);
		put(zp, BP_EXT_RAMDISK_SIZE, size >> 32, 4);
	}
	/* EPT01 maps ACPI tables at their addresses: L1 finds the firmware's RSDP where it is. */
	if (get(zp, LB_VERSION, 2) >= LB_VERSION_ACPI_RSDP)
		put(zp, BP_ACPI_RSDP_ADDR, bi->rsdp, 8);
	fill_e820(zp, bi, ram_end);

	/* boot.rst: "a GDT must be loaded with the descriptors for selectors
	 * __BOOT_CS(0x10) and __BOOT_DS(0x18)". */
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[LB_BOOT_CS / 8] = GDT_CODE32;
	gdt[LB_BOOT_DS / 8] = GDT_DATA32;
	out->zero_page = zp_at;
	out->gdt_base = gdt_at;
	out->gdt_limit = 4 * sizeof(uint64_t) - 1;
}
