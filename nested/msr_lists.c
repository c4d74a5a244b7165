/* SPDX-License-Identifier: MIT */
/*
 * VMCS12's MSR lists, processed by L0 in software (VMCS02 has none):
 * SDM Vol. 3C, 26.4 "Loading MSRs", 27.4 "Saving MSRs", 27.6 "Loading Host MSRs".
 * Each entry is read once from L1 memory; the MSRs L0 owns keep L1's view.
 */
#include "nested/internal.h"
#include "vmx/exit.h"
#include "vmx/guest_mem.h"
#include "vmx/msr_policy.h"
#include "vmx/vmcs.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/x86.h"

struct msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

#define MSR_IA32_SYSENTER_CS     0x174
#define MSR_IA32_SYSENTER_ESP    0x175
#define MSR_IA32_SYSENTER_EIP    0x176
#define MSR_IA32_SMM_MONITOR_CTL 0x09b
#define MSR_IA32_SMBASE          0x09e
#define MSR_IA32_UCODE_WRITE     0x079
#define MSR_IA32_UCODE_REV       0x08b

/* MSRs no list may load (26.4, 27.6): x2APIC, SMM, microcode, FS/GS base. */
static bool list_may_load(uint32_t msr)
{
	return (msr >> 8) != 0x8 && msr != MSR_IA32_SMM_MONITOR_CTL && msr != MSR_IA32_SMBASE &&
	       msr != MSR_IA32_UCODE_WRITE && msr != MSR_FS_BASE && msr != MSR_GS_BASE;
}

/*
 * The undo journal of a VM-entry MSR-load list. L0 loads the list before it
 * enters VMCS02, but the CPU checks VMCS02's controls and guest state only
 * at that entry; architecturally those checks come first (SDM Vol. 3C, 26.2
 * and 26.3 before 26.4 "Loading MSRs"), so an entry the CPU then refuses
 * must leave every MSR as it was. Writes into VMCS02's guest fields need no
 * undo (a failed VMCS02 is built anew); writes to the CPU's MSRs and to L1's
 * view of L0's MSRs are journalled here and undone in reverse order.
 */
struct msr_undo {
	uint32_t index;
	bool l0s;            /* L1's view of an MSR L0 owns (nested_rdmsr/wrmsr) */
	uint64_t old;
};
static struct msr_undo *undo;
static uint32_t undo_cap, undo_len;
static uint64_t undo_entry;  /* the nested.l2_entries value of the entry journalled */

static uint32_t list_max(void);

void nested_msr_lists_init(void)
{
	size_t bytes = (size_t)list_max() * sizeof(*undo);
	uint64_t pa = pmm_alloc_pages((bytes + 4095) / 4096);

	if (!pa)
		panic("no memory for the VM-entry MSR-load undo journal");
	undo = phys_to_virt(pa);
	undo_cap = list_max();
}

static void journal(uint32_t msr, bool l0s)
{
	struct msr_undo *u;

	if (undo_len == undo_cap)  /* list_max entries at most: cannot happen */
		panic("VM-entry MSR-load undo journal full");
	u = &undo[undo_len];
	u->index = msr;
	u->l0s = l0s;
	/* An MSR that cannot be read (write-only commands) has nothing to restore. */
	if (l0s ? nested_rdmsr(msr, &u->old) : rdmsr_safe(msr, &u->old) < 0)
		undo_len++;
}

void nested_msr_load_undo(void)
{
	if (undo_entry != nested.l2_entries)
		return;  /* this entry loaded no list */
	while (undo_len) {
		const struct msr_undo *u = &undo[--undo_len];

		if (u->l0s)
			nested_restore_msr(u->index, u->old);
		else
			wrmsr_safe(u->index, u->old);
	}
}

/*
 * Write an MSR the way the guest whose state is in the current VMCS would
 * see it: VMCS-managed MSRs go to the VMCS guest fields, L0-owned ones to
 * L1's virtual copies, the rest to the CPU (journalled for a VM-entry list:
 * undo).
 */
static bool write_msr(uint32_t msr, uint64_t value, bool undoable)
{
	/* Each with the check WRMSR itself makes (#GP = a failed entry). */
	switch (msr) {
	case MSR_IA32_EFER: {
		/* No reserved bit; LME fixed while the guest's CR0.PG = 1 (SDM Vol. 3A,
		 * 4.1.2 "Paging-Mode Enabling"); LMA is read-only (2.2.1, Table 2-1), the
		 * current one stays. The current VMCS holds the guest's CR0 and EFER:
		 * L2's (entry list, VMCS02) or L1's host state (exit list, VMCS01). */
		uint64_t efer = vmread64(VMCS_GUEST_IA32_EFER);

		if ((value & ~(uint64_t)EFER_DEFINED) ||
		    ((vmreadnat(VMCS_GUEST_CR0) & CR0_PG) && ((value ^ efer) & EFER_LME)))
			return false;
		vmwrite64(VMCS_GUEST_IA32_EFER, (value & ~(uint64_t)EFER_LMA) | (efer & EFER_LMA));
		return true;
	}
	case MSR_IA32_PAT:
		if (!x86_pat_valid(value))
			return false;
		vmwrite64(VMCS_GUEST_IA32_PAT, value);
		return true;
	case MSR_IA32_DEBUGCTL:
		/* The CPU decides which DEBUGCTL bits exist: try it (VM exits clear it). */
		if (wrmsr_safe(MSR_IA32_DEBUGCTL, value) >= 0)
			return false;
		wrmsr(MSR_IA32_DEBUGCTL, 0);
		vmwrite64(VMCS_GUEST_IA32_DEBUGCTL, value);
		return true;
	case MSR_IA32_SYSENTER_CS:
		vmwrite32(VMCS_GUEST_SYSENTER_CS, value);
		return true;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!x86_canonical(value))
			return false;
		if (msr == MSR_IA32_SYSENTER_ESP)
			vmwritenat(VMCS_GUEST_SYSENTER_ESP, value);
		else
			vmwritenat(VMCS_GUEST_SYSENTER_EIP, value);
		return true;
	default:
		if (nested_msr_is_l0s(msr)) {
			if (undoable)
				journal(msr, true);
			return nested_wrmsr(msr, value);
		}
		if (!msr_write_allowed(msr, value))
			return false;
		if (undoable)
			journal(msr, false);
		return wrmsr_safe(msr, value) < 0;
	}
}

static bool read_msr(uint32_t msr, uint64_t *value)
{
	switch (msr) {
	/* As of the VM exit (28.4), not of this later moment; L1's TSC is the CPU's. */
	case MSR_IA32_TSC: *value = current_vcpu->frame.exit_tsc - EXIT_STUB_TSC_LAG; return true;
	case MSR_IA32_EFER: *value = vmread64(VMCS_GUEST_IA32_EFER); return true;
	case MSR_IA32_PAT: *value = vmread64(VMCS_GUEST_IA32_PAT); return true;
	case MSR_IA32_DEBUGCTL: *value = vmread64(VMCS_GUEST_IA32_DEBUGCTL); return true;
	case MSR_IA32_SYSENTER_CS: *value = vmread32(VMCS_GUEST_SYSENTER_CS); return true;
	case MSR_IA32_SYSENTER_ESP: *value = vmreadnat(VMCS_GUEST_SYSENTER_ESP); return true;
	case MSR_IA32_SYSENTER_EIP: *value = vmreadnat(VMCS_GUEST_SYSENTER_EIP); return true;
	/* L2's, from the VMCS: the CPU's are L0's after the exit (27.5.2). */
	case MSR_FS_BASE: *value = vmreadnat(VMCS_GUEST_FS_BASE); return true;
	case MSR_GS_BASE: *value = vmreadnat(VMCS_GUEST_GS_BASE); return true;
	default:
		if (nested_msr_is_l0s(msr))
			return nested_rdmsr(msr, value);
		return rdmsr_safe(msr, value) < 0;
	}
}

/*
 * The most entries a list may have: 512 x (N + 1), N = IA32_VMX_MISC bits
 * 27:25 as L1 sees it (SDM Vol. 3D, A.6 "Miscellaneous Data"). Beyond it
 * the SDM promises nothing; nestvisor fails the entry that exceeds it, as
 * KVM does, so one list keeps L0 busy for a bounded time.
 */
static uint32_t list_max(void)
{
	return 512u * (uint32_t)(((nested.caps.l1.misc >> 25) & 7) + 1);
}

uint32_t nested_load_msr_list_slow(uint64_t addr, uint32_t count, bool entry)
{
	uint32_t max = list_max();

	if (entry) {
		/* Before vmentry counts the entry this list belongs to. */
		undo_len = 0;
		undo_entry = nested.l2_entries + 1;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct msr_entry e;

		if (i == max || !nested_read_l1(addr + 16ull * i, &e, sizeof(e)) || e.reserved ||
		    !list_may_load(e.index) || !write_msr(e.index, e.value, entry))
			return i + 1;
	}
	return 0;
}

bool nested_store_msr_list_slow(uint64_t addr, uint32_t count)
{
	if (count > list_max())
		return false;
	for (uint32_t i = 0; i < count; i++) {
		struct msr_entry e;
		uint64_t value;

		if (!nested_read_l1(addr + 16ull * i, &e, 8) || e.reserved ||
		    (e.index >> 8) == 0x8 || e.index == MSR_IA32_SMBASE || !read_msr(e.index, &value))
			return false;
		if (l1_write_phys(addr + 16ull * i + 8, &value, 8))
			return false;
	}
	return true;
}
