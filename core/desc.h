/* SPDX-License-Identifier: MIT */
/* L0's own GDT, TSS and IDT. */
#ifndef NESTVISOR_CORE_DESC_H
#define NESTVISOR_CORE_DESC_H

#include <stdint.h>

#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_TSS    0x18

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void desc_init(void);
uint64_t desc_tss_base(void);

static inline struct desc_ptr read_gdtr(void)
{
	struct desc_ptr p;

	__asm__ volatile("sgdt %0" : "=m"(p));
	return p;
}

static inline struct desc_ptr read_idtr(void)
{
	struct desc_ptr p;

	__asm__ volatile("sidt %0" : "=m"(p));
	return p;
}

#endif
