/* SPDX-License-Identifier: MIT */
/* vmx/l1_pvh.c: the hvm_start_info L0 builds for a PVH L1, in memory at its real addresses. */
#include "l1_boot_area.h"

#include "vmx/pvh.h"

static void setup(void)
{
	boot_area_setup(NV_L1_PVH);
	/* Module strings carry arguments after the path: the PVH command line gets only those. */
	strcpy(bi.l1.modules[1].string, "\\nestvisor\\x.bin  a b");
}

TEST(pvh_start_info_fields)
{
	struct hvm_start_info *si;
	struct hvm_modlist_entry *m;
	struct hvm_memmap_table_entry *e;
	uint64_t addr;

	setup();
	if (setjmp(ended)) {
		CHECK_STR(end_reason, "");
		return;
	}
	addr = l1_build_pvh_start_info(&bi, UINT64_MAX);
	CHECK_EQ(addr, AREA + 0x1000);
	si = at(addr);
	CHECK_EQ(si->magic, 0x336ec578);
	CHECK_EQ(si->version, 1);
	CHECK_EQ(si->flags, 0);
	CHECK_EQ(si->reserved, 0);
	CHECK_EQ(si->rsdp_paddr, 0xf5a40);
	CHECK_STR((const char *)at(si->cmdline_paddr), "console=ttyS0 rdinit=/init");
	/* Modules: address, size, and only the arguments as their command line. */
	CHECK_EQ(si->nr_modules, 2);
	m = at(si->modlist_paddr);
	CHECK_EQ(m[0].paddr, 0x5000000);
	CHECK_EQ(m[0].size, 0x12345);
	CHECK_STR((const char *)at(m[0].cmdline_paddr), "");
	CHECK_EQ(m[1].paddr, 0x5013000);
	CHECK_EQ(m[1].size, 0x10);
	CHECK_STR((const char *)at(m[1].cmdline_paddr), "a b");
	CHECK_EQ(m[1].reserved, 0);
	/* The memory map: L1's view as E820 (L0's pool reserved). */
	CHECK_EQ(si->memmap_entries, 6);
	e = at(si->memmap_paddr);
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].size, 0x9f000);
	CHECK_EQ(e[0].type, E820_RAM);
	CHECK_EQ(e[1].type, E820_RAM);
	CHECK_EQ(e[2].addr, 0x40000000);
	CHECK_EQ(e[2].type, E820_RESERVED);
	CHECK_EQ(e[3].type, E820_RAM);
	CHECK_EQ(e[4].type, E820_ACPI);
	CHECK_EQ(e[5].type, E820_NVS);
	CHECK_EQ(e[5].reserved, 0);
	/* Everything inside the reserved area. */
	CHECK(si->memmap_paddr + 6 * sizeof(*e) <= bi.l1.mbi_base + bi.l1.mbi_size);
	CHECK(si->cmdline_paddr >= bi.l1.mbi_base && si->modlist_paddr >= bi.l1.mbi_base);
	CHECK_EQ(*(uint8_t *)at(bi.l1.mbi_base + bi.l1.mbi_size), 0xa5);
}

TEST(pvh_start_info_ram_end_and_no_modules)
{
	struct hvm_start_info *si;
	struct hvm_memmap_table_entry *e;

	setup();
	bi.l1.nmodules = 0;
	bi.rsdp = 0;
	if (setjmp(ended)) {
		CHECK_STR(end_reason, "");
		return;
	}
	/* l1_memory ends L1's RAM at 512 MiB: the rest of that range is not L1's. */
	si = at(l1_build_pvh_start_info(&bi, 0x20000000));
	CHECK_EQ(si->nr_modules, 0);
	CHECK_EQ(si->modlist_paddr, 0);
	CHECK_EQ(si->rsdp_paddr, 0);
	e = at(si->memmap_paddr);
	CHECK_EQ(e[1].addr, 0x100000);
	CHECK_EQ(e[1].addr + e[1].size, 0x20000000);
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		CHECK(e[i].type != E820_RAM || e[i].addr + e[i].size <= 0x20000000);
}

TEST(pvh_start_info_does_not_fit)
{
	setup();
	bi.l1.mbi_size = 0x40;   /* not even the start info and the command line */
	if (setjmp(ended)) {
		CHECK_STR(end_reason, "L1 PVH start info does not fit in its 0x40 bytes");
		return;
	}
	l1_build_pvh_start_info(&bi, UINT64_MAX);
	CHECK(!"the run should have ended");
}
