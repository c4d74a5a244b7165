/* SPDX-License-Identifier: MIT */
#ifndef NESTVISOR_DRIVERS_UART16550_H
#define NESTVISOR_DRIVERS_UART16550_H

#include <stdint.h>

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8
#define UART_PORTS 8    /* I/O ports a 16550 decodes from its base */

void uart_init(uint16_t base);
void uart_putc(char c);
/* Wait until the transmitter is empty (before power-off, or bytes are lost). */
void uart_drain(void);

#endif
