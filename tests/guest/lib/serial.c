/* SPDX-License-Identifier: MIT */
/* Console on COM1 (16550, polled), printf on top of nv_vsnprintf, and guest_exit. */
#include <guest.h>

#define COM1            0x3F8
#define UART_THR        0       /* transmit holding register */
#define UART_DLL        0       /* divisor latch, low byte (with LCR.DLAB) */
#define UART_DLM        1       /* divisor latch, high byte (with LCR.DLAB) */
#define UART_LCR        3       /* line control register */
#define UART_LSR        5       /* line status register */
#define UART_LSR_THRE   (1u << 5)
#define UART_LCR_8BIT   0x03u   /* word length 8, 1 stop bit, no parity */
#define UART_LCR_DLAB   0x80u
#define UART_LCR_MASK   0xBFu   /* all but break control */
#define UART_DIV_115200 1
#define DEBUG_EXIT_PORT 0xF4    /* QEMU isa-debug-exit; L0 intercepts it */
#define BOCHS_SHUTDOWN_PORT 0x8900 /* Bochs: the string "Shutdown" powers off */

/*
 * The UART is left as the firmware set it up (SeaBIOS under QEMU, OVMF under
 * nestvisor, where L0 may share it) when that is 8N1. The legacy Bochs BIOS
 * (tools/bare_bochs.py) leaves the word length at 5 bits, and Bochs masks each
 * byte to it: then, and only then, it becomes 8N1 at 115200 baud.
 */
static void serial_setup_once(void)
{
	static bool done;
	uint8_t lcr;

	if (done)
		return;
	done = true;
	lcr = inb(COM1 + UART_LCR);
	if ((lcr & UART_LCR_MASK) == UART_LCR_8BIT || lcr == 0xFF)   /* 0xFF: no UART */
		return;
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + UART_DLL, UART_DIV_115200);
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, UART_LCR_8BIT);
}

/*
 * Waiting for THRE before each byte matters under Bochs, which drops bytes
 * written while it is busy. The bound keeps a missing UART (LSR reads 0xFF)
 * or a stuck one from hanging us.
 */
void serial_putc(char c)
{
	serial_setup_once();
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
	/* Still here: no exit device (bare Bochs). The exit code is lost, the
	 * serial log (report_summary) tells the result. */
	for (const char *p = "Shutdown"; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	cli_hlt_forever();
	__builtin_unreachable();
}
