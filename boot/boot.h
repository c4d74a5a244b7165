/* SPDX-License-Identifier: MIT */
/* The loader's UEFI-facing helpers (console, files, memory, hand-over). Only boot/ sees efi.h. */
#ifndef NV_BOOT_BOOT_H
#define NV_BOOT_BOOT_H

/* gnu-efi's headers come in through -isystem (Makefile): their "()" prototypes are not ours. */
#include <efi.h>
#include <efilib.h>

#include <nestvisor/bootinfo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NV_ERR_MAX 320           /* room for "<file>: <problem>" */

extern EFI_SYSTEM_TABLE *nv_st;
extern EFI_BOOT_SERVICES *nv_bs;

/* console.c: lines on ConOut (the serial port under OVMF), "nestvisor-boot: " first. */
void nv_con_init(EFI_SYSTEM_TABLE *st);
void nv_con_set_level(uint32_t level);
void nv_log(uint32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nv_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *nv_efi_status_name(EFI_STATUS status);
/* A UCS-2 firmware string as ASCII ('?' for the rest). */
void nv_ucs2_to_ascii(const CHAR16 *s, char *out, size_t size);

/* fs.c: files on the ESP the loader was started from; paths with / or \. */
EFI_STATUS nv_fs_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root, char *err, size_t errlen);
EFI_STATUS nv_fs_size(EFI_FILE_HANDLE root, const char *path, uint64_t *size, char *err,
		      size_t errlen);
/* Read exactly size bytes of path into buf. */
EFI_STATUS nv_fs_read(EFI_FILE_HANDLE root, const char *path, void *buf, uint64_t size,
		      char *err, size_t errlen);
/* Read the whole file (at most max bytes) into a new pool buffer. */
EFI_STATUS nv_fs_read_pool(EFI_FILE_HANDLE root, const char *path, uint64_t max, void **buf,
			   uint64_t *size, char *err, size_t errlen);

/* alloc.c: pages of an nv memory type (NV_EFI_TYPE), away from the ranges in avoid. */
EFI_STATUS nv_alloc_pages(uint32_t nv_type, uint64_t bytes, uint64_t align,
			  const struct nv_mem_range *avoid, uint32_t navoid, uint64_t *phys,
			  char *err, size_t errlen);
void nv_alloc_free_all(void);

/* fwmap.c: the firmware memory map. */
struct nv_fwmap {
	void *buf;               /* pool buffer, reused for the final map */
	UINTN buf_size;
	UINTN size, key, desc_size;
	UINT32 desc_version;
};
/* Get the map into m->buf, (re)allocating it with slack if it is too small. */
EFI_STATUS nv_fwmap_get(struct nv_fwmap *m, char *err, size_t errlen);
/* Get it into m->buf as is: allocates nothing (for the ExitBootServices loop). */
EFI_STATUS nv_fwmap_get_noalloc(struct nv_fwmap *m);
void nv_fwmap_free(struct nv_fwmap *m);

/* handoff.c */
bool nv_cpu_has_1g_pages(void);
bool nv_cpu_la57(void);
/*
 * Get the final map into bi->mmap, check the plan against it, exit boot
 * services (retrying on a stale map key) and jump to entry with
 * RDI = bi. Returns only if it failed (err says why; boot services may be
 * gone if `exited_partly` is set).
 */
EFI_STATUS nv_handoff(EFI_HANDLE image, struct nv_fwmap *m, struct nv_bootinfo *bi,
		      uint64_t cr3, uint64_t entry, uint64_t mapped_top, bool *exited_partly,
		      char *err, size_t errlen);

#endif
