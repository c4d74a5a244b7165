/* SPDX-License-Identifier: MIT */
/*
 * L1's I/O and MSR bitmaps while L2 runs (SDM Vol. 3C, 25.6.4 "I/O-Bitmap
 * Addresses", 25.6.9 "MSR-Bitmap Address", 25.1.3 "Instructions That Cause
 * VM Exits Conditionally"), with no per-entry page work.
 *
 * MSR bitmap: VMCS02's = L1's | L0's intercepts, merged at a VM entry only
 * when L1's pointer changed or its page was written since the last merge.
 * To see writes, L0 takes the write permission of that page away in EPT01;
 * the first write by L1, by L2, or by L0 on L1's behalf gives it back and
 * marks the bitmap dirty. Exits are decided on L1's bits as merged: L1's
 * bitmap as of the last VM entry, as KVM does (the SDM does not say when the
 * CPU reads the bitmap).
 *
 * I/O bitmaps: with L1's I/O bitmaps or "unconditional I/O exiting", every
 * I/O instruction of L2 exits to L0, which reads L1's bitmap at the time of
 * the access, as real CPUs and Bochs do: an L2 that changes L1's bitmap sees
 * the change at its next I/O. An access L1 lets through, L0 performs for L2
 * (IN/OUT), or lets L2 perform itself (INS/OUTS: those ports alone pass
 * through until L2's next VM exit). Without either control, L2's I/O goes
 * to the devices directly but for L0's own ports (L0's bitmap for L1).
 */
#include "nested/internal.h"
#include "nested/ept.h"
#include "vmx/exit.h"
#include "vmx/exit_info.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/pmm.h"
#include "core/x86.h"

#include <nestvisor/string.h>


void nested_bitmaps_init(void)
{
	nested.msr_bitmap02 = pmm_alloc_page_or_panic("VMCS02");
	nested.msr_bitmap12_copy = pmm_alloc_page_or_panic("VMCS02");
	nested.io_pass_a = pmm_alloc_page_or_panic("VMCS02");
	nested.io_pass_b = pmm_alloc_page_or_panic("VMCS02");
	memset(phys_to_virt(nested.io_pass_a), 0xff, 4096);
	memset(phys_to_virt(nested.io_pass_b), 0xff, 4096);
	nested.msr_merged = VMPTR_INVALID;
	nested.msr_watched = VMPTR_INVALID;
}

static void watch(uint64_t page, bool on)
{
	if (ept_set_write(&l1.ept01, page, !on))
		return;
	nested.msr_watched = on ? page : VMPTR_INVALID;
	vmx_invept_single(ept_eptp(&l1.ept01));
	if (on)
		nested_ept01_changed();  /* EPT02 may grant the write EPT01 no longer does */
}

bool nested_bitmap_write_fault(uint64_t gpa)
{
	if (nested.msr_watched == VMPTR_INVALID || (gpa & ~0xfffull) != nested.msr_watched)
		return false;
	watch(nested.msr_watched, false);
	nested.msr_dirty = true;
	return true;
}

static void merge_msr_bitmap(uint64_t page)
{
	uint64_t *d = phys_to_virt(nested.msr_bitmap02), *copy = phys_to_virt(nested.msr_bitmap12_copy);
	const uint64_t *l0 = phys_to_virt(l1.msr_bitmap);

	if (nested.msr_watched != VMPTR_INVALID && nested.msr_watched != page)
		watch(nested.msr_watched, false);
	/* An unreadable bitmap (not L1's RAM) makes every access exit: the safe answer. */
	if (!nested_read_l1(page, copy, 4096)) {
		memset(copy, 0xff, 4096);
	} else if (nested.msr_watched != page) {
		watch(page, true);
	}
	for (unsigned i = 0; i < 512; i++)
		d[i] = copy[i] | l0[i];
	nested.msr_merged = page;
	nested.msr_dirty = nested.msr_watched != page;  /* unwatched: merge every entry */
}

void nested_setup_bitmaps_slow(const struct vmcs12 *v12)
{
	if (v12->CPU_BASED_VM_EXEC_CONTROL & PROC_USE_MSR_BITMAPS) {
		if (v12->MSR_BITMAP != nested.msr_merged || nested.msr_dirty)
			merge_msr_bitmap(v12->MSR_BITMAP);
	} else if (nested.msr_merged != MSR_ALL_EXIT) {
		/* Without MSR bitmaps every RDMSR/WRMSR of L2 is L1's (25.1.3). */
		memset(phys_to_virt(nested.msr_bitmap02), 0xff, 4096);
		memset(phys_to_virt(nested.msr_bitmap12_copy), 0xff, 4096);
		nested.msr_merged = MSR_ALL_EXIT;
	}
}

/* VMCS02's I/O controls (merge.c decided them) point at L0's own bitmaps. */
void nested_write_bitmap_addresses(void)
{
	vmwrite64(VMCS_MSR_BITMAP, nested.msr_bitmap02);
	vmwrite64(VMCS_IO_BITMAP_A, l1.io_bitmap_a);
	vmwrite64(VMCS_IO_BITMAP_B, l1.io_bitmap_b);
}

bool nested_read_l1_bitmap(uint64_t gpa, void *buf, unsigned len)
{
	const struct vmcs12 *v12 = nested.vmcs12;

	/* MSR bits: as merged at entry. I/O bits: L1's memory now. */
	if ((v12->CPU_BASED_VM_EXEC_CONTROL & PROC_USE_MSR_BITMAPS) && gpa >= v12->MSR_BITMAP &&
	    gpa + len <= v12->MSR_BITMAP + 4096) {
		memcpy(buf, (char *)phys_to_virt(nested.msr_bitmap12_copy) + (gpa - v12->MSR_BITMAP),
		       len);
		return true;
	}
	return nested_read_l1(gpa, buf, len);
}

static void io_pass_bits(uint32_t first, uint32_t size, bool pass)
{
	for (unsigned i = 0; i < size; i++) {
		uint32_t port = first + i;
		uint8_t *page = phys_to_virt(port < 0x8000 ? nested.io_pass_a : nested.io_pass_b);
		uint8_t bit = (uint8_t)(1u << (port % 8));

		if (port > 0xffff)
			break;
		page[(port & 0x7fff) / 8] = pass ? page[(port & 0x7fff) / 8] & ~bit
						 : page[(port & 0x7fff) / 8] | bit;
	}
}

void nested_io_passthrough_end_slow(void)
{
	uint32_t proc;

	io_pass_bits(nested.io_pass_port, nested.io_pass_size, false);
	proc = vmread32(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	vmwrite32(VMCS_CPU_BASED_VM_EXEC_CONTROL,
		  (proc & ~PROC_USE_IO_BITMAPS) | PROC_UNCOND_IO_EXITING);
	vmwrite64(VMCS_IO_BITMAP_A, l1.io_bitmap_a);
	vmwrite64(VMCS_IO_BITMAP_B, l1.io_bitmap_b);
	nested.io_pass_active = false;
}

void nested_l2_io_for_l1(struct vcpu *v, const struct exit_ctx *x)
{
	struct io_info io = decode_io(x->qualification);
	uint64_t *rax = &v->frame.regs.r[GPR_RAX];

	if (io.string) {
		/* The ports pass through for this INS/OUTS, re-executed, until L2 exits. */
		uint32_t proc = vmread32(VMCS_CPU_BASED_VM_EXEC_CONTROL);

		nested.io_pass_port = io.port;
		nested.io_pass_size = io.size;
		nested.io_pass_active = true;
		io_pass_bits(io.port, io.size, true);
		vmwrite64(VMCS_IO_BITMAP_A, nested.io_pass_a);
		vmwrite64(VMCS_IO_BITMAP_B, nested.io_pass_b);
		vmwrite32(VMCS_CPU_BASED_VM_EXEC_CONTROL,
			  (proc & ~PROC_UNCOND_IO_EXITING) | PROC_USE_IO_BITMAPS);
		return;
	}
	if (io.in) {
		uint32_t val = io.size == 1 ? inb(io.port) : io.size == 2 ? inw(io.port) : inl(io.port);

		/* A 32-bit destination clears bits 63:32; 8/16-bit ones keep the rest. */
		*rax = io.size == 4 ? val : io.size == 2 ? (*rax & ~0xffffull) | val
							     : (*rax & ~0xffull) | val;
	} else if (io.size == 1) {
		outb(io.port, (uint8_t)*rax);
	} else if (io.size == 2) {
		outw(io.port, (uint16_t)*rax);
	} else {
		outl(io.port, (uint32_t)*rax);
	}
	vcpu_skip_instruction(x);
}
