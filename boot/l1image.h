/* SPDX-License-Identifier: MIT */
/*
 * The L1 kernel, validated as QEMU's -kernel loads it (pure, no UEFI): a
 * Linux bzImage (boot/l1bzimage.c), a Multiboot version 1 kernel, or an ELF64
 * kernel with a PVH entry (boot/l1pvh.c).
 */
#ifndef NV_BOOT_L1IMAGE_H
#define NV_BOOT_L1IMAGE_H

#include <nestvisor/bootinfo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Multiboot 0.6.96, 3.1.2 "The magic fields of Multiboot header". */
#define NV_MB_HEADER_MAGIC     0x1BADB002u
#define NV_MB_SEARCH_LIMIT     8192        /* 3.1 "OS image format" */
#define NV_MB_PAGE_ALIGN       (1u << 0)   /* modules on page boundaries */
#define NV_MB_MEMORY_INFO      (1u << 1)   /* mem_* and mmap_* in the info */
#define NV_MB_VIDEO_MODE       (1u << 2)   /* video mode table (accepted, ignored) */
#define NV_MB_AOUT_KLUDGE      (1u << 16)  /* load by the header's address fields */
#define NV_MB_REQUIRED_MASK    0xffffu     /* bits 0..15: fail if not understood */
#define NV_MB_UNDERSTOOD       (NV_MB_PAGE_ALIGN | NV_MB_MEMORY_INFO | NV_MB_VIDEO_MODE)

/* Kernel pieces; modules take the other copy slots of struct nv_l1_plan. */
#define NV_L1_MAX_SEGS (NV_L1_MAX_COPIES - NV_L1_MAX_MODULES)

struct nv_l1_segment {
	uint64_t paddr;          /* L1 physical load address */
	uint64_t offset;         /* in the file */
	uint64_t filesz;
	uint64_t memsz;          /* >= filesz; the rest is zeroed */
};

/* Xen's public elfnote.h: the 32-bit physical PVH entry point, a note of owner "Xen". */
#define NV_XEN_ELFNOTE_PHYS32_ENTRY 18

struct nv_l1_image {
	uint32_t protocol;       /* enum nv_l1_protocol (bootinfo.h) */
	uint64_t entry;          /* physical, 32-bit */
	uint32_t mb_offset;      /* file offset of the Multiboot header (Multiboot only) */
	uint32_t mb_flags;
	bool aout;               /* loaded by the header's address fields (flag 16) */
	uint32_t nsegs;          /* "segment N" in messages is segs[N] */
	struct nv_l1_segment segs[NV_L1_MAX_SEGS];
	/* bzImage only: its setup header (from file offset LB_SETUP_SECTS). */
	uint32_t linux_hdr_len;
	uint8_t linux_hdr[LB_HDR_MAX];
};

/*
 * Validate file[0..size) completely. A file with the Linux boot protocol's
 * "HdrS" at 0x202 is a bzImage (nv_l1_parse_bzimage; as in QEMU, it wins).
 * With a Multiboot header (as QEMU, it wins over ELF64):
 * the header, then either the a.out-kludge address fields (flag 16) or an
 * ELF32 i386 executable loaded at p_paddr. Without one, an ELF64 file must be
 * a PVH kernel (nv_l1_parse_pvh). Returns 0, or -1 with a precise message.
 */
int nv_l1_parse(const void *file, uint64_t size, struct nv_l1_image *img, char *err,
		size_t errlen);

/*
 * boot/l1pvh.c: an ELF64 x86-64 executable with the Xen PVH entry note
 * (NV_XEN_ELFNOTE_PHYS32_ENTRY), its PT_LOAD segments loaded at p_paddr below
 * 4 GiB, the entry in the file data of one of them. Returns 0, or -1 with a message.
 */
int nv_l1_parse_pvh(const void *file, uint64_t size, struct nv_l1_image *img, char *err,
		    size_t errlen);

/* Does the file carry the Linux boot protocol's "HdrS" magic at 0x202? */
bool nv_l1_is_bzimage(const void *file, uint64_t size);

/*
 * boot/l1bzimage.c: a Linux bzImage (boot protocol 2.12 or later, LOADED_HIGH):
 * one piece, the protected-mode kernel from file offset (setup_sects + 1) * 512,
 * syssize * 16 bytes, placed at pref_address (aligned up to kernel_alignment if
 * relocatable), with init_size bytes of memory (the rest zeroed); the entry is
 * that address (code32_start). Returns 0, or -1 with a message.
 */
int nv_l1_parse_bzimage(const void *file, uint64_t size, struct nv_l1_image *img, char *err,
			size_t errlen);

/* Read little-endian fields of a setup header copy (hdr[0] is file offset LB_SETUP_SECTS). */
static inline uint32_t nv_lb_hdr_read(const uint8_t *hdr, uint32_t len, uint32_t off,
				      uint32_t bytes)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < bytes; i++)
		if (off - LB_SETUP_SECTS + i < len)
			v |= (uint32_t)hdr[off - LB_SETUP_SECTS + i] << (8 * i);
	return v;
}

/*
 * Append segment img->nsegs ("program header phdr" in messages): filesz <= memsz,
 * inside the file, below 4 GiB, overlapping no earlier segment. Returns 0 or -1.
 */
int nv_l1_add_segment(struct nv_l1_image *img, const struct nv_l1_segment *seg, uint32_t phdr,
		      uint64_t size, char *err, size_t errlen);

#endif
