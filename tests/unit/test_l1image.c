/* SPDX-License-Identifier: MIT */
/* boot/l1image.c: Multiboot 1 kernels, ELF32 and a.out kludge. */
#include "unit.h"

#include "boot/elf.h"
#include "boot/l1image.h"

#define FILE_SIZE 0x6000

static uint8_t file[FILE_SIZE];
static struct nv_l1_image img;
static char err[256];

struct seg {
	uint32_t type, offset, vaddr, paddr, filesz, memsz;
};

static void put32(uint32_t off, uint32_t v)
{
	memcpy(file + off, &v, 4);
}

/* Multiboot 0.6.96, 3.1.1: magic, flags, checksum, then the address fields. */
static void put_mb(uint32_t off, uint32_t flags)
{
	put32(off, NV_MB_HEADER_MAGIC);
	put32(off + 4, flags);
	put32(off + 8, -(NV_MB_HEADER_MAGIC + flags));
}

static void put_mb_addr(uint32_t off, uint32_t header_addr, uint32_t load_addr,
			uint32_t load_end_addr, uint32_t bss_end_addr, uint32_t entry_addr)
{
	put32(off + 12, header_addr);
	put32(off + 16, load_addr);
	put32(off + 20, load_end_addr);
	put32(off + 24, bss_end_addr);
	put32(off + 28, entry_addr);
}

/* ELF32 i386 executable, program headers at 52, Multiboot header at 0x1000. */
static uint64_t build_elf(const struct seg *s, int n, uint32_t entry, uint32_t mb_flags)
{
	struct nv_elf32_ehdr eh = {
		.ident = { 0x7f, 'E', 'L', 'F', NV_ELFCLASS32, NV_ELFDATA2LSB, NV_EV_CURRENT },
		.type = NV_ET_EXEC, .machine = NV_EM_386, .version = NV_EV_CURRENT,
		.entry = entry, .phoff = sizeof(eh), .ehsize = sizeof(eh),
		.phentsize = sizeof(struct nv_elf32_phdr), .phnum = (uint16_t)n,
	};

	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 13 + 5);
	memset(file, 0, 0x1000);
	memcpy(file, &eh, sizeof(eh));
	for (int i = 0; i < n; i++) {
		struct nv_elf32_phdr ph = { s[i].type, s[i].offset, s[i].vaddr, s[i].paddr,
					    s[i].filesz, s[i].memsz, 7, 0x1000 };

		memcpy(file + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
	put_mb(0x1000, mb_flags);
	return FILE_SIZE;
}

static const struct seg two[] = {
	{ NV_PT_LOAD, 0x1000, 0x100000, 0x100000, 0x2000, 0x2000 },
	{ 0x6474e551 /* PT_GNU_STACK */, 0, 0, 0, 0, 0 },
	{ NV_PT_LOAD, 0x3000, 0x103000, 0x103000, 0x1000, 0x4000 },
};

static int parse(uint64_t size)
{
	err[0] = '\0';
	return nv_l1_parse(file, size, &img, err, sizeof(err));
}

TEST(l1_valid_elf)
{
	CHECK_EQ(parse(build_elf(two, 3, 0x100010, NV_MB_PAGE_ALIGN | NV_MB_MEMORY_INFO)), 0);
	CHECK_STR(err, "");
	CHECK(!img.aout);
	CHECK_EQ(img.mb_offset, 0x1000);
	CHECK_EQ(img.mb_flags, 3);
	CHECK_EQ(img.entry, 0x100010);
	CHECK_EQ(img.nsegs, 2);
	CHECK_EQ(img.segs[0].paddr, 0x100000);
	CHECK_EQ(img.segs[0].offset, 0x1000);
	CHECK_EQ(img.segs[1].paddr, 0x103000);
	CHECK_EQ(img.segs[1].filesz, 0x1000);
	CHECK_EQ(img.segs[1].memsz, 0x4000);
	/* Flag 2 (video mode) is accepted and ignored. */
	CHECK_EQ(parse(build_elf(two, 3, 0x100010, NV_MB_VIDEO_MODE)), 0);
}

TEST(l1_elf_entry_translated)
{
	struct seg s[2] = { two[0], two[2] };

	/* Linked in the higher half, loaded low: the entry becomes physical. */
	s[0].vaddr = 0xc0100000;
	s[1].vaddr = 0xc0103000;
	CHECK_EQ(parse(build_elf(s, 2, 0xc0100020, 0)), 0);
	CHECK_EQ(img.entry, 0x100020);
	/* A physical entry is taken as is. */
	CHECK_EQ(parse(build_elf(s, 2, 0x100020, 0)), 0);
	CHECK_EQ(img.entry, 0x100020);
	/* Neither: not in any segment. */
	CHECK(parse(build_elf(s, 2, 0x200000, 0)) < 0);
	CHECK_STR(err, "entry point 0x200000 is not in the file data of any segment");
	/* Only in bss. */
	CHECK(parse(build_elf(two, 3, 0x105000, 0)) < 0);
	CHECK_CONTAINS(err, "entry point 0x105000");
}

TEST(l1_valid_aout)
{
	/* No ELF at all: the header's address fields say where everything goes. */
	memset(file, 0x90, sizeof(file));
	put_mb(0x40, NV_MB_AOUT_KLUDGE | NV_MB_PAGE_ALIGN);
	put_mb_addr(0x40, 0x100040, 0x100000, 0, 0x110000, 0x100080);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_STR(err, "");
	CHECK(img.aout);
	CHECK_EQ(img.entry, 0x100080);
	CHECK_EQ(img.nsegs, 1);
	CHECK_EQ(img.segs[0].paddr, 0x100000);
	CHECK_EQ(img.segs[0].offset, 0);
	CHECK_EQ(img.segs[0].filesz, FILE_SIZE);
	CHECK_EQ(img.segs[0].memsz, 0x10000);

	/* Loading starts at header offset - (header_addr - load_addr); explicit end, no bss. */
	memset(file, 0, sizeof(file));
	put_mb(0x1040, NV_MB_AOUT_KLUDGE);
	put_mb_addr(0x1040, 0x200040, 0x200000, 0x202000, 0, 0x200100);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.segs[0].offset, 0x1000);
	CHECK_EQ(img.segs[0].filesz, 0x2000);
	CHECK_EQ(img.segs[0].memsz, 0x2000);

	/* Flag 16 wins over the ELF headers, even of a 64-bit ELF (as in QEMU). */
	build_elf(two, 3, 0x100010, NV_MB_AOUT_KLUDGE);
	file[NV_EI_CLASS] = NV_ELFCLASS64;
	put_mb_addr(0x1000, 0x101000, 0x100000, 0, 0, 0x101020);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK(img.aout);
	CHECK_EQ(img.segs[0].filesz, FILE_SIZE);
}

TEST(l1_aout_errors)
{
	memset(file, 0, sizeof(file));
	put_mb(0x40, NV_MB_AOUT_KLUDGE);
	put_mb_addr(0x40, 0x100040, 0x100050, 0, 0, 0x100080);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "load_addr 0x100050 is above header_addr 0x100040");

	put_mb_addr(0x40, 0x100040, 0xff000, 0, 0, 0x100080);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_CONTAINS(err, "reaches before the start of the file");

	put_mb_addr(0x40, 0x100040, 0x100000, 0x108000, 0, 0x100080);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "truncated: load_end_addr 0x108000 needs the file up to 0x8000, file is 0x6000 bytes");

	put_mb_addr(0x40, 0x100040, 0x100000, 0xff000, 0, 0x100080);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_CONTAINS(err, "load_end_addr 0xff000 is below load_addr 0x100000");

	put_mb_addr(0x40, 0x100040, 0x100000, 0x102000, 0x101000, 0x100080);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "bss_end_addr 0x101000 is below the end of the loaded data 0x102000");

	put_mb_addr(0x40, 0x100040, 0x100000, 0x102000, 0, 0x102000);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "entry_addr 0x102000 is outside the loaded image 0x100000-0x102000");

	put_mb_addr(0x40, 0xfffff040, 0xfffff000, 0, 0, 0xfffff080);
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "image 0xfffff000-0x100005000 is not below 4 GiB");
}

TEST(l1_truncated_file)
{
	uint64_t size = build_elf(two, 3, 0x100010, 0);

	CHECK(parse(0x3800) < 0);
	CHECK_STR(err, "truncated: segment 1 (program header 2) ends at 0x4000, file is 0x3800 bytes");
	CHECK(parse(40) < 0);
	CHECK_CONTAINS(err, "no Multiboot header");
	/* Header in place, file cut inside the ELF header. */
	memmove(file + 8, file + 0x1000, 12);
	CHECK(parse(30) < 0);
	CHECK_STR(err, "truncated: ELF header needs 0x34 bytes, file is 0x1e bytes");
	(void)size;
}

TEST(l1_truncated_phdrs)
{
	uint64_t size = build_elf(two, 3, 0x100010, 0);

	put32(28, 0xfd0);   /* e_phoff: the second header runs past 0x100c */
	CHECK(parse(0x1000 + 12) < 0);
	CHECK_STR(err, "truncated: program header 1 ends at 0x1010, file is 0x100c bytes");
	build_elf(two, 3, 0x100010, 0);
	file[44] = 0xff;    /* e_phnum = 0xffff */
	file[45] = 0xff;
	CHECK(parse(size) < 0);
	CHECK_STR(err, "truncated: program header 766 ends at 0x6014, file is 0x6000 bytes");
}

TEST(l1_wrong_machine)
{
	uint64_t size = build_elf(two, 3, 0x100010, 0);

	file[18] = NV_EM_X86_64;
	CHECK(parse(size) < 0);
	CHECK_STR(err, "wrong machine 62, expected 3 (i386)");
	build_elf(two, 3, 0x100010, 0);
	file[16] = 3;       /* ET_DYN */
	CHECK(parse(size) < 0);
	CHECK_STR(err, "ELF type 3, expected 2 (ET_EXEC)");
	build_elf(two, 3, 0x100010, 0);
	file[NV_EI_DATA] = 2;
	CHECK(parse(size) < 0);
	CHECK_CONTAINS(err, "ELF data encoding 2");
}

TEST(l1_elf64)
{
	uint64_t size = build_elf(two, 3, 0x100010, 0);

	file[NV_EI_CLASS] = NV_ELFCLASS64;
	CHECK(parse(size) < 0);
	CHECK_STR(err, "is a 64-bit ELF; Multiboot needs a 32-bit image");
}

TEST(l1_overlapping_segments)
{
	struct seg s[2] = { two[0], two[2] };

	s[1].paddr = 0x101800;
	CHECK(parse(build_elf(s, 2, 0x100010, 0)) < 0);
	CHECK_STR(err, "segments 0 and 1 overlap at 0x101800");
	/* bss counts: memsz, not filesz. */
	s[1] = two[2];
	s[0].memsz = 0x3001;
	CHECK(parse(build_elf(s, 2, 0x100010, 0)) < 0);
	CHECK_STR(err, "segments 0 and 1 overlap at 0x103000");
}

TEST(l1_bad_segments)
{
	struct seg s[2] = { two[0], two[2] };

	s[1].filesz = 0x5000;
	CHECK(parse(build_elf(s, 2, 0x100010, 0)) < 0);
	CHECK_STR(err, "segment 1 (program header 1): filesz 0x5000 > memsz 0x4000");
	s[1] = two[2];
	s[1].paddr = 0xfffff000;
	CHECK(parse(build_elf(s, 2, 0x100010, 0)) < 0);
	CHECK_STR(err, "segment 1 (0xfffff000-0x100003000) is not below 4 GiB");
	s[0].type = s[1].type = 4;
	CHECK(parse(build_elf(s, 2, 0x100010, 0)) < 0);
	CHECK_STR(err, "no PT_LOAD segments");
	build_elf(two, 3, 0x100010, 0);
	file[44] = 0;
	CHECK(parse(FILE_SIZE) < 0);
	CHECK_STR(err, "no program headers");
}

TEST(l1_missing_header)
{
	uint64_t size = build_elf(two, 3, 0x100010, 0);

	memset(file + 0x1000, 0, 12);
	CHECK(parse(size) < 0);
	CHECK_STR(err, "no Multiboot header in the first 8192 bytes");
	/* Misaligned headers do not count. */
	put_mb(0x1002, 0);
	CHECK(parse(size) < 0);
	CHECK_STR(err, "no Multiboot header in the first 8192 bytes");
	/* Not an ELF and no address fields. */
	memset(file, 0, sizeof(file));
	put_mb(0x100, 0);
	CHECK(parse(size) < 0);
	CHECK_STR(err, "not an ELF file, and the Multiboot header has no address fields (flag 16)");
}

TEST(l1_bad_checksum)
{
	uint64_t size = build_elf(two, 3, 0x100010, 0);

	put32(0x1008, 0x12345678);
	CHECK(parse(size) < 0);
	CHECK_CONTAINS(err, "bad Multiboot checksum (header at offset 0x1000");
}

TEST(l1_unsupported_flag)
{
	uint64_t size = build_elf(two, 3, 0x100010, (1u << 3) | NV_MB_PAGE_ALIGN);

	CHECK(parse(size) < 0);
	CHECK_STR(err, "requires unsupported Multiboot feature bit 3 (flags 0x9)");
	build_elf(two, 3, 0x100010, 1u << 15);
	CHECK(parse(size) < 0);
	CHECK_CONTAINS(err, "feature bit 15");
	/* Bits 16..31 other than 16 are optional: ignored. */
	CHECK_EQ(parse(build_elf(two, 3, 0x100010, 1u << 20)), 0);
}

TEST(l1_header_beyond_8192)
{
	uint64_t size = build_elf(two, 3, 0x100010, 0);

	memset(file + 0x1000, 0, 12);
	put_mb(0x2000, 0);
	CHECK(parse(size) < 0);
	CHECK_STR(err, "no Multiboot header in the first 8192 bytes (one at offset 0x2000 is too far in)");
	/* Straddling the limit is too far in as well. */
	memset(file + 0x2000, 0, 12);
	put_mb(0x1ffc, 0);
	CHECK(parse(size) < 0);
	CHECK_CONTAINS(err, "(one at offset 0x1ffc is too far in)");
	/* With the address fields it is 32 bytes long, and must still fit. */
	memset(file + 0x1ffc, 0, 12);
	put_mb(0x1fe8, NV_MB_AOUT_KLUDGE);
	CHECK(parse(size) < 0);
	CHECK_STR(err, "Multiboot header at offset 0x1fe8 is 0x20 bytes with flags 0x10000 and does not fit in the first 8192 bytes");
	/* A short file that ends inside the header. */
	memset(file, 0, sizeof(file));
	put_mb(0x10, NV_MB_AOUT_KLUDGE);
	CHECK(parse(0x20) < 0);
	CHECK_STR(err, "truncated: Multiboot header at offset 0x10 needs 0x20 bytes, file is 0x20 bytes");
}
