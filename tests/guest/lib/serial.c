/* SPDX-License-Identifier: MIT */
/* Console on COM1 (16550, polled), printf on top of nv_vsnprintf, and guest_exit. */
#include <guest.h>

#define COM1            0x3F8
#define UART_THR        0       /* transmit holding register */
#define UART_LSR        5       /* line status register */
#define UART_LSR_THRE   (1u << 5)
#define DEBUG_EXIT_PORT 0xF4    /* QEMU isa-debug-exit; L0 intercepts it */

/*
 * The UART is not reprogrammed: the firmware (SeaBIOS under QEMU, OVMF under
 * nestvisor) has set it up, and L0 may share it. Waiting for THRE before each
 * byte matters under Bochs, which drops bytes written while it is busy. The
 * bound keeps a missing UART (LSR reads 0xFF) or a stuck one from hanging us.
 */
void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	for (unsigned spins = 0; spins < 1000000; spins++)
		if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void puts_serial(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = nv_vsnprintf(buf, sizeof(buf), fmt, ap);

	puts_serial(buf);
	if (n >= (int)sizeof(buf))
		puts_serial("...[truncated]\n");
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void guest_exit(uint32_t code)
{
	outl(DEBUG_EXIT_PORT, code);
	cli_hlt_forever();
	__builtin_unreachable();
}
