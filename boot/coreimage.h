/* SPDX-License-Identifier: MIT */
/* The core image \nestvisor\core.elf: validation and placement (pure, no UEFI). */
#ifndef NV_BOOT_COREIMAGE_H
#define NV_BOOT_COREIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define NV_CORE_PATH      "\\nestvisor\\core.elf"
#define NV_CORE_WINDOW    (1ULL << 30)  /* segments lie in [NV_CORE_VBASE, +1 GiB) */
#define NV_CORE_MAX_SEGS  16

struct nv_core_segment {
	uint64_t vaddr;
	uint64_t offset;         /* in the file */
	uint64_t filesz;
	uint64_t memsz;
	uint32_t flags;          /* PF_* */
	uint32_t phdr;           /* index in the program header table */
};

struct nv_core_image {
	uint64_t entry;          /* virtual, inside an executable segment */
	uint64_t span;           /* NV_CORE_VBASE .. end of the highest segment, page rounded */
	uint32_t nsegs;          /* PT_LOAD segments, in file order */
	struct nv_core_segment segs[NV_CORE_MAX_SEGS];
};

/*
 * Validate file[0..size) completely as the core: ELF64, little-endian,
 * ET_EXEC, EM_X86_64, PT_LOAD segments inside [NV_CORE_VBASE, +1 GiB) with
 * the lowest at NV_CORE_VBASE, within the file, filesz <= memsz, no overlaps,
 * entry in an executable segment. Returns 0, or -1 with a message.
 */
int nv_core_parse(const void *file, uint64_t size, struct nv_core_image *img, char *err,
		  size_t errlen);

/* Copy the segments into dst (img->span bytes, the core's physical span) and zero the rest. */
void nv_core_place(const struct nv_core_image *img, const void *file, void *dst);

#endif
