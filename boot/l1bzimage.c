/* SPDX-License-Identifier: MIT */
/*
 * Linux bzImages (pure): the x86 boot protocol's setup header
 * (Documentation/arch/x86/boot.rst, "The real-mode kernel header", "Details
 * of header fields", "Loading the rest of the kernel"). nestvisor starts the
 * protected-mode kernel at its 32-bit entry, as a 32-bit boot loader does
 * ("32-bit BOOT PROTOCOL"); the real-mode setup code is not run.
 */
#include "l1image.h"

#include <nestvisor/string.h>

#define ERR(...) (nv_snprintf(err, errlen, __VA_ARGS__), -1)
#define FOUR_GIB (1ULL << 32)
/* boot.rst: before protocol 2.10 (no pref_address) the kernel loads at 1 MiB. */
#define LB_DEFAULT_LOAD 0x100000ull

typedef unsigned long long ull;

static uint32_t rd(const uint8_t *f, uint32_t off, uint32_t bytes)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < bytes; i++)
		v |= (uint32_t)f[off + i] << (8 * i);
	return v;
}

bool nv_l1_is_bzimage(const void *file, uint64_t size)
{
	return size >= LB_HEADER + 4 && rd(file, LB_HEADER, 4) == LB_HDRS_MAGIC;
}

int nv_l1_parse_bzimage(const void *file, uint64_t size, struct nv_l1_image *img, char *err,
			size_t errlen)
{
	const uint8_t *f = file;
	uint64_t hdr_end, pm_offset, pm_size, load, pref, align, init_size;
	uint32_t version, loadflags, setup_sects;

	memset(img, 0, sizeof(*img));
	img->protocol = NV_L1_LINUX;
	if (!nv_l1_is_bzimage(f, size))
		return ERR("not a Linux bzImage: no \"HdrS\" at offset 0x%x", LB_HEADER);
	if (size < LB_VERSION + 2)
		return ERR("truncated: the setup header needs 0x%x bytes, file is 0x%llx bytes",
			   LB_VERSION + 2, (ull)size);
	version = rd(f, LB_VERSION, 2);
	if (rd(f, LB_BOOT_FLAG, 2) != LB_BOOT_FLAG_MAGIC)
		return ERR("not a Linux bzImage: boot_flag at 0x%x is 0x%x, expected 0x%x",
			   LB_BOOT_FLAG, rd(f, LB_BOOT_FLAG, 2), LB_BOOT_FLAG_MAGIC);
	if (version < LB_MIN_VERSION)
		return ERR("Linux boot protocol %u.%02u is too old: nestvisor needs %u.%02u or later (pref_address, init_size, xloadflags)",
			   version >> 8, version & 0xff, LB_MIN_VERSION >> 8, LB_MIN_VERSION & 0xff);
	/* The header runs to the target of the short jump at 0x200 ("jump" field). */
	hdr_end = LB_HEADER + (uint64_t)f[LB_JUMP + 1];
	if (hdr_end < LB_INIT_SIZE + 4)
		return ERR("not a Linux bzImage: setup header ends at 0x%llx (its jump at 0x%x), before init_size at 0x%x",
			   (ull)hdr_end, LB_JUMP, LB_INIT_SIZE);
	if (hdr_end > LB_HDR_END)
		hdr_end = LB_HDR_END;   /* later fields are not in struct boot_params' header */
	if (size < hdr_end)
		return ERR("truncated: the setup header ends at 0x%llx, file is 0x%llx bytes",
			   (ull)hdr_end, (ull)size);
	loadflags = f[LB_LOADFLAGS];
	if (!(loadflags & LB_LOADED_HIGH))
		return ERR("not a bzImage: loadflags 0x%x lack LOADED_HIGH (a zImage, loaded at 0x10000, is not supported)",
			   loadflags);
	setup_sects = f[LB_SETUP_SECTS] ? f[LB_SETUP_SECTS] : 4;   /* 0 means 4 */
	pm_offset = (uint64_t)(setup_sects + 1) * LB_SECTOR;
	pm_size = (uint64_t)rd(f, LB_SYSSIZE, 4) * 16;
	if (pm_size == 0)
		return ERR("not a bzImage: syssize is 0 (no protected-mode kernel)");
	if (pm_offset > size || pm_size > size - pm_offset)
		return ERR("truncated: the protected-mode kernel (setup_sects %u, syssize 0x%x paragraphs) ends at 0x%llx, file is 0x%llx bytes",
			   setup_sects, rd(f, LB_SYSSIZE, 4), (ull)(pm_offset + pm_size), (ull)size);

	pref = (uint64_t)rd(f, LB_PREF_ADDRESS, 4) | (uint64_t)rd(f, LB_PREF_ADDRESS + 4, 4) << 32;
	if (!pref)
		pref = LB_DEFAULT_LOAD;
	load = pref;
	if (f[LB_RELOCATABLE_KERNEL]) {
		align = rd(f, LB_KERNEL_ALIGNMENT, 4);
		if (align == 0 || (align & (align - 1)))
			return ERR("relocatable kernel with kernel_alignment 0x%llx, not a power of two",
				   (ull)align);
		load = (pref + align - 1) & ~(align - 1);
	}
	init_size = rd(f, LB_INIT_SIZE, 4);
	if (load >= FOUR_GIB)
		return ERR("load address 0x%llx (pref_address) is not below 4 GiB", (ull)load);
	/* boot.rst, init_size: the linear memory from the load address the kernel
	 * uses before it looks at the memory map (decompression included). */
	if (nv_l1_add_segment(img,
			      &(struct nv_l1_segment){ load, pm_offset, pm_size,
						       init_size > pm_size ? init_size : pm_size },
			      0, size, err, errlen))
		return -1;
	img->entry = load;  /* code32_start: the protected-mode kernel's first byte */
	img->linux_hdr_len = (uint32_t)(hdr_end - LB_SETUP_SECTS);
	memcpy(img->linux_hdr, f + LB_SETUP_SECTS, img->linux_hdr_len);
	return 0;
}
