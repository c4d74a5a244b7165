/* SPDX-License-Identifier: MIT */
/* SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging". */
#include "core/paging.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/x86.h"

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define GIB (1ull << 30)
#define MIB2 (2ull << 20)

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

static uint64_t core_phys_base;
static uint64_t nx_bit;
static uint64_t *l0_pml4;

uint64_t core_virt_to_phys(const void *p)
{
	return (uint64_t)p - NV_CORE_VBASE + core_phys_base;
}

static uint64_t *table_at(uint64_t *entry)
{
	if (!(*entry & PTE_P))
		*entry = pmm_alloc_page_or_panic("paging") | PTE_P | PTE_RW;
	return phys_to_virt(*entry & PTE_ADDR);
}

static void map_identity(uint64_t *pml4, uint64_t top, bool gib_pages)
{
	for (uint64_t a = 0; a < top;) {
		uint64_t *pdpt = table_at(&pml4[(a >> 39) & 511]);
		uint64_t *pdpte = &pdpt[(a >> 30) & 511];

		if (gib_pages) {
			*pdpte = a | PTE_P | PTE_RW | PTE_PS;
			a += GIB;
			continue;
		}
		uint64_t *pd = table_at(pdpte);

		for (unsigned i = 0; i < 512; i++, a += MIB2)
			pd[i] = a | PTE_P | PTE_RW | PTE_PS;
	}
}

static void map_core_page(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pdpt = table_at(&pml4[(va >> 39) & 511]);
	uint64_t *pd = table_at(&pdpt[(va >> 30) & 511]);
	uint64_t *pt = table_at(&pd[(va >> 21) & 511]);

	pt[(va >> 12) & 511] = pa | flags;
}

void paging_init(const struct nv_bootinfo *bi)
{
	uint64_t pml4_phys = pmm_alloc_page_or_panic("paging");
	uint64_t *pml4 = phys_to_virt(pml4_phys);
	bool gib_pages = cpuid(0x80000000, 0).eax >= 0x80000001 &&
			 (cpuid(0x80000001, 0).edx & CPUID80000001_EDX_PDPE1GB);
	uint64_t top = 4 * GIB;

	core_phys_base = bi->core_phys;
	if (cpuid(0x80000001, 0).edx & CPUID80000001_EDX_NX) {
		wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_NXE);
		nx_bit = PTE_NX;
	}
	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (bi->mmap[i].base + bi->mmap[i].size > top)
			top = bi->mmap[i].base + bi->mmap[i].size;
	top = (top + GIB - 1) & ~(GIB - 1);
	map_identity(pml4, top, gib_pages);

	for (uint64_t va = (uint64_t)__image_start; va < (uint64_t)__image_end; va += PAGE_SIZE) {
		uint64_t flags = PTE_P | PTE_G;

		if (va >= (uint64_t)__text_end)
			flags |= nx_bit;
		if (va >= (uint64_t)__rodata_end)
			flags |= PTE_RW;
		map_core_page(pml4, va, core_virt_to_phys((void *)va), flags);
	}
	l0_pml4 = pml4;
	write_cr3(pml4_phys);
	write_cr0(read_cr0() | CR0_WP);
}

void paging_map_device(uint64_t base, uint64_t size)
{
	/* 2-MiB steps: ECAM windows are 1-MiB aligned, so round out to 2 MiB. */
	for (uint64_t a = base & ~(MIB2 - 1); a < base + size; a += MIB2) {
		uint64_t *pdpt = table_at(&l0_pml4[(a >> 39) & 511]);
		uint64_t *pdpte = &pdpt[(a >> 30) & 511];
		uint64_t *pd;

		if ((*pdpte & PTE_P) && (*pdpte & PTE_PS))
			continue;  /* inside the identity map's 1-GiB pages */
		pd = table_at(pdpte);
		if (!(pd[(a >> 21) & 511] & PTE_P))
			pd[(a >> 21) & 511] = a | PTE_P | PTE_RW | PTE_PS | PTE_PCD | PTE_PWT | nx_bit;
	}
	write_cr3(read_cr3());
}
