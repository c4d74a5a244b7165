/* SPDX-License-Identifier: MIT */
/*
 * The ACPI DMAR table: where the platform's VT-d remapping units are and what
 * they cover. Pure: host unit tests run the parser on made-up tables.
 * Intel VT-d Specification (rev. 4.1), 8.1 "DMA Remapping Reporting
 * Structure", 8.2 "Remapping Structure Types", 8.3 "DMA Remapping Hardware
 * Unit Definition Structure", 8.3.1 "Device Scope Structure", 8.4 "Reserved
 * Memory Region Reporting Structure".
 */
#ifndef NESTVISOR_DRIVERS_DMAR_H
#define NESTVISOR_DRIVERS_DMAR_H

#include <stddef.h>
#include <stdint.h>

/* Bounds: a table with more is refused, not truncated. */
#define DMAR_MAX_UNITS   8
#define DMAR_MAX_RMRRS   16
#define DMAR_MAX_SCOPES  16    /* per DRHD or RMRR */
#define DMAR_MAX_PATH    8     /* (device, function) hops of one device scope */
#define DMAR_MAX_REG_PAGES_LOG2 4   /* a register set of at most 16 pages */
/* Highest physical address any x86 CPU decodes (MAXPHYADDR <= 52). */
#define DMAR_ADDR_LIMIT  (1ull << 52)

/* DMAR flags (8.1, Table 19) */
#define DMAR_INTR_REMAP            (1u << 0)
#define DMAR_X2APIC_OPT_OUT        (1u << 1)
#define DMAR_DMA_CTRL_PLATFORM_OPT_IN (1u << 2)
/* DRHD flags (8.3) */
#define DMAR_DRHD_INCLUDE_PCI_ALL  (1u << 0)

/* Device scope entry types (8.3.1, Table 22) */
enum dmar_scope_type {
	DMAR_SCOPE_PCI_ENDPOINT = 1,
	DMAR_SCOPE_PCI_SUBHIERARCHY = 2,
	DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4,
	DMAR_SCOPE_ACPI_NAMESPACE = 5,
};

struct dmar_scope {
	uint8_t type;             /* enum dmar_scope_type */
	uint8_t enum_id;          /* IOAPIC/HPET id, ACPI device number */
	uint8_t start_bus;
	uint8_t path_len;         /* hops in path[] (at least 1) */
	struct { uint8_t dev, fn; } path[DMAR_MAX_PATH];
};

struct dmar_unit {           /* a DRHD */
	uint64_t base;            /* the register set: [base, base + pages * 4 KiB) */
	uint32_t pages;
	uint16_t segment;
	uint8_t flags;            /* DMAR_DRHD_* */
	unsigned nscopes;
	struct dmar_scope scope[DMAR_MAX_SCOPES];
};

struct dmar_rmrr {           /* memory the listed devices use for DMA: [base, end) */
	uint64_t base, end;
	uint16_t segment;
	unsigned nscopes;
	struct dmar_scope scope[DMAR_MAX_SCOPES];
};

struct dmar_info {
	unsigned haw;             /* host address width in bits (the table's field + 1) */
	uint8_t flags;            /* DMAR_INTR_REMAP, ... */
	unsigned nunits, nrmrrs;
	struct dmar_unit unit[DMAR_MAX_UNITS];
	struct dmar_rmrr rmrr[DMAR_MAX_RMRRS];
};

/*
 * Parse and check a DMAR of len bytes (len: what L0 may read; the header's
 * length must fit in it). Accepted only if: the signature, length and
 * checksum are right; the host address width is 32 to 52 bits; every
 * remapping structure has a length of at least its fixed part and lies
 * inside the table; there are 1 to DMAR_MAX_UNITS DRHDs, each with a
 * 4-KiB-aligned register base whose register set (at most 2^4 pages) lies
 * below 2^52 and overlaps no other unit's, at most one INCLUDE_PCI_ALL unit
 * per segment; at most DMAR_MAX_RMRRS RMRRs, each 4-KiB aligned at both
 * ends, base <= limit < 2^52, with at least one device scope; every device
 * scope has a known type, a length of 6 plus whole (device, function) hops
 * (1 to DMAR_MAX_PATH of them, device < 32, function < 8) and fits its
 * structure, and a structure has at most DMAR_MAX_SCOPES. Other structure
 * types (ATSR, RHSA, ANDD, SATC, ...) are skipped. Returns 0, or -1 with
 * *why saying what is wrong (a malformed table is not trusted at all).
 */
int dmar_parse(const void *table, size_t len, struct dmar_info *out, const char **why);

#endif
