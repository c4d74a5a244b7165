/* SPDX-License-Identifier: MIT */
/*
 * How a run ends. Exactly one "nestvisor: end: ..." line is printed, then the
 * machine powers off. The harness (tools/nvrun.py) reads that line:
 *   nestvisor: end: l1-exit-status=0x<status>   L1 wrote to the test exit port
 *   nestvisor: end: failure: <reason>           anything else
 */
#ifndef NESTVISOR_CORE_RUN_H
#define NESTVISOR_CORE_RUN_H

#include <stdbool.h>
#include <stdint.h>

/* Called before the end line is printed (exit statistics, history). */
typedef void (*run_end_hook_fn)(bool failure);
void run_set_end_hook(run_end_hook_fn fn);

__attribute__((noreturn)) void run_end_status(uint64_t status);
__attribute__((noreturn, format(printf, 1, 2))) void run_end_failure(const char *fmt, ...);

#endif
