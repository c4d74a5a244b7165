/* SPDX-License-Identifier: MIT */
/*
 * Files on the ESP the loader came from: LOADED_IMAGE.DeviceHandle ->
 * SIMPLE_FILE_SYSTEM -> EFI_FILE_PROTOCOL (UEFI 2.9, 9.1 "EFI Loaded Image
 * Protocol", 13.4 "Simple File System Protocol", 13.5 "File Protocol").
 */
#include "boot.h"

#include <nestvisor/string.h>

#define READ_CHUNK (4ULL << 20)   /* read large files piecewise */

typedef unsigned long long ull;

static EFI_STATUS fw_fail(EFI_STATUS st, const char *call, char *err, size_t errlen)
{
	nv_snprintf(err, errlen, "%s: %s", call, nv_efi_status_name(st));
	return st;
}

EFI_STATUS nv_fs_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root, char *err, size_t errlen)
{
	EFI_LOADED_IMAGE *li = NULL;
	EFI_FILE_IO_INTERFACE *sfs = NULL;
	EFI_STATUS st;

	st = uefi_call_wrapper(nv_bs->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st))
		return fw_fail(st, "HandleProtocol(LoadedImage)", err, errlen);
	st = uefi_call_wrapper(nv_bs->HandleProtocol, 3, li->DeviceHandle, &FileSystemProtocol,
			       (void **)&sfs);
	if (EFI_ERROR(st))
		return fw_fail(st, "HandleProtocol(SimpleFileSystem) on the boot device", err, errlen);
	st = uefi_call_wrapper(sfs->OpenVolume, 2, sfs, root);
	if (EFI_ERROR(st))
		return fw_fail(st, "OpenVolume", err, errlen);
	return EFI_SUCCESS;
}

static EFI_STATUS open_file(EFI_FILE_HANDLE root, const char *path, EFI_FILE_HANDLE *fh,
			    uint64_t *size, char *err, size_t errlen)
{
	/* FileInfo ends in a variable-length name: leave room for one. */
	union {
		EFI_FILE_INFO info;
		uint8_t bytes[SIZE_OF_EFI_FILE_INFO + 2 * NV_PATH_MAX + 64];
	} fi;
	CHAR16 name[NV_PATH_MAX];
	UINTN fi_size = sizeof(fi);
	size_t i;
	EFI_STATUS st;

	/* The config stores paths as written; the firmware wants \ separators. */
	for (i = 0; path[i] && i + 1 < NV_PATH_MAX; i++)
		name[i] = path[i] == '/' ? L'\\' : (CHAR16)(unsigned char)path[i];
	name[i] = 0;
	if (path[i]) {
		nv_snprintf(err, errlen, "path is too long");
		return EFI_INVALID_PARAMETER;
	}
	st = uefi_call_wrapper(root->Open, 5, root, fh, name, EFI_FILE_MODE_READ, 0ULL);
	if (st == EFI_NOT_FOUND) {
		nv_snprintf(err, errlen, "file not found on the boot partition");
		return st;
	}
	if (EFI_ERROR(st))
		return fw_fail(st, "cannot open: File.Open", err, errlen);
	st = uefi_call_wrapper((*fh)->GetInfo, 4, *fh, &GenericFileInfo, &fi_size, &fi.info);
	if (EFI_ERROR(st)) {
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		return fw_fail(st, "File.GetInfo", err, errlen);
	}
	if (fi.info.Attribute & EFI_FILE_DIRECTORY) {
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		nv_snprintf(err, errlen, "is a directory, not a file");
		return EFI_NOT_FOUND;
	}
	*size = fi.info.FileSize;
	return EFI_SUCCESS;
}

EFI_STATUS nv_fs_size(EFI_FILE_HANDLE root, const char *path, uint64_t *size, char *err,
		      size_t errlen)
{
	EFI_FILE_HANDLE fh;
	EFI_STATUS st = open_file(root, path, &fh, size, err, errlen);

	if (!EFI_ERROR(st))
		uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}

static EFI_STATUS read_all(EFI_FILE_HANDLE fh, void *buf, uint64_t size, char *err, size_t errlen)
{
	uint64_t done = 0;

	while (done < size) {
		UINTN n = size - done < READ_CHUNK ? size - done : READ_CHUNK;
		EFI_STATUS st = uefi_call_wrapper(fh->Read, 3, fh, &n, (uint8_t *)buf + done);

		if (EFI_ERROR(st))
			return fw_fail(st, "File.Read", err, errlen);
		if (n == 0) {
			nv_snprintf(err, errlen, "short read: got 0x%llx of 0x%llx bytes",
				    (ull)done, (ull)size);
			return EFI_END_OF_FILE;
		}
		done += n;
	}
	return EFI_SUCCESS;
}

EFI_STATUS nv_fs_read(EFI_FILE_HANDLE root, const char *path, void *buf, uint64_t size,
		      char *err, size_t errlen)
{
	EFI_FILE_HANDLE fh;
	uint64_t actual;
	EFI_STATUS st = open_file(root, path, &fh, &actual, err, errlen);

	if (EFI_ERROR(st))
		return st;
	if (actual != size) {
		nv_snprintf(err, errlen, "size changed from 0x%llx to 0x%llx bytes", (ull)size,
			    (ull)actual);
		st = EFI_LOAD_ERROR;
	} else {
		st = read_all(fh, buf, size, err, errlen);
	}
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}

EFI_STATUS nv_fs_read_pool(EFI_FILE_HANDLE root, const char *path, uint64_t max, void **buf,
			   uint64_t *size, char *err, size_t errlen)
{
	EFI_FILE_HANDLE fh;
	EFI_STATUS st = open_file(root, path, &fh, size, err, errlen);

	*buf = NULL;
	if (EFI_ERROR(st))
		return st;
	if (*size > max) {
		nv_snprintf(err, errlen, "file is 0x%llx bytes, more than the 0x%llx allowed",
			    (ull)*size, (ull)max);
		st = EFI_BAD_BUFFER_SIZE;
		goto out;
	}
	/* One spare byte so text can be NUL-terminated; never a zero-byte pool. */
	st = uefi_call_wrapper(nv_bs->AllocatePool, 3, EfiLoaderData, *size + 1, buf);
	if (EFI_ERROR(st)) {
		*buf = NULL;
		fw_fail(st, "AllocatePool", err, errlen);
		goto out;
	}
	st = read_all(fh, *buf, *size, err, errlen);
	if (EFI_ERROR(st)) {
		uefi_call_wrapper(nv_bs->FreePool, 1, *buf);
		*buf = NULL;
	}
out:
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}
