/* SPDX-License-Identifier: MIT */
#include "vmx/pci_guard.h"
#include "vmx/exit_info.h"

#define VENDOR_INTEL      0x8086
#define I440FX_HOST       0x1237    /* 00:00.0 */
#define PIIX4_PM          0x7113    /* 00:01.3 */
#define Q35_MCH           0x29c0    /* 00:00.0 of QEMU q35 (Intel 3 Series / ICH9 MCH) */
#define Q35_TSEG_MBYTES   0x50      /* 0x50-0x51, QEMU's TSEG size */
#define Q35_PCIEXBAR      0x60      /* 0x60-0x67: where ECAM is, and whether */
#define Q35_PCIEXBAR_END  0x67
#define Q35_PAM0          0x90
#define Q35_PAM6          0x96
#define Q35_SMBASE        0x9c      /* QEMU's SMBASE lock */
#define Q35_ESMRAMC       0x9e      /* 0x9d is SMRAM */
#define I440FX_PAM0       0x59
#define I440FX_PAM6       0x5f
#define I440FX_SMRAM      0x72
#define PIIX4_DEVACTB     0x58
#define DEVACTB_APMC_EN   (1u << 25)
#define BAR0              0x10
#define BAR5              0x24
#define BAR_IO            1u
#define BAR_MEM_ADDR      0xfffffff0u

bool pci_guard_bus_master_ok;

/* The dword after L1's write of size bytes at reg (0-3 within it). */
static uint32_t merge(uint32_t old, unsigned reg, unsigned size, uint32_t value)
{
	unsigned shift = 8 * (reg & 3);
	uint32_t mask = io_size_mask(size) << shift;

	return (old & ~mask) | ((value << shift) & mask);
}

/* Does the write touch byte b of the dword at reg & ~3? */
static bool touches(unsigned reg, unsigned size, unsigned b)
{
	return b >= reg && b < reg + size;
}

/* Byte b keeps its old value if the write touches it. */
static uint32_t keep(uint32_t out, uint32_t old, unsigned dword, unsigned reg, unsigned size,
		     unsigned b)
{
	uint32_t lane = 0xffu << 8 * (b & 3);

	if ((b & ~3u) != dword || !touches(reg, size, b))
		return out;
	return (out & ~lane) | (old & lane);
}

uint32_t pci_guard_write(const struct pci_dev_id *d, unsigned reg, unsigned size, uint32_t value,
			 uint32_t old, bool (*addr_ok)(uint64_t base), bool *refused)
{
	unsigned dword = reg & ~3u;
	uint32_t want = merge(old, reg, size, value), out = want;
	bool intel = d->vendor == VENDOR_INTEL;

	if (!pci_guard_bus_master_ok && dword == PCI_COMMAND && touches(reg, size, PCI_COMMAND))
		out &= ~PCI_COMMAND_MASTER;
	if (intel && d->device == I440FX_HOST && d->bus == 0 && d->dev == 0 && d->fn == 0) {
		for (unsigned b = I440FX_PAM0; b <= I440FX_PAM6; b++)
			out = keep(out, old, dword, reg, size, b);
		out = keep(out, old, dword, reg, size, I440FX_SMRAM);
	}
	if (intel && d->device == Q35_MCH && d->bus == 0 && d->dev == 0 && d->fn == 0) {
		for (unsigned b = Q35_TSEG_MBYTES; b <= Q35_TSEG_MBYTES + 1; b++)
			out = keep(out, old, dword, reg, size, b);
		for (unsigned b = Q35_PCIEXBAR; b <= Q35_PCIEXBAR_END; b++)
			out = keep(out, old, dword, reg, size, b);
		for (unsigned b = Q35_PAM0; b <= Q35_PAM6; b++)
			out = keep(out, old, dword, reg, size, b);
		for (unsigned b = Q35_SMBASE; b <= Q35_ESMRAMC; b++)
			out = keep(out, old, dword, reg, size, b);
	}
	if (intel && d->device == PIIX4_PM && dword == PIIX4_DEVACTB)
		out &= ~DEVACTB_APMC_EN;
	if ((d->header_type & 0x7f) == 0 && dword >= BAR0 && dword <= BAR5 && !(old & BAR_IO) &&
	    (want & BAR_MEM_ADDR) != BAR_MEM_ADDR && !addr_ok(want & BAR_MEM_ADDR))
		out = old;
	*refused = out != want;
	return out;
}
