/* SPDX-License-Identifier: MIT */
/* Multiboot 1 kernel validation (pure): what QEMU's -kernel accepts, checked up front. */
#include "l1image.h"
#include <nestvisor/unaligned.h>

#include "elf.h"

#include <nestvisor/string.h>

#define ERR(...) (nv_snprintf(err, errlen, __VA_ARGS__), -1)
/* The same message, for another return value. */
#define SAY(...) ((void)nv_snprintf(err, errlen, __VA_ARGS__))
#define FOUR_GIB (1ULL << 32)

/* Multiboot 0.6.96, 3.1.1 "The layout of Multiboot header": byte offsets. */
enum {
	MBH_MAGIC = 0, MBH_FLAGS = 4, MBH_CHECKSUM = 8,
	MBH_HEADER_ADDR = 12, MBH_LOAD_ADDR = 16, MBH_LOAD_END_ADDR = 20,
	MBH_BSS_END_ADDR = 24, MBH_ENTRY_ADDR = 28,
	MBH_SIZE_BASIC = 12, MBH_SIZE_ADDR = 32, MBH_SIZE_VIDEO = 48,
};

/* How far past 8192 bytes to look, only to say "your header is too late". */
#define LATE_HEADER_LIMIT 0x10000

static bool header_at(const uint8_t *f, uint64_t off)
{
	return nv_rd32(f + off + MBH_MAGIC) == NV_MB_HEADER_MAGIC &&
	       (uint32_t)(nv_rd32(f + off + MBH_MAGIC) + nv_rd32(f + off + MBH_FLAGS) +
			  nv_rd32(f + off + MBH_CHECKSUM)) == 0;
}

/* Multiboot 0.6.96, 3.1 "OS image format": the header lies 32-bit aligned in the first 8192 bytes. */
/*
 * 0: a usable header; NO_HEADER: none with a valid checksum (err says why);
 * -1: a valid header this loader cannot use (err says why). Only NO_HEADER
 * lets an ELF64 image be taken by its PVH entry: a Multiboot header wins.
 */
#define NO_HEADER 1

static int find_header(const uint8_t *f, uint64_t size, struct nv_l1_image *img, char *err,
		       size_t errlen)
{
	uint64_t limit = size < NV_MB_SEARCH_LIMIT ? size : NV_MB_SEARCH_LIMIT;
	uint64_t off, bad = UINT64_MAX;
	uint32_t flags, need;

	for (off = 0; off + MBH_SIZE_BASIC <= limit; off += 4) {
		if (header_at(f, off))
			break;
		if (bad == UINT64_MAX && nv_rd32(f + off) == NV_MB_HEADER_MAGIC)
			bad = off;
	}
	if (off + MBH_SIZE_BASIC > limit) {
		uint64_t late_limit = size < LATE_HEADER_LIMIT ? size : LATE_HEADER_LIMIT;

		if (bad != UINT64_MAX) {
			SAY("bad Multiboot checksum (header at offset 0x%llx: magic + flags + checksum = 0x%x, must be 0)",
			    (unsigned long long)bad,
			    (uint32_t)(nv_rd32(f + bad) + nv_rd32(f + bad + 4) + nv_rd32(f + bad + 8)));
			return NO_HEADER;
		}
		for (; off + MBH_SIZE_BASIC <= late_limit; off += 4)
			if (header_at(f, off)) {
				SAY("no Multiboot header in the first 8192 bytes (one at offset 0x%llx is too far in)",
				    (unsigned long long)off);
				return NO_HEADER;
			}
		SAY("no Multiboot header in the first 8192 bytes");
		return NO_HEADER;
	}

	flags = nv_rd32(f + off + MBH_FLAGS);
	/* 3.1.2: an unknown bit in 0..15 means the image cannot be loaded. */
	if (flags & NV_MB_REQUIRED_MASK & ~NV_MB_UNDERSTOOD)
		return ERR("requires unsupported Multiboot feature bit %d (flags 0x%x)",
			   __builtin_ctz(flags & NV_MB_REQUIRED_MASK & ~NV_MB_UNDERSTOOD), flags);
	need = (flags & NV_MB_VIDEO_MODE) ? MBH_SIZE_VIDEO
	       : (flags & NV_MB_AOUT_KLUDGE) ? MBH_SIZE_ADDR : MBH_SIZE_BASIC;
	if (off + need > NV_MB_SEARCH_LIMIT)
		return ERR("Multiboot header at offset 0x%llx is 0x%x bytes with flags 0x%x and does not fit in the first 8192 bytes",
			   (unsigned long long)off, need, flags);
	if (off + need > size)
		return ERR("truncated: Multiboot header at offset 0x%llx needs 0x%x bytes, file is 0x%llx bytes",
			   (unsigned long long)off, need, (unsigned long long)size);
	img->mb_offset = (uint32_t)off;
	img->mb_flags = flags;
	return 0;
}

/* Multiboot 0.6.96, 3.1.3 "The address fields of Multiboot header". */
static int load_aout(const uint8_t *f, uint64_t size, struct nv_l1_image *img, char *err,
		     size_t errlen)
{
	const uint8_t *h = f + img->mb_offset;
	uint64_t header_addr = nv_rd32(h + MBH_HEADER_ADDR), load_addr = nv_rd32(h + MBH_LOAD_ADDR);
	uint64_t load_end_addr = nv_rd32(h + MBH_LOAD_END_ADDR), bss_end_addr = nv_rd32(h + MBH_BSS_END_ADDR);
	uint64_t entry = nv_rd32(h + MBH_ENTRY_ADDR);
	uint64_t file_off, load_size, load_end, mem_end;

	if (load_addr > header_addr)
		return ERR("load_addr 0x%llx is above header_addr 0x%llx",
			   (unsigned long long)load_addr, (unsigned long long)header_addr);
	if (header_addr - load_addr > img->mb_offset)
		return ERR("header_addr - load_addr = 0x%llx reaches before the start of the file (header at offset 0x%x)",
			   (unsigned long long)(header_addr - load_addr), img->mb_offset);
	/* "The offset in the OS image file at which to start loading is defined by the
	 * offset at which the header was found, minus (header_addr - load_addr)." */
	file_off = img->mb_offset - (header_addr - load_addr);
	if (load_end_addr == 0) {
		load_size = size - file_off;    /* text and data are the whole rest of the file */
	} else {
		if (load_end_addr < load_addr)
			return ERR("load_end_addr 0x%llx is below load_addr 0x%llx",
				   (unsigned long long)load_end_addr, (unsigned long long)load_addr);
		load_size = load_end_addr - load_addr;
		if (load_size > size - file_off)
			return ERR("truncated: load_end_addr 0x%llx needs the file up to 0x%llx, file is 0x%llx bytes",
				   (unsigned long long)load_end_addr,
				   (unsigned long long)(file_off + load_size), (unsigned long long)size);
	}
	load_end = load_addr + load_size;
	if (load_end > FOUR_GIB)
		return ERR("image 0x%llx-0x%llx is not below 4 GiB", (unsigned long long)load_addr,
			   (unsigned long long)load_end);
	mem_end = load_end;
	if (bss_end_addr) {
		if (bss_end_addr < load_end)
			return ERR("bss_end_addr 0x%llx is below the end of the loaded data 0x%llx",
				   (unsigned long long)bss_end_addr, (unsigned long long)load_end);
		mem_end = bss_end_addr;
	}
	if (entry < load_addr || entry >= load_end)
		return ERR("entry_addr 0x%llx is outside the loaded image 0x%llx-0x%llx",
			   (unsigned long long)entry, (unsigned long long)load_addr,
			   (unsigned long long)load_end);
	img->aout = true;
	img->entry = entry;
	img->nsegs = 1;
	img->segs[0] = (struct nv_l1_segment){ load_addr, file_off, load_size, mem_end - load_addr };
	return 0;
}

/* gABI "ELF Header" and "ELF Identification"; i386 psABI "ELF Header" (EM_386). */
static int check_elf32_header(const uint8_t *f, uint64_t size, struct nv_elf32_ehdr *eh,
			      char *err, size_t errlen)
{
	if (!nv_elf_has_magic(f, size))
		return ERR("not an ELF file, and the Multiboot header has no address fields (flag 16)");
	if (size > NV_EI_CLASS && f[NV_EI_CLASS] == NV_ELFCLASS64)
		return ERR("is a 64-bit ELF; Multiboot needs a 32-bit image");
	if (size < sizeof(*eh))
		return ERR("truncated: ELF header needs 0x%zx bytes, file is 0x%llx bytes",
			   sizeof(*eh), (unsigned long long)size);
	memcpy(eh, f, sizeof(*eh));
	if (eh->ident[NV_EI_CLASS] != NV_ELFCLASS32)
		return ERR("ELF class %u, expected 1 (32-bit)", eh->ident[NV_EI_CLASS]);
	return nv_elf_check_fields(eh, &((struct nv_elf_want){ NV_EM_386, "3 (i386)",
							 sizeof(struct nv_elf32_phdr) }),
				   err, errlen);
}

int nv_l1_add_segment(struct nv_l1_image *img, const struct nv_l1_segment *seg, uint32_t phdr,
		      uint64_t size, char *err, size_t errlen)
{
	uint32_t n = img->nsegs;
	struct nv_l1_segment *s = &img->segs[n];

	if (n == NV_L1_MAX_SEGS)
		return ERR("too many PT_LOAD segments (max %d)", NV_L1_MAX_SEGS);
	if (seg->filesz > seg->memsz)
		return ERR("segment %u (program header %u): filesz 0x%llx > memsz 0x%llx", n, phdr,
			   (unsigned long long)seg->filesz, (unsigned long long)seg->memsz);
	if (seg->offset > size || seg->filesz > size - seg->offset)
		return ERR("truncated: segment %u (program header %u) ends at 0x%llx, file is 0x%llx bytes",
			   n, phdr, (unsigned long long)(seg->offset + seg->filesz),
			   (unsigned long long)size);
	if (seg->paddr >= FOUR_GIB || seg->memsz > FOUR_GIB - seg->paddr)
		return ERR("segment %u (0x%llx-0x%llx) is not below 4 GiB", n,
			   (unsigned long long)seg->paddr,
			   (unsigned long long)(seg->paddr + seg->memsz));
	*s = *seg;
	for (uint32_t j = 0; j < n; j++) {
		const struct nv_l1_segment *o = &img->segs[j];

		if (s->memsz && o->memsz && s->paddr < o->paddr + o->memsz &&
		    o->paddr < s->paddr + s->memsz)
			return ERR("segments %u and %u overlap at 0x%llx", j, n,
				   (unsigned long long)(s->paddr > o->paddr ? s->paddr : o->paddr));
	}
	img->nsegs++;
	return 0;
}

static int load_elf32(const uint8_t *f, uint64_t size, struct nv_l1_image *img, char *err,
		      size_t errlen)
{
	struct nv_elf32_ehdr eh;
	uint64_t entry;
	bool entry_ok = false, translated = false;

	if (check_elf32_header(f, size, &eh, err, errlen))
		return -1;
	entry = eh.entry;
	/* The whole table first: "program header N" is the first that is cut off. */
	for (uint32_t i = 0; i < eh.phnum; i++) {
		uint64_t end = (uint64_t)eh.phoff + (uint64_t)i * eh.phentsize +
			       sizeof(struct nv_elf32_phdr);

		if (end > size)
			return ERR("truncated: program header %u ends at 0x%llx, file is 0x%llx bytes",
				   i, (unsigned long long)end, (unsigned long long)size);
	}
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct nv_elf32_phdr ph;

		memcpy(&ph, f + eh.phoff + (uint64_t)i * eh.phentsize, sizeof(ph));
		if (ph.type != NV_PT_LOAD)
			continue;
		if (nv_l1_add_segment(img, &(struct nv_l1_segment){ ph.paddr, ph.offset, ph.filesz,
								     ph.memsz },
				      i, size, err, errlen))
			return -1;
		/* The entry is virtual; Multiboot jumps to a physical address. */
		if (!translated && ph.vaddr != ph.paddr && eh.entry >= ph.vaddr &&
		    eh.entry - ph.vaddr < ph.memsz) {
			entry = (uint64_t)eh.entry - ph.vaddr + ph.paddr;
			translated = true;
		}
	}
	if (img->nsegs == 0)
		return ERR("no PT_LOAD segments");
	for (uint32_t i = 0; i < img->nsegs; i++)
		if (entry >= img->segs[i].paddr && entry - img->segs[i].paddr < img->segs[i].filesz)
			entry_ok = true;
	if (!entry_ok)
		return ERR("entry point 0x%llx is not in the file data of any segment",
			   (unsigned long long)entry);
	img->entry = entry;
	return 0;
}

int nv_l1_parse(const void *file, uint64_t size, struct nv_l1_image *img, char *err,
		size_t errlen)
{
	const uint8_t *f = file;
	int rc;

	/* QEMU's x86_load_linux: "HdrS" at 0x202 makes it a Linux kernel before any Multiboot search. */
	if (nv_l1_is_bzimage(f, size))
		return nv_l1_parse_bzimage(file, size, img, err, errlen);
	memset(img, 0, sizeof(*img));
	img->protocol = NV_L1_MULTIBOOT;
	rc = find_header(f, size, img, err, errlen);
	if (rc) {
		/* No Multiboot header: an ELF64 kernel may still have a PVH entry. */
		if (rc == NO_HEADER && nv_elf_has_magic(f, size) && size > NV_EI_CLASS &&
		    f[NV_EI_CLASS] == NV_ELFCLASS64) {
			if (errlen)
				err[0] = '\0';   /* not about this image */
			return nv_l1_parse_pvh(file, size, img, err, errlen);
		}
		return -1;
	}
	/* QEMU's -kernel, like GRUB, prefers the address fields when flag 16 is set. */
	if (img->mb_flags & NV_MB_AOUT_KLUDGE)
		return load_aout(f, size, img, err, errlen);
	return load_elf32(f, size, img, err, errlen);
}
