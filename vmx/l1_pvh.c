/* SPDX-License-Identifier: MIT */
/*
 * Starting a PVH L1 (an ELF64 kernel with a PVH entry, Linux's vmlinux) as
 * QEMU does: the same machine state as Multiboot (32-bit protected mode,
 * paging off, flat segments, CR4 = 0, IF = 0; vmx/vmcs01.c) with EBX = the
 * hvm_start_info that L0 builds here in the area the loader reserved.
 */
#include "vmx/l1_area.h"
#include "vmx/pvh.h"
#include "core/log.h"
#include "core/run.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>


/* The argument part of a module string "path args" (Linux ignores it for its initrd). */
static const char *module_args(const char *s)
{
	while (*s && *s != ' ' && *s != '\t')
		s++;
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

uint64_t l1_build_pvh_start_info(const struct nv_bootinfo *bi, uint64_t ram_end)
{
	static struct nv_mem_range view[NV_MMAP_MAX];
	const struct nv_l1_plan *p = &bi->l1;
	struct l1_area a = { p->mbi_base, p->mbi_size, 0, "PVH start info" };
	uint32_t n = nv_l1_view(bi->mmap, bi->mmap_count, ram_end, view, NV_MMAP_MAX);
	uint64_t si_at = l1_area_alloc(&a, sizeof(struct hvm_start_info), 8);
	struct hvm_start_info *si = l1_ptr(si_at);
	struct hvm_memmap_table_entry *e;
	struct hvm_modlist_entry *mods;

	if (n & NV_MMAP_TRUNCATED)
		run_end_failure("L1 memory map has more than %u ranges", NV_MMAP_MAX);
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC;
	si->version = HVM_START_VERSION;
	si->cmdline_paddr = l1_area_string(&a, p->cmdline);
	/* EPT01 maps ACPI tables at their addresses: L1 finds the firmware's RSDP where it is. */
	si->rsdp_paddr = bi->rsdp;
	if (p->nmodules) {
		si->nr_modules = p->nmodules;
		si->modlist_paddr = l1_area_alloc(&a, p->nmodules * sizeof(*mods), 8);
		mods = l1_ptr(si->modlist_paddr);
		for (uint32_t i = 0; i < p->nmodules; i++) {
			mods[i] = (struct hvm_modlist_entry){
				.paddr = p->modules[i].start,
				.size = p->modules[i].end - p->modules[i].start,
				.cmdline_paddr = l1_area_string(&a, module_args(p->modules[i].string)),
			};
		}
	}
	si->memmap_entries = n;
	si->memmap_paddr = l1_area_alloc(&a, n * sizeof(*e), 8);
	e = l1_ptr(si->memmap_paddr);
	for (uint32_t i = 0; i < n; i++) {
		e[i] = (struct hvm_memmap_table_entry){ view[i].base, view[i].size,
							e820_type(view[i].type), 0 };
		pr_debug("L1 map: 0x%016lx-0x%016lx %s", view[i].base, view[i].base + view[i].size,
			 nv_mem_type_name(view[i].type));
	}
	return si_at;
}
