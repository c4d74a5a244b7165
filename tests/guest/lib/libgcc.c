/* SPDX-License-Identifier: MIT */
/*
 * The 64-bit division helpers gcc calls on i386 (lib/fmt.c divides uint64_t).
 * There is no 32-bit libgcc to link against, so they live here: restoring
 * shift-and-subtract, with a single DIV when both values fit in 32 bits.
 */
#include <guest.h>

static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	if (d == 0) {
		/* What DIV would do: #DE. */
		asm volatile("divl %0" : : "r"(0u), "a"(1u), "d"(0u));
		__builtin_unreachable();
	}
	if ((n >> 32) == 0 && (d >> 32) == 0) {
		uint32_t q32, r32;

		asm("divl %4" : "=a"(q32), "=d"(r32) : "a"((uint32_t)n), "d"(0u), "rm"((uint32_t)d));
		*rem = r32;
		return q32;
	}
	for (int bit = 63; bit >= 0; bit--) {
		r = (r << 1) | ((n >> bit) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ULL << bit;
		}
	}
	*rem = r;
	return q;
}

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t r;
	uint64_t q = udivmod64(n, d, &r);

	if (rem)
		*rem = r;
	return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	uint64_t r;

	return udivmod64(n, d, &r);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;

	udivmod64(n, d, &r);
	return r;
}
