/* SPDX-License-Identifier: MIT */
/*
 * longmode: L1 can enter 64-bit mode under the hypervisor. From Multiboot's
 * 32-bit state: identity-map the first 1 GiB with 2 MiB pages, then
 * long64.asm sets CR4.PAE, EFER.LME and CR0.PG, far-jumps to the 64-bit code
 * segment and runs the checks there (printing through COM1 itself, since this
 * C code is 32-bit). Exit code 0 from 64-bit mode means success.
 */
#include <guest.h>

/* SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging": entry bits. */
#define PTE_PRESENT  (1ull << 0)
#define PTE_WRITE    (1ull << 1)
#define PTE_PS       (1ull << 7)   /* in a PDE: maps a 2 MiB page */
#define PAGE_2M      0x200000ull
#define ENTRIES      512

static uint64_t pml4[ENTRIES] __attribute__((aligned(4096)));
static uint64_t pdpt[ENTRIES] __attribute__((aligned(4096)));
static uint64_t pd[ENTRIES] __attribute__((aligned(4096)));   /* 512 x 2 MiB = 1 GiB */

/* long64.asm: never returns. */
__attribute__((noreturn)) void enter_long_mode(uint32_t pml4_phys);

int main(struct multiboot_info *mbi)
{
	struct cpuid_regs ext = cpuid(0x80000000);

	printf("longmode: 32-bit protected mode, CR0 0x%08x CR4 0x%08x EFER 0x%llx\n",
	       read_cr0(), read_cr4(), (unsigned long long)rdmsr(MSR_IA32_EFER));
	if (ext.eax < 0x80000001 || !(cpuid(0x80000001).edx & CPUID_80000001_EDX_LM)) {
		report(false, "CPUID.80000001H:EDX.LM[29] (long mode supported)");
		report_summary();
		return GUEST_EXIT_FAIL;
	}

	for (unsigned i = 0; i < ENTRIES; i++)
		pd[i] = i * PAGE_2M | PTE_PS | PTE_WRITE | PTE_PRESENT;
	pdpt[0] = (uintptr_t)pd | PTE_WRITE | PTE_PRESENT;
	pml4[0] = (uintptr_t)pdpt | PTE_WRITE | PTE_PRESENT;

	printf("longmode: identity map of 1 GiB at PML4 0x%08x, enabling PAE, EFER.LME, CR0.PG\n",
	       (unsigned)(uintptr_t)pml4);
	enter_long_mode((uint32_t)(uintptr_t)pml4);
}
