/* SPDX-License-Identifier: MIT */
/* boot/coreimage.c: validation of the core ELF64 image. */
#include "unit.h"

#include "boot/coreimage.h"
#include "boot/elf.h"

#include <nestvisor/bootinfo.h>

#define V NV_CORE_VBASE

static uint8_t file[0x4000];
static struct nv_core_image core;
static char err[256];

struct seg {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};

/* An ELF64 executable: header, program headers at 64, data from 0x1000 on. */
static uint64_t build(const struct seg *s, int n, uint64_t entry)
{
	struct nv_elf64_ehdr eh = {
		.ident = { 0x7f, 'E', 'L', 'F', NV_ELFCLASS64, NV_ELFDATA2LSB, NV_EV_CURRENT },
		.type = NV_ET_EXEC, .machine = NV_EM_X86_64, .version = NV_EV_CURRENT,
		.entry = entry, .phoff = sizeof(eh), .ehsize = sizeof(eh),
		.phentsize = sizeof(struct nv_elf64_phdr), .phnum = (uint16_t)n,
	};

	memset(file, 0, sizeof(file));
	memcpy(file, &eh, sizeof(eh));
	for (int i = 0; i < n; i++) {
		struct nv_elf64_phdr ph = { s[i].type, s[i].flags, s[i].offset, s[i].vaddr,
					    s[i].vaddr - V, s[i].filesz, s[i].memsz, 0x1000 };

		memcpy(file + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
	for (size_t i = 0x1000; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 7 + 1);
	return sizeof(file);
}

static const struct seg good[] = {
	{ NV_PT_LOAD, NV_PF_X | 4, 0x1000, V, 0x1000, 0x1000 },
	{ 4 /* PT_NOTE */, 4, 0x2000, 0, 0x10, 0x10 },
	{ NV_PT_LOAD, 6, 0x2000, V + 0x3000, 0x800, 0x5000 },
};

TEST(core_valid)
{
	uint64_t size = build(good, 3, V + 0x10);
	static uint8_t span[0x8000];

	CHECK_EQ(nv_core_parse(file, size, &core, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(core.nsegs, 2);
	CHECK_EQ(core.entry, V + 0x10);
	CHECK_EQ(core.span, 0x8000);
	CHECK_EQ(core.segs[1].vaddr, V + 0x3000);
	CHECK_EQ(core.segs[1].phdr, 2);

	memset(span, 0xcc, sizeof(span));
	nv_core_place(&core, file, span);
	CHECK(memcmp(span, file + 0x1000, 0x1000) == 0);
	CHECK_EQ(span[0x1000], 0);                      /* gap between segments */
	CHECK(memcmp(span + 0x3000, file + 0x2000, 0x800) == 0);
	CHECK_EQ(span[0x3800], 0);                      /* bss */
	CHECK_EQ(span[0x7fff], 0);
}

TEST(core_wrong_machine)
{
	uint64_t size = build(good, 3, V + 0x10);

	file[18] = 3;   /* e_machine = EM_386 */
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_STR(err, "wrong machine 3, expected 62 (x86-64)");
}

TEST(core_not_elf64)
{
	uint64_t size = build(good, 3, V + 0x10);

	file[NV_EI_CLASS] = NV_ELFCLASS32;
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "ELF class 1");
	CHECK(nv_core_parse("hello", 5, &core, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "not an ELF file");
	CHECK(nv_core_parse(file, 40, &core, err, sizeof(err)) < 0);
	size = build(good, 3, V + 0x10);
	CHECK(nv_core_parse(file, 40, &core, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "truncated: ELF header");
	file[16] = 3;   /* ET_DYN */
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "ELF type 3, expected 2");
}

TEST(core_vaddr_outside_window)
{
	struct seg s[2] = { good[0], good[2] };
	uint64_t size;

	s[1].vaddr = V + (1ULL << 30) - 0x1000;       /* ends 0x4000 past the window */
	size = build(s, 2, V);
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "segment 1 (vaddr 0xffffffffbffff000, memsz 0x5000) is outside the core window");

	s[1].vaddr = 0x100000;                         /* below the window */
	size = build(s, 2, V);
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "segment 1 (vaddr 0x100000");

	s[0].vaddr = V + 0x200000;                     /* lowest is not NV_CORE_VBASE */
	s[1].vaddr = V + 0x300000;
	size = build(s, 2, V + 0x200000);
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_STR(err, "lowest segment starts at 0xffffffff80200000, expected 0xffffffff80000000 (NV_CORE_VBASE)");
}

TEST(core_entry_outside_segments)
{
	uint64_t size = build(good, 3, V + 0x3000);   /* in the data segment: not executable */

	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_STR(err, "entry point 0xffffffff80003000 is not in an executable segment");
	size = build(good, 3, V + 0x1000);             /* just past the text */
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "entry point 0xffffffff80001000");
}

TEST(core_bad_segments)
{
	struct seg s[2] = { good[0], good[2] };
	uint64_t size;

	s[1].vaddr = V + 0x800;                        /* overlaps segment 0 */
	size = build(s, 2, V);
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_STR(err, "segments 0 and 1 overlap at 0xffffffff80000800");

	s[1] = good[2];
	s[1].filesz = 0x6000;                          /* filesz > memsz */
	size = build(s, 2, V);
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "segment 1: filesz 0x6000 > memsz 0x5000");

	s[1] = good[2];
	s[1].offset = 0x3c00;                          /* data beyond the end of the file */
	size = build(s, 2, V);
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_STR(err, "truncated: segment 1 ends at 0x4400, file is 0x4000 bytes");

	size = build(good, 3, V);                      /* program headers cut off */
	CHECK(nv_core_parse(file, 64 + 56 * 2 + 10, &core, err, sizeof(err)) < 0);
	CHECK_STR(err, "truncated: program header 2 ends at 0xe8, file is 0xba bytes");

	s[0].type = 4;                                 /* nothing to load */
	s[1].type = 4;
	size = build(s, 2, V);
	CHECK(nv_core_parse(file, size, &core, err, sizeof(err)) < 0);
	CHECK_STR(err, "no PT_LOAD segments");
}
