/* SPDX-License-Identifier: MIT */
#ifndef NESTVISOR_DRIVERS_ACPI_H
#define NESTVISOR_DRIVERS_ACPI_H

#include <stdint.h>

/* Enter S5 (soft off) through the FADT's PM1 control blocks. Returns if it cannot. */
void acpi_poweroff(uint64_t rsdp_phys);
/* Whether the firmware's ACPI tables have this one (e.g. "DMAR": a VT-d IOMMU). */
int acpi_has_table(uint64_t rsdp_phys, const char *sig);

#endif
