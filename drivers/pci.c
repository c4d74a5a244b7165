/* SPDX-License-Identifier: MIT */
/* PCI Local Bus Specification 3.0, 3.2.2.3.2 "Configuration Mechanism #1". */
#include "drivers/pci.h"
#include "vmx/pci_guard.h"
#include "core/x86.h"

uint32_t pci_read32(uint32_t address)
{
	outl(PCI_CONFIG_ADDRESS, address);
	return inl(PCI_CONFIG_DATA);
}

void pci_write32(uint32_t address, uint32_t value)
{
	outl(PCI_CONFIG_ADDRESS, address);
	outl(PCI_CONFIG_DATA, value);
}

unsigned pci_disable_bus_mastering(void)
{
	unsigned n = 0;

	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = pci_read32(pci_address(0, dev, fn, 0));
			uint32_t cmd;

			if ((id & 0xffff) == 0xffff) {
				if (fn == 0)
					break;  /* no device: no functions either */
				continue;
			}
			cmd = pci_read32(pci_address(0, dev, fn, PCI_COMMAND));
			if (cmd & PCI_COMMAND_MASTER) {
				/* Only the command word: status bits are write-1-to-clear. */
				outl(PCI_CONFIG_ADDRESS, pci_address(0, dev, fn, PCI_COMMAND));
				outw(PCI_CONFIG_DATA, (uint16_t)(cmd & ~PCI_COMMAND_MASTER));
				n++;
			}
			if (fn == 0 && !(pci_read32(pci_address(0, dev, 0, 0x0c)) & (0x80u << 16)))
				break;  /* single-function device */
		}
	}
	return n;
}
