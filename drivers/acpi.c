/* SPDX-License-Identifier: MIT */
/*
 * Just enough ACPI to power off: RSDP -> XSDT/RSDT -> FADT -> PM1a/PM1b
 * control, SLP_TYP for S5 from the DSDT's \_S5 package.
 * ACPI 6.4, 5.2.5 "Root System Description Pointer (RSDP)", 5.2.9 "Fixed ACPI
 * Description Table (FADT)", 7.4.2 "\_Sx (System States)", 4.8.3.2.1 "PM1
 * Control Registers".
 */
#include "drivers/acpi.h"
#include <nestvisor/unaligned.h>
#include "drivers/dmar.h"
#include "drivers/mcfg.h"
#include "core/log.h"
#include "core/x86.h"

#include <nestvisor/string.h>

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision, creator_id, creator_revision;
} __attribute__((packed));

/* FADT field offsets (ACPI 6.4, Table 5.9) */
#define FADT_DSDT          40
#define FADT_SMI_CMD       48
#define FADT_ACPI_ENABLE   52
#define FADT_PM1A_CNT_BLK  64
#define FADT_PM1B_CNT_BLK  68
#define FADT_X_DSDT        140

#define PM1_SCI_EN         (1u << 0)
#define PM1_SLP_TYP_SHIFT  10
#define PM1_SLP_EN         (1u << 13)

/* AML opcodes (ACPI 6.4, 20.2 "AML Grammar Definition") */
#define AML_NAME_OP    0x08
#define AML_PACKAGE_OP 0x12
#define AML_BYTE_PREFIX 0x0a
#define AML_ZERO_OP    0x00
#define AML_ONE_OP     0x01

static const struct acpi_header *find_table(uint64_t rsdp_phys, const char *sig)
{
	const uint8_t *rsdp = (const uint8_t *)(uintptr_t)rsdp_phys;
	uint64_t xsdt = rsdp[15] >= 2 ? nv_rd64(rsdp + 24) : 0;
	const struct acpi_header *root =
		(const struct acpi_header *)(uintptr_t)(xsdt ? xsdt : nv_rd32(rsdp + 16));
	unsigned entry = xsdt ? 8 : 4;
	unsigned n = (root->length - sizeof(*root)) / entry;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)(root + 1) + i * entry;
		const struct acpi_header *t =
			(const struct acpi_header *)(uintptr_t)(xsdt ? nv_rd64(p) : nv_rd32(p));

		if (t && !memcmp(t->signature, sig, 4))
			return t;
	}
	return 0;
}

int acpi_has_table(uint64_t rsdp_phys, const char *sig)
{
	return rsdp_phys && find_table(rsdp_phys, sig) != 0;
}

int acpi_mcfg(uint64_t rsdp_phys, struct ecam_window *out, unsigned max)
{
	const struct acpi_header *t;
	const char *why;
	int n;

	if (!rsdp_phys || memcmp((const void *)(uintptr_t)rsdp_phys, "RSD PTR ", 8))
		return -1;
	t = find_table(rsdp_phys, "MCFG");
	if (!t)
		return -1;
	n = mcfg_parse(t, t->length, out, max, &why);
	if (n < 0) {
		log_line("pci: ACPI MCFG at 0x%lx ignored: %s (length %u)", (uint64_t)(uintptr_t)t,
			 why, t->length);
		return 0;
	}
	return n;
}

int acpi_dmar(uint64_t rsdp_phys, struct dmar_info *out)
{
	const struct acpi_header *t;
	const char *why;

	if (!rsdp_phys || memcmp((const void *)(uintptr_t)rsdp_phys, "RSD PTR ", 8))
		return -1;
	t = find_table(rsdp_phys, "DMAR");
	if (!t)
		return -1;
	if (dmar_parse(t, t->length, out, &why)) {
		log_line("dma: ACPI DMAR at 0x%lx ignored: %s (length %u)", (uint64_t)(uintptr_t)t,
			 why, t->length);
		return 0;
	}
	return 1;
}

int acpi_rename_table(uint64_t rsdp_phys, const char *sig, const char *new_sig)
{
	struct acpi_header *t;
	uint8_t delta = 0;

	if (!rsdp_phys || memcmp((const void *)(uintptr_t)rsdp_phys, "RSD PTR ", 8))
		return -1;
	t = (struct acpi_header *)find_table(rsdp_phys, sig);
	if (!t)
		return -1;
	for (unsigned i = 0; i < 4; i++)
		delta += (uint8_t)new_sig[i] - (uint8_t)t->signature[i];
	memcpy(t->signature, new_sig, 4);
	t->checksum -= delta;  /* the bytes still sum to 0 */
	return 0;
}

/* Decode one AML integer constant; returns bytes consumed or 0. */

static unsigned aml_int(const uint8_t *p, unsigned *value)
{
	switch (p[0]) {
	case AML_ZERO_OP: *value = 0; return 1;
	case AML_ONE_OP: *value = 1; return 1;
	case AML_BYTE_PREFIX: *value = p[1]; return 2;
	default: return 0;
	}
}

/* Find "Name(_S5_, Package(){a, b, ...})" and return SLP_TYPa/b. */
static int s5_sleep_types(const struct acpi_header *dsdt, unsigned *a, unsigned *b)
{
	const uint8_t *p = (const uint8_t *)dsdt;

	for (uint32_t i = sizeof(*dsdt); i + 12 < dsdt->length; i++) {
		unsigned pkglen_bytes, n, used;

		if (memcmp(p + i, "_S5_", 4) || p[i + 4] != AML_PACKAGE_OP)
			continue;
		if (p[i - 1] != AML_NAME_OP && !(p[i - 1] == '\\' && p[i - 2] == AML_NAME_OP))
			continue;
		pkglen_bytes = 1 + (p[i + 5] >> 6);  /* PkgLength lead byte */
		n = i + 5 + pkglen_bytes + 1;        /* skip NumElements */
		used = aml_int(p + n, a);
		if (!used)
			return -1;
		n += used;
		if (n + 2 > dsdt->length || !aml_int(p + n, b))
			*b = *a;
		return 0;
	}
	return -1;
}

void acpi_poweroff(uint64_t rsdp_phys)
{
	const uint8_t *fadt;
	const struct acpi_header *dsdt;
	unsigned typ_a, typ_b;
	uint32_t pm1a, pm1b;

	if (!rsdp_phys || memcmp((const void *)(uintptr_t)rsdp_phys, "RSD PTR ", 8))
		return;
	fadt = (const uint8_t *)find_table(rsdp_phys, "FACP");
	if (!fadt)
		return;
	dsdt = (const struct acpi_header *)(uintptr_t)(
		((const struct acpi_header *)fadt)->length > FADT_X_DSDT + 8 &&
				nv_rd64(fadt + FADT_X_DSDT)
			? nv_rd64(fadt + FADT_X_DSDT)
			: nv_rd32(fadt + FADT_DSDT));
	if (!dsdt || s5_sleep_types(dsdt, &typ_a, &typ_b)) {
		log_line("acpi: no \\_S5 object");
		return;
	}
	pm1a = nv_rd32(fadt + FADT_PM1A_CNT_BLK);
	pm1b = nv_rd32(fadt + FADT_PM1B_CNT_BLK);
	if (pm1a && !(inw(pm1a) & PM1_SCI_EN) && nv_rd32(fadt + FADT_SMI_CMD)) {
		outb(nv_rd32(fadt + FADT_SMI_CMD), fadt[FADT_ACPI_ENABLE]);
		for (int i = 0; i < 1000000 && !(inw(pm1a) & PM1_SCI_EN); i++)
			cpu_relax();
	}
	if (pm1a)
		outw(pm1a, (uint16_t)((typ_a << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
	if (pm1b)
		outw(pm1b, (uint16_t)((typ_b << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
	for (int i = 0; i < 1000000; i++)
		cpu_relax();
}
