/* SPDX-License-Identifier: MIT */
/* PCI configuration mechanism #1 (ports 0xCF8/0xCFC), as L0 uses it. */
#ifndef NESTVISOR_DRIVERS_PCI_H
#define NESTVISOR_DRIVERS_PCI_H

#include "drivers/mcfg.h"

#include <nestvisor/bootinfo.h>
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
 * Turn bus mastering off in every function on bus 0 through the ports, and on
 * every other bus the ECAM windows reach, so that no device L1 drives can DMA
 * into L0's memory. Returns how many had it on.
 */
unsigned pci_disable_bus_mastering(void);

/*
 * PCI Express ECAM (MMCONFIG): the windows ACPI's MCFG lists that L0 guards
 * (README, "What L1 sees"). pci_ecam_init finds and checks them, makes sure
 * L0 reaches them, and logs what it found; the rest of L0 reads the table.
 */
struct pci_ecam {
	struct ecam_window w[MCFG_MAX_WINDOWS];
	unsigned n;
};
extern struct pci_ecam pci_ecam;

void pci_ecam_init(const struct nv_bootinfo *bi);

#endif
