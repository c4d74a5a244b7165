/* SPDX-License-Identifier: MIT */
/*
 * Back to L1: an L2 exit L1 asked for (SDM Vol. 3C, 28 "VM Exits": guest
 * state and exit information into VMCS12, MSR lists, L1's host state), or a
 * VM-entry failure (26.8), or a VMX abort (28.7).
 */
#include "nested/internal.h"
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/guest_mem.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/probe.h"
#include "core/run.h"
#include "core/x86.h"

bool nested_read_l1(uint64_t gpa, void *buf, unsigned len)
{
	return l1_is_ram(gpa, len) && l1_read_phys(gpa, buf, len) == GM_OK;
}

/* VMX abort indicators (SDM 28.7 "VMX Aborts"). */
enum vmx_abort { ABORT_SAVING_MSRS = 1, ABORT_HOST_PDPTE = 2, ABORT_LOADING_MSRS = 4 };

static __attribute__((noreturn)) void vmx_abort(struct vcpu *v, enum vmx_abort indicator)
{
	nested_shadow_pull();
	nested.vmcs12->abort = indicator;
	l1_write_phys(nested.current_ptr, nested.vmcs12, sizeof(*nested.vmcs12));
	vcpu_dump(v);
	run_end_failure("VMX abort (indicator %u): L1's processor is shut down", indicator);
}

/* CR0 bits a VM exit does not load from the host field (27.5.1). */
#define CR0_NOT_LOADED (CR0_ET | CR0_CD | CR0_NW | 0xffffffff00000000ull | 0x1ff80000ull | \
			(1ull << 17) | 0xffc0ull)

#define AR_CODE64_HOST(l) (AR_G | ((l) ? AR_L : AR_DB) | AR_P | AR_S | 0xb)
#define AR_DATA_HOST      (AR_G | AR_DB | AR_P | AR_S | 0x3)
#define AR_TR_HOST        (AR_P | 0xb)

static uint32_t data_ar(uint16_t selector)
{
	return selector ? AR_DATA_HOST : AR_UNUSABLE;
}

void nested_load_l1_host_state(struct vcpu *v, uint64_t prev_cr0, uint64_t prev_efer)
{
	const struct vmcs12 *h = nested.vmcs12;
	bool host64 = h->VM_EXIT_CONTROLS & EXIT_HOST_ADDR_SPACE_SIZE;
	uint64_t cr0 = (prev_cr0 & CR0_NOT_LOADED) | (h->HOST_CR0 & ~CR0_NOT_LOADED);
	uint64_t cr4 = h->HOST_CR4 | nested.caps.l1.cr4_fixed0;
	uint32_t entry = vmread32(VMCS_VM_ENTRY_CONTROLS);

	/* 27.5.1 "Loading Host Control Registers, Debug Registers, MSRs" */
	if (host64)
		cr4 |= CR4_PAE;
	else
		cr4 &= ~CR4_PCIDE;
	vmwritenat(VMCS_CR0_READ_SHADOW, cr0);
	vmwritenat(VMCS_GUEST_CR0, l1_real_cr0(cr0));
	vmwritenat(VMCS_CR4_READ_SHADOW, cr4);
	vmwritenat(VMCS_GUEST_CR4, cr4 | vmx_caps.cr4_fixed0);
	vmwritenat(VMCS_GUEST_CR3, h->HOST_CR3);
	vmwritenat(VMCS_GUEST_DR7, 0x400);
	vmwrite64(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmwrite32(VMCS_GUEST_SYSENTER_CS, h->HOST_IA32_SYSENTER_CS);
	vmwritenat(VMCS_GUEST_SYSENTER_ESP, h->HOST_IA32_SYSENTER_ESP);
	vmwritenat(VMCS_GUEST_SYSENTER_EIP, h->HOST_IA32_SYSENTER_EIP);
	if (h->VM_EXIT_CONTROLS & EXIT_LOAD_PAT)
		vmwrite64(VMCS_GUEST_IA32_PAT, h->HOST_IA32_PAT);
	vmwrite64(VMCS_GUEST_IA32_EFER,
		  (h->VM_EXIT_CONTROLS & EXIT_LOAD_EFER)
			  ? h->HOST_IA32_EFER
			  : (prev_efer & ~(EFER_LMA | EFER_LME)) | (host64 ? EFER_LMA | EFER_LME : 0));
	vmwrite32(VMCS_VM_ENTRY_CONTROLS,
		  host64 ? entry | ENTRY_IA32E_MODE_GUEST : entry & ~ENTRY_IA32E_MODE_GUEST);

	/* 27.5.2 "Loading Host Segment and Descriptor-Table Registers" */
	vmwrite16(VMCS_GUEST_CS_SELECTOR, h->HOST_CS_SELECTOR);
	vmwritenat(VMCS_GUEST_CS_BASE, 0);
	vmwrite32(VMCS_GUEST_CS_LIMIT, 0xffffffffu);
	vmwrite32(VMCS_GUEST_CS_AR_BYTES, AR_CODE64_HOST(host64));
#define HOST_DATA_SEGMENT(seg, base)                                            \
	do {                                                                    \
		vmwrite16(VMCS_GUEST_##seg##_SELECTOR, h->HOST_##seg##_SELECTOR); \
		vmwritenat(VMCS_GUEST_##seg##_BASE, base);                      \
		vmwrite32(VMCS_GUEST_##seg##_LIMIT, 0xffffffffu);               \
		vmwrite32(VMCS_GUEST_##seg##_AR_BYTES, data_ar(h->HOST_##seg##_SELECTOR)); \
	} while (0)
	HOST_DATA_SEGMENT(SS, 0);
	HOST_DATA_SEGMENT(DS, 0);
	HOST_DATA_SEGMENT(ES, 0);
	HOST_DATA_SEGMENT(FS, h->HOST_FS_BASE);
	HOST_DATA_SEGMENT(GS, h->HOST_GS_BASE);
#undef HOST_DATA_SEGMENT
	vmwrite16(VMCS_GUEST_TR_SELECTOR, h->HOST_TR_SELECTOR);
	vmwritenat(VMCS_GUEST_TR_BASE, h->HOST_TR_BASE);
	vmwrite32(VMCS_GUEST_TR_LIMIT, 0x67);
	vmwrite32(VMCS_GUEST_TR_AR_BYTES, AR_TR_HOST);
	vmwrite16(VMCS_GUEST_LDTR_SELECTOR, 0);
	vmwrite32(VMCS_GUEST_LDTR_AR_BYTES, AR_UNUSABLE);
	vmwritenat(VMCS_GUEST_GDTR_BASE, h->HOST_GDTR_BASE);
	vmwrite32(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwritenat(VMCS_GUEST_IDTR_BASE, h->HOST_IDTR_BASE);
	vmwrite32(VMCS_GUEST_IDTR_LIMIT, 0xffff);

	/* 27.5.3 "Loading Host RIP, RSP, RFLAGS, and SSP" */
	vmwritenat(VMCS_GUEST_RIP, h->HOST_RIP);
	vmwritenat(VMCS_GUEST_RSP, h->HOST_RSP);
	vmwritenat(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	vmwrite32(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmwrite32(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmwritenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmwrite32(VMCS_VM_ENTRY_INTR_INFO, 0);

	/* 27.5.4 "Checking and Loading Host Page-Directory-Pointer-Table Entries" */
	if (!host64 && (cr4 & CR4_PAE) && (cr0 & CR0_PG) && !l1_load_pdptes(h->HOST_CR3))
		vmx_abort(v, ABORT_HOST_PDPTE);
	/* 27.6 "Loading Host MSRs" */
	if (nested_load_msr_list(h->VM_EXIT_MSR_LOAD_ADDR, h->VM_EXIT_MSR_LOAD_COUNT, false))
		vmx_abort(v, ABORT_LOADING_MSRS);
}

void nested_entry_failure_to_l1(struct vcpu *v, uint32_t reason, uint64_t qualification,
				uint64_t prev_cr0, uint64_t prev_efer)
{
	struct vmcs12 *v12 = nested.vmcs12;

	v12->VM_EXIT_REASON = reason | EXIT_REASON_ENTRY_FAILURE;
	v12->EXIT_QUALIFICATION = qualification;
	v12->VM_EXIT_INTR_INFO = 0;
	nested_vmcs02_invalidate();
	nested_shadow_push_entry_failure();
	pr_debug("nested: VM entry to L2 failed (reason %u, qualification %lu): exit to L1",
		 reason, qualification);
	nested_load_l1_host_state(v, prev_cr0, prev_efer);
}

/* reason: 0 = VMCS02's exit as it is; else L1's exit is this one, with this qualification. */
static void reflect(struct vcpu *v, const struct exit_ctx *x, uint32_t reason,
		    uint64_t qualification)
{
	struct vmcs12 *v12 = nested.vmcs12;
	uint64_t l2_cr0 = vmreadnat(VMCS_GUEST_CR0), l2_efer = vmread64(VMCS_GUEST_IA32_EFER);

	nested_sync_exit(v12, x);
	if (reason) {
		v12->VM_EXIT_REASON = reason;
		v12->EXIT_QUALIFICATION = qualification;
	}
	/* 28.4 "Saving MSRs": L2's values, VMCS02 still current. */
	if (!nested_store_msr_list(v12->VM_EXIT_MSR_STORE_ADDR, v12->VM_EXIT_MSR_STORE_COUNT)) {
		vmx_load_vmcs(nested.vmcs01);
		nested.in_l2 = false;
		vmx_abort(v, ABORT_SAVING_MSRS);
	}
	PROBE(P_REFLECT_SYNC);
	nested_shadow_push_exit();  /* VMCS01 current again */
	PROBE(P_REFLECT_SHADOW);
	nested.in_l2 = false;
	nested.l2_exits_reflected++;
	nested_load_l1_host_state(v, l2_cr0, l2_efer);
	PROBE(P_REFLECT_HOST);
}

void nested_reflect_to_l1(struct vcpu *v, const struct exit_ctx *x)
{
	reflect(v, x, 0, 0);
}

void nested_reflect_to_l1_as(struct vcpu *v, const struct exit_ctx *x, uint32_t reason,
			     uint64_t qualification)
{
	reflect(v, x, reason, qualification);
}
