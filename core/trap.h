/* SPDX-License-Identifier: MIT */
#ifndef NESTVISOR_CORE_TRAP_H
#define NESTVISOR_CORE_TRAP_H

#include <stdint.h>

/* Pushed by core/isr.asm: GPRs (r15 lowest), then vector/error, then the CPU's frame. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

void trap_handler(struct trap_frame *f);

/* Set by the trap handler when it resumes at a fixup; see core/fixup.c. */
extern volatile int fixup_vector;

#endif
