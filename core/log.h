/* SPDX-License-Identifier: MIT */
/* L0 log lines on COM1, each prefixed "nestvisor: ". */
#ifndef NESTVISOR_CORE_LOG_H
#define NESTVISOR_CORE_LOG_H

#include <nestvisor/bootinfo.h>
#include <stdarg.h>

extern unsigned log_level;  /* enum nv_log_level, from the config */

void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_vline(const char *fmt, va_list ap);
/* Raw text, no prefix and no newline added. */
void log_raw(const char *s);

/* A disabled level costs one compare: arguments are not evaluated. */
#define pr_at(level, ...)                                  \
	do {                                               \
		if (log_level >= (level))                  \
			log_line(__VA_ARGS__);             \
	} while (0)
#define pr_info(...)  pr_at(NV_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) pr_at(NV_LOG_DEBUG, __VA_ARGS__)
#define pr_trace(...) pr_at(NV_LOG_TRACE, __VA_ARGS__)

#endif
