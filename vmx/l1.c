/* SPDX-License-Identifier: MIT */
/* Starting L1: memory, EPT01, VMCS01, then the run loop. */
#include "vmx/l1.h"
#include "nested/ept.h"
#include "nested/nested.h"
#include "vmx/acct.h"
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/linux_zp.h"
#include "vmx/pvh.h"
#include "vmx/vmx_bits.h"
#include "ept/ept01.h"
#include "drivers/acpi.h"
#include "drivers/pci.h"
#include "drivers/vtd.h"
#include "core/log.h"
#include "core/nmi.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/probe.h"
#include "core/run.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

/* Far above any identity-mapped memory: not present in L0's page tables. */
#define SELFTEST_FAULT_ADDR 0xdead000000ul

struct l1_env l1;

static uint64_t ept_alloc(void *ctx)
{
	return pmm_alloc_page();
}

static uint64_t *ept_table(void *ctx, uint64_t phys)
{
	return phys_to_virt(phys);
}

uint32_t l1_mem_type_at(uint64_t pa)
{
	const struct nv_bootinfo *bi = l1.bi;

	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (pa >= bi->mmap[i].base && pa - bi->mmap[i].base < bi->mmap[i].size)
			return bi->mmap[i].type;
	return 0;
}

static void print_exit_stats(bool failure)
{
	const struct vcpu *v = &l1.vcpu;
	char line[160];
	int len = 0;

	log_line("exits: %lu in total", vcpu_exits(v));
	log_line("l0 pool: %zu KiB free when L1 started, %zu KiB at the fewest since, %zu KiB now",
		 l1.pool_free_at_start * 4, pmm_min_free_count() * 4, pmm_free_count() * 4);
	if (nested.l2_entries)
		log_line("nested: %lu entries to L2, %lu exits reflected to L1, %lu handled by L0",
			 nested.l2_entries, nested.l2_exits_reflected, nested.l2_exits_l0);
	nested_ept_print();
	nested_print_trapped_fields();
	nmi_print();
	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
		if (!v->exit_count[r])
			continue;
		len += nv_snprintf(line + len, sizeof(line) - len, " %s=%lu", exit_reason_name(r),
				   v->exit_count[r]);
		if (len > 100) {
			log_line("exits:%s", line);
			len = 0;
		}
	}
	if (len)
		log_line("exits:%s", line);
	acct_print();
	probe_print();
	vtd_print_faults();
}

static void dump_on_panic(void)
{
	if (current_vcpu)
		vcpu_dump(current_vcpu);
}

/*
 * The ISA DMA controller (the 8237 pair behind the PIIX ISA bridge, whose
 * bus-master bit is hardwired on) reaches the first 16 MiB by physical
 * address, past EPT. If any RAM there is not L1's to write (L0's, the
 * firmware's), L1 must not program it: L0 then keeps the controllers'
 * ports (writes dropped, reads passed through) and ISA DMA does not work.
 */
#define ISA_DMA_LIMIT 0x1000000ull

static bool isa_dma_reaches_others(void)
{
	uint32_t type = 0;
	uint64_t pa = ept01_first_unwritable_ram(&l1.ept01, l1.bi->mmap, l1.bi->mmap_count,
						 ISA_DMA_LIMIT, &type);

	if (pa == UINT64_MAX)
		return false;
	log_line("dma: 0x%lx (memory type %u) lies below 16 MiB, where ISA DMA reaches, and is not "
		 "L1's", pa, type);
	return true;
}

/* L1's boot information by its protocol, and the state it starts in. */
static void build_boot_info(const struct nv_bootinfo *bi, struct l1_entry_state *st)
{
	*st = (struct l1_entry_state){ .rip = bi->l1.entry, .cs = L1_MULTIBOOT_CS,
				       .ds = L1_MULTIBOOT_DS };
	switch (bi->l1.protocol) {
	case NV_L1_LINUX: {
		struct l1_linux_boot lb;

		l1_build_linux_zero_page(bi, l1.ram_end, &lb);
		l1.mbi = lb.zero_page;
		/* boot.rst, "32-bit BOOT PROTOCOL": ESI = boot_params, EBX = EBP = EDI = 0. */
		st->rsi = lb.zero_page;
		st->cs = LB_BOOT_CS;
		st->ds = LB_BOOT_DS;
		st->gdt_base = lb.gdt_base;
		st->gdt_limit = lb.gdt_limit;
		return;
	}
	case NV_L1_PVH:
		l1.mbi = l1_build_pvh_start_info(bi, l1.ram_end);
		break;
	default:
		l1.mbi = l1_build_multiboot_info(bi, l1.ram_end);
		break;
	}
	st->rax = MULTIBOOT_BOOTLOADER_MAGIC;
	st->rbx = l1.mbi;
}

void l1_start(const struct nv_bootinfo *bi)
{
	const struct ept_ops ops = { ept_alloc, ept_table, 0 };
	struct ept01_window win[MCFG_MAX_WINDOWS + DMAR_MAX_UNITS];
	unsigned nwin = 0;
	struct l1_entry_state entry;

	/* ECAM: L1 reads it, its writes exit to vmx/exit_ecam.c's filter. */
	for (unsigned i = 0; i < pci_ecam.n; i++)
		win[nwin++] = (struct ept01_window){ ecam_start(&pci_ecam.w[i]),
						     ecam_end(&pci_ecam.w[i]), EPT_R };
	/* The VT-d units' registers: L0's alone (L1 could reprogram the IOMMU). */
	for (unsigned i = 0; vtd.on && i < vtd.nunits; i++)
		win[nwin++] = (struct ept01_window){ vtd.regs[i].base, vtd.regs[i].end, 0 };

	l1.bi = bi;
	l1.ram_end = nv_l1_ram_end(bi->mmap, bi->mmap_count, bi->l1.mem_limit);

	l1_place_image(bi);
	build_boot_info(bi, &entry);

	if (ept_init(&l1.ept01, &ops, vmx_caps.ept_vpid & EPT_CAP_2MB_PAGES,
		     vmx_caps.ept_vpid & EPT_CAP_1GB_PAGES) ||
	    ept01_build(&l1.ept01, bi->mmap, bi->mmap_count, l1.ram_end, win, nwin))
		panic("EPT01: L0 pool exhausted");
	if (l1.ram_end == UINT64_MAX)
		pr_info("EPT01 built: %u paging structures, L1 gets all free RAM", l1.ept01.tables);
	else
		pr_info("EPT01 built: %u paging structures, L1 RAM ends at 0x%lx (l1_memory)",
			l1.ept01.tables, l1.ram_end);

	l1.isa_dma_off = isa_dma_reaches_others();
	log_line("dma: ISA DMA (first 16 MiB) %s", l1.isa_dma_off
			 ? "reaches memory that is not L1's: its controllers' ports are L0's, "
			   "writes dropped"
			 : "reaches only L1's memory there: passed through");
	/* No device L1 drives may DMA into L0's memory (README, "What L1 sees"): VT-d
	 * translates every DMA (drivers/vtd.c), or else bus mastering stays off. */
	if (!vtd.on)
		log_line("dma: no VT-d translation; bus mastering refused (turned off in %u PCI "
			 "functions)", pci_disable_bus_mastering());
	acct_init(bi->accounting);  /* before the VMCS: it picks the exit stub (vmx/exit.c) */
	vmcs01_setup(&l1.vcpu, ept_eptp(&l1.ept01), &entry);
	nested_init(l1.vcpu.vmcs_phys, bi->vmcs_shadowing,
		    bi->vmcs_shadow_set == NV_SHADOW_SET_WIDE, bi->ept02_pool_pages);
	log_line("config: vmcs_shadowing=%s vmcs_shadow_set=%s accounting=%s log_port=%s",
		 nested_shadowing_on() ? "on" : nested_shadowing_wanted() ? "unavailable" : "off",
		 nested_shadow_set_name(), acct.on ? "on" : "off",
		 bi->log_port == NV_LOG_PORT_COM2 ? "com2" : "com1");
	current_vcpu = &l1.vcpu;
	l1.pool_free_at_start = pmm_free_count();
	pmm_reset_min();
	panic_set_dump_hook(dump_on_panic);
	run_set_end_hook(print_exit_stats);
	pr_info("starting L1 %s at 0x%lx (%s at 0x%lx)", bi->l1.path, bi->l1.entry,
		bi->l1.protocol == NV_L1_PVH     ? "PVH start info"
		: bi->l1.protocol == NV_L1_LINUX ? "Linux zero page"
						 : "Multiboot info",
		l1.mbi);
	if (bi->selftest == NV_SELFTEST_L0_FAULT) {
		/* The panic path on purpose: a page fault in L0 with L1's VMCS loaded. */
		log_line("selftest: faulting in L0 at 0x%lx", SELFTEST_FAULT_ADDR);
		*(volatile uint64_t *)SELFTEST_FAULT_ADDR = 0;
	}
	if (bi->selftest == NV_SELFTEST_L0_MCE) {
		/* L0's machine-check path: vector 18 through its IDT, as the CPU
		 * delivers one (the MCA banks say what the platform has). */
		log_line("selftest: machine-check vector in L0");
		__asm__ volatile("int $18");
	}
	vcpu_run(&l1.vcpu);
}
