/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer harness shares: INVARIANT (a violated one prints what
 * and where, then aborts, so libFuzzer keeps the input as a crash) and a
 * reader that takes fixed-size values from the input, zeros past its end.
 */
#ifndef NESTVISOR_FUZZ_H
#define NESTVISOR_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVARIANT(cond, ...)                                                          \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "INVARIANT VIOLATED at %s:%d: %s\n  ", __FILE__, \
				__LINE__, #cond);                                     \
			fprintf(stderr, __VA_ARGS__);                                 \
			fputc('\n', stderr);                                          \
			abort();                                                      \
		}                                                                     \
	} while (0)

/*
 * On the harness's own checking code (audits, reference models with loops):
 * no coverage or comparison tracing, so that libFuzzer's feedback is the code
 * under test's, and the runs stay fast.
 */
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/* The next `bytes` (at most 8) bytes, little-endian; zeros once the input is used up. */
static inline uint64_t take(struct fuzz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		if (in->n) {
			v |= (uint64_t)in->p[0] << (8 * i);
			in->p++;
			in->n--;
		}
	}
	return v;
}

static inline bool take_bool(struct fuzz_in *in)
{
	return take(in, 1) & 1;
}

static inline bool fuzz_in_done(const struct fuzz_in *in)
{
	return in->n == 0;
}

/* Is s NUL-terminated within size bytes? */
static inline bool nul_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

#endif
