/* SPDX-License-Identifier: MIT */
/* boot/l1plan.c: L1 layout (as QEMU's Multiboot loader) and its checks against a map. */
#include "unit.h"

#include "boot/l1plan.h"

#include <nestvisor/memmap.h>

static struct nv_l1_image img;
static struct nv_l1_plan_input in;
static struct nv_l1_plan plan;
static char err[320];

static const struct nv_mem_range base_map[] = {
	{ 0x0, 0x9f000, NV_MEM_USABLE, 0 },
	{ 0x9f000, 0x61000, NV_MEM_RESERVED, 0 },
	{ 0x100000, 0x7f00000, NV_MEM_USABLE, 0 },       /* to 128 MiB */
	{ 0xfee00000, 0x1000, NV_MEM_MMIO, 0 },
};
static struct nv_mem_range map[16];
static uint32_t nmap;

static void setup(void)
{
	memset(&img, 0, sizeof(img));
	img.entry = 0x100010;
	img.nsegs = 2;
	img.segs[0] = (struct nv_l1_segment){ 0x100000, 0x1000, 0x2000, 0x2000 };
	img.segs[1] = (struct nv_l1_segment){ 0x103000, 0x3000, 0x1000, 0x4000 };
	memset(&in, 0, sizeof(in));
	in.image = &img;
	in.path = "\\k.elf";
	in.cmdline = "console=ttyS0";
	in.nmodules = 3;
	in.modules[0] = (struct nv_l1_plan_module){ "/initrd.img root=/dev/ram0", 0x1234, 0 };
	in.modules[1] = (struct nv_l1_plan_module){ "\\tiny", 0x10, 0 };
	in.modules[2] = (struct nv_l1_plan_module){ "\\empty x", 0, 0 };
	memcpy(map, base_map, sizeof(base_map));
	nmap = sizeof(base_map) / sizeof(base_map[0]);
	err[0] = '\0';
}

static void add_range(uint64_t base, uint64_t size, uint32_t type)
{
	map[nmap++] = (struct nv_mem_range){ base, size, type, 0 };
	nmap = nv_mmap_normalize(map, nmap, 16);
}

static int layout_and_check(void)
{
	if (nv_l1_plan_layout(&in, &plan, err, sizeof(err)))
		return -1;
	return nv_l1_plan_check(&plan, map, nmap, err, sizeof(err));
}

TEST(plan_normal_layout)
{
	struct nv_mem_range t[NV_L1_MAX_COPIES + 1];

	setup();
	CHECK_EQ(layout_and_check(), 0);
	CHECK_STR(err, "");
	CHECK_EQ(plan.entry, 0x100010);
	CHECK_EQ(plan.ncopies, 5);
	CHECK_EQ(plan.nmodules, 3);
	CHECK_EQ(plan.copies[1].dst, 0x103000);
	CHECK_EQ(plan.copies[1].memsz, 0x4000);
	/* Modules page aligned after the kernel's highest byte (0x107000), in order. */
	CHECK_EQ(plan.modules[0].start, 0x107000);
	CHECK_EQ(plan.modules[0].end, 0x108234);
	CHECK_STR(plan.modules[0].string, "/initrd.img root=/dev/ram0");
	CHECK_EQ(plan.modules[1].start, 0x109000);
	CHECK_EQ(plan.modules[1].end, 0x109010);
	CHECK_EQ(plan.modules[2].start, 0x10a000);
	CHECK_EQ(plan.modules[2].end, 0x10a000);
	CHECK_EQ(plan.copies[3].dst, 0x109000);
	CHECK_EQ(plan.copies[3].filesz, 0x10);
	/* Multiboot info after the last module. */
	CHECK_EQ(plan.mbi_base, 0x10a000);
	CHECK_EQ(plan.mbi_size, NV_MBI_SIZE);
	CHECK_EQ(plan.load_end, 0x112000);
	CHECK_STR(plan.cmdline, "\\k.elf console=ttyS0");
	CHECK_STR(plan.path, "\\k.elf");
	CHECK_EQ(plan.mem_limit, 0);

	/* Targets: 2 segments, 2 non-empty modules, the info area. */
	CHECK_EQ(nv_l1_plan_targets(&plan, t, NV_L1_MAX_COPIES + 1), 5);
	CHECK_EQ(t[3].base, 0x109000);
	CHECK_EQ(t[4].base, 0x10a000);
	CHECK_EQ(t[4].size, NV_MBI_SIZE);

	/* Staged: the sources follow, the targets do not move. */
	in.image_phys = 0x5000000;
	in.modules[0].phys = 0x6000000;
	in.modules[1].phys = 0x6100000;
	CHECK_EQ(layout_and_check(), 0);
	CHECK_EQ(plan.copies[0].src, 0x5001000);
	CHECK_EQ(plan.copies[1].src, 0x5003000);
	CHECK_EQ(plan.copies[2].src, 0x6000000);
	CHECK_EQ(plan.copies[3].src, 0x6100000);
	CHECK_EQ(plan.modules[0].start, 0x107000);
}

TEST(plan_cmdline_and_no_modules)
{
	setup();
	in.cmdline = "";
	in.nmodules = 0;
	CHECK_EQ(layout_and_check(), 0);
	CHECK_STR(plan.cmdline, "\\k.elf");
	CHECK_EQ(plan.mbi_base, 0x107000);
	CHECK_EQ(plan.ncopies, 2);
}

TEST(plan_segment_over_l0)
{
	setup();
	add_range(0x104000, 0x1000, NV_MEM_L0_POOL);
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\k.elf: segment 1 (0x103000-0x107000) overlaps L0 memory at 0x104000 (l0-pool 0x104000-0x105000)");
	setup();
	add_range(0x10b000, 0x2000, NV_MEM_L0_BOOT);
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\k.elf: Multiboot info area (0x10a000-0x112000) overlaps L0 memory at 0x10b000 (l0-boot 0x10b000-0x10d000)");
}

TEST(plan_over_staging)
{
	setup();
	add_range(0x108000, 0x1000, NV_MEM_L1_STAGING);
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "/initrd.img: module 0 (0x107000-0x108234) overlaps the loader's staging copy at 0x108000-0x109000");
}

TEST(plan_segment_outside_ram)
{
	setup();
	img.segs[0] = (struct nv_l1_segment){ 0xf0000, 0x1000, 0x2000, 0x12000 };
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\k.elf: segment 0 (0xf0000-0x102000) is not in RAM L1 gets (0xf0000-0x100000 is reserved)");
	/* A hole in the map. */
	setup();
	map[2].base = 0x102000;
	map[2].size -= 0x2000;
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\k.elf: segment 0 (0x100000-0x102000) is not in RAM L1 gets (0x100000-0x102000 is not in the memory map)");
	/* Firmware runtime memory is not RAM L1 gets either. */
	setup();
	add_range(0x104000, 0x1000, NV_MEM_FW_RUNTIME);
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\k.elf: segment 1 (0x103000-0x107000) is not in RAM L1 gets (0x104000-0x105000 is fw-runtime)");
}

TEST(plan_over_mem_limit)
{
	setup();
	/* 2 MiB of L1 RAM: 0x9f000 below 1 MiB, the rest from 1 MiB: ends at 0x261000. */
	in.mem_limit = 2ULL << 20;
	in.modules[1].size = 0x200000;
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\tiny: module 1 (0x109000-0x309000) is not in RAM L1 gets (with l1_memory = 0x200000, L1's RAM ends at 0x261000)");
	in.modules[1].size = 0x10;
	in.mem_limit = 0x9f000 + 0x12000;   /* RAM ends exactly at the end of the info area */
	CHECK_EQ(layout_and_check(), 0);
	CHECK_EQ(plan.mem_limit, 0xb1000);
	in.mem_limit = 0x9f000 + 0x11000;   /* the info area's last page is cut off */
	CHECK(layout_and_check() < 0);
	CHECK_CONTAINS(err, "\\k.elf: Multiboot info area (0x10a000-0x112000) is not in RAM L1 gets");
}

TEST(plan_module_does_not_fit)
{
	setup();
	in.modules[0].size = 0x8000000;     /* runs past the end of RAM at 128 MiB */
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "/initrd.img: module 0 (0x107000-0x8107000) is not in RAM L1 gets (0x8000000-0x8107000 is not in the memory map)");
	setup();
	in.modules[1].size = 0xfff00000;    /* cannot end below 4 GiB */
	CHECK(nv_l1_plan_layout(&in, &plan, err, sizeof(err)) < 0);
	CHECK_STR(err, "\\tiny: module 1 (0xfff00000 bytes at 0x109000) would not end below 4 GiB");
	setup();
	in.modules[2].size = 0xffef0000;    /* fits, but the info area does not */
	CHECK(nv_l1_plan_layout(&in, &plan, err, sizeof(err)) < 0);
	CHECK_STR(err, "\\k.elf: Multiboot info area at 0xffffa000 would not end below 4 GiB");
}

TEST(plan_long_strings)
{
	char longcmd[NV_CMDLINE_MAX];

	setup();
	memset(longcmd, 'x', sizeof(longcmd));
	longcmd[NV_CMDLINE_MAX - 7] = '\0';  /* "\k.elf " + 1017 = 1024: one too many */
	in.cmdline = longcmd;
	CHECK(nv_l1_plan_layout(&in, &plan, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "\\k.elf: command line is too long");
	longcmd[NV_CMDLINE_MAX - 8] = '\0';
	CHECK_EQ(nv_l1_plan_layout(&in, &plan, err, sizeof(err)), 0);
	CHECK_EQ(strlen(plan.cmdline), NV_CMDLINE_MAX - 1);
}

/* A PVH kernel (Linux's vmlinux): the same layout, its own names and command line. */
TEST(plan_pvh_layout)
{
	setup();
	img.protocol = NV_L1_PVH;
	in.path = "\\vmlinux";
	in.cmdline = "console=ttyS0 rdinit=/init";
	CHECK_EQ(layout_and_check(), 0);
	CHECK_EQ(plan.protocol, NV_L1_PVH);
	CHECK_EQ(plan.entry, 0x100010);
	/* QEMU passes a PVH kernel only -append, without the file name. */
	CHECK_STR(plan.cmdline, "console=ttyS0 rdinit=/init");
	CHECK_EQ(plan.modules[0].start, 0x107000);
	CHECK_EQ(plan.mbi_base, 0x10a000);
	CHECK_EQ(plan.mbi_size, NV_MBI_SIZE);

	/* An empty command line is empty. */
	in.cmdline = "";
	CHECK_EQ(layout_and_check(), 0);
	CHECK_STR(plan.cmdline, "");

	/* Multiboot keeps its protocol (0). */
	img.protocol = NV_L1_MULTIBOOT;
	CHECK_EQ(layout_and_check(), 0);
	CHECK_EQ(plan.protocol, NV_L1_MULTIBOOT);
	CHECK_STR(plan.cmdline, "\\vmlinux");
}

TEST(plan_pvh_errors)
{
	char big[NV_CMDLINE_MAX + 1];

	/* The initrd (module 0) beyond l1_memory names the file and says initrd. */
	setup();
	img.protocol = NV_L1_PVH;
	in.path = "\\vmlinux";
	in.modules[0].size = 0x300000;
	in.mem_limit = 2ULL << 20;
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "/initrd.img: initrd, module 0 (0x107000-0x407000) is not in RAM L1 gets (with l1_memory = 0x200000, L1's RAM ends at 0x261000)");

	/* A later module is only a module. */
	setup();
	img.protocol = NV_L1_PVH;
	in.modules[1].size = 0x300000;
	in.mem_limit = 2ULL << 20;
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\tiny: module 1 (0x109000-0x409000) is not in RAM L1 gets (with l1_memory = 0x200000, L1's RAM ends at 0x261000)");

	/* The start info area over L0 memory. */
	setup();
	img.protocol = NV_L1_PVH;
	add_range(0x10b000, 0x1000, NV_MEM_L0_BOOT);
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\k.elf: PVH start info area (0x10a000-0x112000) overlaps L0 memory at 0x10b000 (l0-boot 0x10b000-0x10c000)");

	/* A segment outside L1's memory. */
	setup();
	img.protocol = NV_L1_PVH;
	img.segs[1].paddr = 0x9000000;   /* beyond 128 MiB of RAM */
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\k.elf: segment 1 (0x9000000-0x9004000) is not in RAM L1 gets (0x9000000-0x9004000 is not in the memory map)");

	/* A command line that does not fit (PVH passes it without the path). */
	setup();
	img.protocol = NV_L1_PVH;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	in.cmdline = big;
	CHECK(layout_and_check() < 0);
	CHECK_STR(err, "\\k.elf: command line is too long (max 1023 bytes)");
	big[NV_CMDLINE_MAX - 1] = '\0';
	CHECK_EQ(layout_and_check(), 0);
}
