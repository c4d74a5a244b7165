/* SPDX-License-Identifier: MIT */
/*
 * Control-register exits. L1 writes CR0/CR4 freely except for the bits VMX
 * fixes (CR0.NE, CR4.VMXE; SDM Vol. 3C, 24.8 "Restrictions on VMX
 * Operation"): those are in the guest/host masks, and a write that changes
 * one against its read shadow exits here to be emulated.
 * SDM Vol. 3C, 25.6.6 "Guest/Host Masks and Read Shadows for CR0 and CR4".
 */
#include "nested/nested.h"
#include "vmx/exit.h"
#include "vmx/exit_info.h"
#include "vmx/guest_mem.h"
#include "vmx/guest_regs.h"
#include "vmx/caps.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/run.h"
#include "core/x86.h"

#include <nestvisor/string.h>

#define PDPTE_P             1ull
#define PDPTE_RESERVED      0xfff00000000001e6ull  /* bits 2:1, 8:5, 63:52 */

/* PAE paging with EPT: the CPU takes the PDPTEs from the VMCS (SDM 26.3.2.4);
 * after an emulated CR write, a nested entry or a nested exit, L0 loads them
 * from the guest's CR3 into the current VMCS. */
bool l1_load_pdptes(uint64_t cr3)
{
	uint64_t pdpte[4];

	if (!l1_is_ram(cr3 & 0xffffffe0ull, sizeof(pdpte)) ||
	    l1_read_phys(cr3 & 0xffffffe0ull, pdpte, sizeof(pdpte)))
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

/* MOV to CR0 with the checks of SDM Vol. 2B "MOV—Move to/from Control Registers". */
static bool emulate_cr0_write(uint64_t val)
{
	uint64_t old = guest_visible_cr0();
	uint64_t efer = vmread64(VMCS_GUEST_IA32_EFER);
	uint32_t entry = vmread32(VMCS_VM_ENTRY_CONTROLS);

	if (!l1_long_mode())
		val &= 0xffffffffu;
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)))
		return false;
	/* In VMX operation L1's CR0 must keep its VMX fixed bits (SDM 24.8). */
	if (nested.vmxon && ((val & nested.caps.l1.cr0_fixed0) != nested.caps.l1.cr0_fixed0 ||
			     (val & ~nested.caps.l1.cr0_fixed1 & 0xffffffffu)))
		return false;
	if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
		if (!(vmreadnat(VMCS_GUEST_CR4) & CR4_PAE))
			return false;
		/* Entering IA-32e mode: SDM Vol. 3A, 10.8.5 "Initializing IA-32e Mode". */
		efer |= EFER_LMA;
		entry |= ENTRY_IA32E_MODE_GUEST;
	} else if (!(val & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
		efer &= ~EFER_LMA;
		entry &= ~ENTRY_IA32E_MODE_GUEST;
	}
	if ((val & CR0_PG) && !(efer & EFER_LMA) && (vmreadnat(VMCS_GUEST_CR4) & CR4_PAE) &&
	    !l1_load_pdptes(vmreadnat(VMCS_GUEST_CR3)))
		return false;
	vmwrite64(VMCS_GUEST_IA32_EFER, efer);
	vmwrite32(VMCS_VM_ENTRY_CONTROLS, entry);
	vmwritenat(VMCS_CR0_READ_SHADOW, val);
	vmwritenat(VMCS_GUEST_CR0, l1_real_cr0(val));
	return true;
}

static bool emulate_cr4_write(uint64_t val)
{
	/* L1 has VMX (nested/): VMXE is one of the bits it may set. */
	uint64_t allowed = vmx_caps.cr4_fixed1;

	if (!l1_long_mode())
		val &= 0xffffffffu;
	if (val & ~allowed)
		return false;
	/* CR4.VMXE cannot be cleared in VMX operation (SDM 24.8). */
	if (nested.vmxon && !(val & CR4_VMXE))
		return false;
	if (l1_long_mode() && !(val & CR4_PAE))
		return false;
	vmwritenat(VMCS_CR4_READ_SHADOW, val);
	vmwritenat(VMCS_GUEST_CR4, val | vmx_caps.cr4_fixed0);
	if ((vmreadnat(VMCS_GUEST_CR0) & CR0_PG) && (val & CR4_PAE) && !l1_long_mode() &&
	    !l1_load_pdptes(vmreadnat(VMCS_GUEST_CR3)))
		return false;
	return true;
}

void handle_cr_access(struct vcpu *v, const struct exit_ctx *x)
{
	struct cr_access_info cr = decode_cr_access(x->qualification);
	uint64_t cr0 = guest_visible_cr0();
	bool ok;

	switch (cr.type) {
	case CR_MOV_TO:
		if (cr.cr == 0)
			ok = emulate_cr0_write(gpr_read(v, cr.gpr));
		else if (cr.cr == 4)
			ok = emulate_cr4_write(gpr_read(v, cr.gpr));
		else
			goto unexpected;
		break;
	case CR_CLTS:
		ok = emulate_cr0_write(cr0 & ~CR0_TS);
		break;
	case CR_LMSW:
		/* LMSW loads PE, MP, EM, TS; it can set PE but never clear it. */
		ok = emulate_cr0_write((cr0 & ~(uint64_t)0xe) | (cr.lmsw_source & 0xf));
		break;
	default:
		goto unexpected;
	}
	if (!ok) {
		pr_debug("L1 CR%u write faulted: #GP to L1 (rip 0x%lx)", cr.cr, x->rip);
		vcpu_inject_gp0();
		return;
	}
	vcpu_skip_instruction(x);
	return;
unexpected:
	vcpu_dump(v);
	run_end_failure("unexpected CR access exit (CR%u, type %u) at rip 0x%lx", cr.cr, cr.type,
			x->rip);
}
