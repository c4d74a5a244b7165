/* SPDX-License-Identifier: MIT */
/*
 * BOOTX64.EFI: read nestvisor.cfg, the core and L1 from the ESP, check
 * everything, place the core, stage L1, build the boot info and hand-over
 * page tables, exit boot services and jump to the core.
 */
#include "boot.h"

#include "config.h"
#include "coreimage.h"
#include "efimap.h"
#include "l1image.h"
#include "l1plan.h"
#include "pagetable.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

#define CONFIG_FILE_MAX  (64ULL << 10)
#define CORE_FILE_MAX    (256ULL << 20)
#define L1_FILE_MAX      (1ULL << 30)
#define SIZE_2M          (2ULL << 20)
#define ERROR_PAUSE_US   3000000        /* time to read an error before the firmware moves on */

typedef unsigned long long ull;

struct loader {
	EFI_HANDLE image;
	EFI_FILE_HANDLE root;
	struct nv_config cfg;
	void *cfg_text;
	uint64_t cfg_size;
	void *core_file;
	uint64_t core_file_size;
	struct nv_core_image core;
	void *l1_file;
	uint64_t l1_file_size;
	struct nv_l1_image l1;
	struct nv_l1_plan_input in;
	struct nv_l1_plan plan;         /* layout before staging: the targets to avoid */
	struct nv_mem_range targets[NV_L1_MAX_COPIES + 1];
	uint32_t ntargets;
	struct nv_mem_range map[NV_MMAP_MAX];
	uint32_t nmap;
	struct nv_pt_params pt;
	uint32_t pt_pages;
	uint64_t bi_bytes;
	uint64_t core_phys, pool_phys, boot_phys, l1_phys;
	uint64_t cr3;
	struct nv_bootinfo *bi;
	struct nv_fwmap fwmap;
	bool ebs_called;                /* ExitBootServices was tried (and failed) */
	char err[NV_ERR_MAX];
};

static struct loader L;

static EFI_STATUS fail(EFI_STATUS st, const char *file, const char *msg)
{
	nv_error("%s: %s", file, msg);
	return st;
}

static void free_pool(void **p)
{
	if (*p)
		uefi_call_wrapper(nv_bs->FreePool, 1, *p);
	*p = NULL;
}

static uint64_t page_up(uint64_t x)
{
	return (x + NV_PAGE_SIZE - 1) & ~(NV_PAGE_SIZE - 1);
}

static void log_firmware(void)
{
	EFI_LOADED_IMAGE *li = NULL;
	char vendor[64];
	uint32_t rev = nv_st->Hdr.Revision;

	nv_ucs2_to_ascii(nv_st->FirmwareVendor, vendor, sizeof(vendor));
	nv_log(NV_LOG_INFO, "firmware: %s rev 0x%x, UEFI %u.%u", vendor, nv_st->FirmwareRevision,
	       rev >> 16, (rev & 0xffff) / 10);
	if (!EFI_ERROR(uefi_call_wrapper(nv_bs->HandleProtocol, 3, L.image, &LoadedImageProtocol,
					 (void **)&li)))
		/* For debuggers: load build/loader.so's symbols at this address. */
		nv_log(NV_LOG_DEBUG, "loader image at 0x%llx", (ull)(uintptr_t)li->ImageBase);
}

static EFI_STATUS read_config(void)
{
	EFI_STATUS st;

	st = nv_fs_read_pool(L.root, NV_CONFIG_PATH, CONFIG_FILE_MAX, &L.cfg_text, &L.cfg_size,
			     L.err, sizeof(L.err));
	if (EFI_ERROR(st))
		return fail(st, NV_CONFIG_PATH, L.err);
	if (nv_config_parse(L.cfg_text, L.cfg_size, &L.cfg, L.err, sizeof(L.err)))
		return fail(EFI_LOAD_ERROR, NV_CONFIG_PATH, L.err);
	nv_con_set_level(L.cfg.log_level);
	log_firmware();
	return EFI_SUCCESS;
}

static EFI_STATUS read_images(void)
{
	EFI_STATUS st;

	st = nv_fs_read_pool(L.root, NV_CORE_PATH, CORE_FILE_MAX, &L.core_file, &L.core_file_size,
			     L.err, sizeof(L.err));
	if (EFI_ERROR(st))
		return fail(st, NV_CORE_PATH, L.err);
	if (nv_core_parse(L.core_file, L.core_file_size, &L.core, L.err, sizeof(L.err)))
		return fail(EFI_LOAD_ERROR, NV_CORE_PATH, L.err);

	st = nv_fs_read_pool(L.root, L.cfg.l1, L1_FILE_MAX, &L.l1_file, &L.l1_file_size, L.err,
			     sizeof(L.err));
	if (EFI_ERROR(st))
		return fail(st, L.cfg.l1, L.err);
	if (nv_l1_parse(L.l1_file, L.l1_file_size, &L.l1, L.err, sizeof(L.err)))
		return fail(EFI_LOAD_ERROR, L.cfg.l1, L.err);

	L.in = (struct nv_l1_plan_input){
		.image = &L.l1,
		.path = L.cfg.l1,
		.cmdline = L.cfg.cmdline,
		.mem_limit = L.cfg.l1_memory,
		.nmodules = L.cfg.nmodules,
	};
	for (uint32_t i = 0; i < L.cfg.nmodules; i++) {
		L.in.modules[i].string = L.cfg.modules[i].string;
		st = nv_fs_size(L.root, L.cfg.modules[i].path, &L.in.modules[i].size, L.err,
				sizeof(L.err));
		if (EFI_ERROR(st))
			return fail(st, L.cfg.modules[i].path, L.err);
	}
	return EFI_SUCCESS;
}

/* The firmware map now, converted; errors name "memory map". */
static EFI_STATUS snapshot_map(void)
{
	char msg[NV_ERR_MAX];
	EFI_STATUS st = nv_fwmap_get(&L.fwmap, msg, sizeof(msg));
	int n;

	if (EFI_ERROR(st))
		return fail(st, "memory map", msg);
	n = nv_efimap_convert(L.fwmap.buf, L.fwmap.size, L.fwmap.desc_size, L.map, NV_MMAP_MAX,
			      msg, sizeof(msg));
	if (n < 0)
		return fail(EFI_LOAD_ERROR, "memory map", msg);
	L.nmap = (uint32_t)n;
	return EFI_SUCCESS;
}

/* Lay L1 out and check it against the map as it is before we allocate anything. */
static EFI_STATUS plan_l1(void)
{
	EFI_STATUS st;

	if (nv_l1_plan_layout(&L.in, &L.plan, L.err, sizeof(L.err))) {
		nv_error("%s", L.err);
		return EFI_LOAD_ERROR;
	}
	L.ntargets = nv_l1_plan_targets(&L.plan, L.targets, NV_L1_MAX_COPIES + 1);
	st = snapshot_map();
	if (EFI_ERROR(st))
		return st;
	if (nv_l1_plan_check(&L.plan, L.map, L.nmap, L.err, sizeof(L.err))) {
		nv_error("%s", L.err);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS alloc(const char *file, uint32_t type, uint64_t bytes, uint64_t align,
			uint64_t *phys)
{
	EFI_STATUS st = nv_alloc_pages(type, bytes, align, L.targets, L.ntargets, phys, L.err,
				       sizeof(L.err));

	return EFI_ERROR(st) ? fail(st, file, L.err) : EFI_SUCCESS;
}

static EFI_STATUS allocate(void)
{
	EFI_STATUS st;

	if (nv_cpu_la57())
		return fail(EFI_UNSUPPORTED, "CPU", "the firmware runs with 5-level paging (CR4.LA57); the hand-over needs 4-level");
	L.pt = (struct nv_pt_params){
		.top = nv_pt_identity_top(L.map, L.nmap),
		.gb_pages = nv_cpu_has_1g_pages(),
		.core_span = L.core.span,
	};
	L.pt_pages = nv_pt_pages(&L.pt);
	if (L.pt_pages == 0) {
		nv_snprintf(L.err, sizeof(L.err), "highest address 0x%llx is beyond 4-level paging",
			    (ull)L.pt.top);
		return fail(EFI_UNSUPPORTED, "memory map", L.err);
	}
	L.bi_bytes = page_up(sizeof(struct nv_bootinfo));

	st = alloc(NV_CORE_PATH, NV_MEM_L0_IMAGE, L.core.span, NV_CORE_ALIGN, &L.core_phys);
	if (EFI_ERROR(st))
		return st;
	/* The pool is 2 MiB aligned if the firmware can, page aligned if not. */
	st = nv_alloc_pages(NV_MEM_L0_POOL, L.cfg.l0_memory, SIZE_2M, L.targets, L.ntargets,
			    &L.pool_phys, L.err, sizeof(L.err));
	if (EFI_ERROR(st))
		st = alloc("L0 pool", NV_MEM_L0_POOL, L.cfg.l0_memory, NV_PAGE_SIZE, &L.pool_phys);
	if (EFI_ERROR(st))
		return st;
	st = alloc("boot info", NV_MEM_L0_BOOT, L.bi_bytes + (uint64_t)L.pt_pages * NV_PAGE_SIZE,
		   NV_PAGE_SIZE, &L.boot_phys);
	if (EFI_ERROR(st))
		return st;
	st = alloc(L.cfg.l1, NV_MEM_L1_STAGING, L.l1_file_size, NV_PAGE_SIZE, &L.l1_phys);
	if (EFI_ERROR(st))
		return st;
	L.in.image_phys = L.l1_phys;
	for (uint32_t i = 0; i < L.in.nmodules; i++) {
		if (L.in.modules[i].size == 0)
			continue;
		st = alloc(L.cfg.modules[i].path, NV_MEM_L1_STAGING, L.in.modules[i].size,
			   NV_PAGE_SIZE, &L.in.modules[i].phys);
		if (EFI_ERROR(st))
			return st;
	}
	return EFI_SUCCESS;
}

/* Physical memory is identity mapped while boot services run. */
static void *phys_ptr(uint64_t phys)
{
	return (void *)(uintptr_t)phys;
}

static EFI_STATUS place(void)
{
	EFI_STATUS st;

	nv_core_place(&L.core, L.core_file, phys_ptr(L.core_phys));
	free_pool(&L.core_file);
	memcpy(phys_ptr(L.l1_phys), L.l1_file, L.l1_file_size);
	free_pool(&L.l1_file);
	for (uint32_t i = 0; i < L.in.nmodules; i++) {
		if (L.in.modules[i].size == 0)
			continue;
		st = nv_fs_read(L.root, L.cfg.modules[i].path, phys_ptr(L.in.modules[i].phys),
				L.in.modules[i].size, L.err, sizeof(L.err));
		if (EFI_ERROR(st))
			return fail(st, L.cfg.modules[i].path, L.err);
	}
	return EFI_SUCCESS;
}

/* UEFI 2.9, 4.6 "EFI Configuration Table & Properties Table": the ACPI RSDP. */
static uint64_t find_rsdp(void)
{
	static EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	uint64_t rsdp10 = 0;

	for (UINTN i = 0; i < nv_st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &nv_st->ConfigurationTable[i];

		if (memcmp(&t->VendorGuid, &acpi20, sizeof(acpi20)) == 0)
			return (uint64_t)(uintptr_t)t->VendorTable;
		if (memcmp(&t->VendorGuid, &acpi10, sizeof(acpi10)) == 0)
			rsdp10 = (uint64_t)(uintptr_t)t->VendorTable;
	}
	return rsdp10;
}

static EFI_STATUS build_bootinfo(void)
{
	struct nv_bootinfo *bi = phys_ptr(L.boot_phys);

	memset(bi, 0, sizeof(*bi));
	bi->magic = NV_BOOTINFO_MAGIC;
	bi->version = NV_BOOTINFO_VERSION;
	bi->size = sizeof(*bi);
	bi->core_phys = L.core_phys;
	bi->core_size = L.core.span;
	bi->pool_phys = L.pool_phys;
	bi->pool_size = L.cfg.l0_memory;
	bi->rsdp = find_rsdp();
	bi->efi_reset_system = (uint64_t)(uintptr_t)nv_st->RuntimeServices->ResetSystem;
	bi->log_level = L.cfg.log_level;
	bi->selftest = L.cfg.selftest;
	bi->accounting = L.cfg.accounting;
	bi->vmcs_shadowing = L.cfg.vmcs_shadowing;
	bi->vmcs_shadow_set = L.cfg.vmcs_shadow_set;
	bi->log_port = L.cfg.log_port;
	bi->ept02_pool_pages = (uint32_t)(L.cfg.ept02_pool / NV_PAGE_SIZE);
	/* Same layout as before, now with the staging addresses as sources. */
	if (nv_l1_plan_layout(&L.in, &bi->l1, L.err, sizeof(L.err))) {
		nv_error("%s", L.err);
		return EFI_LOAD_ERROR;
	}
	L.pt.core_phys = L.core_phys;
	if (nv_pt_build(&L.pt, phys_ptr(L.boot_phys + L.bi_bytes), L.boot_phys + L.bi_bytes,
			L.pt_pages, &L.cr3, L.err, sizeof(L.err)))
		return fail(EFI_LOAD_ERROR, "page tables", L.err);
	L.bi = bi;
	return EFI_SUCCESS;
}

static void log_summary(void)
{
	const struct nv_l1_plan *p = &L.bi->l1;
	uint32_t nsegs = p->ncopies - p->nmodules;

	nv_log(NV_LOG_INFO, "core: %s, 0x%llx bytes at 0x%llx (virtual 0x%llx), entry 0x%llx",
	       NV_CORE_PATH, (ull)L.core.span, (ull)L.core_phys, NV_CORE_VBASE, (ull)L.core.entry);
	nv_log(NV_LOG_INFO, "L0 pool: 0x%llx bytes at 0x%llx", (ull)L.cfg.l0_memory, (ull)L.pool_phys);
	nv_log(NV_LOG_INFO, "boot info at 0x%llx; page tables at 0x%llx map 0-0x%llx with %s pages",
	       (ull)L.boot_phys, (ull)L.cr3, (ull)L.pt.top, L.pt.gb_pages ? "1 GiB" : "2 MiB");
	nv_log(NV_LOG_INFO, "ACPI RSDP at 0x%llx", (ull)L.bi->rsdp);
	if (p->protocol == NV_L1_PVH) {
		nv_log(NV_LOG_INFO, "L1: %s, ELF64, PVH entry 0x%llx, %u segment%s", p->path,
		       (ull)p->entry, nsegs, nsegs == 1 ? "" : "s");
	} else if (p->protocol == NV_L1_LINUX) {
		uint32_t v = nv_lb_hdr_read(p->linux_hdr, p->linux_hdr_len, LB_VERSION, 2);

		nv_log(NV_LOG_INFO, "L1: %s, bzImage, boot protocol %u.%02u, 32-bit entry 0x%llx, init_size 0x%x, xloadflags 0x%x",
		       p->path, v >> 8, v & 0xff, (ull)p->entry,
		       nv_lb_hdr_read(p->linux_hdr, p->linux_hdr_len, LB_INIT_SIZE, 4),
		       nv_lb_hdr_read(p->linux_hdr, p->linux_hdr_len, LB_XLOADFLAGS, 2));
	} else {
		nv_log(NV_LOG_INFO, "L1: %s, %s, entry 0x%llx, Multiboot flags 0x%x, %u segment%s",
		       p->path, L.l1.aout ? "a.out kludge" : "ELF32", (ull)p->entry, L.l1.mb_flags,
		       nsegs, nsegs == 1 ? "" : "s");
	}
	for (uint32_t i = 0; i < nsegs; i++)
		nv_log(NV_LOG_INFO, "L1 segment %u: 0x%llx-0x%llx (0x%llx bytes from the file)", i,
		       (ull)p->copies[i].dst, (ull)(p->copies[i].dst + p->copies[i].memsz),
		       (ull)p->copies[i].filesz);
	for (uint32_t i = 0; i < p->nmodules; i++)
		nv_log(NV_LOG_INFO, "L1 module %u: 0x%llx-0x%llx \"%s\"", i, (ull)p->modules[i].start,
		       (ull)p->modules[i].end, p->modules[i].string);
	nv_log(NV_LOG_INFO, "L1 %s: 0x%llx-0x%llx",
	       p->protocol == NV_L1_PVH     ? "PVH start info"
	       : p->protocol == NV_L1_LINUX ? "Linux zero page"
					    : "Multiboot info",
	       (ull)p->mbi_base,
	       (ull)(p->mbi_base + p->mbi_size));
	nv_log(NV_LOG_INFO, "L1 cmdline: \"%s\"", p->cmdline);
	if (p->mem_limit)
		nv_log(NV_LOG_INFO, "L1 memory: 0x%llx bytes (%llu MiB)", (ull)p->mem_limit,
		       (ull)(p->mem_limit >> 20));
	else
		nv_log(NV_LOG_INFO, "L1 memory: all RAM L0 does not use");
	for (uint32_t i = 0; i < L.nmap; i++)
		nv_log(NV_LOG_DEBUG, "map: 0x%016llx-0x%016llx %s", (ull)L.map[i].base,
		       (ull)(L.map[i].base + L.map[i].size), nv_mem_type_name(L.map[i].type));
}

static EFI_STATUS open_root(void)
{
	EFI_STATUS st = nv_fs_open_root(L.image, &L.root, L.err, sizeof(L.err));

	return EFI_ERROR(st) ? fail(st, "boot partition", L.err) : EFI_SUCCESS;
}

static EFI_STATUS summarize(void)
{
	/* The map with our ranges in it, for the debug log. */
	if (L.cfg.log_level >= NV_LOG_DEBUG) {
		EFI_STATUS st = snapshot_map();

		if (EFI_ERROR(st))
			return st;
	}
	log_summary();
	uefi_call_wrapper(L.root->Close, 1, L.root);
	L.root = NULL;
	return EFI_SUCCESS;
}

static EFI_STATUS handoff(void)
{
	EFI_STATUS st = nv_handoff(L.image, &L.fwmap, L.bi, L.cr3, L.core.entry, L.pt.top,
				   &L.ebs_called, L.err, sizeof(L.err));

	nv_error("%s", L.err);      /* it returned: it failed */
	return EFI_ERROR(st) ? st : EFI_LOAD_ERROR;
}

/* The loader, in order; each step prints its own error. */
static EFI_STATUS (*const steps[])(void) = {
	open_root, read_config, read_images, plan_l1, allocate, place, build_bootinfo,
	summarize, handoff,
};

static EFI_STATUS run(void)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		EFI_STATUS st = steps[i]();

		if (EFI_ERROR(st))
			return st;
	}
	return EFI_LOAD_ERROR;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_STATUS st;

	nv_con_init(systab);
	L.image = image;
	st = run();         /* returns only on failure */
	/* After a failed ExitBootServices only GetMemoryMap and ExitBootServices may
	 * be called: then leave everything as it is and just return. */
	if (L.ebs_called)
		return st;
	uefi_call_wrapper(nv_bs->Stall, 1, ERROR_PAUSE_US);
	nv_alloc_free_all();
	free_pool(&L.cfg_text);
	free_pool(&L.core_file);
	free_pool(&L.l1_file);
	nv_fwmap_free(&L.fwmap);
	if (L.root)
		uefi_call_wrapper(L.root->Close, 1, L.root);
	return st;
}
