/* SPDX-License-Identifier: MIT */
/*
 * The ACPI MCFG table: where PCI Express configuration space is memory-mapped
 * (ECAM, "MMCONFIG"). Pure: host unit tests run the parser on made-up tables.
 * PCI Firmware Specification 3.2, 4.1.2 "MCFG Table Description", Table 4-3;
 * PCI Express Base Specification 4.0, 7.2.2 "PCI Express Enhanced
 * Configuration Access Mechanism (ECAM)".
 */
#ifndef NESTVISOR_DRIVERS_MCFG_H
#define NESTVISOR_DRIVERS_MCFG_H

#include <stddef.h>
#include <stdint.h>

/* Configuration space of one function: 4 KiB; one bus: 32 x 8 functions = 1 MiB. */
#define ECAM_FN_SHIFT   12
#define ECAM_DEV_SHIFT  15
#define ECAM_BUS_SHIFT  20
#define ECAM_BUS_SIZE   (1ull << ECAM_BUS_SHIFT)
#define ECAM_FN_SIZE    (1ull << ECAM_FN_SHIFT)

/* One "configuration space base address allocation structure". */
struct ecam_window {
	uint64_t base;          /* the address of bus 0's configuration space (even if bus_start > 0) */
	uint16_t segment;       /* PCI segment group */
	uint8_t bus_start, bus_end;
};

/* [ecam_start, ecam_end): the addresses the window decodes (its buses only). */
static inline uint64_t ecam_start(const struct ecam_window *w)
{
	return w->base + ((uint64_t)w->bus_start << ECAM_BUS_SHIFT);
}

static inline uint64_t ecam_end(const struct ecam_window *w)
{
	return w->base + (((uint64_t)w->bus_end + 1) << ECAM_BUS_SHIFT);
}

#define MCFG_MAX_WINDOWS 16
/* Highest physical address any x86 CPU decodes (MAXPHYADDR <= 52). */
#define MCFG_ADDR_LIMIT  (1ull << 52)

/*
 * Parse and check an MCFG of len bytes (len: what L0 may read; the header's
 * length must fit in it). Accepted only if the length is the header plus whole
 * entries, the checksum is right, there are at most max (<= MCFG_MAX_WINDOWS)
 * entries, and each entry has a 1-MiB-aligned base, start bus <= end bus, a
 * window below 2^52, and overlaps no other entry (in addresses, or in buses of
 * the same segment). Returns the number of windows written to out, or -1 with
 * *why saying what is wrong (a malformed table is not trusted at all).
 */
int mcfg_parse(const void *table, size_t len, struct ecam_window *out, unsigned max,
	       const char **why);

#endif
