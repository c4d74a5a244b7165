/* SPDX-License-Identifier: MIT */
#include "core/run.h"
#include "core/log.h"
#include "drivers/poweroff.h"

#include <nestvisor/string.h>

static run_end_hook_fn end_hook;
static bool ending;

void run_set_end_hook(run_end_hook_fn fn)
{
	end_hook = fn;
}

static void call_hook(bool failure)
{
	run_end_hook_fn fn = end_hook;

	/* A fault inside the hook must not loop back into it. */
	end_hook = 0;
	if (fn && !ending) {
		ending = true;
		fn(failure);
	}
}

void run_end_status(uint64_t status)
{
	call_hook(false);
	log_line("end: l1-exit-status=0x%lx", status);
	/* QEMU's isa-debug-exit convention: bit 0 set, the guest's value above it. */
	poweroff(status == 1 ? POWEROFF_SUCCESS : POWEROFF_FAILURE, (uint32_t)status);
}

void run_end_failure(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	nv_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	call_hook(true);
	log_line("end: failure: %s", buf);
	poweroff(POWEROFF_FAILURE, 0);
}
