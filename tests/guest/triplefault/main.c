/* SPDX-License-Identifier: MIT */
/*
 * triplefault: an IDT with limit 0 turns int3 into #GP (vector 3 is beyond the
 * limit), then #DF, then a triple fault (SDM Vol. 3A, 6.15 "Exception and
 * Interrupt Reference", Interrupt 8). nestvisor must report it and end the run.
 */
#include <guest.h>

int main(struct multiboot_info *mbi)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} empty_idt = { 0, 0 };

	printf("triplefault: loading an empty IDT and raising #BP\n");
	asm volatile("lidt %0; int3" : : "m"(empty_idt) : "memory");
	printf("triplefault: still running after int3 with an empty IDT\n");
	return GUEST_EXIT_FAIL;
}
