/* SPDX-License-Identifier: MIT */
/*
 * VMCS02 = VMCS12 + what L0 needs. L1's controls are taken as they are (L0
 * advertised only what it can honour), L0 adds its own: EPT01 for L2's
 * memory (L1 has no EPT yet), its host state, and the intercepts it keeps
 * for itself, merged into the bitmaps. Events L1 injects are passed on.
 */
#include "nested/internal.h"
#include "nested/checks.h"
#include "vmx/caps.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/x86.h"

#include <nestvisor/string.h>

/* L0's controls for running L2 (added to L1's). */
#define L0_PROC02   (PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY)
#define L0_PROC2_02 PROC2_ENABLE_EPT
#define L0_EXIT02   (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | \
		     EXIT_SAVE_PAT | EXIT_LOAD_PAT)
#define L0_ENTRY02  (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT)
#define L1_EXIT_PASSED  (EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_DEBUG_CONTROLS)
#define L1_ENTRY_PASSED (ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_DEBUG_CONTROLS)

static uint32_t settle(struct vmx_ctl_caps caps, uint32_t want, const char *what)
{
	uint32_t v;

	/* L1's part was checked against caps that are a subset of the hardware's. */
	if (!vmx_ctl_adjust(caps, want, want, &v))
		panic("VMCS02 %s controls 0x%x not allowed by the CPU (0x%x)", what, want, caps.may1);
	return v;
}

/* dst |= L1's bitmap page (or all ones if L1 does not use it) | L0's. */
static void merge_bitmap(uint64_t dst, bool l1_uses, uint64_t l1_page, uint64_t l0_page,
			 bool l1_all)
{
	uint64_t *d = phys_to_virt(dst);
	const uint64_t *l0 = phys_to_virt(l0_page);

	if (l1_all)
		memset(d, 0xff, 4096);
	else if (!l1_uses || !nested_read_l1(l1_page, d, 4096))
		memset(d, l1_uses ? 0xff : 0, 4096);  /* an unreadable bitmap: exit on all */
	for (unsigned i = 0; i < 512; i++)
		d[i] |= l0[i];
}

static void setup_controls(const struct vmcs12 *v12)
{
	uint32_t proc12 = v12->CPU_BASED_VM_EXEC_CONTROL;
	bool io_bitmaps = proc12 & PROC_USE_IO_BITMAPS;
	bool io_all = !io_bitmaps && (proc12 & PROC_UNCOND_IO_EXITING);
	uint64_t mask0, mask4;

	vmwrite32(VMCS_PIN_BASED_VM_EXEC_CONTROL,
		  settle(vmx_caps.pin, v12->PIN_BASED_VM_EXEC_CONTROL, "pin-based"));
	vmwrite32(VMCS_CPU_BASED_VM_EXEC_CONTROL,
		  settle(vmx_caps.proc, (proc12 & ~PROC_UNCOND_IO_EXITING) | L0_PROC02,
			 "processor-based"));
	vmwrite32(VMCS_SECONDARY_VM_EXEC_CONTROL,
		  settle(vmx_caps.proc2, vmcs12_proc2(v12) | L0_PROC2_02, "secondary"));
	vmwrite32(VMCS_VM_EXIT_CONTROLS,
		  settle(vmx_caps.exit, (v12->VM_EXIT_CONTROLS & L1_EXIT_PASSED) | L0_EXIT02,
			 "VM-exit"));
	vmwrite32(VMCS_VM_ENTRY_CONTROLS,
		  settle(vmx_caps.entry, (v12->VM_ENTRY_CONTROLS & L1_ENTRY_PASSED) | L0_ENTRY02,
			 "VM-entry"));
	vmwrite64(VMCS_EPT_POINTER, ept_eptp(&l1.ept01));

	vmwrite32(VMCS_EXCEPTION_BITMAP, v12->EXCEPTION_BITMAP);
	vmwrite32(VMCS_PAGE_FAULT_ERROR_CODE_MASK, v12->PAGE_FAULT_ERROR_CODE_MASK);
	vmwrite32(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, v12->PAGE_FAULT_ERROR_CODE_MATCH);
	vmwrite32(VMCS_CR3_TARGET_COUNT, v12->CR3_TARGET_COUNT);
	vmwritenat(VMCS_CR3_TARGET_VALUE0, v12->CR3_TARGET_VALUE0);
	vmwritenat(VMCS_CR3_TARGET_VALUE1, v12->CR3_TARGET_VALUE1);
	vmwritenat(VMCS_CR3_TARGET_VALUE2, v12->CR3_TARGET_VALUE2);
	vmwritenat(VMCS_CR3_TARGET_VALUE3, v12->CR3_TARGET_VALUE3);
	vmwrite64(VMCS_TSC_OFFSET, (proc12 & PROC_USE_TSC_OFFSETTING) ? v12->TSC_OFFSET : 0);

	/* Guest/host masks: a bit is owned if L1 or L0 owns it. Where only L0
	 * does, L2 reads what L1 put in its guest CR (SDM 25.6.6). */
	mask0 = v12->CR0_GUEST_HOST_MASK | vmcs01_cr0_mask();
	mask4 = v12->CR4_GUEST_HOST_MASK | vmcs01_cr4_mask();
	vmwritenat(VMCS_CR0_GUEST_HOST_MASK, mask0);
	vmwritenat(VMCS_CR4_GUEST_HOST_MASK, mask4);
	vmwritenat(VMCS_CR0_READ_SHADOW, (v12->CR0_READ_SHADOW & v12->CR0_GUEST_HOST_MASK) |
					  (v12->GUEST_CR0 & ~v12->CR0_GUEST_HOST_MASK));
	vmwritenat(VMCS_CR4_READ_SHADOW, (v12->CR4_READ_SHADOW & v12->CR4_GUEST_HOST_MASK) |
					  (v12->GUEST_CR4 & ~v12->CR4_GUEST_HOST_MASK));

	/* L0 processes L1's MSR lists itself (msr_lists.c). */
	vmwrite32(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite32(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite32(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite32(VMCS_VM_ENTRY_INTR_INFO, v12->VM_ENTRY_INTR_INFO);
	vmwrite32(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, v12->VM_ENTRY_EXCEPTION_ERROR_CODE);
	vmwrite32(VMCS_VM_ENTRY_INSTRUCTION_LEN, v12->VM_ENTRY_INSTRUCTION_LEN);

	merge_bitmap(nested.msr_bitmap02, proc12 & PROC_USE_MSR_BITMAPS, v12->MSR_BITMAP,
		     l1.msr_bitmap, false);
	merge_bitmap(nested.io_bitmap02_a, io_bitmaps, v12->IO_BITMAP_A, l1.io_bitmap_a, io_all);
	merge_bitmap(nested.io_bitmap02_b, io_bitmaps, v12->IO_BITMAP_B, l1.io_bitmap_b, io_all);
	vmwrite64(VMCS_MSR_BITMAP, nested.msr_bitmap02);
	vmwrite64(VMCS_IO_BITMAP_A, nested.io_bitmap02_a);
	vmwrite64(VMCS_IO_BITMAP_B, nested.io_bitmap02_b);
}

/* Every guest-state field L1 can see, VMCS12 -> VMCS02 (generated from the table). */
static void copy_guest_state(const struct vmcs12 *v12)
{
#define VMCS_FIELD(name, enc, width, group, feat)                    \
	if ((group) == GUEST && nested.caps.feature[feat])           \
		vmcs_write_raw((enc), v12->name);
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
}

#define PDPTE_P        1ull
#define PDPTE_RESERVED 0xfff00000000001e6ull

/* PAE paging without IA-32e mode: EPT makes the CPU take PDPTEs from the VMCS (26.3.2.4). */
static bool load_l2_pdptes(const struct vmcs12 *v12)
{
	uint64_t pdpte[4];

	if (!nested_read_l1(v12->GUEST_CR3 & 0xffffffe0ull, pdpte, sizeof(pdpte)))
		return false;
	for (int i = 0; i < 4; i++)
		if ((pdpte[i] & PDPTE_P) && (pdpte[i] & PDPTE_RESERVED))
			return false;
	vmwrite64(VMCS_GUEST_PDPTE0, pdpte[0]);
	vmwrite64(VMCS_GUEST_PDPTE1, pdpte[1]);
	vmwrite64(VMCS_GUEST_PDPTE2, pdpte[2]);
	vmwrite64(VMCS_GUEST_PDPTE3, pdpte[3]);
	return true;
}

static bool setup_guest_state(const struct vmcs12 *v12, const struct l1_inherited *inh)
{
	uint32_t entry = v12->VM_ENTRY_CONTROLS;
	bool ia32e = entry & ENTRY_IA32E_MODE_GUEST;

	copy_guest_state(v12);
	/* What VMCS12 does not load, L2 inherits from L1 (26.3.2.1); with
	 * "IA-32e mode guest", EFER.LMA and LME follow that control. */
	vmwrite64(VMCS_GUEST_IA32_EFER,
		  (entry & ENTRY_LOAD_EFER) ? v12->GUEST_IA32_EFER
		  : (inh->efer & ~(EFER_LMA | EFER_LME)) | (ia32e ? EFER_LMA | EFER_LME : 0));
	vmwrite64(VMCS_GUEST_IA32_PAT, (entry & ENTRY_LOAD_PAT) ? v12->GUEST_IA32_PAT : inh->pat);
	if (!(entry & ENTRY_LOAD_DEBUG_CONTROLS)) {
		vmwritenat(VMCS_GUEST_DR7, inh->dr7);
		vmwrite64(VMCS_GUEST_IA32_DEBUGCTL, inh->debugctl);
	}
	vmwrite64(VMCS_VMCS_LINK_POINTER, ~0ull);
	if ((v12->GUEST_CR0 & CR0_PG) && (v12->GUEST_CR4 & CR4_PAE) && !ia32e)
		return load_l2_pdptes(v12);
	return true;
}

static uint64_t alloc_page(void)
{
	uint64_t p = pmm_alloc_page();

	if (!p)
		panic("nested: L0 pool exhausted");
	return p;
}

int nested_build_vmcs02(struct vcpu *v, const struct l1_inherited *inh)
{
	const struct vmcs12 *v12 = nested.vmcs12;

	if (!nested.vmcs02) {
		nested.vmcs02 = vmx_new_vmcs();  /* also makes it current */
		nested.msr_bitmap02 = alloc_page();
		nested.io_bitmap02_a = alloc_page();
		nested.io_bitmap02_b = alloc_page();
	} else {
		vmx_load_vmcs(nested.vmcs02);
	}
	vmcs_write_host_state(v);
	setup_controls(v12);
	if (!setup_guest_state(v12, inh)) {
		vmx_load_vmcs(nested.vmcs01);
		return 2 + 1;  /* qualification 2: PDPTE loading failed (26.8) */
	}
	return 0;
}
