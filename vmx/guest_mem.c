/* SPDX-License-Identifier: MIT */
/* SDM Vol. 3A, 4.3 "32-Bit Paging", 4.4 "PAE Paging", 4.5 "4-Level Paging". */
#include "vmx/guest_mem.h"
#include "nested/nested.h"
#include "vmx/exit.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "core/log.h"
#include "core/run.h"
#include "core/x86.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)
#define PF_P    (1u << 0)
#define PF_W    (1u << 1)
#define PF_RSVD (1u << 3)

bool l1_is_ram(uint64_t gpa, uint64_t len)
{
	const struct nv_bootinfo *bi = l1.bi;

	if (!len || gpa + len < gpa || gpa + len > l1.ram_end)
		return false;
	return nv_mmap_covers(bi->mmap, bi->mmap_count, gpa, len, NV_MEM_L1_RAM_MASK);
}

unsigned l1_maxphyaddr(void)
{
	static unsigned width;  /* the CPU's: it never changes */

	if (!width)
		width = cpuid(0x80000000, 0).eax < 0x80000008 ? 36
								 : cpuid(0x80000008, 0).eax & 0xff;
	return width;
}

/* EPT01 decides: the host-physical address for an access, or false. */
static bool gpa_to_hpa(uint64_t gpa, bool write, uint64_t *hpa)
{
	struct ept_walk w;

	ept_translate(&l1.ept01, gpa, &w);
	/* L0 writing a page it write-protects for itself (nested/bitmaps.c). */
	if (write && w.present && !(w.leaf & EPT_W) && nested_bitmap_write_fault(gpa))
		ept_translate(&l1.ept01, gpa, &w);
	if (!w.present || !(w.leaf & EPT_R) || (write && !(w.leaf & EPT_W)))
		return false;
	*hpa = w.hpa;
	return true;
}

static enum gm_status phys_access(uint64_t gpa, void *buf, size_t len, bool write)
{
	while (len) {
		size_t chunk = 4096 - (gpa & 4095);
		uint64_t hpa;

		if (chunk > len)
			chunk = len;
		if (!gpa_to_hpa(gpa, write, &hpa))
			return GM_NOT_L1_MEMORY;
		if (write)
			memcpy((void *)(uintptr_t)hpa, buf, chunk);
		else
			memcpy(buf, (void *)(uintptr_t)hpa, chunk);
		gpa += chunk;
		buf = (char *)buf + chunk;
		len -= chunk;
	}
	return GM_OK;
}

enum gm_status l1_read_phys(uint64_t gpa, void *buf, size_t len)
{
	return phys_access(gpa, buf, len, false);
}

enum gm_status l1_write_phys(uint64_t gpa, const void *buf, size_t len)
{
	return phys_access(gpa, (void *)buf, len, true);
}

/* One paging-structure entry: read it, set its accessed (and dirty) flag like the CPU. */
static enum gm_status walk_entry(uint64_t gpa, bool wide, uint64_t *entry, struct gm_error *err)
{
	uint64_t e = 0;

	if (phys_access(gpa, &e, wide ? 8 : 4, false)) {
		err->gpa = gpa;
		return GM_NOT_L1_MEMORY;
	}
	*entry = e;
	return GM_OK;
}

static void set_flags(uint64_t gpa, bool wide, uint64_t entry, uint64_t flags)
{
	if ((entry & flags) != flags) {
		entry |= flags;
		phys_access(gpa, &entry, wide ? 8 : 4, true);
	}
}

static enum gm_status page_fault(uint64_t la, uint32_t code, struct gm_error *err)
{
	err->vector = VEC_PF;
	err->has_error_code = true;
	err->error_code = code;
	err->cr2 = la;
	return GM_EXCEPTION;
}

/*
 * Reserved bits of a paging-structure entry (SDM Vol. 3A, 4.4.2 "Linear-Address
 * Translation with PAE Paging", 4.5.4 "Linear-Address Translation with 4-Level
 * Paging", Tables 4-8..4-20): address bits at or above MAXPHYADDR, XD without
 * IA32_EFER.NXE, PS in a PML4E, and the low address bits of large pages.
 */
static uint64_t reserved_bits(uint64_t e, int level, bool wide, bool long_mode, bool large,
			      bool nxe)
{
	uint64_t rsvd;

	if (!wide)  /* 32-bit paging: only a 4-MiB PDE has a reserved bit (21) */
		return large ? (1ull << 21) : 0;
	rsvd = ((1ull << 52) - 1) & ~((1ull << l1_maxphyaddr()) - 1);
	if (!nxe)
		rsvd |= PTE_NX;
	if (long_mode && level == 4)
		rsvd |= PTE_PS;
	if (large)
		rsvd |= level == 3 ? 0x3fffe000ull : 0x1fe000ull;  /* bits 29:13 / 20:13 */
	return rsvd;
}

/* Translate one linear address of L1 at CPL 0. */
static enum gm_status translate(uint64_t la, bool write, uint64_t *gpa, struct gm_error *err)
{
	uint64_t cr0 = vmreadnat(VMCS_GUEST_CR0), cr4 = vmreadnat(VMCS_GUEST_CR4);
	uint64_t cr3 = vmreadnat(VMCS_GUEST_CR3);
	bool wp = cr0 & CR0_WP, writable = true, lm = l1_long_mode();
	bool nxe = vmread64(VMCS_GUEST_IA32_EFER) & EFER_NXE;
	uint64_t table, e, entry_gpa;
	int levels, shift;
	bool wide;

	if (!(cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffu;
		return GM_OK;
	}
	if (lm) {
		levels = 4, wide = true, table = cr3 & 0x000ffffffffff000ull;
	} else if (cr4 & CR4_PAE) {
		/* PAE: the PDPTEs are the ones the CPU holds (saved in the VMCS with EPT). */
		uint64_t pdptes[4] = { vmread64(VMCS_GUEST_PDPTE0), vmread64(VMCS_GUEST_PDPTE1),
				       vmread64(VMCS_GUEST_PDPTE2), vmread64(VMCS_GUEST_PDPTE3) };
		uint64_t pdpte = pdptes[(la >> 30) & 3];

		if (!(pdpte & PTE_P))
			return page_fault(la, write ? PF_W : 0, err);
		levels = 2, wide = true, table = pdpte & 0x000ffffffffff000ull;
		la &= 0xffffffffu;
	} else {
		levels = 2, wide = false, table = cr3 & 0xfffff000u;
		la &= 0xffffffffu;
	}
	for (int level = levels; level >= 1; level--) {
		shift = wide ? 12 + 9 * (level - 1) : 12 + 10 * (level - 1);
		unsigned idx = wide ? (la >> shift) & 511 : (la >> shift) & 1023;

		entry_gpa = table + idx * (wide ? 8 : 4);
		if (walk_entry(entry_gpa, wide, &e, err))
			return GM_NOT_L1_MEMORY;
		if (!(e & PTE_P))
			return page_fault(la, write ? PF_W : 0, err);
		bool large = level > 1 && (e & PTE_PS) &&
			     (wide ? level <= 3 : (cr4 & CR4_PSE));
		if (e & reserved_bits(e, level, wide, lm, large, nxe))
			return page_fault(la, PF_P | PF_RSVD | (write ? PF_W : 0), err);
		writable &= !!(e & PTE_RW);
		if (level == 1 || large) {
			uint64_t base;

			if (write && !writable && wp)
				return page_fault(la, PF_P | PF_W, err);
			set_flags(entry_gpa, wide, e, PTE_A | (write ? PTE_D : 0));
			if (wide)
				base = e & 0x000fffffffffffffull & ~((1ull << shift) - 1);
			else if (large)  /* 4-MiB page: bits 20:13 are address bits 39:32 */
				base = (e & 0xffc00000u) | ((e >> 13 & 0xff) << 32);
			else
				base = e & 0xfffff000u;
			*gpa = base | (la & ((1ull << shift) - 1));
			return GM_OK;
		}
		set_flags(entry_gpa, wide, e, PTE_A);
		table = wide ? e & 0x000ffffffffff000ull : e & 0xfffff000u;
	}
	return page_fault(la, write ? PF_W : 0, err);  /* not reached */
}

static enum gm_status linear_access(uint64_t la, void *buf, size_t len, bool write,
				    struct gm_error *err)
{
	while (len) {
		size_t chunk = 4096 - (la & 4095);
		uint64_t gpa;
		enum gm_status st;

		if (chunk > len)
			chunk = len;
		st = translate(la, write, &gpa, err);
		if (st)
			return st;
		if (phys_access(gpa, buf, chunk, write)) {
			err->gpa = gpa;
			return GM_NOT_L1_MEMORY;
		}
		la += chunk;
		buf = (char *)buf + chunk;
		len -= chunk;
	}
	return GM_OK;
}

enum gm_status l1_read_linear(uint64_t la, void *buf, size_t len, struct gm_error *err)
{
	return linear_access(la, buf, len, false, err);
}

enum gm_status l1_write_linear(uint64_t la, const void *buf, size_t len, struct gm_error *err)
{
	return linear_access(la, (void *)buf, len, true, err);
}

void l1_deliver_gm_error(enum gm_status st, const struct gm_error *err, uint64_t rip)
{
	if (st == GM_NOT_L1_MEMORY) {
		vcpu_dump(current_vcpu);
		run_end_failure("L1 made L0 access guest-physical 0x%lx, which is not L1's memory "
				"(VMX instruction operand at rip 0x%lx)", err->gpa, rip);
	}
	if (err->vector == VEC_PF)
		write_cr2(err->cr2);  /* CR2 is not switched by VMX: L1 sees the real one */
	vcpu_inject_exception(err->vector, err->has_error_code, err->error_code);
}
