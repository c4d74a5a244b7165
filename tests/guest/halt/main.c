/* SPDX-License-Identifier: MIT */
/*
 * halt: HLT with interrupts disabled can only end by NMI, SMI or INIT; with
 * none coming, nestvisor ends the run and reports that L1 halted with
 * interrupts off.
 */
#include <guest.h>

int main(struct multiboot_info *mbi)
{
	printf("halt: cli; hlt\n");
	asm volatile("cli; hlt" : : : "memory");
	printf("halt: resumed after hlt with interrupts disabled\n");
	return GUEST_EXIT_FAIL;
}
