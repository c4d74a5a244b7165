/* SPDX-License-Identifier: MIT */
/*
 * An exit while L2 runs: a VM-entry failure of VMCS02 (L2's guest state was
 * invalid), an exit L1 asked for (reflected), or one only L0 wanted (handled
 * here, L2 resumes).
 */
#include "nested/internal.h"
#include "nested/ept.h"
#include "nested/reflect.h"
#include "vmx/exit.h"
#include "vmx/exit_info.h"
#include "vmx/l1.h"
#include "vmx/guest_regs.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/nmi.h"
#include "core/probe.h"
#include "core/run.h"

#include <nestvisor/hypercall.h>

/*
 * An HLT of L2 that L1 did not ask to see. L2 halts in VMCS02 (the CPU waits
 * there, SDM Vol. 3C, 26.7.4 "Activity State") unless nothing could ever
 * wake it: interrupts disabled and L1 intercepting neither external
 * interrupts, NMIs nor the preemption timer. Then L2 would halt for good,
 * and with it L1: the run ends with the report.
 */
static void l2_hlt(struct vcpu *v, const struct exit_ctx *x)
{
	const uint32_t wakers = PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER;

	if (!(vmreadnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	    !(nested.vmcs12->PIN_BASED_VM_EXEC_CONTROL & wakers)) {
		vcpu_dump(v);
		run_end_failure("L2 halted with interrupts disabled at rip 0x%lx, and L1 intercepts "
				"nothing that could wake it", x->rip);
	}
	vcpu_halt(x);
}

void nested_deliver_nmi(struct vcpu *v)
{
	if (!(nested.vmcs12->PIN_BASED_VM_EXEC_CONTROL & PIN_NMI_EXITING) &&
	    vcpu_try_inject_nmi())
		nmis_to_l2++;
}

/* Exits from L2 that only L0's intercepts caused. */
static void l0_handles(struct vcpu *v, const struct exit_ctx *x)
{
	nested.l2_exits_l0++;
	switch (x->reason) {
	case EXIT_REASON_EPT_VIOLATION:
		log_line("(the access came from L2, run by L1)");
		handle_ept_violation(v, x);
		break;
	case EXIT_REASON_EPT_MISCONFIG:
		handle_ept_misconfig(v, x);  /* EPT01 or EPT02: L0 built both */
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		/* L0's own port (the test exit port), or one L1 lets L2 use. */
		if (l1_io_port_is_l0s(decode_io(x->qualification).port))
			handle_io(v, x);
		else
			nested_l2_io_for_l1(v, x);
		break;
	case EXIT_REASON_MSR_READ:
		handle_rdmsr(v, x);  /* L0-owned MSRs: L2 sees what L1 would */
		break;
	case EXIT_REASON_MSR_WRITE:
		handle_wrmsr(v, x);
		break;
	case EXIT_REASON_HLT:
		l2_hlt(v, x);
		break;
	case EXIT_REASON_CR_ACCESS:
		/* Only bits fixed in VMX operation are L0's alone: changing one is
		 * #GP in VMX non-root operation (SDM Vol. 3C, 24.8). */
		vcpu_inject_gp0();
		break;
	default:
		vcpu_dump(v);
		run_end_failure("unexpected VM exit %s (reason %u) from L2 at rip 0x%lx",
				exit_reason_name(x->reason), x->reason, x->rip);
	}
	vcpu_reinject_idt_vectoring(x);
}

unsigned nested_l2_exit(struct vcpu *v, const struct exit_ctx *x)
{
	struct l2_exit e;

	if (x->raw_reason & EXIT_REASON_ENTRY_FAILURE) {
		/* The CPU found L2's guest state invalid: the same failure L1's CPU would report. */
		uint64_t qual = x->qualification;

		/* Its guest-state checks (26.3) come before MSR loading (26.4). */
		nested_msr_load_undo();
		vmx_load_vmcs(nested.vmcs01);
		nested.in_l2 = false;
		nested_entry_failure_to_l1(v, x->reason, qual, vmreadnat(VMCS_GUEST_CR0),
					   vmread64(VMCS_GUEST_IA32_EFER));
		return NV_ACCT_L2_REFLECTED;
	}
	nested.vmcs02_launched = true;
	nested_io_passthrough_end();
	if (nested.launching) {
		nested.vmcs12->launch_state = VMCS12_LAUNCHED;
		nested.launching = false;
	}
	if (nested_exit_always_reflected(x->reason)) {
		PROBE(P_L2_DECIDE);
		nested_reflect_to_l1(v, x);
		return NV_ACCT_L2_REFLECTED;
	}
	if (x->reason == EXIT_REASON_EPT_VIOLATION && nested_ept_on(nested.vmcs12))
		return nested_ept_l2_violation(v, x);
	e = (struct l2_exit){
		.reason = x->reason,
		.qualification = x->qualification,
		.msr = (uint32_t)gpr_read(v, GPR_RCX),
	};
	/* Only an exception or NMI exit is decided by its interruption information. */
	if (x->reason == EXIT_REASON_EXCEPTION_NMI) {
		e.intr_info = vmread32(VMCS_VM_EXIT_INTR_INFO);
		e.intr_error_code = vmread32(VMCS_VM_EXIT_INTR_ERROR_CODE);
	}
	if (x->reason == EXIT_REASON_CR_ACCESS) {
		struct cr_access_info cr = decode_cr_access(x->qualification);

		if (cr.type == CR_MOV_TO)
			e.cr_value = gpr_read(v, cr.gpr);
	}
	if (nested_l1_wants_exit(nested.vmcs12, &e, nested_read_l1_bitmap)) {
		PROBE(P_L2_DECIDE);
		nested_reflect_to_l1(v, x);
		return NV_ACCT_L2_REFLECTED;
	}
	l0_handles(v, x);
	return NV_ACCT_L2_ABSORBED;
}
