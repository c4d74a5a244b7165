/* SPDX-License-Identifier: MIT */
/* Polled 16550 UART: L0's only output. COM1 is shared with L1, which drives it too; COM2
 * (log_port = com2) is L0's alone. */
#include "drivers/uart16550.h"
#include "core/x86.h"

/* Register offsets (PC16550D data sheet, "Register Summary") */
#define UART_THR 0  /* transmit holding (DLAB=0) */
#define UART_DLL 0  /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define   LSR_THRE 0x20  /* holding register empty */
#define   LSR_TEMT 0x40  /* transmitter (shift register too) empty */
#define LCR_8N1  0x03
#define LCR_DLAB 0x80

/* Give up on a UART that never becomes ready (none fitted): never hang L0. */
#define UART_SPIN_LIMIT 1000000

static uint16_t uart_base;

void uart_init(uint16_t base)
{
	uart_base = base;
	outb(base + UART_IER, 0);            /* L0 polls; no interrupts */
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, 1);            /* 115200 baud */
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, 0x07);         /* enable and clear FIFOs */
	outb(base + UART_MCR, 0x03);         /* DTR, RTS */
}

static void uart_wait(uint8_t bit)
{
	for (int i = 0; i < UART_SPIN_LIMIT; i++) {
		if (inb(uart_base + UART_LSR) & bit)
			return;
		cpu_relax();
	}
}

void uart_putc(char c)
{
	if (!uart_base)
		return;
	if (c == '\n')
		uart_putc('\r');
	uart_wait(LSR_THRE);
	outb(uart_base + UART_THR, (uint8_t)c);
}

void uart_drain(void)
{
	if (uart_base)
		uart_wait(LSR_TEMT);
}
