/* SPDX-License-Identifier: MIT */
#include "drivers/poweroff.h"
#include "drivers/acpi.h"
#include "drivers/uart16550.h"
#include "core/log.h"
#include "core/x86.h"

#include <nestvisor/string.h>

/* UEFI 2.9, 8.5.1 "Reset System": EFI_RESET_TYPE EfiResetShutdown = 2. */
#define EFI_RESET_SHUTDOWN 2
#define EFI_SUCCESS        0ull
#define EFI_ABORTED        0x8000000000000015ull
typedef void __attribute__((ms_abi)) (*efi_reset_system_fn)(uint32_t type, uint64_t status,
							     uint64_t data_size, void *data);

#define QEMU_DEBUG_EXIT_PORT 0xf4

static efi_reset_system_fn efi_reset;
static const struct nv_bootinfo *boot;

void poweroff_init(const struct nv_bootinfo *bi)
{
	boot = bi;
	efi_reset = (efi_reset_system_fn)(uintptr_t)bi->efi_reset_system;
}

static bool under_qemu(void)
{
	struct cpuid_regs r = cpuid(1, 0);
	char sig[13];

	if (!(r.ecx & CPUID1_ECX_HYPERVISOR))
		return false;
	r = cpuid(0x40000000, 0);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	return !strcmp(sig, "KVMKVMKVM") || !strcmp(sig, "TCGTCGTCGTCG");
}

void poweroff(enum poweroff_result r, uint32_t status)
{
	log_line("power off");
	uart_drain();
	if (under_qemu())
		/* QEMU exits with (value << 1) | 1: pass L1's value on, or 1 (-> 3) on failure. */
		outl(QEMU_DEBUG_EXIT_PORT, r == POWEROFF_SUCCESS ? 0 : (status > 1 ? status >> 1 : 1));
	if (efi_reset)
		efi_reset(EFI_RESET_SHUTDOWN, r == POWEROFF_SUCCESS ? EFI_SUCCESS : EFI_ABORTED, 0, 0);
	if (boot)
		acpi_poweroff(boot->rsdp);
	log_line("power off failed: halting");
	uart_drain();
	halt_forever();
}
