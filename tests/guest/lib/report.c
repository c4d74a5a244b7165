/* SPDX-License-Identifier: MIT */
/* report(cond, name...) lines and the final summary the test runner parses. */
#include <guest.h>

static unsigned tests, failures;

static void report_line(const char *tag, const char *fmt, va_list ap)
{
	char name[448];         /* with the tag, within vprintf's 512 bytes */

	nv_vsnprintf(name, sizeof(name), fmt, ap);
	printf("%s: %s\n", tag, name);
}

bool report(bool cond, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!cond)
		failures++;
	va_start(ap, fmt);
	report_line(cond ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	return cond;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_line("SKIP", fmt, ap);
	va_end(ap);
}

unsigned report_summary(void)
{
	printf("SUMMARY: %u tests, %u failures\n", tests, failures);
	return failures;
}
