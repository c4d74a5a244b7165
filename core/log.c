/* SPDX-License-Identifier: MIT */
#include "core/log.h"
#include "drivers/uart16550.h"

#include <nestvisor/string.h>

unsigned log_level = NV_LOG_INFO;

void log_raw(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void log_vline(const char *fmt, va_list ap)
{
	char buf[256];

	nv_vsnprintf(buf, sizeof(buf), fmt, ap);
	log_raw("nestvisor: ");
	log_raw(buf);
	uart_putc('\n');
}

void log_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(fmt, ap);
	va_end(ap);
}
