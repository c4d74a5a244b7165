/* SPDX-License-Identifier: MIT */
/* Freestanding string and formatting helpers shared by loader, core and guests. */
#ifndef NESTVISOR_STRING_H
#define NESTVISOR_STRING_H

#include <stdarg.h>
#include <stddef.h>

/* lib/string.c provides these for freestanding builds; host builds use libc's. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* lib/fmt.c: printf subset: %c %s %d %i %u %x %X %p %%, flags '-' '0',
 * width (also '*'), length modifiers hh h l ll z. Always NUL-terminates
 * (when size > 0) and returns the length the full output would have. */
int nv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int nv_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Copy at most size-1 bytes and NUL-terminate; returns strlen(src). */
size_t nv_strlcpy(char *dst, const char *src, size_t size);

#endif
