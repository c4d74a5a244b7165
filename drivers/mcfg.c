/* SPDX-License-Identifier: MIT */
/* PCI Firmware Specification 3.2, 4.1.2 "MCFG Table Description". */
#include "drivers/mcfg.h"

#include <stdbool.h>
#include <nestvisor/string.h>

#define MCFG_HEADER_LEN  44   /* the ACPI header (36) and 8 reserved bytes */
#define MCFG_ENTRY_LEN   16
#define MCFG_E_BASE      0    /* Table 4-3: base address, 8 bytes */
#define MCFG_E_SEGMENT   8    /* PCI segment group number, 2 bytes */
#define MCFG_E_BUS_START 10
#define MCFG_E_BUS_END   11
#define ACPI_LENGTH      4    /* offset of the header's length field */

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

static int bad(const char **why, const char *what)
{
	*why = what;
	return -1;
}

int mcfg_parse(const void *table, size_t len, struct ecam_window *out, unsigned max,
	       const char **why)
{
	const uint8_t *t = table;
	uint32_t length;
	unsigned n;
	uint8_t sum = 0;

	if (len < MCFG_HEADER_LEN)
		return bad(why, "shorter than its header");
	memcpy(&length, t + ACPI_LENGTH, 4);
	if (length < MCFG_HEADER_LEN || length > len)
		return bad(why, "bad length");
	if ((length - MCFG_HEADER_LEN) % MCFG_ENTRY_LEN)
		return bad(why, "length is not the header plus whole entries");
	n = (length - MCFG_HEADER_LEN) / MCFG_ENTRY_LEN;
	if (max > MCFG_MAX_WINDOWS)
		max = MCFG_MAX_WINDOWS;
	if (n > max)
		return bad(why, "too many entries");
	for (uint32_t i = 0; i < length; i++)
		sum += t[i];
	if (sum)
		return bad(why, "bad checksum");
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = t + MCFG_HEADER_LEN + i * MCFG_ENTRY_LEN;
		struct ecam_window *w = &out[i];

		memcpy(&w->base, e + MCFG_E_BASE, 8);
		memcpy(&w->segment, e + MCFG_E_SEGMENT, 2);
		w->bus_start = e[MCFG_E_BUS_START];
		w->bus_end = e[MCFG_E_BUS_END];
		if (w->base & (ECAM_BUS_SIZE - 1))
			return bad(why, "a base address is not 1-MiB aligned");
		if (w->bus_start > w->bus_end)
			return bad(why, "an entry's start bus is above its end bus");
		/* base < 2^52 and the window at most 256 MiB: no overflow below. */
		if (w->base >= MCFG_ADDR_LIMIT || ecam_end(w) > MCFG_ADDR_LIMIT)
			return bad(why, "a window lies beyond any physical address");
		for (unsigned j = 0; j < i; j++) {
			if (overlaps(ecam_start(w), ecam_end(w), ecam_start(&out[j]), ecam_end(&out[j])))
				return bad(why, "two windows overlap");
			if (w->segment == out[j].segment &&
			    overlaps(w->bus_start, w->bus_end + 1u, out[j].bus_start, out[j].bus_end + 1u))
				return bad(why, "two entries claim the same bus");
		}
	}
	return (int)n;
}
