/* SPDX-License-Identifier: MIT */
/* L1 placement: layout as QEMU's Multiboot loader does it (Linux: boot.rst's limits too), then checks against a memory map (pure). */
#include "l1plan.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

#define ERR(...) (nv_snprintf(err, errlen, __VA_ARGS__), -1)
#define FOUR_GIB (1ULL << 32)

typedef unsigned long long ull;

static uint64_t page_up(uint64_t x)
{
	return (x + NV_PAGE_SIZE - 1) & ~(NV_PAGE_SIZE - 1);
}

/* The file part of a module string "path args". */
static void first_word(const char *s, char *out, size_t size)
{
	size_t n = 0;

	while (s[n] && s[n] != ' ' && s[n] != '\t')
		n++;
	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* The boot information area by its protocol's name. */
static const char *info_name(const struct nv_l1_plan *plan)
{
	return plan->protocol == NV_L1_PVH     ? "PVH start info area"
	       : plan->protocol == NV_L1_LINUX ? "Linux zero page area"
					       : "Multiboot info area";
}

/* Linux (PVH or bzImage) takes its first module as the initrd. */
static bool is_linux(const struct nv_l1_plan *plan)
{
	return plan->protocol == NV_L1_PVH || plan->protocol == NV_L1_LINUX;
}

/* boot.rst: the initrd below initrd_addr_max, the command line within cmdline_size. */
static int check_linux(const struct nv_l1_plan_input *in, const struct nv_l1_plan *plan,
		       char *err, size_t errlen)
{
	const struct nv_l1_image *img = in->image;
	uint32_t initrd_max = nv_lb_hdr_read(img->linux_hdr, img->linux_hdr_len,
					     LB_INITRD_ADDR_MAX, 4);
	uint32_t cmdline_size = nv_lb_hdr_read(img->linux_hdr, img->linux_hdr_len,
					       LB_CMDLINE_SIZE, 4);
	char file[NV_PATH_MAX];

	if (plan->nmodules && plan->modules[0].end > plan->modules[0].start &&
	    plan->modules[0].end - 1 > initrd_max) {
		first_word(plan->modules[0].string, file, sizeof(file));
		return ERR("%s: initrd, module 0 (0x%llx-0x%llx) ends above the kernel's initrd_addr_max 0x%x",
			   file, (ull)plan->modules[0].start, (ull)plan->modules[0].end, initrd_max);
	}
	if (strlen(plan->cmdline) > cmdline_size)
		return ERR("%s: command line is %zu bytes, the kernel takes at most %u (cmdline_size)",
			   in->path, strlen(plan->cmdline), cmdline_size);
	return 0;
}

int nv_l1_plan_layout(const struct nv_l1_plan_input *in, struct nv_l1_plan *plan, char *err,
		      size_t errlen)
{
	const struct nv_l1_image *img = in->image;
	uint64_t next = 0;
	char file[NV_PATH_MAX];

	memset(plan, 0, sizeof(*plan));
	if (nv_strlcpy(plan->path, in->path, sizeof(plan->path)) >= sizeof(plan->path))
		return ERR("%s: path is too long (max %d bytes)", in->path, NV_PATH_MAX - 1);
	if (img->nsegs + in->nmodules > NV_L1_MAX_COPIES)
		return ERR("%s: %u segments and %u modules are more than %d pieces", in->path,
			   img->nsegs, in->nmodules, NV_L1_MAX_COPIES);
	for (uint32_t i = 0; i < img->nsegs; i++) {
		const struct nv_l1_segment *s = &img->segs[i];

		plan->copies[plan->ncopies++] = (struct nv_l1_copy){
			s->paddr, in->image_phys + s->offset, s->filesz, s->memsz };
		if (s->paddr + s->memsz > next)
			next = s->paddr + s->memsz;
	}
	/* Multiboot 0.6.96, 3.3 "Boot information format": mods_* describe modules
	 * by 32-bit start/end, so they and the info area stay below 4 GiB. */
	for (uint32_t i = 0; i < in->nmodules; i++) {
		const struct nv_l1_plan_module *m = &in->modules[i];
		struct nv_l1_module *pm = &plan->modules[i];

		first_word(m->string, file, sizeof(file));
		next = page_up(next);
		if (m->size > FOUR_GIB || next + m->size > FOUR_GIB)
			return ERR("%s: module %u (0x%llx bytes at 0x%llx) would not end below 4 GiB",
				   file, i, (ull)m->size, (ull)next);
		if (nv_strlcpy(pm->string, m->string, sizeof(pm->string)) >= sizeof(pm->string))
			return ERR("%s: module string is too long (max %d bytes)", file,
				   NV_MODSTR_MAX - 1);
		pm->start = next;
		pm->end = next + m->size;
		plan->copies[plan->ncopies++] = (struct nv_l1_copy){ pm->start, m->phys, m->size, m->size };
		next = pm->end;
	}
	plan->nmodules = in->nmodules;
	plan->protocol = img->protocol;
	plan->mbi_base = page_up(next);
	plan->mbi_size = NV_MBI_SIZE;
	if (plan->mbi_base + plan->mbi_size > FOUR_GIB)
		return ERR("%s: %s at 0x%llx would not end below 4 GiB", in->path, info_name(plan),
			   (ull)plan->mbi_base);
	plan->load_end = plan->mbi_base + plan->mbi_size;
	plan->entry = img->entry;
	plan->mem_limit = in->mem_limit;
	/* QEMU passes a Multiboot kernel its file name first, then -append; Linux only -append. */
	if (is_linux(plan)) {
		if (nv_strlcpy(plan->cmdline, in->cmdline, sizeof(plan->cmdline)) >= sizeof(plan->cmdline))
			return ERR("%s: command line is too long (max %d bytes)", in->path,
				   NV_CMDLINE_MAX - 1);
	} else if (nv_snprintf(plan->cmdline, sizeof(plan->cmdline), "%s%s%s", in->path,
			       in->cmdline[0] ? " " : "", in->cmdline) >= (int)sizeof(plan->cmdline)) {
		return ERR("%s: command line is too long (max %d bytes with the path)", in->path,
			   NV_CMDLINE_MAX - 1);
	}
	if (img->protocol == NV_L1_LINUX) {
		plan->linux_hdr_len = img->linux_hdr_len;
		memcpy(plan->linux_hdr, img->linux_hdr, img->linux_hdr_len);
		return check_linux(in, plan, err, errlen);
	}
	return 0;
}

/* Target i of the plan: copies, then the Multiboot info area. */
struct target {
	uint64_t base, end;
	char file[NV_PATH_MAX];
	char what[32];
};

static uint32_t target_count(const struct nv_l1_plan *plan)
{
	return plan->ncopies + 1;
}

static void get_target(const struct nv_l1_plan *plan, uint32_t i, struct target *t)
{
	uint32_t nsegs = plan->ncopies - plan->nmodules;

	if (i == plan->ncopies) {
		t->base = plan->mbi_base;
		t->end = plan->mbi_base + plan->mbi_size;
		nv_strlcpy(t->file, plan->path, sizeof(t->file));
		nv_strlcpy(t->what, info_name(plan), sizeof(t->what));
		return;
	}
	t->base = plan->copies[i].dst;
	t->end = t->base + plan->copies[i].memsz;
	if (i < nsegs) {
		nv_strlcpy(t->file, plan->path, sizeof(t->file));
		if (plan->protocol == NV_L1_LINUX)
			nv_strlcpy(t->what, "kernel up to init_size", sizeof(t->what));
		else
			nv_snprintf(t->what, sizeof(t->what), "segment %u", i);
	} else {
		first_word(plan->modules[i - nsegs].string, t->file, sizeof(t->file));
		nv_snprintf(t->what, sizeof(t->what), "%s %u",
			    is_linux(plan) && i == nsegs ? "initrd, module" : "module",
			    i - nsegs);
	}
}

uint32_t nv_l1_plan_targets(const struct nv_l1_plan *plan, struct nv_mem_range *out, uint32_t max)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < target_count(plan) && k < max; i++) {
		struct target t;

		get_target(plan, i, &t);
		if (t.end > t.base)
			out[k++] = (struct nv_mem_range){ t.base, t.end - t.base, NV_MEM_USABLE, 0 };
	}
	return k;
}

static const struct nv_mem_range *first_touching(const struct nv_mem_range *map, uint32_t n,
						 uint64_t base, uint64_t end, uint32_t mask)
{
	const struct nv_mem_range *best = NULL;

	for (uint32_t i = 0; i < n; i++) {
		if (map[i].type >= 32 || !(mask & NV_MEM_BIT(map[i].type)))
			continue;
		if (map[i].base < end && base < map[i].base + map[i].size &&
		    (!best || map[i].base < best->base))
			best = &map[i];
	}
	return best;
}

/* The first address of [base, end) that no usable range covers (end if none). */
static uint64_t first_uncovered(const struct nv_mem_range *map, uint32_t n, uint64_t base,
				uint64_t end)
{
	const struct nv_mem_range *r;

	while (base < end && (r = first_touching(map, n, base, base + 1, NV_MEM_BIT(NV_MEM_USABLE))))
		base = r->base + r->size;
	return base;
}

/* "(0xa0000-0x100000 is reserved)" for the part of the map at addr. */
static void describe_gap(const struct nv_mem_range *map, uint32_t n, uint64_t addr, uint64_t end,
			 char *buf, size_t size)
{
	uint64_t hole_end = end;

	for (uint32_t i = 0; i < n; i++) {
		const struct nv_mem_range *r = &map[i];

		if (r->base <= addr && addr < r->base + r->size) {
			uint64_t e = r->base + r->size < end ? r->base + r->size : end;

			nv_snprintf(buf, size, "0x%llx-0x%llx is %s", (ull)addr, (ull)e,
				    nv_mem_type_name(r->type));
			return;
		}
		if (r->base > addr && r->base < hole_end)
			hole_end = r->base;
	}
	nv_snprintf(buf, size, "0x%llx-0x%llx is not in the memory map", (ull)addr, (ull)hole_end);
}

static int check_target(const struct target *t, const struct nv_mem_range *map, uint32_t n,
			uint64_t ram_end, uint64_t mem_limit, char *err, size_t errlen)
{
	const struct nv_mem_range *r;
	uint64_t gap;
	char why[96];

	r = first_touching(map, n, t->base, t->end, NV_MEM_L0_MASK);
	if (r)
		return ERR("%s: %s (0x%llx-0x%llx) overlaps L0 memory at 0x%llx (%s 0x%llx-0x%llx)",
			   t->file, t->what, (ull)t->base, (ull)t->end,
			   (ull)(r->base > t->base ? r->base : t->base), nv_mem_type_name(r->type),
			   (ull)r->base, (ull)(r->base + r->size));
	r = first_touching(map, n, t->base, t->end, NV_MEM_BIT(NV_MEM_L1_STAGING));
	if (r)
		return ERR("%s: %s (0x%llx-0x%llx) overlaps the loader's staging copy at 0x%llx-0x%llx",
			   t->file, t->what, (ull)t->base, (ull)t->end, (ull)r->base,
			   (ull)(r->base + r->size));
	if (t->end > ram_end)
		return ERR("%s: %s (0x%llx-0x%llx) is not in RAM L1 gets (with l1_memory = 0x%llx, L1's RAM ends at 0x%llx)",
			   t->file, t->what, (ull)t->base, (ull)t->end, (ull)mem_limit, (ull)ram_end);
	gap = first_uncovered(map, n, t->base, t->end);
	if (gap < t->end) {
		describe_gap(map, n, gap, t->end, why, sizeof(why));
		return ERR("%s: %s (0x%llx-0x%llx) is not in RAM L1 gets (%s)", t->file, t->what,
			   (ull)t->base, (ull)t->end, why);
	}
	return 0;
}

int nv_l1_plan_check(const struct nv_l1_plan *plan, const struct nv_mem_range *map, uint32_t n,
		     char *err, size_t errlen)
{
	uint64_t ram_end = nv_l1_ram_end(map, n, plan->mem_limit);

	for (uint32_t i = 0; i < target_count(plan); i++) {
		struct target t;

		get_target(plan, i, &t);
		if (t.end > t.base && check_target(&t, map, n, ram_end, plan->mem_limit, err, errlen))
			return -1;
	}
	return 0;
}
