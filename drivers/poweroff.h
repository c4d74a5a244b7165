/* SPDX-License-Identifier: MIT */
#ifndef NESTVISOR_DRIVERS_POWEROFF_H
#define NESTVISOR_DRIVERS_POWEROFF_H

#include <nestvisor/bootinfo.h>
#include <stdint.h>

enum poweroff_result { POWEROFF_SUCCESS, POWEROFF_FAILURE };

void poweroff_init(const struct nv_bootinfo *bi);
/*
 * Turn the machine off: UEFI ResetSystem(EfiResetShutdown) first, then ACPI
 * S5 through the FADT, then halt. Under QEMU (TCG or KVM) the status is first
 * written to an isa-debug-exit device at port 0xf4, so QEMU's exit code
 * carries the result when the runner added that device.
 */
__attribute__((noreturn)) void poweroff(enum poweroff_result r, uint32_t status);

#endif
