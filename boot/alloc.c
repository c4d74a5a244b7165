/* SPDX-License-Identifier: MIT */
/*
 * Typed page allocation (UEFI 2.9, 7.2 "EFI_BOOT_SERVICES.AllocatePages()"):
 * every range the loader hands to the core carries an OS-loader memory type
 * NV_EFI_TYPE(t), so the final memory map names it. Ranges L1 will occupy
 * are avoided by keeping unsuitable results allocated while retrying.
 */
#include "boot.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

#define MAX_TRACKED  32
#define MAX_TRIES    32
#define BELOW_4G     0xffffffffULL   /* AllocateMaxAddress: highest address allowed */

typedef unsigned long long ull;

struct block {
	uint64_t phys;
	uint64_t pages;
};

static struct block tracked[MAX_TRACKED];
static uint32_t ntracked;

static void free_block(struct block b)
{
	if (b.pages)
		uefi_call_wrapper(nv_bs->FreePages, 2, b.phys, b.pages);
}

/* Prefer memory below 4 GiB; take any if there is none. */
static EFI_STATUS alloc_raw(uint32_t nv_type, uint64_t pages, uint64_t *phys)
{
	EFI_PHYSICAL_ADDRESS addr = BELOW_4G;
	EFI_STATUS st;

	st = uefi_call_wrapper(nv_bs->AllocatePages, 4, AllocateMaxAddress,
			       (EFI_MEMORY_TYPE)NV_EFI_TYPE(nv_type), pages, &addr);
	if (st == EFI_OUT_OF_RESOURCES || st == EFI_NOT_FOUND) {
		addr = 0;
		st = uefi_call_wrapper(nv_bs->AllocatePages, 4, AllocateAnyPages,
				       (EFI_MEMORY_TYPE)NV_EFI_TYPE(nv_type), pages, &addr);
	}
	*phys = addr;
	return st;
}

EFI_STATUS nv_alloc_pages(uint32_t nv_type, uint64_t bytes, uint64_t align,
			  const struct nv_mem_range *avoid, uint32_t navoid, uint64_t *phys,
			  char *err, size_t errlen)
{
	uint64_t pages = (bytes + NV_PAGE_SIZE - 1) / NV_PAGE_SIZE;
	uint64_t slack = align > NV_PAGE_SIZE ? (align - NV_PAGE_SIZE) / NV_PAGE_SIZE : 0;
	struct block rejected[MAX_TRIES];
	uint32_t nrejected = 0;
	EFI_STATUS st = EFI_OUT_OF_RESOURCES;

	if (ntracked == MAX_TRACKED) {
		nv_snprintf(err, errlen, "more than %d allocations", MAX_TRACKED);
		return EFI_OUT_OF_RESOURCES;
	}
	if (pages == 0)
		pages = 1;
	for (uint32_t t = 0; t < MAX_TRIES; t++) {
		struct block got = { 0, pages + slack };
		uint64_t base;

		st = alloc_raw(nv_type, got.pages, &got.phys);
		if (EFI_ERROR(st)) {
			nv_snprintf(err, errlen, "AllocatePages(0x%llx bytes, %s): %s", (ull)bytes,
				    nv_mem_type_name(nv_type), nv_efi_status_name(st));
			break;
		}
		base = align > NV_PAGE_SIZE ? (got.phys + align - 1) & ~(align - 1) : got.phys;
		if (nv_mmap_touches(avoid, navoid, base, pages * NV_PAGE_SIZE, ~0u)) {
			rejected[nrejected++] = got;    /* keep it, so the next try lands elsewhere */
			st = EFI_OUT_OF_RESOURCES;
			nv_snprintf(err, errlen, "AllocatePages(0x%llx bytes, %s): %u tries all overlapped L1's ranges",
				    (ull)bytes, nv_mem_type_name(nv_type), MAX_TRIES);
			continue;
		}
		/* Give back the alignment slack on both sides. */
		free_block((struct block){ got.phys, (base - got.phys) / NV_PAGE_SIZE });
		free_block((struct block){ base + pages * NV_PAGE_SIZE,
					   got.pages - pages - (base - got.phys) / NV_PAGE_SIZE });
		tracked[ntracked++] = (struct block){ base, pages };
		*phys = base;
		break;
	}
	while (nrejected)
		free_block(rejected[--nrejected]);
	return st;
}

void nv_alloc_free_all(void)
{
	while (ntracked)
		free_block(tracked[--ntracked]);
}
