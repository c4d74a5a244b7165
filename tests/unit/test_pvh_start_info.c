/* SPDX-License-Identifier: MIT */
/* vmx/l1_pvh.c: the hvm_start_info L0 builds for a PVH L1, in memory at its real addresses. */
#include "unit.h"

#include "vmx/pvh.h"

#include <nestvisor/memmap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>

/* L0's log and end of run, as the core has them. */
unsigned log_level = NV_LOG_DEBUG;
static jmp_buf ended;
static char end_reason[256];

void log_line(const char *fmt, ...)
{
	(void)fmt;
}

void run_end_failure(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(end_reason, sizeof(end_reason), fmt, ap);
	va_end(ap);
	longjmp(ended, 1);
}

/* L1 memory where the test writes: EPT01 is the identity, so the info goes to these addresses. */
#define AREA      0x10000000ull
#define AREA_SIZE 0x100000ull

static struct nv_bootinfo bi;

static void *at(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

static void setup(void)
{
	static bool mapped;

	if (!mapped) {
		void *p = mmap(at(AREA), AREA_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p != at(AREA)) {
			perror("mmap of the test's L1 memory");
			exit(1);
		}
		mapped = true;
	}
	memset(at(AREA), 0xa5, AREA_SIZE);
	memset(&bi, 0, sizeof(bi));
	bi.rsdp = 0xf5a40;
	bi.mmap_count = 6;
	bi.mmap[0] = (struct nv_mem_range){ 0x0, 0x9f000, NV_MEM_USABLE, 0 };
	bi.mmap[1] = (struct nv_mem_range){ 0x100000, 0x3ff00000, NV_MEM_USABLE, 0 };
	bi.mmap[2] = (struct nv_mem_range){ 0x40000000, 0x2000000, NV_MEM_L0_POOL, 0 };
	bi.mmap[3] = (struct nv_mem_range){ 0x42000000, 0x1000000, NV_MEM_USABLE, 0 };
	bi.mmap[4] = (struct nv_mem_range){ 0x43000000, 0x10000, NV_MEM_ACPI_RECLAIM, 0 };
	bi.mmap[5] = (struct nv_mem_range){ 0x43010000, 0x10000, NV_MEM_ACPI_NVS, 0 };
	bi.l1.protocol = NV_L1_PVH;
	bi.l1.mbi_base = AREA + 0x1000;
	bi.l1.mbi_size = 0x8000;
	bi.l1.nmodules = 2;
	bi.l1.modules[0] = (struct nv_l1_module){ 0x5000000, 0x5012345, "\\nestvisor\\initramfs.cpio" };
	bi.l1.modules[1] = (struct nv_l1_module){ 0x5013000, 0x5013010, "\\nestvisor\\x.bin  a b" };
	strcpy(bi.l1.cmdline, "console=ttyS0 rdinit=/init");
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
