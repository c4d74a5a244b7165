/* SPDX-License-Identifier: MIT */
/*
 * The ports L0 guards for L1 (and for L2 where L1 lets it through): PCI
 * configuration mechanism #1 (0xCF8-0xCFF), where vmx/pci_guard.c filters
 * writes, and the APM control port 0xB2, whose writes would raise an SMI.
 * L0 keeps L1's CONFIG_ADDRESS and performs each data access for it.
 */
#include "vmx/exit.h"
#include "vmx/exit_info.h"
#include "vmx/l1.h"
#include "vmx/pci_guard.h"
#include "drivers/pci.h"
#include "drivers/vtd.h"
#include "core/log.h"
#include "core/run.h"
#include "core/x86.h"

#define PCI_RESET_CONTROL 0xcf9   /* PIIX: bit 2 starts a reset (or 0x06: hard reset) */
#define APM_CONTROL       0xb2

static uint32_t l1_config_address;

static uint32_t port_in(uint16_t port, unsigned size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(uint16_t port, unsigned size, uint32_t v)
{
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

/* A memory BAR may point where the boot map has no RAM (and no L0 memory), nor at a VT-d unit. */
bool pci_bar_addr_ok(uint64_t base)
{
	return !l1_mem_type_at(base) && !vtd_owns(base);
}

static struct pci_dev_id device_at(uint32_t address)
{
	uint32_t fn0 = address & ~0xffu;
	uint32_t id = pci_read32(fn0), hdr = pci_read32(fn0 | 0x0c);

	return (struct pci_dev_id){ (uint8_t)(address >> 16), (uint8_t)((address >> 11) & 31),
				    (uint8_t)((address >> 8) & 7), (uint16_t)id,
				    (uint16_t)(id >> 16), (uint8_t)(hdr >> 16) };
}

static void config_data(struct io_info io, uint64_t *rax)
{
	unsigned reg = (l1_config_address & 0xfc) + (io.port & 3);
	uint32_t mask = io_size_mask(io.size);
	struct pci_dev_id d;
	uint32_t old, out;
	bool refused;

	if (io.in) {
		outl(PCI_CONFIG_ADDRESS, l1_config_address);
		*rax = (*rax & ~(uint64_t)mask) | port_in(io.port, io.size);
		return;
	}
	d = device_at(l1_config_address);
	old = pci_read32(l1_config_address);
	out = pci_guard_write(&d, reg, io.size, (uint32_t)*rax & mask, old, pci_bar_addr_ok,
			      &refused);
	if (refused)
		pr_info("pci: %02x:%02x.%x register 0x%02x: L1's write of 0x%x kept from "
			"what it would open (README, \"What L1 sees\")", d.bus, d.dev, d.fn, reg,
			(uint32_t)*rax & mask);
	/* Only the bytes L1 wrote: others may be write-1-to-clear (the status register). */
	outl(PCI_CONFIG_ADDRESS, l1_config_address);
	port_out(io.port, io.size, (out >> 8 * (reg & 3)) & mask);
}

void handle_guarded_io(struct vcpu *v, const struct exit_ctx *x, struct io_info io)
{
	uint64_t *rax = &v->frame.regs.r[GPR_RAX];
	uint32_t mask = io_size_mask(io.size);

	if (io.port == APM_CONTROL && !io.in) {
		pr_info("L1's write 0x%lx to the APM control port (an SMI) dropped", *rax & mask);
	} else if (isa_dma_port(io.port) && !io.in) {
		/* l1.isa_dma_off: the controllers could reach memory not L1's (vmx/l1.c). */
		pr_info("L1's write 0x%lx to ISA DMA port 0x%x dropped", *rax & mask, io.port);
	} else if (io.port == PCI_CONFIG_ADDRESS && io.size == 4) {
		if (io.in)
			*rax = (*rax & ~(uint64_t)mask) | l1_config_address;
		else
			l1_config_address = (uint32_t)*rax;
	} else if (io.port >= PCI_CONFIG_DATA && (l1_config_address & PCI_ADDR_ENABLE)) {
		config_data(io, rax);
	} else if (io.port == PCI_RESET_CONTROL && !io.in && (*rax & 4)) {
		vcpu_dump(v);
		run_end_failure("L1 reset the platform through port 0xcf9 (value 0x%lx) at rip 0x%lx",
				*rax & mask, x->rip);
	} else if (io.in) {
		*rax = (*rax & ~(uint64_t)mask) | port_in(io.port, io.size);
	} else {
		port_out(io.port, io.size, (uint32_t)*rax & mask);
	}
	vcpu_skip_instruction(x);
}
