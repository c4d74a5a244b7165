/* SPDX-License-Identifier: MIT */
/* PCI Express Base Specification 4.0, 7.2.2 "ECAM", Table 7-1 "Address Bits". */
#include "vmx/ecam.h"

int ecam_find(const struct ecam_window *w, unsigned n, uint64_t pa)
{
	for (unsigned i = 0; i < n; i++)
		if (pa >= ecam_start(&w[i]) && pa < ecam_end(&w[i]))
			return (int)i;
	return -1;
}

struct ecam_addr ecam_decode(const struct ecam_window *w, uint64_t pa)
{
	uint64_t off = pa - w->base;

	return (struct ecam_addr){
		.segment = w->segment,
		.bus = (uint8_t)(off >> ECAM_BUS_SHIFT),
		.dev = (uint8_t)((off >> ECAM_DEV_SHIFT) & 31),
		.fn = (uint8_t)((off >> ECAM_FN_SHIFT) & 7),
		.reg = (uint16_t)(off & (ECAM_FN_SIZE - 1)),
		.fn_base = pa & ~(ECAM_FN_SIZE - 1),
	};
}

unsigned ecam_split(unsigned reg, unsigned size, uint64_t value,
		    struct ecam_piece out[ECAM_MAX_PIECES])
{
	unsigned n = 0;

	if ((size != 1 && size != 2 && size != 4 && size != 8) || reg + size > ECAM_FN_SIZE)
		return 0;
	while (size) {
		unsigned take = 4 - (reg & 3);

		if (take > size)
			take = size;
		out[n++] = (struct ecam_piece){
			(uint16_t)reg, (uint8_t)take,
			(uint32_t)(value & (take == 4 ? 0xffffffffu : (1u << 8 * take) - 1)) };
		value = take == 4 ? value >> 32 : value >> 8 * take;
		reg += take;
		size -= take;
	}
	return n;
}
