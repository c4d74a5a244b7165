/* SPDX-License-Identifier: MIT */
/*
 * The last steps: final memory map, ExitBootServices, jump to the core.
 * UEFI 2.9, 7.4 "EFI_BOOT_SERVICES.ExitBootServices()": on a stale map key
 * it returns EFI_INVALID_PARAMETER, and after that first call only
 * GetMemoryMap() and ExitBootServices() may be used.
 */
#include "boot.h"

#include "efimap.h"
#include "l1plan.h"
#include "pagetable.h"

#include <nestvisor/string.h>

#define EBS_TRIES 8

/* SDM Vol. 2A, CPUID: leaf 80000001H EDX bit 26 "1-GByte pages are available". */
#define CPUID_EXT_FEATURES   0x80000001u
#define CPUID_EDX_PAGE1GB    (1u << 26)
/* SDM Vol. 3A, 2.5 "Control Registers": CR4.LA57 (bit 12) selects 5-level paging. */
#define CR4_LA57             (1ULL << 12)

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

bool nv_cpu_has_1g_pages(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000u, &a, &b, &c, &d);
	if (a < CPUID_EXT_FEATURES)
		return false;
	cpuid(CPUID_EXT_FEATURES, &a, &b, &c, &d);
	return d & CPUID_EDX_PAGE1GB;
}

bool nv_cpu_la57(void)
{
	uint64_t cr4;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	return cr4 & CR4_LA57;
}

/*
 * Interrupts off, switch to the hand-over tables (they identity map this
 * code and the stack), and call the core: void core_entry(struct
 * nv_bootinfo *bi), SysV ABI, RDI = bi, RSP 16-byte aligned before the call.
 */
static __attribute__((noreturn)) void jump_to_core(uint64_t cr3, uint64_t entry, uint64_t bi)
{
	__asm__ volatile("cli\n\t"
			 "mov %0, %%cr3\n\t"
			 "and $-16, %%rsp\n\t"
			 "call *%1\n\t"
			 "1: cli\n\t"
			 "hlt\n\t"
			 "jmp 1b"
			 :
			 : "r"(cr3), "r"(entry), "D"(bi)
			 : "memory");
	__builtin_unreachable();
}

/* Convert and check the map now in m->buf; pure, so allowed between GetMemoryMap and EBS. */
static int take_map(struct nv_fwmap *m, struct nv_bootinfo *bi, uint64_t mapped_top, char *err,
		    size_t errlen)
{
	char msg[NV_ERR_MAX];
	int n = nv_efimap_convert(m->buf, m->size, m->desc_size, bi->mmap, NV_MMAP_MAX, msg,
				  sizeof(msg));

	if (n < 0) {
		nv_snprintf(err, errlen, "memory map: %s", msg);
		return -1;
	}
	bi->mmap_count = (uint32_t)n;
	if (nv_pt_identity_top(bi->mmap, bi->mmap_count) > mapped_top) {
		nv_snprintf(err, errlen, "memory map: the map grew past 0x%llx, the top of the hand-over identity map",
			    (unsigned long long)mapped_top);
		return -1;
	}
	return nv_l1_plan_check(&bi->l1, bi->mmap, bi->mmap_count, err, errlen);
}

EFI_STATUS nv_handoff(EFI_HANDLE image, struct nv_fwmap *m, struct nv_bootinfo *bi,
		      uint64_t cr3, uint64_t entry, uint64_t mapped_top, bool *exited_partly,
		      char *err, size_t errlen)
{
	EFI_STATUS st;
	char msg[NV_ERR_MAX];

	*exited_partly = false;
	/* First round: errors can still be printed and the firmware gets control back. */
	st = nv_fwmap_get(m, msg, sizeof(msg));
	if (EFI_ERROR(st)) {
		nv_snprintf(err, errlen, "memory map: %s", msg);
		return st;
	}
	if (take_map(m, bi, mapped_top, err, errlen))
		return EFI_LOAD_ERROR;
	nv_log(NV_LOG_QUIET, "exiting boot services");

	/* From here on: no allocation, no output, until the core runs. */
	for (int tries = 0; tries < EBS_TRIES; tries++) {
		st = nv_fwmap_get_noalloc(m);
		if (st == EFI_BUFFER_TOO_SMALL && !*exited_partly) {
			/* No ExitBootServices call yet: growing the buffer is still allowed. */
			st = nv_fwmap_get(m, msg, sizeof(msg));
			if (EFI_ERROR(st)) {
				nv_snprintf(err, errlen, "memory map: %s", msg);
				return st;
			}
		}
		if (EFI_ERROR(st)) {
			nv_snprintf(err, errlen, "memory map: GetMemoryMap: %s", nv_efi_status_name(st));
			return st;
		}
		if (take_map(m, bi, mapped_top, err, errlen))
			return EFI_LOAD_ERROR;
		st = uefi_call_wrapper(nv_bs->ExitBootServices, 2, image, m->key);
		if (st == EFI_SUCCESS)
			jump_to_core(cr3, entry, (uint64_t)(uintptr_t)bi);
		*exited_partly = true;
		if (st != EFI_INVALID_PARAMETER)
			break;
	}
	nv_snprintf(err, errlen, "ExitBootServices: %s", nv_efi_status_name(st));
	return st;
}
