/* SPDX-License-Identifier: MIT */
/*
 * What the guest library's pieces share among themselves, not part of the API
 * (guest.h): the catch state written by the exception handlers of either width
 * (exception.c for 32-bit kernels, 64/exception64.c for 64-bit ones) and read
 * by checked.c.
 */
#ifndef GUEST_INTERNAL_H
#define GUEST_INTERNAL_H

#include <stdint.h>

/* The last caught exception (checked.c). */
extern int catch_vector;
extern uint32_t catch_error;
extern uintptr_t catch_fault_ip;

/* Per width: loads the IDT (exception.c, 64/exception64.c). */
void idt_init(void);

#endif
