/* SPDX-License-Identifier: MIT */
/*
 * boot/l1bzimage.c through nv_l1_parse, and its placement (boot/l1plan.c):
 * synthetic setup headers for every refusal, and Debian's bzImage
 * (build/linux/vmlinuz, or $NV_BZIMAGE) when it has been built.
 */
#include "unit.h"

#include "boot/l1image.h"
#include "boot/l1plan.h"

#include <nestvisor/linux_boot.h>
#include <nestvisor/memmap.h>
#include <stdlib.h>

#define FILE_SIZE 0x10000
#define SETUP_SECTS 3                       /* protected-mode code at 0x800 */
#define PM_OFFSET ((SETUP_SECTS + 1) * 512)

static uint8_t file[FILE_SIZE];
static struct nv_l1_image img;
static char err[320];

static void put(uint32_t off, uint64_t v, uint32_t bytes)
{
	for (uint32_t i = 0; i < bytes; i++)
		file[off + i] = (uint8_t)(v >> (8 * i));
}

/* A bzImage as Debian 12's 6.1 has it (protocol 2.15), shrunk: 0xf800 bytes of kernel. */
static void build(void)
{
	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 7 + 3);
	memset(file + LB_SETUP_SECTS, 0, LB_HDR_END - LB_SETUP_SECTS);
	put(LB_SETUP_SECTS, SETUP_SECTS, 1);
	put(LB_SYSSIZE, (FILE_SIZE - PM_OFFSET) / 16, 4);
	put(LB_BOOT_FLAG, LB_BOOT_FLAG_MAGIC, 2);
	put(LB_JUMP, 0x6aeb, 2);                 /* jmp to 0x26c: the 2.15 header */
	put(LB_HEADER, LB_HDRS_MAGIC, 4);
	put(LB_VERSION, 0x020f, 2);
	put(LB_LOADFLAGS, LB_LOADED_HIGH, 1);
	put(LB_CODE32_START, 0x100000, 4);
	put(LB_HEAP_END_PTR, 0x1234, 2);
	put(LB_INITRD_ADDR_MAX, 0x7fffffff, 4);
	put(LB_KERNEL_ALIGNMENT, 0x200000, 4);
	put(LB_RELOCATABLE_KERNEL, 1, 1);
	put(LB_XLOADFLAGS, 0x7f, 2);
	put(LB_CMDLINE_SIZE, 0x7ff, 4);
	put(LB_PREF_ADDRESS, 0x1000000, 8);
	put(LB_INIT_SIZE, 0x400000, 4);
	err[0] = '\0';
}

static int parse(uint64_t size)
{
	return nv_l1_parse(file, size, &img, err, sizeof(err));
}

TEST(bzimage_accepted)
{
	build();
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_STR(err, "");
	CHECK_EQ(img.protocol, NV_L1_LINUX);
	CHECK_EQ(img.entry, 0x1000000);
	CHECK_EQ(img.nsegs, 1);
	CHECK_EQ(img.segs[0].paddr, 0x1000000);
	CHECK_EQ(img.segs[0].offset, PM_OFFSET);
	CHECK_EQ(img.segs[0].filesz, FILE_SIZE - PM_OFFSET);
	CHECK_EQ(img.segs[0].memsz, 0x400000);     /* init_size */
	CHECK_EQ(img.linux_hdr_len, 0x26c - LB_SETUP_SECTS);
	CHECK(memcmp(img.linux_hdr, file + LB_SETUP_SECTS, img.linux_hdr_len) == 0);
	CHECK_EQ(nv_lb_hdr_read(img.linux_hdr, img.linux_hdr_len, LB_INIT_SIZE, 4), 0x400000);
	CHECK_EQ(nv_lb_hdr_read(img.linux_hdr, img.linux_hdr_len, LB_XLOADFLAGS, 2), 0x7f);
	/* Past the header: read as 0. */
	CHECK_EQ(nv_lb_hdr_read(img.linux_hdr, img.linux_hdr_len, 0x26c, 4), 0);
}

TEST(bzimage_trailing_signature_not_loaded)
{
	build();
	/* Debian's vmlinuz is signed: the signature follows syssize * 16 bytes. */
	put(LB_SYSSIZE, (FILE_SIZE - PM_OFFSET - 0x600) / 16, 4);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.segs[0].filesz, FILE_SIZE - PM_OFFSET - 0x600);
}

TEST(bzimage_placement)
{
	build();
	/* setup_sects 0 means 4. */
	put(LB_SETUP_SECTS, 0, 1);
	put(LB_SYSSIZE, (FILE_SIZE - 5 * 512) / 16, 4);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.segs[0].offset, 5 * 512);
	build();
	/* Relocatable: pref_address aligned up to kernel_alignment. */
	put(LB_PREF_ADDRESS, 0x1080000, 8);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.entry, 0x1200000);
	CHECK_EQ(img.segs[0].paddr, 0x1200000);
	/* Not relocatable: exactly pref_address. */
	put(LB_RELOCATABLE_KERNEL, 0, 1);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.entry, 0x1080000);
	/* No pref_address: 1 MiB, as before protocol 2.10. */
	put(LB_PREF_ADDRESS, 0, 8);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.entry, 0x100000);
	/* init_size below the file's kernel: memsz is the file's. */
	put(LB_INIT_SIZE, 0x100, 4);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.segs[0].memsz, FILE_SIZE - PM_OFFSET);
	/* A jump past the boot_params header: only that much is copied. */
	build();
	put(LB_JUMP + 1, 0xa0, 1);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(img.linux_hdr_len, LB_HDR_MAX);
}

TEST(bzimage_truncated)
{
	build();
	CHECK_EQ(parse(0x207), -1);
	CHECK_STR(err, "truncated: the setup header needs 0x208 bytes, file is 0x207 bytes");
	CHECK_EQ(parse(0x240), -1);
	CHECK_STR(err, "truncated: the setup header ends at 0x26c, file is 0x240 bytes");
	CHECK_EQ(parse(FILE_SIZE - 1), -1);
	CHECK_STR(err, "truncated: the protected-mode kernel (setup_sects 3, syssize 0xf80 paragraphs) ends at 0x10000, file is 0xffff bytes");
	put(LB_SETUP_SECTS, 0xff, 1);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_CONTAINS(err, "truncated: the protected-mode kernel (setup_sects 255");
}

TEST(bzimage_not_a_bzimage)
{
	build();
	put(LB_BOOT_FLAG, 0x1234, 2);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_STR(err, "not a Linux bzImage: boot_flag at 0x1fe is 0x1234, expected 0xaa55");
	build();
	put(LB_LOADFLAGS, 0, 1);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_STR(err, "not a bzImage: loadflags 0x0 lack LOADED_HIGH (a zImage, loaded at 0x10000, is not supported)");
	build();
	put(LB_SYSSIZE, 0, 4);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_STR(err, "not a bzImage: syssize is 0 (no protected-mode kernel)");
	build();
	put(LB_JUMP + 1, 0x50, 1);               /* the header ends at 0x252 */
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_STR(err, "not a Linux bzImage: setup header ends at 0x252 (its jump at 0x200), before init_size at 0x260");
	/* Without "HdrS" it is no bzImage at all: the Multiboot search says so. */
	build();
	put(LB_HEADER, 0, 4);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_CONTAINS(err, "no Multiboot header");
	CHECK_EQ(nv_l1_parse_bzimage(file, FILE_SIZE, &img, err, sizeof(err)), -1);
	CHECK_STR(err, "not a Linux bzImage: no \"HdrS\" at offset 0x202");
}

TEST(bzimage_protocol_too_old)
{
	build();
	put(LB_VERSION, 0x020b, 2);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_STR(err, "Linux boot protocol 2.11 is too old: nestvisor needs 2.12 or later (pref_address, init_size, xloadflags)");
	put(LB_VERSION, 0x020c, 2);
	CHECK_EQ(parse(FILE_SIZE), 0);
}

TEST(bzimage_bad_placement)
{
	build();
	put(LB_KERNEL_ALIGNMENT, 0x300000, 4);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_STR(err, "relocatable kernel with kernel_alignment 0x300000, not a power of two");
	build();
	put(LB_PREF_ADDRESS, 0x100000000ull, 8);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_STR(err, "load address 0x100000000 (pref_address) is not below 4 GiB");
	build();
	put(LB_PREF_ADDRESS, 0xffe00000, 8);
	CHECK_EQ(parse(FILE_SIZE), -1);
	CHECK_STR(err, "segment 0 (0xffe00000-0x100200000) is not below 4 GiB");
}

/* -- placement: boot/l1plan.c with a bzImage ------------------------------ */

static const struct nv_mem_range map[] = {
	{ 0x0, 0x9f000, NV_MEM_USABLE, 0 },
	{ 0x9f000, 0x61000, NV_MEM_RESERVED, 0 },
	{ 0x100000, 0x7f00000, NV_MEM_USABLE, 0 },       /* to 128 MiB */
};
#define NMAP (sizeof(map) / sizeof(map[0]))

static struct nv_l1_plan_input in;
static struct nv_l1_plan plan;

static void plan_setup(void)
{
	build();
	CHECK_EQ(parse(FILE_SIZE), 0);
	memset(&in, 0, sizeof(in));
	in.image = &img;
	in.path = "\\nestvisor\\vmlinuz";
	in.cmdline = "console=ttyS0 rdinit=/init";
	in.nmodules = 1;
	in.modules[0] = (struct nv_l1_plan_module){ "\\nestvisor\\initramfs.cpio", 0x123456, 0 };
}

static int layout_and_check(void)
{
	if (nv_l1_plan_layout(&in, &plan, err, sizeof(err)))
		return -1;
	return nv_l1_plan_check(&plan, map, NMAP, err, sizeof(err));
}

TEST(bzimage_plan_layout)
{
	plan_setup();
	CHECK_EQ(layout_and_check(), 0);
	CHECK_STR(err, "");
	CHECK_EQ(plan.protocol, NV_L1_LINUX);
	CHECK_EQ(plan.entry, 0x1000000);
	CHECK_EQ(plan.ncopies, 2);
	CHECK_EQ(plan.copies[0].dst, 0x1000000);
	CHECK_EQ(plan.copies[0].memsz, 0x400000);
	/* The initrd after init_size, then the zero page area. */
	CHECK_EQ(plan.modules[0].start, 0x1400000);
	CHECK_EQ(plan.modules[0].end, 0x1523456);
	CHECK_EQ(plan.mbi_base, 0x1524000);
	/* Linux gets -append only, not the file name. */
	CHECK_STR(plan.cmdline, "console=ttyS0 rdinit=/init");
	CHECK_EQ(plan.linux_hdr_len, img.linux_hdr_len);
	CHECK(memcmp(plan.linux_hdr, img.linux_hdr, img.linux_hdr_len) == 0);
}

TEST(bzimage_plan_init_size_does_not_fit)
{
	plan_setup();
	put(LB_INIT_SIZE, 0x8000000, 4);   /* 128 MiB from 16 MiB: past RAM */
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(layout_and_check(), -1);
	CHECK_STR(err, "\\nestvisor\\vmlinuz: kernel up to init_size (0x1000000-0x9000000) is not in RAM L1 gets (0x8000000-0x9000000 is not in the memory map)");
	/* The same with l1_memory. */
	plan_setup();
	in.mem_limit = 0x1000000;
	CHECK_EQ(layout_and_check(), -1);
	CHECK_CONTAINS(err, "\\nestvisor\\vmlinuz: kernel up to init_size (0x1000000-0x1400000) is not in RAM L1 gets (with l1_memory = 0x1000000");
}

TEST(bzimage_plan_initrd)
{
	plan_setup();
	in.modules[0].size = 0x8000000;
	CHECK_EQ(layout_and_check(), -1);
	CHECK_STR(err, "\\nestvisor\\initramfs.cpio: initrd, module 0 (0x1400000-0x9400000) is not in RAM L1 gets (0x8000000-0x9400000 is not in the memory map)");
	/* initrd_addr_max: the last byte may be there, not beyond. */
	plan_setup();
	put(LB_INITRD_ADDR_MAX, 0x1523455, 4);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(layout_and_check(), 0);
	put(LB_INITRD_ADDR_MAX, 0x1523454, 4);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(layout_and_check(), -1);
	CHECK_STR(err, "\\nestvisor\\initramfs.cpio: initrd, module 0 (0x1400000-0x1523456) ends above the kernel's initrd_addr_max 0x1523454");
	/* An empty initrd occupies nothing. */
	in.modules[0].size = 0;
	CHECK_EQ(layout_and_check(), 0);
}

TEST(bzimage_plan_cmdline_size)
{
	static char longer[0x900];

	plan_setup();
	put(LB_CMDLINE_SIZE, 10, 4);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(layout_and_check(), -1);
	CHECK_STR(err, "\\nestvisor\\vmlinuz: command line is 26 bytes, the kernel takes at most 10 (cmdline_size)");
	put(LB_CMDLINE_SIZE, 26, 4);
	CHECK_EQ(parse(FILE_SIZE), 0);
	CHECK_EQ(layout_and_check(), 0);
	/* Beyond nestvisor's own limit, whatever the kernel takes. */
	memset(longer, 'x', sizeof(longer) - 1);
	in.cmdline = longer;
	CHECK_EQ(layout_and_check(), -1);
	CHECK_STR(err, "\\nestvisor\\vmlinuz: command line is too long (max 1023 bytes)");
}

/* -- Debian's bzImage, when make linux-image has kept it ------------------ */

static uint8_t *read_all(const char *path, uint64_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*size = (uint64_t)n;
	return buf;
}

TEST(bzimage_debian)
{
	const char *path = getenv("NV_BZIMAGE") ? getenv("NV_BZIMAGE") : "build/linux/vmlinuz";
	uint64_t size, pm_offset, syssize;
	uint8_t *f = read_all(path, &size);

	if (!f) {
		printf("note: %s not found (make linux-image): Debian's bzImage not checked\n", path);
		return;
	}
	err[0] = '\0';
	CHECK_EQ(nv_l1_parse(f, size, &img, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(img.protocol, NV_L1_LINUX);
	pm_offset = ((uint64_t)f[LB_SETUP_SECTS] + 1) * 512;
	memcpy(&syssize, f + LB_SYSSIZE, 4);
	syssize &= 0xffffffffu;
	CHECK_EQ(img.segs[0].offset, pm_offset);
	CHECK_EQ(img.segs[0].filesz, syssize * 16);
	CHECK(pm_offset + syssize * 16 <= size);
	/* Debian 12's 6.1: protocol 2.15, relocatable, 16 MiB, 64-bit entry offered. */
	CHECK(nv_lb_hdr_read(img.linux_hdr, img.linux_hdr_len, LB_VERSION, 2) >= 0x020f);
	CHECK_EQ(img.entry, 0x1000000);
	CHECK(img.segs[0].memsz >= img.segs[0].filesz);
	CHECK(nv_lb_hdr_read(img.linux_hdr, img.linux_hdr_len, LB_XLOADFLAGS, 2) &
	      LB_XLF_KERNEL_64);
	/* Every refusal on the real file: cut inside the kernel, no boot flag. */
	CHECK_EQ(nv_l1_parse(f, pm_offset + 0x1000, &img, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "truncated: the protected-mode kernel");
	f[LB_LOADFLAGS] &= (uint8_t)~LB_LOADED_HIGH;
	CHECK_EQ(nv_l1_parse(f, size, &img, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "lack LOADED_HIGH");
	free(f);
}
