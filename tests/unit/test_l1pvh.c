/* SPDX-License-Identifier: MIT */
/* boot/l1pvh.c through nv_l1_parse: ELF64 kernels with a PVH entry note (Linux's vmlinux). */
#include "unit.h"

#include "boot/elf.h"
#include "boot/l1image.h"

#define FILE_SIZE 0x8000
#define PT_NOTE   4
#define NOTE_AT   0x400        /* the notes of the default image */

static uint8_t file[FILE_SIZE];
static struct nv_l1_image img;
static char err[320];

struct seg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* ELF64 x86-64 executable, program headers at 64, filled with a pattern. */
static void build(const struct seg *s, int n)
{
	struct nv_elf64_ehdr eh = {
		.ident = { 0x7f, 'E', 'L', 'F', NV_ELFCLASS64, NV_ELFDATA2LSB, NV_EV_CURRENT },
		.type = NV_ET_EXEC, .machine = NV_EM_X86_64, .version = NV_EV_CURRENT,
		.entry = 0xffffffff81000000ull, .phoff = sizeof(eh), .ehsize = sizeof(eh),
		.phentsize = sizeof(struct nv_elf64_phdr), .phnum = (uint16_t)n,
	};

	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 13 + 5);
	memset(file, 0, NOTE_AT);
	memcpy(file, &eh, sizeof(eh));
	for (int i = 0; i < n; i++) {
		struct nv_elf64_phdr ph = { s[i].type, 5, s[i].offset, s[i].vaddr, s[i].paddr,
					    s[i].filesz, s[i].memsz, 0x1000 };

		memcpy(file + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
}

/* One note at off: namesz, descsz, type, name (padded), desc of descsz bytes. Returns its size. */
static uint32_t put_note(uint32_t off, const char *name, uint32_t type, uint64_t desc,
			 uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1, hdr[3] = { namesz, descsz, type };
	uint32_t name_pad = (namesz + 3) & ~3u, desc_pad = (descsz + 3) & ~3u;

	memcpy(file + off, hdr, sizeof(hdr));
	memset(file + off + 12, 0, name_pad + desc_pad);
	memcpy(file + off + 12, name, namesz);
	memcpy(file + off + 12 + name_pad, &desc, descsz < 8 ? descsz : 8);
	return 12 + name_pad + desc_pad;
}

/* vmlinux-like: text at 16 MiB, data with bss, a NOTE holding other Xen notes then the entry. */
static const struct seg vmlinux[] = {
	{ NV_PT_LOAD, 0x1000, 0xffffffff81000000ull, 0x1000000, 0x3000, 0x3000 },
	{ NV_PT_LOAD, 0x4000, 0xffffffff81400000ull, 0x1400000, 0x2000, 0x10000 },
	{ 0x6474e551 /* PT_GNU_STACK */, 0, 0, 0, 0, 0 },
	{ PT_NOTE, NOTE_AT, 0, 0, 0, 0 },   /* filesz set by build_vmlinux */
};

static void set_phdr64(int i, uint32_t field_off, uint64_t v)
{
	memcpy(file + 64 + i * sizeof(struct nv_elf64_phdr) + field_off, &v, 8);
}

static void build_vmlinux(uint64_t entry, uint32_t descsz)
{
	uint32_t at = NOTE_AT;

	build(vmlinux, 4);
	at += put_note(at, "Xen", 6, 0x78756e696c, 6);        /* XEN_ELFNOTE_GUEST_OS "linux" */
	at += put_note(at, "GNU", NV_XEN_ELFNOTE_PHYS32_ENTRY, 0xdead, 4); /* not Xen's */
	at += put_note(at, "Xen", NV_XEN_ELFNOTE_PHYS32_ENTRY, entry, descsz);
	set_phdr64(3, 32, at - NOTE_AT);   /* p_filesz */
	set_phdr64(3, 40, at - NOTE_AT);   /* p_memsz */
}

static int parse(uint64_t size)
{
	err[0] = '\0';
	return nv_l1_parse(file, size, &img, err, sizeof(err));
}

TEST(pvh_valid_vmlinux)
{
	build_vmlinux(0x1000010, 8);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_STR(err, "");
	CHECK_EQ(img.protocol, NV_L1_PVH);
	CHECK_EQ(img.entry, 0x1000010);   /* the note, not e_entry */
	CHECK_EQ(img.nsegs, 2);
	CHECK_EQ(img.segs[0].paddr, 0x1000000);
	CHECK_EQ(img.segs[0].offset, 0x1000);
	CHECK_EQ(img.segs[1].paddr, 0x1400000);
	CHECK_EQ(img.segs[1].filesz, 0x2000);
	CHECK_EQ(img.segs[1].memsz, 0x10000);
	CHECK(!img.aout);

	/* A 4-byte note (as some kernels write it) is as good as an 8-byte one. */
	build_vmlinux(0x1400100, 4);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.entry, 0x1400100);
}

TEST(pvh_multiboot_header_wins)
{
	/* As in QEMU: a Multiboot header makes it a Multiboot kernel, and Multiboot needs ELF32. */
	uint32_t mb[3] = { NV_MB_HEADER_MAGIC, 0, -NV_MB_HEADER_MAGIC };

	build_vmlinux(0x1000010, 8);
	memcpy(file + 0x1000, mb, sizeof(mb));
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "is a 64-bit ELF; Multiboot needs a 32-bit image");
}

TEST(pvh_multiboot_header_wins_even_unusable)
{
	/* A valid Multiboot header asking for a feature this loader lacks (bit 15 of
	 * the required bits 0-15) still makes it a Multiboot kernel: refused, not
	 * taken by its PVH note (found by fuzz/l1image). */
	uint32_t flags = 1u << 15;
	uint32_t mb[3] = { NV_MB_HEADER_MAGIC, flags, -(NV_MB_HEADER_MAGIC + flags) };

	build_vmlinux(0x1000010, 8);
	memcpy(file + 0x1000, mb, sizeof(mb));
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "requires unsupported Multiboot feature bit 15 (flags 0x8000)");
}

TEST(pvh_no_note)
{
	build_vmlinux(0x1000010, 8);
	file[NOTE_AT + 12 + 4 + 8 + 12 + 4 + 4 + 8] = 17;   /* the entry note's type: 18 -> 17 */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "64-bit ELF without a PVH entry note (Xen note 18, PHYS32_ENTRY) and without a Multiboot header: nestvisor boots 64-bit kernels through PVH (Linux: CONFIG_PVH=y)");

	/* No PT_NOTE at all. */
	build((const struct seg[]){ vmlinux[0], vmlinux[1] }, 2);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_CONTAINS(err, "64-bit ELF without a PVH entry note");
}

TEST(pvh_bad_notes)
{
	/* A note whose name runs past the end of its PT_NOTE. */
	build_vmlinux(0x1000010, 8);
	set_phdr64(3, 32, 20);   /* p_filesz: 20 bytes, inside the first note's desc */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "malformed note at offset 0x400 (program header 3): it runs past the notes' end 0x414");

	/* The PT_NOTE outside the file. */
	build_vmlinux(0x1000010, 8);
	set_phdr64(3, 8, FILE_SIZE - 8);   /* p_offset */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_CONTAINS(err, "truncated: notes (program header 3) end at 0x");

	/* A PVH note of the wrong size. */
	build_vmlinux(0x1000010, 2);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "PVH entry note at offset 0x42c has 0x2 bytes, expected 4 or 8");
}

TEST(pvh_entry_outside_segments)
{
	build_vmlinux(0x1003000, 8);     /* one past segment 0's file data */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "PVH entry point 0x1003000 is not in the file data of any segment");
	build_vmlinux(0x1402000, 8);     /* in segment 1's bss: not loaded from the file */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "PVH entry point 0x1402000 is not in the file data of any segment");
}

TEST(pvh_truncated)
{
	build_vmlinux(0x1000010, 8);
	/* The header itself. */
	CHECK(parse(40) < 0);
	CHECK_STR(err, "truncated: ELF64 header needs 0x40 bytes, file is 0x28 bytes");
	/* The program headers (the 4th ends at 64 + 4 * 56 = 0x120). */
	CHECK(parse(0x100) < 0);
	CHECK_STR(err, "truncated: program header 3 ends at 0x120, file is 0x100 bytes");
	/* The notes. */
	CHECK(parse(0x410) < 0);
	CHECK_CONTAINS(err, "truncated: notes (program header 3) end at 0x");
	/* A segment: the second ends at 0x6000. */
	CHECK(parse(0x5fff) < 0);
	CHECK_STR(err, "truncated: segment 1 (program header 1) ends at 0x6000, file is 0x5fff bytes");
	CHECK_EQ(parse(0x6000), 0);
}

TEST(pvh_bad_headers)
{
	build_vmlinux(0x1000010, 8);
	file[NV_EI_DATA] = 2;
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "ELF data encoding 2, expected 1 (little-endian)");

	build_vmlinux(0x1000010, 8);
	file[16] = 3;   /* e_type ET_DYN */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "ELF type 3, expected 2 (ET_EXEC)");

	build_vmlinux(0x1000010, 8);
	file[18] = NV_EM_386;
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "wrong machine 3, expected 62 (x86-64) for a 64-bit ELF");

	build_vmlinux(0x1000010, 8);
	file[NV_EI_VERSION] = 0;
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "ELF version 0, expected 1");

	build_vmlinux(0x1000010, 8);
	file[56] = 0;    /* e_phnum */
	file[57] = 0;
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "no program headers");

	build_vmlinux(0x1000010, 8);
	file[54] = 32;   /* e_phentsize */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "program header size 32, expected at least 56");
}

TEST(pvh_bad_segments)
{
	/* Not below 4 GiB. */
	build_vmlinux(0x1000010, 8);
	set_phdr64(1, 24, 0xffffe000);   /* p_paddr of segment 1 */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "segment 1 (0xffffe000-0x10000e000) is not below 4 GiB");

	build_vmlinux(0x1000010, 8);
	set_phdr64(1, 24, 0x100000000ull);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "segment 1 (0x100000000-0x100010000) is not below 4 GiB");

	/* filesz > memsz. */
	build_vmlinux(0x1000010, 8);
	set_phdr64(1, 40, 0x1000);   /* p_memsz */
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "segment 1 (program header 1): filesz 0x2000 > memsz 0x1000");

	/* Overlap. */
	build_vmlinux(0x1000010, 8);
	set_phdr64(1, 24, 0x1002000);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "segments 0 and 1 overlap at 0x1002000");

	/* A file offset that wraps. */
	build_vmlinux(0x1000010, 8);
	set_phdr64(1, 8, ~0ull - 0xfff);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_CONTAINS(err, "truncated: segment 1 (program header 1) ends at 0x");

	/* No PT_LOAD at all. */
	build_vmlinux(0x1000010, 8);
	set_phdr64(0, 0, 0x6474e551);   /* p_type (and p_flags, 0) */
	set_phdr64(1, 0, 0x6474e551);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "no PT_LOAD segments");
}

TEST(pvh_elf32_without_header)
{
	/* An ELF32 without a Multiboot header is still a Multiboot error, not a PVH one. */
	build_vmlinux(0x1000010, 8);
	file[NV_EI_CLASS] = NV_ELFCLASS32;
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "no Multiboot header in the first 8192 bytes");
}
