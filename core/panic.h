/* SPDX-License-Identifier: MIT */
/* A broken L0 invariant: dump state and end the run as a failure. */
#ifndef NESTVISOR_CORE_PANIC_H
#define NESTVISOR_CORE_PANIC_H

struct trap_frame;

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
__attribute__((noreturn)) void panic_trap(const struct trap_frame *f);

/* Extra state to dump on panic (the VMX layer registers its VMCS dump). */
typedef void (*panic_dump_fn)(void);
void panic_set_dump_hook(panic_dump_fn fn);

#define BUG_ON(cond)                                                         \
	do {                                                                 \
		if (__builtin_expect(!!(cond), 0))                           \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#endif
