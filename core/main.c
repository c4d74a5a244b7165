/* SPDX-License-Identifier: MIT */
/* L0's start: take over the machine from the loader, then run L1. */
#include "core/desc.h"
#include "core/log.h"
#include "core/paging.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/run.h"
#include "core/x86.h"
#include "drivers/pci.h"
#include "drivers/poweroff.h"
#include "drivers/uart16550.h"
#include "drivers/vtd.h"
#include "vmx/l1.h"
#include "vmx/vmx.h"

#include <nestvisor/memmap.h>

void core_main(struct nv_bootinfo *bi);

static void check_bootinfo(const struct nv_bootinfo *bi)
{
	if (bi->magic != NV_BOOTINFO_MAGIC || bi->version != NV_BOOTINFO_VERSION ||
	    bi->size != sizeof(*bi)) {
		log_line("boot info at %p is not from a matching loader (magic 0x%lx, version %u, "
			 "size %u; want version %u, size %zu)", bi, bi->magic, bi->version,
			 bi->size, NV_BOOTINFO_VERSION, sizeof(*bi));
		halt_forever();
	}
	if (bi->mmap_count > NV_MMAP_MAX || bi->l1.ncopies > NV_L1_MAX_COPIES ||
	    bi->l1.nmodules > NV_L1_MAX_MODULES)
		run_end_failure("boot info counts out of range");
}

static void log_memory_map(const struct nv_bootinfo *bi)
{
	for (uint32_t i = 0; i < bi->mmap_count; i++)
		pr_debug("map: 0x%016lx-0x%016lx %s", bi->mmap[i].base,
			 bi->mmap[i].base + bi->mmap[i].size, nv_mem_type_name(bi->mmap[i].type));
}

/* XSETBV on L1's behalf needs CR4.OSXSAVE in L0 (SDM Vol. 2D, XSETBV). */
static void enable_xsave(void)
{
	if (cpuid(1, 0).ecx & CPUID1_ECX_XSAVE)
		write_cr4(read_cr4() | CR4_OSXSAVE);
}

void core_main(struct nv_bootinfo *bi)
{
	size_t pool_pages;

	/* L0's log port is known once the boot info is; until then (a bad one) COM1. */
	uart_init(bi->magic == NV_BOOTINFO_MAGIC && bi->version == NV_BOOTINFO_VERSION &&
			  bi->log_port == NV_LOG_PORT_COM2
		  ? COM2_PORT : COM1_PORT);
	log_level = bi->log_level;
	check_bootinfo(bi);
	poweroff_init(bi);
	desc_init();
	pr_info("L0 core at 0x%lx (%lu KiB), boot info at %p", bi->core_phys,
		bi->core_size / 1024, bi);
	log_memory_map(bi);

	pool_pages = pmm_init(bi->mmap, bi->mmap_count);
	if (!pool_pages)
		run_end_failure("boot info has no L0 pool range");
	paging_init(bi);
	enable_xsave();
	pr_info("L0 pool: %zu KiB at 0x%lx, %zu KiB free after page tables", pool_pages * 4,
		bi->pool_phys, pmm_free_count() * 4);

	pci_ecam_init(bi);  /* before EPT01 is built: it maps ECAM read-only */
	vtd_init(bi);       /* before EPT01 too (it leaves the units' registers out), and before
			     * VMX, so that a CPU without VMX (QEMU TCG) still shows the DMA policy */

	vmx_enable();
	l1_start(bi);
}
