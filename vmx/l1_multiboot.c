/* SPDX-License-Identifier: MIT */
/*
 * Placing L1 the way QEMU's -kernel does for Multiboot kernels: the image's
 * pieces at the addresses the loader planned (and checked), then the
 * Multiboot information with L1's view of memory.
 */
#include "vmx/l1.h"
#include "vmx/l1_area.h"
#include "vmx/multiboot.h"
#include "core/log.h"
#include "core/run.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

#define LOWER_MEMORY_END 0xa0000ull   /* 640 KiB */
#define UPPER_MEMORY_BASE 0x100000ull
#define BOOT_DEVICE_NONE 0x8000ffffu  /* as QEMU: drive 0x80, no partition */


void l1_place_image(const struct nv_bootinfo *bi)
{
	const struct nv_l1_plan *p = &bi->l1;

	/* The loader checked this plan; L0 does not trust it blindly either. */
	for (uint32_t i = 0; i < p->ncopies; i++) {
		const struct nv_l1_copy *c = &p->copies[i];

		if (c->filesz > c->memsz ||
		    !nv_mmap_covers(bi->mmap, bi->mmap_count, c->dst, c->memsz,
				    NV_MEM_BIT(NV_MEM_USABLE)) ||
		    !nv_mmap_covers(bi->mmap, bi->mmap_count, c->src, c->filesz,
				    NV_MEM_BIT(NV_MEM_L1_STAGING)))
			run_end_failure("boot info: L1 piece %u (0x%lx+0x%lx from 0x%lx) is not "
					"in free RAM", i, c->dst, c->memsz, c->src);
		memmove(l1_ptr(c->dst), l1_ptr(c->src), c->filesz);
		memset((char *)l1_ptr(c->dst) + c->filesz, 0, c->memsz - c->filesz);
		pr_debug("L1: placed 0x%lx-0x%lx", c->dst, c->dst + c->memsz);
	}
}

static uint32_t mb_type(uint32_t nv_type)
{
	switch (nv_type) {
	case NV_MEM_USABLE: return MB_MMAP_AVAILABLE;
	case NV_MEM_ACPI_RECLAIM: return MB_MMAP_ACPI_RECLAIM;
	case NV_MEM_ACPI_NVS: return MB_MMAP_ACPI_NVS;
	case NV_MEM_BAD: return MB_MMAP_BAD;
	default: return MB_MMAP_RESERVED;
	}
}

/* Usable bytes contiguous from base in L1's view. */
static uint64_t contiguous_from(const struct nv_mem_range *v, uint32_t n, uint64_t base)
{
	uint64_t at = base;

	for (uint32_t i = 0; i < n; i++)
		if (v[i].type == NV_MEM_USABLE && v[i].base <= at && at < v[i].base + v[i].size)
			at = v[i].base + v[i].size;
	return at - base;
}

uint64_t l1_build_multiboot_info(const struct nv_bootinfo *bi, uint64_t ram_end)
{
	static struct nv_mem_range view[NV_MMAP_MAX];
	const struct nv_l1_plan *p = &bi->l1;
	struct l1_area a = { p->mbi_base, p->mbi_size, 0, "Multiboot information" };
	uint32_t n = nv_l1_view(bi->mmap, bi->mmap_count, ram_end, view, NV_MMAP_MAX);
	uint64_t mbi_at = l1_area_alloc(&a, sizeof(struct mb_info), 8);
	struct mb_info *mbi = l1_ptr(mbi_at);
	struct mb_mmap_entry *e;
	struct mb_module *mods;

	if (n & NV_MMAP_TRUNCATED)
		run_end_failure("L1 memory map has more than %u ranges", NV_MMAP_MAX);
	memset(mbi, 0, sizeof(*mbi));
	mbi->flags = MBI_FLAG_MEM | MBI_FLAG_BOOT_DEVICE | MBI_FLAG_CMDLINE | MBI_FLAG_MMAP |
		     MBI_FLAG_LOADER_NAME;
	mbi->mem_lower = (uint32_t)(contiguous_from(view, n, 0) > LOWER_MEMORY_END
					    ? LOWER_MEMORY_END / 1024
					    : contiguous_from(view, n, 0) / 1024);
	mbi->mem_upper = (uint32_t)(contiguous_from(view, n, UPPER_MEMORY_BASE) / 1024);
	mbi->boot_device = BOOT_DEVICE_NONE;
	mbi->cmdline = (uint32_t)l1_area_string(&a, p->cmdline);
	mbi->boot_loader_name = (uint32_t)l1_area_string(&a, "nestvisor");

	if (p->nmodules) {
		mbi->flags |= MBI_FLAG_MODS;
		mbi->mods_count = p->nmodules;
		mbi->mods_addr = (uint32_t)l1_area_alloc(&a, p->nmodules * sizeof(*mods), 8);
		mods = l1_ptr(mbi->mods_addr);
		for (uint32_t i = 0; i < p->nmodules; i++) {
			mods[i].mod_start = (uint32_t)p->modules[i].start;
			mods[i].mod_end = (uint32_t)p->modules[i].end;
			mods[i].string = (uint32_t)l1_area_string(&a, p->modules[i].string);
			mods[i].reserved = 0;
		}
	}

	mbi->mmap_addr = (uint32_t)l1_area_alloc(&a, n * sizeof(*e), 8);
	mbi->mmap_length = n * (uint32_t)sizeof(*e);
	e = l1_ptr(mbi->mmap_addr);
	for (uint32_t i = 0; i < n; i++) {
		e[i] = (struct mb_mmap_entry){ 20, view[i].base, view[i].size, mb_type(view[i].type) };
		pr_debug("L1 map: 0x%016lx-0x%016lx %s", view[i].base, view[i].base + view[i].size,
			 nv_mem_type_name(view[i].type));
	}
	return mbi_at;
}
