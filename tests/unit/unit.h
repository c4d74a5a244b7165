/* SPDX-License-Identifier: MIT */
/*
 * A tiny host unit-test framework. Each test file defines TEST()s; unit.c's
 * main runs them all, prints "PASS name" / "FAIL name" with every failed check
 * and closes with "N passed, N failed" (counted in tests, not checks).
 */
#ifndef NESTVISOR_UNIT_H
#define NESTVISOR_UNIT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);
bool unit_check(bool ok, const char *expr, const char *file, int line);
void unit_fail_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST(name)                                                        \
	static void name(void);                                           \
	__attribute__((constructor)) static void unit_reg_##name(void)    \
	{                                                                 \
		unit_register(#name, name);                               \
	}                                                                 \
	static void name(void)

#define CHECK(cond) unit_check(!!(cond), #cond, __FILE__, __LINE__)

#define CHECK_EQ(a, b)                                                        \
	do {                                                                  \
		unsigned long long a_ = (unsigned long long)(a);              \
		unsigned long long b_ = (unsigned long long)(b);              \
		if (!unit_check(a_ == b_, #a " == " #b, __FILE__, __LINE__))  \
			unit_fail_detail("  got 0x%llx, want 0x%llx\n", a_, b_); \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (!unit_check(a_ && b_ && strcmp(a_, b_) == 0, #a " == " #b,  \
				__FILE__, __LINE__))                           \
			unit_fail_detail("  got \"%s\", want \"%s\"\n",          \
					 a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

/* Substring match, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                            \
	do {                                                                   \
		const char *h_ = (hay), *n_ = (needle);                        \
		if (!unit_check(h_ && strstr(h_, n_), #hay " contains " #needle, \
				__FILE__, __LINE__))                           \
			unit_fail_detail("  \"%s\" lacks \"%s\"\n",              \
					 h_ ? h_ : "(null)", n_);              \
	} while (0)

#endif
