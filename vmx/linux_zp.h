/* SPDX-License-Identifier: MIT */
/*
 * What L0 hands a bzImage L1 (Linux x86 boot protocol, "32-bit BOOT
 * PROTOCOL" of the kernel's Documentation/arch/x86/boot.rst): the zero page
 * (struct boot_params), the command line, and a GDT with the protocol's
 * __BOOT_CS and __BOOT_DS, all in the area the loader reserved.
 */
#ifndef NESTVISOR_VMX_LINUX_ZP_H
#define NESTVISOR_VMX_LINUX_ZP_H

#include <nestvisor/bootinfo.h>
#include <nestvisor/linux_boot.h>
#include <stdint.h>

struct l1_linux_boot {
	uint64_t zero_page;     /* L1's ESI */
	uint64_t gdt_base;      /* L1's GDTR */
	uint16_t gdt_limit;
};

/*
 * vmx/l1_linux.c: build them at bi->l1.mbi_base: the setup header from the
 * file with what a boot loader fills (type_of_loader, cmd_line_ptr, the
 * initrd = the first module, no heap), L1's memory map up to ram_end as the
 * e820 table, and acpi_rsdp_addr (protocol 2.14+). Ends the run if they do
 * not fit.
 */
void l1_build_linux_zero_page(const struct nv_bootinfo *bi, uint64_t ram_end,
			      struct l1_linux_boot *out);

#endif
