/* SPDX-License-Identifier: MIT */
/* vmx/l1_linux.c: the zero page, command line and GDT L0 builds for a bzImage L1, at their real addresses. */
#include "l1_boot_area.h"

#include "vmx/e820.h"
#include "vmx/linux_zp.h"

static uint64_t get(const uint8_t *zp, uint32_t off, uint32_t bytes)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < bytes; i++)
		v |= (uint64_t)zp[off + i] << (8 * i);
	return v;
}

static void hdr_put(uint32_t off, uint64_t v, uint32_t bytes)
{
	for (uint32_t i = 0; i < bytes; i++)
		bi.l1.linux_hdr[off - LB_SETUP_SECTS + i] = (uint8_t)(v >> (8 * i));
}

static void setup(void)
{
	boot_area_setup(NV_L1_LINUX);
	bi.l1.entry = 0x1000000;
	/* A 2.15 setup header as the file has it, with values a loader must overwrite. */
	bi.l1.linux_hdr_len = 0x26c - LB_SETUP_SECTS;
	for (uint32_t i = 0; i < bi.l1.linux_hdr_len; i++)
		bi.l1.linux_hdr[i] = (uint8_t)(i * 11 + 1);
	hdr_put(LB_SETUP_SECTS, 39, 1);
	hdr_put(LB_HEADER, LB_HDRS_MAGIC, 4);
	hdr_put(LB_VERSION, 0x020f, 2);
	hdr_put(LB_TYPE_OF_LOADER, 0, 1);
	hdr_put(LB_LOADFLAGS, LB_LOADED_HIGH | LB_KEEP_SEGMENTS | LB_CAN_USE_HEAP | 0x20, 1);
	hdr_put(LB_CODE32_START, 0x100000, 4);
	hdr_put(LB_RAMDISK_IMAGE, 0xdead, 4);
	hdr_put(LB_RAMDISK_SIZE, 0xbeef, 4);
	hdr_put(LB_HEAP_END_PTR, 0x9e00, 2);
	hdr_put(LB_CMD_LINE_PTR, 0x1234, 4);
	hdr_put(LB_SETUP_DATA, 0x5555, 8);
	hdr_put(LB_INIT_SIZE, 0x3f98000, 4);
}

TEST(zero_page_fields)
{
	uint8_t *zp;
	const struct boot_e820_entry *e;
	struct l1_linux_boot lb;

	setup();
	if (setjmp(ended)) {
		CHECK_STR(end_reason, "");
		return;
	}
	l1_build_linux_zero_page(&bi, UINT64_MAX, &lb);
	CHECK_EQ(lb.zero_page, AREA + 0x1000);
	zp = at(lb.zero_page);
	/* Outside the header and the fields L0 fills: zero. */
	for (uint32_t i = 0; i < LB_SETUP_SECTS; i++)
		if (i != BP_ACPI_RSDP_ADDR && i != BP_ACPI_RSDP_ADDR + 1 && i != BP_ACPI_RSDP_ADDR + 2 &&
		    i != BP_E820_ENTRIES && zp[i])
			CHECK_EQ(i, ~0u);
	for (uint32_t i = LB_HDR_END; i < BP_E820_TABLE; i++)
		if (zp[i])
			CHECK_EQ(i, ~0u);
	/* The header as the file has it, but for what a boot loader writes. */
	CHECK_EQ(get(zp, LB_HEADER, 4), LB_HDRS_MAGIC);
	CHECK_EQ(get(zp, LB_SETUP_SECTS, 1), 39);
	CHECK_EQ(get(zp, LB_INIT_SIZE, 4), 0x3f98000);
	CHECK_EQ(get(zp, LB_VERSION, 2), 0x020f);
	CHECK_EQ(zp[0x26c], 0);                             /* past the file's header */
	CHECK_EQ(get(zp, LB_TYPE_OF_LOADER, 1), 0xff);
	CHECK_EQ(get(zp, LB_LOADFLAGS, 1), LB_LOADED_HIGH | 0x20);  /* no heap, segments reloaded */
	CHECK_EQ(get(zp, LB_HEAP_END_PTR, 2), 0);
	CHECK_EQ(get(zp, LB_CODE32_START, 4), 0x1000000);
	CHECK_EQ(get(zp, LB_SETUP_DATA, 8), 0);
	/* Command line. */
	CHECK_STR((const char *)at(get(zp, LB_CMD_LINE_PTR, 4)), "console=ttyS0 rdinit=/init");
	CHECK_EQ(get(zp, BP_EXT_CMD_LINE_PTR, 4), 0);
	/* The initrd: the first module. */
	CHECK_EQ(get(zp, LB_RAMDISK_IMAGE, 4), 0x5000000);
	CHECK_EQ(get(zp, LB_RAMDISK_SIZE, 4), 0x12345);
	CHECK_EQ(get(zp, BP_EXT_RAMDISK_IMAGE, 4), 0);
	CHECK_EQ(get(zp, BP_EXT_RAMDISK_SIZE, 4), 0);
	/* The RSDP as L1 sees it (2.14+). */
	CHECK_EQ(get(zp, BP_ACPI_RSDP_ADDR, 8), 0xf5a40);
	/* e820: L1's view (L0's pool reserved), the same types as PVH's memmap. */
	CHECK_EQ(zp[BP_E820_ENTRIES], 6);
	e = (const struct boot_e820_entry *)(zp + BP_E820_TABLE);
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].size, 0x9f000);
	CHECK_EQ(e[0].type, E820_RAM);
	CHECK_EQ(e[1].addr, 0x100000);
	CHECK_EQ(e[1].type, E820_RAM);
	CHECK_EQ(e[2].addr, 0x40000000);
	CHECK_EQ(e[2].size, 0x2000000);
	CHECK_EQ(e[2].type, E820_RESERVED);
	CHECK_EQ(e[3].type, E820_RAM);
	CHECK_EQ(e[4].type, E820_ACPI);
	CHECK_EQ(e[5].addr, 0x43010000);
	CHECK_EQ(e[5].type, E820_NVS);
	for (uint32_t i = 0; i < 20; i++)
		CHECK_EQ(zp[BP_E820_TABLE + 6 * 20 + i], 0);   /* nothing after the last entry */
	/* The GDT: __BOOT_CS flat code, __BOOT_DS flat data. */
	CHECK_EQ(lb.gdt_limit, 0x1f);
	CHECK_EQ(lb.gdt_base % 8, 0);
	CHECK_EQ(((uint64_t *)at(lb.gdt_base))[0], 0);
	CHECK_EQ(((uint64_t *)at(lb.gdt_base))[LB_BOOT_CS / 8], 0x00cf9b000000ffffull);
	CHECK_EQ(((uint64_t *)at(lb.gdt_base))[LB_BOOT_DS / 8], 0x00cf93000000ffffull);
	/* Everything inside the reserved area, nothing written past it. */
	CHECK(lb.gdt_base + 0x20 <= bi.l1.mbi_base + bi.l1.mbi_size);
	CHECK(get(zp, LB_CMD_LINE_PTR, 4) >= bi.l1.mbi_base + BP_SIZE);
	CHECK_EQ(*(uint8_t *)at(bi.l1.mbi_base + bi.l1.mbi_size), 0xa5);
	CHECK_EQ(*(uint8_t *)at(bi.l1.mbi_base - 1), 0xa5);
}

TEST(zero_page_ram_end_no_initrd_old_protocol)
{
	uint8_t *zp;
	const struct boot_e820_entry *e;
	struct l1_linux_boot lb;

	setup();
	bi.l1.nmodules = 0;
	bi.l1.cmdline[0] = '\0';
	hdr_put(LB_VERSION, 0x020d, 2);          /* 2.13: no acpi_rsdp_addr */
	if (setjmp(ended)) {
		CHECK_STR(end_reason, "");
		return;
	}
	/* l1_memory ends L1's RAM at 512 MiB. */
	l1_build_linux_zero_page(&bi, 0x20000000, &lb);
	zp = at(lb.zero_page);
	CHECK_EQ(get(zp, LB_RAMDISK_IMAGE, 4), 0);
	CHECK_EQ(get(zp, LB_RAMDISK_SIZE, 4), 0);
	CHECK_EQ(get(zp, BP_ACPI_RSDP_ADDR, 8), 0);
	CHECK_STR((const char *)at(get(zp, LB_CMD_LINE_PTR, 4)), "");
	e = (const struct boot_e820_entry *)(zp + BP_E820_TABLE);
	CHECK_EQ(e[1].addr, 0x100000);
	CHECK_EQ(e[1].addr + e[1].size, 0x20000000);
	for (uint32_t i = 0; i < zp[BP_E820_ENTRIES]; i++)
		CHECK(e[i].type != E820_RAM || e[i].addr + e[i].size <= 0x20000000);
}

TEST(zero_page_e820_too_many)
{
	struct l1_linux_boot lb;

	setup();
	/* 130 ranges alternating RAM and reserved: more than the zero page holds. */
	bi.mmap_count = 130;
	for (uint32_t i = 0; i < 130; i++)
		bi.mmap[i] = (struct nv_mem_range){ 0x100000 + i * 0x10000ull, 0x10000,
						    i % 2 ? NV_MEM_RESERVED : NV_MEM_USABLE, 0 };
	if (setjmp(ended)) {
		CHECK_STR(end_reason, "L1 memory map has more than 130 ranges, the zero page's e820 table holds 128");
		return;
	}
	l1_build_linux_zero_page(&bi, UINT64_MAX, &lb);
	CHECK(!"the run should have ended");
}

TEST(zero_page_does_not_fit)
{
	struct l1_linux_boot lb;

	setup();
	bi.l1.mbi_size = 0x1010;   /* the zero page, not the command line and GDT */
	if (setjmp(ended)) {
		CHECK_STR(end_reason, "L1 Linux boot information (zero page, command line, GDT) does not fit in its 0x1010 bytes");
		return;
	}
	l1_build_linux_zero_page(&bi, UINT64_MAX, &lb);
	CHECK(!"the run should have ended");
}
