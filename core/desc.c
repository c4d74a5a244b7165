/* SPDX-License-Identifier: MIT */
/*
 * GDT with one 64-bit code and one data segment plus the TSS; IDT with the 32
 * exception vectors. SDM Vol. 3A, 3.4.5 "Segment Descriptors", 7.2.3 "TSS
 * Descriptor in 64-bit mode", 6.14.1 "64-Bit Mode IDT".
 */
#include "core/desc.h"

#include <nestvisor/string.h>

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "TSS layout (SDM Vol. 3A, Figure 7-11)");

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

#define GATE_INTERRUPT 0x8e  /* present, DPL 0, 64-bit interrupt gate */
#define IST_CRITICAL   1     /* #DF, NMI and #MC run on their own stack */

static uint64_t gdt[5] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[32] __attribute__((aligned(16)));
static uint8_t critical_stack[16384] __attribute__((aligned(16)));

extern const uint64_t isr_table[32];  /* core/isr.asm */

uint64_t desc_tss_base(void)
{
	return (uint64_t)&tss;
}

static void set_gate(unsigned vec, uint64_t handler, unsigned ist)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = (uint16_t)handler,
		.selector = SEL_CODE64,
		.ist = (uint8_t)ist,
		.type_attr = GATE_INTERRUPT,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

void desc_init(void)
{
	uint64_t tss_base = (uint64_t)&tss;
	uint64_t tss_limit = sizeof(tss) - 1;
	struct desc_ptr gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	struct desc_ptr idtr = { sizeof(idt) - 1, (uint64_t)idt };

	gdt[0] = 0;
	gdt[SEL_CODE64 / 8] = 0x00209a0000000000ull;  /* P, DPL0, code, L */
	gdt[SEL_DATA / 8] = 0x0000920000000000ull;    /* P, DPL0, data, writable */
	gdt[SEL_TSS / 8] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) |
			   (0x89ull << 40) |           /* P, available 64-bit TSS */
			   (((tss_limit >> 16) & 0xf) << 48) | ((tss_base >> 24 & 0xff) << 56);
	gdt[SEL_TSS / 8 + 1] = tss_base >> 32;

	memset(&tss, 0, sizeof(tss));
	tss.ist[IST_CRITICAL - 1] = (uint64_t)critical_stack + sizeof(critical_stack);
	tss.iomap_base = sizeof(tss);  /* no I/O permission bitmap */

	for (unsigned v = 0; v < 32; v++)
		set_gate(v, isr_table[v], (v == 2 || v == 8 || v == 18) ? IST_CRITICAL : 0);

	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	/* Reload CS with a far return, then the data segments and TR. */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %1, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "movw %2, %%ax\n\t"
			 "ltr %%ax"
			 :
			 : "i"(SEL_CODE64), "i"(SEL_DATA), "i"(SEL_TSS)
			 : "rax", "memory");
	__asm__ volatile("lidt %0" ::"m"(idtr));
}
