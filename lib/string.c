/* SPDX-License-Identifier: MIT */
/* The C string functions gcc may call even in freestanding code. */
#include <nestvisor/string.h>
#include <stdint.h>

/*
 * memcpy and memset move machine words with REP MOVS/STOS: every iteration
 * of a REP string instruction retires as one instruction (in Bochs' count
 * too), so a word per iteration is 8 (or 4) times cheaper than bytes. The
 * direction flag is clear in all code that calls these (the ABIs require it).
 */
#if defined(__x86_64__)
#define REP_MOVS_WORD "rep movsq"
#define REP_STOS_WORD "rep stosq"
#else
#define REP_MOVS_WORD "rep movsl"
#define REP_STOS_WORD "rep stosl"
#endif

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t words = n / sizeof(long), bytes = n % sizeof(long);

	__asm__ volatile(REP_MOVS_WORD "; mov %3, %%ecx; rep movsb"
			 : "+D"(d), "+S"(src), "+c"(words)
			 : "r"((unsigned)bytes)
			 : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t words = n / sizeof(long), bytes = n % sizeof(long);
	unsigned long pattern = (unsigned char)c * (~0ul / 0xff);

	__asm__ volatile(REP_STOS_WORD "; mov %3, %%ecx; rep stosb"
			 : "+D"(d), "+c"(words)
			 : "a"(pattern), "r"((unsigned)bytes)
			 : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}
