/* SPDX-License-Identifier: MIT */
/* Where L1's kernel, modules and boot info (Multiboot or PVH) go, and whether that is allowed (pure, no UEFI). */
#ifndef NV_BOOT_L1PLAN_H
#define NV_BOOT_L1PLAN_H

#include "l1image.h"

#include <nestvisor/bootinfo.h>
#include <stddef.h>
#include <stdint.h>

#define NV_MBI_SIZE 0x8000ULL   /* bytes reserved for the Multiboot information or PVH start info */

struct nv_l1_plan_module {
	const char *string;     /* "path args" as written in the config */
	uint64_t size;          /* file size */
	uint64_t phys;          /* staging copy, 0 until staged */
};

struct nv_l1_plan_input {
	const struct nv_l1_image *image;
	uint64_t image_phys;    /* staging copy of the whole L1 file, 0 until staged */
	const char *path;       /* L1 path as written in the config */
	const char *cmdline;    /* "" if none */
	uint64_t mem_limit;     /* config l1_memory, 0 = all */
	uint32_t nmodules;
	struct nv_l1_plan_module modules[NV_L1_MAX_MODULES];
};

/*
 * Lay L1 out as QEMU's Multiboot loader does: kernel segments at their
 * addresses, then each module page aligned in order after the kernel's
 * highest byte, then NV_MBI_SIZE bytes of Multiboot information or PVH start info (page
 * aligned). copies[] are the kernel segments, then the modules; their src is
 * computed from the staging addresses in `in`. The targets do not depend on
 * staging, so lay out once to learn them, stage, and lay out again.
 * Returns 0, or -1 with "<file>: <problem>".
 */
int nv_l1_plan_layout(const struct nv_l1_plan_input *in, struct nv_l1_plan *plan, char *err,
		      size_t errlen);

/* The non-empty target ranges (type NV_MEM_USABLE) into out[max]; returns the count. */
uint32_t nv_l1_plan_targets(const struct nv_l1_plan *plan, struct nv_mem_range *out, uint32_t max);

/*
 * Every target must lie in NV_MEM_USABLE RAM of map (a normalized nv map),
 * below nv_l1_ram_end(map, plan->mem_limit), touching no L0 and no staging
 * range. Returns 0, or -1 with "<file>: <target> (<range>) <problem>".
 */
int nv_l1_plan_check(const struct nv_l1_plan *plan, const struct nv_mem_range *map, uint32_t n,
		     char *err, size_t errlen);

#endif
