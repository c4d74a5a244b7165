/* SPDX-License-Identifier: MIT */
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>

#define UNIT_MAX 512

static struct {
	const char *name;
	unit_fn fn;
} tests[UNIT_MAX];
static int ntests;
static int current_failed;

void unit_register(const char *name, unit_fn fn)
{
	if (ntests == UNIT_MAX) {
		fprintf(stderr, "unit: too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

bool unit_check(bool ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		current_failed++;
		printf("  %s:%d: check failed: %s\n", file, line, expr);
	}
	return ok;
}

void unit_fail_detail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		current_failed = 0;
		tests[i].fn();
		printf("%s %s\n", current_failed ? "FAIL" : "PASS", tests[i].name);
		if (current_failed)
			failed++;
		else
			passed++;
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
