/* SPDX-License-Identifier: MIT */
/* PCI configuration mechanism #1 (ports 0xCF8/0xCFC), as L0 uses it. */
#ifndef NESTVISOR_DRIVERS_PCI_H
#define NESTVISOR_DRIVERS_PCI_H

#include <stdint.h>

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define PCI_ADDR_ENABLE    (1u << 31)

static inline uint32_t pci_address(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return PCI_ADDR_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

uint32_t pci_read32(uint32_t address);
void pci_write32(uint32_t address, uint32_t value);

/*
 * Turn bus mastering off in every function on bus 0 (the platforms L0 runs
 * on have one bus), so that no device L1 drives can DMA into L0's memory.
 * Returns how many had it on.
 */
unsigned pci_disable_bus_mastering(void);

#endif
