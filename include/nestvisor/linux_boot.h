/* SPDX-License-Identifier: MIT */
/*
 * Linux's x86 boot protocol, shared by the loader (which validates a bzImage
 * and places it) and L0 (which builds the zero page): the kernel's
 * Documentation/arch/x86/boot.rst, "The real-mode kernel header" and "Details
 * of header fields", and zero-page.rst for struct boot_params. The setup
 * header has the same offsets in the bzImage file and in the zero page.
 */
#ifndef NESTVISOR_LINUX_BOOT_H
#define NESTVISOR_LINUX_BOOT_H

#include <stdint.h>

/* Setup header fields: offsets in the file and in struct boot_params. */
#define LB_SETUP_SECTS        0x1f1   /* u8: 512-byte setup sectors (0 means 4) */
#define LB_SYSSIZE            0x1f4   /* u32: protected-mode code, 16-byte paragraphs */
#define LB_BOOT_FLAG          0x1fe   /* u16: 0xaa55 */
#define LB_JUMP               0x200   /* u16: a short jump; its second byte ends the header */
#define LB_HEADER             0x202   /* u32: "HdrS" */
#define LB_VERSION            0x206   /* u16: protocol version, major << 8 | minor */
#define LB_TYPE_OF_LOADER     0x210   /* u8 */
#define LB_LOADFLAGS          0x211   /* u8 */
#define LB_CODE32_START       0x214   /* u32: the 32-bit entry */
#define LB_RAMDISK_IMAGE      0x218   /* u32 */
#define LB_RAMDISK_SIZE       0x21c   /* u32 */
#define LB_HEAP_END_PTR       0x224   /* u16 */
#define LB_CMD_LINE_PTR       0x228   /* u32 */
#define LB_INITRD_ADDR_MAX    0x22c   /* u32: highest address the initrd may occupy */
#define LB_KERNEL_ALIGNMENT   0x230   /* u32 */
#define LB_RELOCATABLE_KERNEL 0x234   /* u8 */
#define LB_XLOADFLAGS         0x236   /* u16 */
#define LB_CMDLINE_SIZE       0x238   /* u32: longest command line, without the NUL */
#define LB_SETUP_DATA         0x250   /* u64 */
#define LB_PREF_ADDRESS       0x258   /* u64 */
#define LB_INIT_SIZE          0x260   /* u32: linear memory needed from the load address */

#define LB_HDRS_MAGIC         0x53726448u   /* "HdrS" */
#define LB_BOOT_FLAG_MAGIC    0xaa55u
#define LB_SECTOR             512
#define LB_MIN_VERSION        0x020c        /* 2.12: xloadflags; pref_address, init_size (2.10) */
#define LB_VERSION_ACPI_RSDP  0x020e        /* 2.14: boot_params.acpi_rsdp_addr */

/* loadflags */
#define LB_LOADED_HIGH        (1u << 0)     /* protected-mode code at 0x100000 or above */
#define LB_KEEP_SEGMENTS      (1u << 6)
#define LB_CAN_USE_HEAP       (1u << 7)     /* heap_end_ptr is valid */
/* xloadflags */
#define LB_XLF_KERNEL_64      (1u << 0)     /* a 64-bit entry at load address + 0x200 */
#define LB_XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

/* The setup header inside struct boot_params ends where edd_mbr_sig_buffer starts. */
#define LB_HDR_END            0x290
#define LB_HDR_MAX            (LB_HDR_END - LB_SETUP_SECTS)
#define LB_TYPE_UNDEFINED     0xff          /* a boot loader without an assigned id */

/* struct boot_params (zero-page.rst), the fields besides the setup header. */
#define BP_SIZE               0x1000
#define BP_ACPI_RSDP_ADDR     0x070   /* u64, protocol 2.14 */
#define BP_EXT_RAMDISK_IMAGE  0x0c0   /* u32: bits 63:32 */
#define BP_EXT_RAMDISK_SIZE   0x0c4
#define BP_EXT_CMD_LINE_PTR   0x0c8
#define BP_E820_ENTRIES       0x1e8   /* u8 */
#define BP_SENTINEL           0x1ef   /* u8: 0, so the kernel keeps what L0 wrote */
#define BP_E820_TABLE         0x2d0   /* struct boot_e820_entry[BP_E820_MAX] */
#define BP_E820_MAX           128

/* The boot protocol's GDT selectors for the 32-bit entry ("32-bit BOOT PROTOCOL"). */
#define LB_BOOT_CS            0x10
#define LB_BOOT_DS            0x18

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct boot_e820_entry) == 20, "boot_e820_entry is 20 bytes");
_Static_assert(BP_E820_TABLE + BP_E820_MAX * 20 <= 0xd00, "e820_table ends before eddbuf");

#endif
