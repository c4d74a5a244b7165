/* SPDX-License-Identifier: MIT */
/*
 * boot/coreimage.c (the core ELF64) on arbitrary bytes. Invariants: 0 or -1,
 * the same twice; a refusal gives a non-empty NUL-terminated message. An
 * accepted image has 1..NV_CORE_MAX_SEGS segments that are the file's PT_LOAD
 * headers in order, each with filesz <= memsz and its file bytes inside the
 * file (no overflow in offset + filesz), inside the 1-GiB core window, no two
 * overlapping, the lowest at NV_CORE_VBASE; the entry in an executable
 * segment; span page-aligned, covering every segment and within the window.
 * nv_core_place then writes exactly span bytes (ASan): each segment's file
 * bytes at its place, zeros everywhere else.
 */
#include "fuzz.h"

#include "boot/coreimage.h"
#include "boot/elf.h"

#include <nestvisor/bootinfo.h>

/* nv_core_place is run for spans up to this (fuzzed spans reach 1 GiB). */
#define PLACE_MAX (1u << 20)

static void check_segments(const uint8_t *f, uint64_t size, const struct nv_core_image *img)
{
	struct nv_elf64_ehdr eh;
	uint32_t n = 0;
	bool entry_ok = false;
	uint64_t end_max = 0;

	memcpy(&eh, f, sizeof(eh));
	INVARIANT(eh.ident[NV_EI_CLASS] == NV_ELFCLASS64 && eh.machine == NV_EM_X86_64 &&
			  eh.type == NV_ET_EXEC,
		  "ELF class %u machine %u type %u", eh.ident[NV_EI_CLASS], eh.machine, eh.type);
	INVARIANT(img->entry == eh.entry, "entry 0x%llx, e_entry 0x%llx",
		  (unsigned long long)img->entry, (unsigned long long)eh.entry);
	INVARIANT(img->nsegs >= 1 && img->nsegs <= NV_CORE_MAX_SEGS, "%u segments", img->nsegs);
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct nv_elf64_phdr ph;
		uint64_t at = eh.phoff + (uint64_t)i * eh.phentsize;

		INVARIANT(eh.phoff <= size && at <= size && size - at >= sizeof(ph),
			  "program header %u outside the file", i);
		memcpy(&ph, f + at, sizeof(ph));
		if (ph.type != NV_PT_LOAD)
			continue;
		INVARIANT(n < img->nsegs, "more PT_LOAD headers than segments");
		const struct nv_core_segment *s = &img->segs[n];

		INVARIANT(s->vaddr == ph.vaddr && s->offset == ph.offset && s->filesz == ph.filesz &&
				  s->memsz == ph.memsz && s->flags == ph.flags && s->phdr == i,
			  "segment %u is not program header %u", n, i);
		n++;
	}
	INVARIANT(n == img->nsegs, "%u PT_LOAD headers, %u segments", n, img->nsegs);

	for (uint32_t i = 0; i < img->nsegs; i++) {
		const struct nv_core_segment *s = &img->segs[i];
		uint64_t lo = s->vaddr - NV_CORE_VBASE;

		INVARIANT(s->filesz <= s->memsz, "segment %u: filesz > memsz", i);
		INVARIANT(s->offset <= size && s->filesz <= size - s->offset,
			  "segment %u: file bytes 0x%llx+0x%llx outside a 0x%llx-byte file", i,
			  (unsigned long long)s->offset, (unsigned long long)s->filesz,
			  (unsigned long long)size);
		INVARIANT(s->vaddr >= NV_CORE_VBASE && s->memsz <= NV_CORE_WINDOW &&
				  lo <= NV_CORE_WINDOW - s->memsz,
			  "segment %u: 0x%llx+0x%llx outside the core window", i,
			  (unsigned long long)s->vaddr, (unsigned long long)s->memsz);
		if (lo + s->memsz > end_max)
			end_max = lo + s->memsz;
		if ((s->flags & NV_PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
			entry_ok = true;
		for (uint32_t j = 0; j < i; j++) {
			const struct nv_core_segment *o = &img->segs[j];

			INVARIANT(!s->memsz || !o->memsz || s->vaddr >= o->vaddr + o->memsz ||
					  o->vaddr >= s->vaddr + s->memsz,
				  "segments %u and %u overlap", j, i);
		}
	}
	bool lowest_at_base = false;

	for (uint32_t i = 0; i < img->nsegs; i++)
		lowest_at_base |= img->segs[i].vaddr == NV_CORE_VBASE;
	INVARIANT(lowest_at_base, "no segment at NV_CORE_VBASE");
	INVARIANT(entry_ok, "entry 0x%llx in no executable segment", (unsigned long long)img->entry);
	INVARIANT(img->span % 4096 == 0 && img->span >= end_max && img->span - end_max < 4096 &&
			  img->span <= NV_CORE_WINDOW,
		  "span 0x%llx, segments end at +0x%llx", (unsigned long long)img->span,
		  (unsigned long long)end_max);
}

/* nv_core_place into a buffer of exactly span bytes: file bytes in place, zeros elsewhere. */
static void check_place(const uint8_t *f, const struct nv_core_image *img)
{
	uint8_t *dst, *mine;

	if (img->span > PLACE_MAX)
		return;
	dst = malloc(img->span ? img->span : 1);
	mine = calloc(1, img->span ? img->span : 1);
	memset(dst, 0x5a, img->span);
	nv_core_place(img, f, dst);
	for (uint32_t i = 0; i < img->nsegs; i++) {
		const struct nv_core_segment *s = &img->segs[i];

		memcpy(mine + (s->vaddr - NV_CORE_VBASE), f + s->offset, s->filesz);
	}
	INVARIANT(memcmp(dst, mine, img->span) == 0, "placed image differs from its segments");
	free(dst);
	free(mine);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nv_core_image img, again;
	char err[256], err2[256];
	int rc;

	memset(err, 0xa5, sizeof(err));
	rc = nv_core_parse(data, size, &img, err, sizeof(err));
	INVARIANT(rc == 0 || rc == -1, "returned %d", rc);
	INVARIANT(nv_core_parse(data, size, &again, err2, sizeof(err2)) == rc &&
			  memcmp(&img, &again, sizeof(img)) == 0,
		  "not deterministic");
	if (rc) {
		INVARIANT(nul_terminated(err, sizeof(err)) && err[0] && strcmp(err, err2) == 0,
			  "bad message");
		return 0;
	}
	check_segments(data, size, &img);
	check_place(data, &img);
	return 0;
}
