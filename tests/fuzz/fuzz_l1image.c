/* SPDX-License-Identifier: MIT */
/*
 * boot/l1image.c, boot/l1pvh.c and boot/l1bzimage.c (Multiboot 1, PVH and
 * bzImage L1 kernels) on arbitrary bytes. Invariants: 0
 * or -1, the same twice; a refusal gives a non-empty NUL-terminated message.
 * An accepted image gives what the loader (boot/l1plan.c) copies blindly:
 * the first valid Multiboot header, 4-byte aligned in the first 8192 bytes,
 * with no feature bit it does not understand; 1..NV_L1_MAX_SEGS segments,
 * each with filesz <= memsz, its file bytes inside the file (read here, under
 * ASan) and [paddr, paddr + memsz) below 4 GiB, no two overlapping; the
 * entry point in the file data of a segment; and segments that are exactly
 * the a.out-kludge address fields (flag 16) or the ELF32 PT_LOAD headers.
 * A PVH image: no valid Multiboot header in the first 8192 bytes (that one
 * would win), an ELF64 x86-64 executable, segments exactly its PT_LOAD headers.
 * A bzImage: "HdrS" at 0x202 (it wins over both), protocol 2.12+, LOADED_HIGH,
 * one segment of syssize * 16 bytes from (setup_sects + 1) * 512, the entry its
 * first byte, the setup header copied exactly and no longer than boot_params'.
 */
#include "fuzz.h"

#include "boot/elf.h"
#include "boot/l1image.h"

#define FOUR_GIB (1ull << 32)

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static bool valid_header(const uint8_t *f, uint64_t off)
{
	return rd32(f + off) == NV_MB_HEADER_MAGIC &&
	       (uint32_t)(rd32(f + off) + rd32(f + off + 4) + rd32(f + off + 8)) == 0;
}

static void check_header(const uint8_t *f, uint64_t size, const struct nv_l1_image *img)
{
	uint64_t off = img->mb_offset, need;

	INVARIANT(off % 4 == 0 && off + 12 <= size && off + 12 <= NV_MB_SEARCH_LIMIT,
		  "header at 0x%llx, file 0x%llx bytes", (unsigned long long)off,
		  (unsigned long long)size);
	INVARIANT(valid_header(f, off), "no valid header at 0x%llx", (unsigned long long)off);
	for (uint64_t o = 0; o < off; o += 4)
		INVARIANT(!valid_header(f, o), "an earlier header at 0x%llx", (unsigned long long)o);
	INVARIANT(img->mb_flags == rd32(f + off + 4), "flags 0x%x", img->mb_flags);
	INVARIANT(!(img->mb_flags & 0xffffu & ~(NV_MB_PAGE_ALIGN | NV_MB_MEMORY_INFO |
						  NV_MB_VIDEO_MODE)),
		  "accepted required feature bits 0x%x", img->mb_flags);
	need = (img->mb_flags & NV_MB_VIDEO_MODE) ? 48 : (img->mb_flags & NV_MB_AOUT_KLUDGE) ? 32 : 12;
	INVARIANT(off + need <= size && off + need <= NV_MB_SEARCH_LIMIT,
		  "header of 0x%llx bytes cut off", (unsigned long long)need);
	INVARIANT(img->aout == !!(img->mb_flags & NV_MB_AOUT_KLUDGE), "aout %d, flags 0x%x",
		  img->aout, img->mb_flags);
}

/* 3.1.3 "The address fields of Multiboot header", as the harness reads them. */
static void check_aout(const uint8_t *f, uint64_t size, const struct nv_l1_image *img)
{
	const uint8_t *h = f + img->mb_offset;
	uint64_t header_addr = rd32(h + 12), load_addr = rd32(h + 16), load_end = rd32(h + 20);
	uint64_t bss_end = rd32(h + 24), entry = rd32(h + 28);
	const struct nv_l1_segment *s = &img->segs[0];
	uint64_t offset = img->mb_offset - (header_addr - load_addr);
	uint64_t filesz = load_end ? load_end - load_addr : size - offset;

	INVARIANT(img->nsegs == 1, "a.out image with %u segments", img->nsegs);
	INVARIANT(s->paddr == load_addr && s->offset == offset && s->filesz == filesz,
		  "segment 0x%llx+0x%llx at 0x%llx, header says 0x%llx+0x%llx at 0x%llx",
		  (unsigned long long)s->offset, (unsigned long long)s->filesz,
		  (unsigned long long)s->paddr, (unsigned long long)offset,
		  (unsigned long long)filesz, (unsigned long long)load_addr);
	INVARIANT(s->memsz == (bss_end ? bss_end : load_addr + filesz) - load_addr,
		  "memsz 0x%llx, bss_end_addr 0x%llx", (unsigned long long)s->memsz,
		  (unsigned long long)bss_end);
	INVARIANT(img->entry == entry, "entry 0x%llx, entry_addr 0x%llx",
		  (unsigned long long)img->entry, (unsigned long long)entry);
}

static void check_elf(const uint8_t *f, uint64_t size, const struct nv_l1_image *img)
{
	struct nv_elf32_ehdr eh;
	uint32_t n = 0;
	bool entry_ok;

	INVARIANT(size >= sizeof(eh) && nv_elf_has_magic(f, size), "not an ELF");
	memcpy(&eh, f, sizeof(eh));
	INVARIANT(eh.ident[NV_EI_CLASS] == NV_ELFCLASS32 && eh.machine == NV_EM_386 &&
			  eh.type == NV_ET_EXEC,
		  "ELF class %u machine %u type %u", eh.ident[NV_EI_CLASS], eh.machine, eh.type);
	/* e_entry is virtual: as it is, or moved by paddr - vaddr of a PT_LOAD holding it. */
	entry_ok = img->entry == eh.entry;
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct nv_elf32_phdr ph;
		uint64_t at = (uint64_t)eh.phoff + (uint64_t)i * eh.phentsize;

		INVARIANT(at + sizeof(ph) <= size, "program header %u outside the file", i);
		memcpy(&ph, f + at, sizeof(ph));
		if (ph.type != NV_PT_LOAD)
			continue;
		INVARIANT(n < img->nsegs, "more PT_LOAD headers than segments");
		INVARIANT(img->segs[n].paddr == ph.paddr && img->segs[n].offset == ph.offset &&
				  img->segs[n].filesz == ph.filesz && img->segs[n].memsz == ph.memsz,
			  "segment %u is not program header %u", n, i);
		if (eh.entry >= ph.vaddr && eh.entry - ph.vaddr < ph.memsz &&
		    img->entry == (uint64_t)eh.entry - ph.vaddr + ph.paddr)
			entry_ok = true;
		n++;
	}
	INVARIANT(n == img->nsegs, "%u PT_LOAD headers, %u segments", n, img->nsegs);
	INVARIANT(entry_ok, "entry 0x%llx is neither e_entry 0x%x nor its translation by a segment",
		  (unsigned long long)img->entry, eh.entry);
}

/* A PVH kernel: only without a Multiboot header; segments are the ELF64 PT_LOAD headers. */
static void check_pvh(const uint8_t *f, uint64_t size, const struct nv_l1_image *img)
{
	struct nv_elf64_ehdr eh;
	uint32_t n = 0;

	for (uint64_t o = 0; o + 12 <= size && o + 12 <= NV_MB_SEARCH_LIMIT; o += 4)
		INVARIANT(!valid_header(f, o), "PVH chosen over a Multiboot header at 0x%llx",
			  (unsigned long long)o);
	INVARIANT(size >= sizeof(eh) && nv_elf_has_magic(f, size), "not an ELF");
	memcpy(&eh, f, sizeof(eh));
	INVARIANT(eh.ident[NV_EI_CLASS] == NV_ELFCLASS64 && eh.machine == NV_EM_X86_64 &&
			  eh.type == NV_ET_EXEC,
		  "ELF class %u machine %u type %u", eh.ident[NV_EI_CLASS], eh.machine, eh.type);
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct nv_elf64_phdr ph;
		uint64_t at = eh.phoff + (uint64_t)i * eh.phentsize;

		INVARIANT(at >= eh.phoff && at + sizeof(ph) <= size, "program header %u outside the file", i);
		memcpy(&ph, f + at, sizeof(ph));
		if (ph.type != NV_PT_LOAD)
			continue;
		INVARIANT(n < img->nsegs, "more PT_LOAD headers than segments");
		INVARIANT(img->segs[n].paddr == ph.paddr && img->segs[n].offset == ph.offset &&
				  img->segs[n].filesz == ph.filesz && img->segs[n].memsz == ph.memsz,
			  "segment %u is not program header %u", n, i);
		n++;
	}
	INVARIANT(n == img->nsegs, "%u PT_LOAD headers, %u segments", n, img->nsegs);
}

/* A bzImage: the boot protocol's fields, read here independently. */
static void check_bzimage(const uint8_t *f, uint64_t size, const struct nv_l1_image *img)
{
	uint32_t sects, syssize;

	INVARIANT(size >= 0x26c && rd32(f + LB_HEADER) == LB_HDRS_MAGIC, "bzImage without HdrS");
	INVARIANT((f[LB_VERSION] | f[LB_VERSION + 1] << 8) >= LB_MIN_VERSION, "protocol too old");
	INVARIANT(f[LB_LOADFLAGS] & LB_LOADED_HIGH, "no LOADED_HIGH");
	sects = f[LB_SETUP_SECTS] ? f[LB_SETUP_SECTS] : 4;
	syssize = rd32(f + LB_SYSSIZE);
	INVARIANT(img->nsegs == 1 && img->segs[0].offset == (sects + 1) * 512ull &&
			  img->segs[0].filesz == syssize * 16ull && img->segs[0].filesz &&
			  img->entry == img->segs[0].paddr,
		  "bzImage segment 0x%llx+0x%llx", (unsigned long long)img->segs[0].offset,
		  (unsigned long long)img->segs[0].filesz);
	INVARIANT(img->linux_hdr_len <= LB_HDR_MAX && img->linux_hdr_len <= size - LB_SETUP_SECTS &&
			  !memcmp(img->linux_hdr, f + LB_SETUP_SECTS, img->linux_hdr_len),
		  "setup header copy of 0x%x bytes", img->linux_hdr_len);
}

/* The entry lies in the file data of a segment (after the vaddr -> paddr translation). */
static void check_entry(const struct nv_l1_image *img)
{
	bool in_data = false;

	for (uint32_t i = 0; i < img->nsegs; i++) {
		const struct nv_l1_segment *s = &img->segs[i];

		in_data |= img->entry >= s->paddr && img->entry - s->paddr < s->filesz;
	}
	INVARIANT(img->entry < FOUR_GIB && in_data, "entry 0x%llx in no segment's file data",
		  (unsigned long long)img->entry);
}

/* Where the segment bytes go, so that reading them is not optimised away. */
volatile uint8_t bytes_seen;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nv_l1_image img, again;
	char err[256], err2[256];
	int rc;

	memset(err, 0xa5, sizeof(err));
	rc = nv_l1_parse(data, size, &img, err, sizeof(err));
	INVARIANT(rc == 0 || rc == -1, "returned %d", rc);
	INVARIANT(nv_l1_parse(data, size, &again, err2, sizeof(err2)) == rc &&
			  memcmp(&img, &again, sizeof(img)) == 0,
		  "not deterministic");
	if (rc) {
		INVARIANT(nul_terminated(err, sizeof(err)) && err[0] && strcmp(err, err2) == 0,
			  "bad message");
		return 0;
	}
	INVARIANT(img.protocol == NV_L1_MULTIBOOT || img.protocol == NV_L1_PVH ||
			  img.protocol == NV_L1_LINUX,
		  "protocol %u", img.protocol);
	INVARIANT((img.protocol == NV_L1_LINUX) == nv_l1_is_bzimage(data, size),
		  "bzImage protocol without HdrS, or HdrS not taken as one");
	if (img.protocol == NV_L1_MULTIBOOT)
		check_header(data, size, &img);
	INVARIANT(img.nsegs >= 1 && img.nsegs <= NV_L1_MAX_SEGS, "%u segments", img.nsegs);
	for (uint32_t i = 0; i < img.nsegs; i++) {
		const struct nv_l1_segment *s = &img.segs[i];

		INVARIANT(s->filesz <= s->memsz, "segment %u: filesz > memsz", i);
		INVARIANT(s->offset <= size && s->filesz <= size - s->offset,
			  "segment %u: file bytes 0x%llx+0x%llx outside a 0x%zx-byte file", i,
			  (unsigned long long)s->offset, (unsigned long long)s->filesz, size);
		INVARIANT(s->paddr < FOUR_GIB && s->memsz <= FOUR_GIB - s->paddr,
			  "segment %u: 0x%llx+0x%llx not below 4 GiB", i,
			  (unsigned long long)s->paddr, (unsigned long long)s->memsz);
		/* What the loader copies: every byte must be there (ASan). */
		for (uint64_t b = 0; b < s->filesz; b++)
			bytes_seen += data[s->offset + b];
		for (uint32_t j = 0; j < i; j++) {
			const struct nv_l1_segment *o = &img.segs[j];

			INVARIANT(!s->memsz || !o->memsz || s->paddr >= o->paddr + o->memsz ||
					  o->paddr >= s->paddr + s->memsz,
				  "segments %u and %u overlap", j, i);
		}
	}
	if (img.protocol == NV_L1_LINUX)
		check_bzimage(data, size, &img);
	else if (img.protocol == NV_L1_PVH)
		check_pvh(data, size, &img);
	else if (img.aout)
		check_aout(data, size, &img);
	else
		check_elf(data, size, &img);
	check_entry(&img);
	return 0;
}
