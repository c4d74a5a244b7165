/* SPDX-License-Identifier: MIT */
/*
 * PAE paging for a 32-bit kernel (SDM Vol. 3A, 4.4 "PAE Paging"): a 4-entry PDPT
 * (CR3), four page directories of 2-MiB pages identity-mapping the first 4 GiB,
 * except the test window in GiB 1 (vmx32.h), plus the variant PDPTs the L2 and
 * PDPTE cases load.
 */
#include "vmx32.h"

#define TWO_MIB (2u << 20)
/* Table 4-8: in a PDPTE, bits 2:1 and 8:5 are reserved. */
#define PDPTE_RESERVED_RW_US 0x6ull
/* Table 4-9: in a PDE that maps a 2-MiB page, bits 20:13 are reserved. */
#define PDE2M_RESERVED_BIT13 (1ull << 13)

uint64_t pae_pdpt[4] __attribute__((aligned(32)));
uint64_t pae_alt_pdpt[4] __attribute__((aligned(32)));
uint64_t pae_bad_pdpt[4] __attribute__((aligned(32)));
uint64_t pae_pd[4][512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t pd_alt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t pt_test[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t pt_alt[512] __attribute__((aligned(PAGE_SIZE)));
uint8_t pt_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
volatile uint32_t mark_page1[1024] __attribute__((aligned(PAGE_SIZE)));
volatile uint32_t mark_page2[1024] __attribute__((aligned(PAGE_SIZE)));

static uint64_t pa64(const volatile void *p)
{
	return (uint32_t)(uintptr_t)p;
}

void paging_build(void)
{
	uint32_t m1 = (uint32_t)(uintptr_t)&mark_page1[0];
	unsigned k = m1 / TWO_MIB, j = (m1 / PAGE_SIZE) % 512;

	for (unsigned g = 0; g < 4; g++)
		for (unsigned i = 0; i < 512; i++)
			pae_pd[g][i] = ((uint64_t)g << 30) + (uint64_t)i * TWO_MIB +
				       (PDE_P | PDE_RW | PDE_PS);
	/* The test window (GiB 1), vmx32.h. */
	for (unsigned i = 0; i < 4; i++) {
		pae_pd[1][i] = (uint64_t)i * TWO_MIB + (PDE_P | PDE_RW | PDE_PS);
		pae_pd[1][4 + i] = (uint64_t)i * TWO_MIB + (PDE_P | PDE_PS);
	}
	pae_pd[1][(NP_LA - ALIAS_LA) / TWO_MIB] = 0;
	pae_pd[1][(RSVD_LA - ALIAS_LA) / TWO_MIB] = PDE_P | PDE_RW | PDE_PS | PDE2M_RESERVED_BIT13;
	pae_pd[1][(PT_LA - ALIAS_LA) / TWO_MIB] = pa64(pt_test) | PDE_P | PDE_RW;
	memset(pt_test, 0, sizeof(pt_test));
	pt_test[0] = pa64(pt_page) | PDE_P | PDE_RW;

	for (unsigned g = 0; g < 4; g++)
		pae_pdpt[g] = pa64(pae_pd[g]) | PDE_P;

	/* The alternative: GiB 1 through pd_alt, where the 4-KiB page of MARK_LA
	 * maps mark_page2 instead of mark_page1. */
	memcpy(pd_alt, pae_pd[1], sizeof(pd_alt));
	for (unsigned i = 0; i < 512; i++)
		pt_alt[i] = (uint64_t)k * TWO_MIB + (uint64_t)i * PAGE_SIZE + (PDE_P | PDE_RW);
	pt_alt[j] = pa64(mark_page2) | PDE_P | PDE_RW;
	pd_alt[k] = pa64(pt_alt) | PDE_P | PDE_RW;
	memcpy(pae_alt_pdpt, pae_pdpt, sizeof(pae_alt_pdpt));
	pae_alt_pdpt[1] = pa64(pd_alt) | PDE_P;

	memcpy(pae_bad_pdpt, pae_pdpt, sizeof(pae_bad_pdpt));
	pae_bad_pdpt[3] |= PDPTE_RESERVED_RW_US;

	mark_page1[4] = MARK1;
	mark_page2[4] = MARK2;
	printf("vmx32: PAE tables: PDPT 0x%x, PD 0x%x..; GiB 1: alias 0x%x (RO 0x%x), "
	       "PDE not present 0x%x, reserved-bit PDE 0x%x, 4-KiB PT 0x%x (page 1 not present)\n",
	       (uint32_t)pa64(pae_pdpt), (uint32_t)pa64(pae_pd), ALIAS_LA, RO_LA, NP_LA, RSVD_LA,
	       PT_LA);
	if (k >= 4)
		report(false, "set-up: mark_page1 (0x%x) lies in the first 8 MiB", m1);
}

static void do_write_cr3(void *p)
{
	write_cr3(*(uint32_t *)p);
}

int write_cr3_checked(uint32_t v)
{
	return catch_exception(do_write_cr3, &v);
}

void paging_enable(void)
{
	uint32_t cr0, cr4;
	int v;

	printf("vmx32: --- PAE paging (SDM Vol. 3A, 4.4) ---\n");
	write_cr3((uint32_t)pa64(pae_pdpt));
	v = write_cr4_checked((uint32_t)read_cr4() | CR4_PAE);
	report(v == NO_EXCEPTION, "MOV to CR4 setting PAE succeeds (got %s)", exception_name(v));
	v = write_cr0_checked(read_cr0() | CR0_PG | CR0_WP);
	cr0 = read_cr0();
	cr4 = read_cr4();
	report(v == NO_EXCEPTION && (cr0 & CR0_PG) && (cr0 & CR0_WP) && (cr4 & CR4_PAE) &&
	       read_cr3() == pa64(pae_pdpt),
	       "MOV to CR0 setting PG and WP turns on PAE paging (got %s; CR0 0x%x CR3 0x%x CR4 0x%x)",
	       exception_name(v), cr0, read_cr3(), cr4);
	report(*(volatile uint32_t *)alias(&mark_page1[4]) == MARK1 &&
	       *(volatile uint32_t *)(RO_LA + (uint32_t)(uintptr_t)&mark_page1[4]) == MARK1,
	       "the GiB-1 window maps low memory (read 0x%x through 0x%x)",
	       *(volatile uint32_t *)alias(&mark_page1[4]), alias(&mark_page1[4]));
}
