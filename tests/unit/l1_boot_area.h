/* SPDX-License-Identifier: MIT */
/*
 * For the tests of what L0 builds in L1's boot-information area (vmx/l1_pvh.c,
 * vmx/l1_linux.c): L0's log and end of run as the core has them (an end of
 * run jumps back to the test: setjmp(ended), its message in end_reason), the
 * L1 memory the area lives in (EPT01 is the identity, so L0 writes at these
 * very addresses), and a boot map and plan both tests start from.
 */
#ifndef NV_UNIT_L1_BOOT_AREA_H
#define NV_UNIT_L1_BOOT_AREA_H

#include "unit.h"

#include <nestvisor/bootinfo.h>
#include <nestvisor/memmap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>

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

#define AREA      0x10000000ull
#define AREA_SIZE 0x100000ull

static struct nv_bootinfo bi;

static void *at(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

/* The area mapped (once) and filled with 0xa5; bi: a map with L0's pool inside RAM, ACPI
 * ranges, two modules and a command line, the area at AREA + 0x1000. */
static void boot_area_setup(uint32_t protocol)
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
	bi.l1.protocol = protocol;
	bi.l1.mbi_base = AREA + 0x1000;
	bi.l1.mbi_size = 0x8000;
	bi.l1.nmodules = 2;
	bi.l1.modules[0] = (struct nv_l1_module){ 0x5000000, 0x5012345, "\\nestvisor\\initramfs.cpio" };
	bi.l1.modules[1] = (struct nv_l1_module){ 0x5013000, 0x5013010, "\\nestvisor\\x.bin" };
	strcpy(bi.l1.cmdline, "console=ttyS0 rdinit=/init");
}

#endif
