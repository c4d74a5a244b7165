/* SPDX-License-Identifier: MIT */
/* Multiboot 0.6.96, 3.3 "Boot information format": what the loader hands over in EBX. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

/* 3.2 "Machine state": EAX on entry. */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
/* 3.1.2 "The magic fields of Multiboot header". */
#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u

/* 3.3: struct multiboot_info.flags, one bit per valid group of fields. */
#define MBI_FLAG_MEM         (1u << 0)  /* mem_lower, mem_upper */
#define MBI_FLAG_BOOTDEV     (1u << 1)  /* boot_device */
#define MBI_FLAG_CMDLINE     (1u << 2)  /* cmdline */
#define MBI_FLAG_MODS        (1u << 3)  /* mods_count, mods_addr */
#define MBI_FLAG_AOUT_SYMS   (1u << 4)
#define MBI_FLAG_ELF_SHDR    (1u << 5)
#define MBI_FLAG_MMAP        (1u << 6)  /* mmap_length, mmap_addr */
#define MBI_FLAG_DRIVES      (1u << 7)
#define MBI_FLAG_CONFIG      (1u << 8)
#define MBI_FLAG_LOADER_NAME (1u << 9)
#define MBI_FLAG_APM         (1u << 10)
#define MBI_FLAG_VBE         (1u << 11)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;             /* KiB from 0 */
	uint32_t mem_upper;             /* KiB from 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;               /* physical address of a C string */
	uint32_t mods_count;
	uint32_t mods_addr;             /* struct multiboot_module[mods_count] */
	uint32_t syms[4];               /* a.out symbols or ELF section headers */
	uint32_t mmap_length;           /* bytes */
	uint32_t mmap_addr;             /* first struct multiboot_mmap_entry */
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
};
_Static_assert(offsetof(struct multiboot_info, cmdline) == 16, "MBI layout");
_Static_assert(offsetof(struct multiboot_info, mmap_length) == 44, "MBI layout");
_Static_assert(offsetof(struct multiboot_info, boot_loader_name) == 64, "MBI layout");
_Static_assert(sizeof(struct multiboot_info) == 88, "MBI layout");

struct multiboot_module {
	uint32_t mod_start;             /* physical, first byte */
	uint32_t mod_end;               /* physical, one past the last byte */
	uint32_t string;                /* physical address of a C string */
	uint32_t reserved;
};
_Static_assert(sizeof(struct multiboot_module) == 16, "module layout");

/* Memory map types (3.3: 1 = available RAM, 3 = ACPI reclaimable, 4 = NVS,
 * 5 = defective; everything else is reserved, 2 in practice). */
#define MMAP_TYPE_USABLE       1
#define MMAP_TYPE_RESERVED     2
#define MMAP_TYPE_ACPI_RECLAIM 3
#define MMAP_TYPE_ACPI_NVS     4
#define MMAP_TYPE_BAD          5

/* One memory map entry; `size` (bytes after itself) may exceed 20. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t base;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "mmap entry layout");

#define MMAP_ENTRY_MIN (sizeof(struct multiboot_mmap_entry) - sizeof(uint32_t))

static inline const struct multiboot_mmap_entry *
mmap_entry_checked(const struct multiboot_info *mbi, uintptr_t p)
{
	uintptr_t end = mbi->mmap_addr + mbi->mmap_length;
	const struct multiboot_mmap_entry *e = (const void *)p;

	if (p + sizeof(*e) > end || e->size < MMAP_ENTRY_MIN || p + 4 + e->size > end)
		return NULL;
	return e;
}

/* First entry, or NULL if the MBI has no (well-formed) memory map. */
static inline const struct multiboot_mmap_entry *mmap_first(const struct multiboot_info *mbi)
{
	if (!(mbi->flags & MBI_FLAG_MMAP))
		return NULL;
	return mmap_entry_checked(mbi, mbi->mmap_addr);
}

static inline const struct multiboot_mmap_entry *
mmap_next(const struct multiboot_info *mbi, const struct multiboot_mmap_entry *e)
{
	return mmap_entry_checked(mbi, (uintptr_t)e + sizeof(e->size) + e->size);
}

#define mmap_for_each(mbi, e) \
	for ((e) = mmap_first(mbi); (e); (e) = mmap_next((mbi), (e)))

static inline const struct multiboot_module *mbi_modules(const struct multiboot_info *mbi)
{
	return (const struct multiboot_module *)(uintptr_t)mbi->mods_addr;
}

#endif
