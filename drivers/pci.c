/* SPDX-License-Identifier: MIT */
/* PCI Local Bus Specification 3.0, 3.2.2.3.2 "Configuration Mechanism #1". */
#include "drivers/pci.h"
#include "drivers/acpi.h"
#include "vmx/pci_guard.h"
#include "core/log.h"
#include "core/paging.h"
#include "core/x86.h"

#include <nestvisor/memmap.h>

#define PCI_HEADER_TYPE    0x0c          /* the dword of header type (bits 23:16) */
#define PCI_MULTIFUNCTION  (0x80u << 16)

struct pci_ecam pci_ecam;

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

static volatile uint32_t *ecam_ptr(const struct ecam_window *w, unsigned bus, unsigned dev,
				   unsigned fn, unsigned reg)
{
	return (volatile uint32_t *)(uintptr_t)(w->base + ((uint64_t)bus << ECAM_BUS_SHIFT) +
						 (dev << ECAM_DEV_SHIFT) + (fn << ECAM_FN_SHIFT) + reg);
}

/* Bus mastering off on the window's buses; bus 0 of segment 0 is the ports' (below). */
static unsigned ecam_disable_bus_mastering(const struct ecam_window *w)
{
	unsigned n = 0;

	for (unsigned bus = w->bus_start; bus <= w->bus_end; bus++) {
		if (w->segment == 0 && bus == 0)
			continue;
		for (unsigned dev = 0; dev < 32; dev++) {
			for (unsigned fn = 0; fn < 8; fn++) {
				uint32_t id = *ecam_ptr(w, bus, dev, fn, 0), cmd;

				if ((id & 0xffff) == 0xffff) {
					if (fn == 0)
						break;
					continue;
				}
				cmd = *ecam_ptr(w, bus, dev, fn, PCI_COMMAND);
				if (cmd & PCI_COMMAND_MASTER) {
					/* The command word alone: status bits are write-1-to-clear. */
					*(volatile uint16_t *)ecam_ptr(w, bus, dev, fn, PCI_COMMAND) =
						(uint16_t)(cmd & ~PCI_COMMAND_MASTER);
					n++;
				}
				if (fn == 0 && !(*ecam_ptr(w, bus, dev, 0, PCI_HEADER_TYPE) &
						 PCI_MULTIFUNCTION))
					break;
			}
		}
	}
	return n;
}

unsigned pci_disable_bus_mastering(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < pci_ecam.n; i++)
		n += ecam_disable_bus_mastering(&pci_ecam.w[i]);

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
			if (fn == 0 && !(pci_read32(pci_address(0, dev, 0, PCI_HEADER_TYPE)) & PCI_MULTIFUNCTION))
				break;  /* single-function device */
		}
	}
	return n;
}

/* Memory L1 or L0 uses as RAM: no ECAM window may lie there. */
#define RAM_TYPES (NV_MEM_L0_MASK | NV_MEM_L1_RAM_MASK | NV_MEM_BIT(NV_MEM_ACPI_RECLAIM) | \
		   NV_MEM_BIT(NV_MEM_ACPI_NVS) | NV_MEM_BIT(NV_MEM_FW_RUNTIME) | \
		   NV_MEM_BIT(NV_MEM_BAD))

/* Is the window what MCFG says? Its bus 0 device 0 must read as through the ports. */
static bool window_answers(const struct ecam_window *w)
{
	if (w->segment != 0 || w->bus_start != 0)
		return true;  /* nothing the ports reach to compare with */
	return *ecam_ptr(w, 0, 0, 0, 0) == pci_read32(pci_address(0, 0, 0, 0));
}

/* The CPU's physical-address width (CPUID.80000008H:EAX[7:0]). */
static unsigned phys_width(void)
{
	return cpuid(0x80000000, 0).eax < 0x80000008 ? 36 : cpuid(0x80000008, 0).eax & 0xff;
}

void pci_ecam_init(const struct nv_bootinfo *bi)
{
	struct ecam_window found[MCFG_MAX_WINDOWS];
	int n = acpi_mcfg(bi->rsdp, found, MCFG_MAX_WINDOWS);
	uint64_t limit = 1ull << phys_width();

	if (n <= 0) {
		log_line("pci: no MMCONFIG (%s): configuration space only through ports 0xcf8-0xcff",
			 n < 0 ? "no ACPI MCFG" : "MCFG ignored or empty");
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct ecam_window *w = &found[i];
		uint64_t start = ecam_start(w), size = ecam_end(w) - start;

		if (ecam_end(w) > limit) {
			log_line("pci: ECAM window %04x:%02x-%02x at 0x%lx ignored: beyond the CPU's "
				 "physical addresses", w->segment, w->bus_start, w->bus_end, start);
			continue;
		}
		if (nv_mmap_touches(bi->mmap, bi->mmap_count, start, size, RAM_TYPES)) {
			log_line("pci: ECAM window %04x:%02x-%02x at 0x%lx ignored: it overlaps RAM",
				 w->segment, w->bus_start, w->bus_end, start);
			continue;
		}
		paging_map_device(start, size);
		if (!window_answers(w)) {
			log_line("pci: ECAM window %04x:%02x-%02x at 0x%lx ignored: 00:00.0 reads "
				 "0x%x there, 0x%x through the ports", w->segment, w->bus_start,
				 w->bus_end, start, *ecam_ptr(w, 0, 0, 0, 0),
				 pci_read32(pci_address(0, 0, 0, 0)));
			continue;
		}
		pci_ecam.w[pci_ecam.n++] = *w;
		log_line("pci: ECAM segment %04x buses %02x-%02x at 0x%lx-0x%lx guarded (L1 reads "
			 "it; its writes are filtered as through ports 0xcf8-0xcff)", w->segment,
			 w->bus_start, w->bus_end, start, start + size - 1);
	}
}
