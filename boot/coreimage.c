/* SPDX-License-Identifier: MIT */
/* Validation of the core ELF64 image (pure). */
#include "coreimage.h"

#include "elf.h"

#include <nestvisor/bootinfo.h>
#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

#define ERR(...) (nv_snprintf(err, errlen, __VA_ARGS__), -1)

static int check_header(const uint8_t *f, uint64_t size, struct nv_elf64_ehdr *eh, char *err,
			size_t errlen)
{
	/* gABI "ELF Header" and "ELF Identification"; x86-64 psABI 4.1 "ELF Header". */
	if (!nv_elf_has_magic(f, size))
		return ERR("not an ELF file (no \\x7fELF magic)");
	if (size < sizeof(*eh))
		return ERR("truncated: ELF header needs 0x%zx bytes, file is 0x%llx bytes",
			   sizeof(*eh), (unsigned long long)size);
	memcpy(eh, f, sizeof(*eh));
	if (eh->ident[NV_EI_CLASS] != NV_ELFCLASS64)
		return ERR("ELF class %u, expected 2 (64-bit)", eh->ident[NV_EI_CLASS]);
	return nv_elf_check_fields(eh, &((struct nv_elf_want){ NV_EM_X86_64, "62 (x86-64)",
							 sizeof(struct nv_elf64_phdr) }),
				   err, errlen);
}

static int check_segment(const struct nv_elf64_phdr *ph, uint32_t i, uint64_t size, char *err,
			 size_t errlen)
{
	if (ph->filesz > ph->memsz)
		return ERR("segment %u: filesz 0x%llx > memsz 0x%llx", i,
			   (unsigned long long)ph->filesz, (unsigned long long)ph->memsz);
	if (ph->offset > size || ph->filesz > size - ph->offset)
		return ERR("truncated: segment %u ends at 0x%llx, file is 0x%llx bytes", i,
			   (unsigned long long)(ph->offset + ph->filesz), (unsigned long long)size);
	/* Compare offsets into the window: vaddr + memsz may wrap. */
	if (ph->vaddr < NV_CORE_VBASE || ph->memsz > NV_CORE_WINDOW ||
	    ph->vaddr - NV_CORE_VBASE > NV_CORE_WINDOW - ph->memsz)
		return ERR("segment %u (vaddr 0x%llx, memsz 0x%llx) is outside the core window 0x%llx-0x%llx",
			   i, (unsigned long long)ph->vaddr, (unsigned long long)ph->memsz,
			   NV_CORE_VBASE, NV_CORE_VBASE + NV_CORE_WINDOW - 1);
	return 0;
}

int nv_core_parse(const void *file, uint64_t size, struct nv_core_image *img, char *err,
		  size_t errlen)
{
	const uint8_t *f = file;
	struct nv_elf64_ehdr eh;
	uint64_t lowest = UINT64_MAX, highest = 0;
	bool entry_ok = false;

	memset(img, 0, sizeof(*img));
	if (check_header(f, size, &eh, err, errlen))
		return -1;
	/* The whole table first: "program header N" is the first that is cut off. */
	for (uint32_t i = 0; i < eh.phnum; i++) {
		uint64_t off = eh.phoff + (uint64_t)i * eh.phentsize;

		if (eh.phoff > size || off > size || size - off < sizeof(struct nv_elf64_phdr))
			return ERR("truncated: program header %u ends at 0x%llx, file is 0x%llx bytes",
				   i, (unsigned long long)(off + sizeof(struct nv_elf64_phdr)),
				   (unsigned long long)size);
	}
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct nv_elf64_phdr ph;
		struct nv_core_segment *s;

		memcpy(&ph, f + eh.phoff + (uint64_t)i * eh.phentsize, sizeof(ph));
		if (ph.type != NV_PT_LOAD)
			continue;
		if (img->nsegs == NV_CORE_MAX_SEGS)
			return ERR("too many PT_LOAD segments (max %d)", NV_CORE_MAX_SEGS);
		if (check_segment(&ph, img->nsegs, size, err, errlen))
			return -1;
		s = &img->segs[img->nsegs];
		*s = (struct nv_core_segment){ ph.vaddr, ph.offset, ph.filesz, ph.memsz, ph.flags, i };
		for (uint32_t j = 0; j < img->nsegs; j++) {
			const struct nv_core_segment *o = &img->segs[j];

			if (s->memsz && o->memsz && s->vaddr < o->vaddr + o->memsz &&
			    o->vaddr < s->vaddr + s->memsz)
				return ERR("segments %u and %u overlap at 0x%llx", j, img->nsegs,
					   (unsigned long long)(s->vaddr > o->vaddr ? s->vaddr : o->vaddr));
		}
		if (s->vaddr < lowest)
			lowest = s->vaddr;
		if (s->vaddr + s->memsz > highest)
			highest = s->vaddr + s->memsz;
		if ((s->flags & NV_PF_X) && eh.entry >= s->vaddr && eh.entry - s->vaddr < s->memsz)
			entry_ok = true;
		img->nsegs++;
	}
	if (img->nsegs == 0)
		return ERR("no PT_LOAD segments");
	if (lowest != NV_CORE_VBASE)
		return ERR("lowest segment starts at 0x%llx, expected 0x%llx (NV_CORE_VBASE)",
			   (unsigned long long)lowest, NV_CORE_VBASE);
	if (!entry_ok)
		return ERR("entry point 0x%llx is not in an executable segment",
			   (unsigned long long)eh.entry);
	img->entry = eh.entry;
	img->span = (highest - NV_CORE_VBASE + NV_PAGE_SIZE - 1) & ~(NV_PAGE_SIZE - 1);
	return 0;
}

void nv_core_place(const struct nv_core_image *img, const void *file, void *dst)
{
	uint8_t *d = dst;

	memset(d, 0, img->span);
	for (uint32_t i = 0; i < img->nsegs; i++) {
		const struct nv_core_segment *s = &img->segs[i];

		memcpy(d + (s->vaddr - NV_CORE_VBASE), (const uint8_t *)file + s->offset, s->filesz);
	}
}
