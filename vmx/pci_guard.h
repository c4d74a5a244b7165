/* SPDX-License-Identifier: MIT */
/*
 * What L1 may write into PCI configuration space (pure: host unit tests run
 * it). L0 intercepts the configuration ports 0xCF8-0xCFF (vmx/exit_pci.c)
 * and performs each access for L1, after this filter:
 *   - bus mastering (command register bit 2) stays off for every device,
 *     unless pci_guard_bus_master_ok: without an IOMMU translating every
 *     device's DMA (drivers/vtd.c) a bus master could DMA into L0's memory;
 *   - the i440FX host bridge's PAM (0x59-0x5F) and SMRAM (0x72) registers
 *     keep their values: they remap memory and open SMRAM; so do the q35
 *     MCH's PCIEXBAR (0x60-0x67: moving ECAM away from where EPT01 guards
 *     it would let L1 write configuration space unfiltered), PAM (0x90-0x96),
 *     SMBASE, SMRAM and ESMRAMC (0x9C-0x9E) and TSEG size (0x50-0x51);
 *   - the PIIX4 power-management function's APMC_EN (DEVACTB bit 25) stays
 *     off: a write to the APM control port would raise an SMI that runs L1's
 *     code in SMM, outside EPT;
 *   - a memory BAR may hold an address only where no RAM is (the caller's
 *     addr_ok), or all ones (BAR sizing): a BAR over RAM would take L0's
 *     accesses to that memory.
 * Everything else passes through.
 */
#ifndef NESTVISOR_VMX_PCI_GUARD_H
#define NESTVISOR_VMX_PCI_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_COMMAND        0x04
#define PCI_COMMAND_MASTER (1u << 2)

struct pci_dev_id {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t header_type;   /* bits 6:0 of register 0x0E */
};

/*
 * Set once VT-d translates all DMA (drivers/vtd.c): bus-master enable then
 * passes like any other bit. Off (the default): it is refused.
 */
extern bool pci_guard_bus_master_ok;

/*
 * L1 writes `value` (size 1, 2 or 4 bytes, already shifted to the byte at
 * reg) over the dword `old` at reg & ~3. Returns the dword L0 writes.
 * addr_ok(base): a memory BAR may point there.
 */
uint32_t pci_guard_write(const struct pci_dev_id *d, unsigned reg, unsigned size, uint32_t value,
			 uint32_t old, bool (*addr_ok)(uint64_t base), bool *refused);

#endif
