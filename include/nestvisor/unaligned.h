/* SPDX-License-Identifier: MIT */
/*
 * Little-endian fields at any alignment in tables and files (ACPI, ELF, the
 * UEFI memory map): read through memcpy, never through a cast pointer.
 */
#ifndef NESTVISOR_UNALIGNED_H
#define NESTVISOR_UNALIGNED_H

#include <nestvisor/string.h>
#include <stdint.h>

static inline uint16_t nv_rd16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t nv_rd32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t nv_rd64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#endif
