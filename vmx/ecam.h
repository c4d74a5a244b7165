/* SPDX-License-Identifier: MIT */
/*
 * PCI Express ECAM (memory-mapped configuration space) as L0 guards it for L1
 * (pure: host unit tests run it). L1 reads the windows directly; EPT01 maps
 * them read-only, so each write exits and vmx/exit_ecam.c performs it after
 * the same filter as a write through ports 0xCF8-0xCFF (vmx/pci_guard.c),
 * keyed by the function and register the address decodes to.
 *
 * The extended configuration space (registers 0x100-0xFFF) passes through:
 * every register pci_guard protects is below 0x100, and pci_guard_write
 * applied to an extended register changes nothing. (Known gap: the SR-IOV
 * capability's VF BARs there are not checked against RAM.)
 * PCI Express Base Specification 4.0, 7.2.2 "ECAM", Table 7-1.
 */
#ifndef NESTVISOR_VMX_ECAM_H
#define NESTVISOR_VMX_ECAM_H

#include "drivers/mcfg.h"

#include <stdbool.h>
#include <stdint.h>

/* A configuration-space address: one function's register. */
struct ecam_addr {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t reg;           /* 0x000-0xfff */
	uint64_t fn_base;       /* physical address of the function's 4 KiB */
};

/* The window (index) whose buses hold pa, or -1. */
int ecam_find(const struct ecam_window *w, unsigned n, uint64_t pa);
/* Decode pa, which window w holds. */
struct ecam_addr ecam_decode(const struct ecam_window *w, uint64_t pa);

/* One dword's part of a store: the bytes [reg, reg+size) of dword reg & ~3. */
struct ecam_piece {
	uint16_t reg;
	uint8_t size;           /* 1-4 */
	uint32_t value;         /* the bytes, low byte first (at reg) */
};
#define ECAM_MAX_PIECES 3   /* an unaligned 8-byte store touches three dwords */

/*
 * Split a store of size (1, 2, 4 or 8) bytes at reg into dword pieces, as
 * pci_guard_write takes them. Returns the count, 0 if the store leaves the
 * function's 4 KiB (the caller does not emulate that).
 */
unsigned ecam_split(unsigned reg, unsigned size, uint64_t value,
		    struct ecam_piece out[ECAM_MAX_PIECES]);

#endif
