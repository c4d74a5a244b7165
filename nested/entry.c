/* SPDX-License-Identifier: MIT */
/*
 * VMLAUNCH and VMRESUME by L1: the checks of SDM Vol. 3C, 31.3 in order,
 * then 26.2's control and host-state checks in software (VMfailValid 7/8),
 * L2's guest state (software checks here, the rest by the CPU on VMCS02,
 * failures become VM-entry-failure exits to L1), VMCS12's MSR-load list,
 * and the switch to VMCS02.
 */
#include "nested/internal.h"
#include "nested/checks.h"
#include "vmx/exit.h"
#include "vmx/guest_mem.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/probe.h"
#include "core/x86.h"

static void fail_entry_check(const struct exit_ctx *x, enum vm_insn_error e, const char *check)
{
	pr_info("nested: VM entry check failed: %s (VMfailValid %u)", check, e);
	vm_fail_valid(e);
	vcpu_skip_instruction(x);
}

/*
 * The checks of 26.2.1 and 26.2.2-4 read VMCS12's control and host fields,
 * whether L1 is in IA-32e mode, and (event injection) guest CR0. They need
 * running again only when one of those may have changed since they passed
 * for this VMCS12: a field L1 wrote, a new VMCS12, L1's mode, or an event to
 * inject (guest CR0 changes with L2's exits).
 */
static bool controls_and_host_need_checks(const struct vmcs12 *v12,
					  const struct entry_check_env *env)
{
	return nested.checked != nested.current_ptr ||
	       nested.checked_long_mode != env->l1_long_mode ||
	       (nested.dirty_groups & DG_CHECKED) || (v12->VM_ENTRY_INTR_INFO & INTR_INFO_VALID);
}

/*
 * The software guest-state checks read VMCS12's guest state and controls,
 * and L1's memory at the VMCS link pointer. When VMCS02 holds this VMCS12's
 * state, what L1 did not write is what the CPU saved at L2's last VM exit,
 * after an entry that passed them: only the fields L1 wrote, and a link
 * pointer (whose target L1 may have changed), need them again. A new RIP
 * alone, the common case (L1 skips the instruction it emulated), needs the
 * RIP check alone.
 */
static const char *guest_state_checks(const struct vmcs12 *v12, const struct entry_check_env *env,
				      uint64_t *qual)
{
	*qual = 0;
	if (nested.vmcs02_owner != nested.current_ptr ||
	    (nested.dirty_groups & (DG_GUEST_CHECKED | DG_CHECKED)) || v12->VMCS_LINK_POINTER != ~0ull)
		return nested_check_guest_state(v12, env, qual);
	return (nested.dirty_groups & DG_RIP) ? nested_check_guest_rip(v12) : NULL;
}

/* A VM-entry failure exit to L1: its CR0/EFER are still VMCS01's guest state. */
static void entry_failure(struct vcpu *v, uint32_t reason, uint64_t qual)
{
	nested_entry_failure_to_l1(v, reason, qual, vmreadnat(VMCS_GUEST_CR0),
				   vmread64(VMCS_GUEST_IA32_EFER));
}

static void vmentry(struct vcpu *v, const struct exit_ctx *x, bool launch)
{
	struct vmcs12 *v12 = nested.vmcs12;
	struct entry_check_env env = { &nested.caps, l1_maxphyaddr(), false, nested_read_l1 };
	struct l1_inherited inh;
	uint64_t qual;
	const char *why;
	uint32_t bad_msr;
	int fail;

	if (!nested_check_vmx_root_mode(&env.l1_long_mode))
		return;
	if (!nested_require_current_vmcs(x))
		return;
	PROBE(P_ENTRY_ROOT);
	nested_shadow_pull();  /* what L1 wrote without exits */
	PROBE(P_ENTRY_PULL);
	if (vmread32(VMCS_GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_MOV_SS) {
		vm_fail_valid(VMERR_ENTRY_MOV_SS_BLOCKING);
		vcpu_skip_instruction(x);
		return;
	}
	if (launch && v12->launch_state != VMCS12_CLEAR) {
		vm_fail_valid(VMERR_VMLAUNCH_NOT_CLEAR);
		vcpu_skip_instruction(x);
		return;
	}
	if (!launch && v12->launch_state != VMCS12_LAUNCHED) {
		vm_fail_valid(VMERR_VMRESUME_NOT_LAUNCHED);
		vcpu_skip_instruction(x);
		return;
	}
	if (controls_and_host_need_checks(v12, &env)) {
		why = nested_check_controls(v12, &env);
		if (why) {
			fail_entry_check(x, VMERR_ENTRY_INVALID_CONTROLS, why);
			return;
		}
		why = nested_check_host_state(v12, &env);
		if (why) {
			fail_entry_check(x, VMERR_ENTRY_INVALID_HOST_STATE, why);
			return;
		}
		nested.checked = nested.current_ptr;
		nested.checked_long_mode = env.l1_long_mode;
	}

	/* From here the instruction ends in L2 or in a VM-entry-failure exit to L1. */
	why = guest_state_checks(v12, &env, &qual);
	if (why) {
		pr_info("nested: VM entry check failed: %s (VM-entry failure, qualification %lu)",
			why, qual);
		entry_failure(v, EXIT_REASON_INVALID_GUEST_STATE, qual);
		return;
	}
	/* Only what VMCS12 does not load is L1's to inherit (26.3.2.1). */
	inh = (struct l1_inherited){ .efer = vmread64(VMCS_GUEST_IA32_EFER) };
	if (!(v12->VM_ENTRY_CONTROLS & ENTRY_LOAD_PAT))
		inh.pat = vmread64(VMCS_GUEST_IA32_PAT);
	if (!(v12->VM_ENTRY_CONTROLS & ENTRY_LOAD_DEBUG_CONTROLS)) {
		inh.dr7 = vmreadnat(VMCS_GUEST_DR7);
		inh.debugctl = vmread64(VMCS_GUEST_IA32_DEBUGCTL);
	}
	PROBE(P_ENTRY_CHECKS);
	fail = nested_prepare_vmcs02(v, &inh);
	PROBE(P_ENTRY_VMCS02);
	if (fail) {
		pr_info("nested: L2's PDPTEs cannot be loaded: VM-entry failure");
		entry_failure(v, EXIT_REASON_INVALID_GUEST_STATE, fail - 1);
		return;
	}
	/* 26.4 "Loading MSRs", into L2's context (VMCS02 current). */
	bad_msr = nested_load_msr_list(v12->VM_ENTRY_MSR_LOAD_ADDR, v12->VM_ENTRY_MSR_LOAD_COUNT,
				       true);
	if (bad_msr) {
		vmx_load_vmcs(nested.vmcs01);
		entry_failure(v, EXIT_REASON_MSR_LOADING, bad_msr);
		return;
	}
	nested.in_l2 = true;
	PROBE(P_ENTRY_MSRS);
	nested.launching = launch;
	nested.l2_entries++;
	v->frame.launch = !nested.vmcs02_launched;
}

void handle_vmlaunch(struct vcpu *v, const struct exit_ctx *x)
{
	vmentry(v, x, true);
}

void handle_vmresume(struct vcpu *v, const struct exit_ctx *x)
{
	vmentry(v, x, false);
}

void nested_vmcs02_refused(struct vcpu *v, bool fail_valid)
{
	uint32_t err = fail_valid ? vmread32(VMCS_VM_INSTRUCTION_ERROR)
				  : VMERR_ENTRY_INVALID_CONTROLS;
	struct exit_ctx x;

	log_line("nested: the CPU refused VMCS02 (%s, error %u): a VM-entry check L0 does not "
		 "make yet; L1 gets VMfailValid", fail_valid ? "VMfailValid" : "VMfailInvalid", err);
	nested_msr_load_undo();  /* the CPU refused VMCS02 before any MSR loading (26.2) */
	vmx_load_vmcs(nested.vmcs01);
	nested.in_l2 = false;
	nested.launching = false;
	/* VMCS01 still describes L1 at its VMLAUNCH/VMRESUME. */
	x = (struct exit_ctx){ .rip = vmreadnat(VMCS_GUEST_RIP),
			       .insn_len = vmread32(VMCS_VM_EXIT_INSTRUCTION_LEN) };
	vm_fail_valid((enum vm_insn_error)err);
	vcpu_skip_instruction(&x);
}
