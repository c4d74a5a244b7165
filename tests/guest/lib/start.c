/* SPDX-License-Identifier: MIT */
/* From entry.asm to main: exceptions first, then the Multiboot hand-over. */
#include <guest.h>
#include <internal.h>

__attribute__((noreturn)) void guest_start(uint32_t magic, uint32_t mbi);

void guest_start(uint32_t magic, uint32_t mbi)
{
	idt_init();
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		printf("guest: EAX is 0x%08x, not the Multiboot magic 0x%08x\n",
		       magic, MULTIBOOT_BOOTLOADER_MAGIC);
	guest_exit((uint32_t)main(magic == MULTIBOOT_BOOTLOADER_MAGIC ?
				  (struct multiboot_info *)(uintptr_t)mbi : NULL));
}
