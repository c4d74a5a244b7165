/* SPDX-License-Identifier: MIT */
#ifndef NESTVISOR_DRIVERS_ACPI_H
#define NESTVISOR_DRIVERS_ACPI_H

#include <stdint.h>

/* Enter S5 (soft off) through the FADT's PM1 control blocks. Returns if it cannot. */
void acpi_poweroff(uint64_t rsdp_phys);
/* Whether the firmware's ACPI tables have this one (e.g. "DMAR": a VT-d IOMMU). */
int acpi_has_table(uint64_t rsdp_phys, const char *sig);

struct ecam_window;
/*
 * The PCI Express ECAM windows of the MCFG table (drivers/mcfg.h), at most
 * max. Returns -1 if there is no ACPI or no MCFG, 0 if the MCFG is malformed
 * (logged; none of it is trusted) or lists nothing, else the count.
 */
int acpi_mcfg(uint64_t rsdp_phys, struct ecam_window *out, unsigned max);

struct dmar_info;
/*
 * The VT-d DMAR table (drivers/dmar.h). Returns -1 if there is no ACPI or no
 * DMAR, 0 if the DMAR is malformed (logged; none of it is trusted), 1 if out
 * holds it.
 */
int acpi_dmar(uint64_t rsdp_phys, struct dmar_info *out);

/*
 * Rename the table sig to new_sig in place and fix its checksum, so that an
 * OS reading the tables later (L1) no longer finds it. Returns 0, or -1 if
 * there is no such table.
 */
int acpi_rename_table(uint64_t rsdp_phys, const char *sig, const char *new_sig);

#endif
