/* SPDX-License-Identifier: MIT */
/* The firmware memory map (UEFI 2.9, 7.2 "EFI_BOOT_SERVICES.GetMemoryMap()"). */
#include "boot.h"

#include <nestvisor/string.h>

/* Room for the descriptors that allocating the buffer itself, and later
 * allocations, add to the map. */
#define SLACK_DESCS 64

EFI_STATUS nv_fwmap_get_noalloc(struct nv_fwmap *m)
{
	m->size = m->buf_size;
	return uefi_call_wrapper(nv_bs->GetMemoryMap, 5, &m->size, m->buf, &m->key, &m->desc_size,
				 &m->desc_version);
}

EFI_STATUS nv_fwmap_get(struct nv_fwmap *m, char *err, size_t errlen)
{
	EFI_STATUS st;

	for (int tries = 0; tries < 4; tries++) {
		st = m->buf ? nv_fwmap_get_noalloc(m) : EFI_BUFFER_TOO_SMALL;
		if (st != EFI_BUFFER_TOO_SMALL)
			break;
		if (!m->buf) {
			/* Ask for the size: a zero-size call answers EFI_BUFFER_TOO_SMALL. */
			m->size = 0;
			st = uefi_call_wrapper(nv_bs->GetMemoryMap, 5, &m->size, NULL, &m->key,
					       &m->desc_size, &m->desc_version);
			if (st != EFI_BUFFER_TOO_SMALL)
				break;
		}
		nv_fwmap_free(m);
		m->buf_size = m->size + SLACK_DESCS * (m->desc_size ? m->desc_size : 48);
		st = uefi_call_wrapper(nv_bs->AllocatePool, 3, EfiLoaderData, m->buf_size, &m->buf);
		if (EFI_ERROR(st)) {
			m->buf = NULL;
			nv_snprintf(err, errlen, "AllocatePool(0x%llx bytes): %s",
				    (unsigned long long)m->buf_size, nv_efi_status_name(st));
			return st;
		}
	}
	if (EFI_ERROR(st))
		nv_snprintf(err, errlen, "GetMemoryMap: %s", nv_efi_status_name(st));
	return st;
}

void nv_fwmap_free(struct nv_fwmap *m)
{
	if (m->buf)
		uefi_call_wrapper(nv_bs->FreePool, 1, m->buf);
	m->buf = NULL;
	m->buf_size = 0;
}
