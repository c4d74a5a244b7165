/* SPDX-License-Identifier: MIT */
/*
 * lib/string.c's memcpy and memset (word-wise REP MOVS/STOS plus a byte tail)
 * against byte-by-byte references, for every length 0..80 at every
 * alignment 0..15 of source and destination, with guard bytes around.
 * The real source is compiled in under other names, so the host's libc
 * (which ASan intercepts) keeps its own.
 */
#define memcpy nv_memcpy
#define memmove nv_memmove
#define memset nv_memset
#define memcmp nv_memcmp
#define strlen nv_strlen
#define strcmp nv_strcmp
#define strncmp nv_strncmp
#include "lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strcmp
#undef strncmp

#include "unit.h"

#define BUF 128

static unsigned char src[BUF], dst[BUF], want[BUF];

static void fill(unsigned char *b, unsigned seed)
{
	for (unsigned i = 0; i < BUF; i++)
		b[i] = (unsigned char)(i * 7 + seed);
}

TEST(string_memcpy_lengths_and_alignments)
{
	unsigned bad = 0;

	for (unsigned n = 0; n <= 80; n++)
		for (unsigned sa = 0; sa < 16; sa++)
			for (unsigned da = 0; da < 16; da++) {
				fill(src, 1);
				fill(dst, 99);
				fill(want, 99);
				for (unsigned i = 0; i < n; i++)
					want[da + i] = src[sa + i];
				if (nv_memcpy(dst + da, src + sa, n) != dst + da ||
				    memcmp(dst, want, BUF) != 0)
					bad++;
			}
	CHECK_EQ(bad, 0);
}

TEST(string_memset_lengths_alignments_values)
{
	static const int values[] = { 0, 0xff, 0x5a, 0x180 /* only the low byte counts */ };
	unsigned bad = 0;

	for (unsigned v = 0; v < sizeof(values) / sizeof(values[0]); v++)
		for (unsigned n = 0; n <= 80; n++)
			for (unsigned da = 0; da < 16; da++) {
				fill(dst, 3);
				fill(want, 3);
				for (unsigned i = 0; i < n; i++)
					want[da + i] = (unsigned char)values[v];
				if (nv_memset(dst + da, values[v], n) != dst + da ||
				    memcmp(dst, want, BUF) != 0)
					bad++;
			}
	CHECK_EQ(bad, 0);
}

TEST(string_memmove_overlap)
{
	fill(dst, 5);
	fill(want, 5);
	memmove(want + 3, want, 40);
	nv_memmove(dst + 3, dst, 40);
	CHECK(memcmp(dst, want, BUF) == 0);
	fill(dst, 5);
	fill(want, 5);
	memmove(want, want + 9, 50);
	nv_memmove(dst, dst + 9, 50);
	CHECK(memcmp(dst, want, BUF) == 0);
}
