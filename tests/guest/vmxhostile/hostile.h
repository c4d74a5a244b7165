/* SPDX-License-Identifier: MIT */
/* Shared by vmxhostile's files: the targets, PCI configuration access, MSR lists. */
#ifndef VMXHOSTILE_H
#define VMXHOSTILE_H

#include "vmxlib.h"

/* The addresses the cases aim at (all 4 KiB aligned). */
struct hostile_targets {
	uint64_t l0, l0_end;            /* a reserved range holding L0 memory */
	uint64_t ram_top;               /* end of the highest usable range */
	bool usable_below_l0;           /* [l0 - 16, l0) is usable RAM */
};
extern struct hostile_targets t;
/* The type of L1's memory-map range holding addr (MMAP_TYPE_*), 0 if none does. */
uint32_t memory_map_type(uint64_t addr);

struct msr_entry {
	uint32_t index, reserved;
	uint64_t value;
};

/* PCI configuration mechanism #1 on bus 0 (ports 0xCF8/0xCFC). */
static inline uint32_t pci_addr(unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc);
}

static inline uint32_t cfg_read32(unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xcf8, pci_addr(dev, fn, reg));
	return inl(0xcfc);
}

static inline void cfg_write32(unsigned dev, unsigned fn, unsigned reg, uint32_t v)
{
	outl(0xcf8, pci_addr(dev, fn, reg));
	outl(0xcfc, v);
}

static inline uint8_t cfg_read8(unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xcf8, pci_addr(dev, fn, reg));
	return inb((uint16_t)(0xcfc + (reg & 3)));
}

static inline void cfg_write8(unsigned dev, unsigned fn, unsigned reg, uint8_t v)
{
	outl(0xcf8, pci_addr(dev, fn, reg));
	outb((uint16_t)(0xcfc + (reg & 3)), v);
}

static inline void cfg_write16(unsigned dev, unsigned fn, unsigned reg, uint16_t v)
{
	outl(0xcf8, pci_addr(dev, fn, reg));
	outw((uint16_t)(0xcfc + (reg & 2)), v);
}

/* fuzz.c: random attacks on the guarded devices, APIC base and MSR-load lists. */
void fuzz_cases(const char *cmdline);

#endif
