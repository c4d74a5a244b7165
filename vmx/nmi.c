/* SPDX-License-Identifier: MIT */
/*
 * NMIs belong to the guests (SDM Vol. 3C, 25.3 "Changes to Event Blocking",
 * 26.6 "Event Injection", 25.2 "Other Causes of VM Exits"). VMCS01 has
 * "NMI exiting" and "virtual NMIs": an NMI while L1 runs exits to L0, and an
 * NMI while L0 runs reaches L0's IDT (core/fixup.c); both are latched in
 * l0_events.n.nmi and delivered exactly once, before the next VM entry:
 *   - L1 next: injected as an NMI, or, while L1 blocks NMIs (it is in its
 *     handler: virtual-NMI blocking), blocks by STI/MOV SS or has another
 *     event being injected, at the NMI-window exit that follows;
 *   - L2 next: nested/ decides (nested_deliver_nmi).
 */
#include "vmx/exit.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "nested/nested.h"
#include "core/log.h"
#include "core/run.h"
#include "core/mce.h"
#include "core/nmi.h"
#include "vmx/guest_regs.h"
#include "core/x86.h"

uint64_t nmis_to_l1, nmis_to_l2;

#define NMI_BLOCKERS (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI)

/*
 * A VM exit caused by an NMI leaves NMIs blocked in VMX root operation until
 * the next IRET, as if the NMI had been delivered to L0 (SDM Vol. 3C, chapter
 * "VM Exits"; KVM runs the host's NMI handler for its IRET). L0 has no
 * handler to run: an IRET to the next instruction unblocks them. Without it
 * the first NMI would be the last (the vmxhostile NMI cases fail so).
 */
static void unblock_nmis(void)
{
	__asm__ volatile("mov %%rsp, %%rax\n\t"
			 "push %%rax\n\t"       /* placeholder for SS, fixed below */
			 "push %%rax\n\t"
			 "pushfq\n\t"
			 "push %%rax\n\t"       /* placeholder for CS */
			 "lea 1f(%%rip), %%rax\n\t"
			 "push %%rax\n\t"
			 "mov %%cs, %%eax\n\t"
			 "mov %%rax, 8(%%rsp)\n\t"
			 "mov %%ss, %%eax\n\t"
			 "mov %%rax, 32(%%rsp)\n\t"
			 "iretq\n"
			 "1:"
			 : : : "rax", "memory", "cc");
}

/* Exception or NMI exit of L1: L0 intercepts no exceptions, so an NMI. */
void handle_exception_nmi(struct vcpu *v, const struct exit_ctx *x)
{
	uint32_t info = vmread32(VMCS_VM_EXIT_INTR_INFO);

	if ((info & INTR_INFO_VALID) &&
	    ((info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == INTR_TYPE_NMI) {
		l0_events.n.nmi++;
		unblock_nmis();
		return;
	}
	handle_fatal(v, x);
}

/*
 * An INIT signal for L1 (SDM Vol. 3C, 25.2 "Other Causes of VM Exits"). In
 * VMX root operation, L1's as its CPU sees it, INIT is blocked and stays
 * pending (24.8 "Restrictions on VMX Operation"): latched, L1 goes on. Out
 * of it, INIT puts the CPU in wait-for-SIPI, which on L1's single CPU
 * nothing ends: the run ends with the report (also at the VMXOFF that lets
 * a latched INIT through, nested/vmx_insn.c).
 */
bool l1_init_pending;

/* INIT exits back to back, each resuming L1 without progress (Bochs 2.7 keeps the
 * INIT pending after its VM exit): after this many, the run ends. */
#define INIT_STORM 1000

void handle_init_signal(struct vcpu *v, const struct exit_ctx *x)
{
	static uint64_t last_exit, in_a_row;

	in_a_row = vcpu_exits(v) == last_exit + 1 ? in_a_row + 1 : 1;
	last_exit = vcpu_exits(v);
	if (in_a_row >= INIT_STORM) {
		vcpu_dump(v);
		run_end_failure("INIT signals without end: %lu VM exits in a row at rip 0x%lx, L1 "
				"makes no progress (the platform keeps the INIT pending)", in_a_row,
				x->rip);
	}
	if (nested.vmxon) {
		l1_init_pending = true;
		return;
	}
	vcpu_dump(v);
	run_end_failure("INIT signal to L1 outside VMX operation: its only CPU would wait for a "
			"SIPI forever");
}

/* L1 can take the NMI now (NMI-window exiting was set for it). */
void handle_nmi_window(struct vcpu *v, const struct exit_ctx *x)
{
	vmwrite32(VMCS_CPU_BASED_VM_EXEC_CONTROL,
		  vmread32(VMCS_CPU_BASED_VM_EXEC_CONTROL) & ~PROC_NMI_WINDOW_EXITING);
}

bool vcpu_try_inject_nmi(void)
{
	if ((vmread32(VMCS_VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) ||
	    (vmread32(VMCS_GUEST_INTERRUPTIBILITY_INFO) & NMI_BLOCKERS))
		return false;
	vmwrite32(VMCS_VM_ENTRY_INTR_INFO,
		  INTR_INFO_VALID | (INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT) | 2);
	l0_events.n.nmi--;
	return true;
}

/* The guest whose VMCS is current gets one latched NMI, now or at its NMI window. */
void vcpu_deliver_nmi(struct vcpu *v)
{
	if (nested.in_l2) {
		nested_deliver_nmi(v);
		return;
	}
	if (vcpu_try_inject_nmi())
		nmis_to_l1++;
	else
		vmwrite32(VMCS_CPU_BASED_VM_EXEC_CONTROL,
			  vmread32(VMCS_CPU_BASED_VM_EXEC_CONTROL) | PROC_NMI_WINDOW_EXITING);
}

/*
 * A restartable machine check that reached L0 (core/mce.h), for L1: #MC, a
 * hardware exception without error code, unless another event is being
 * injected (then at the next exit). With CR4.MCE = 0 L1's CPU would shut
 * down (SDM Vol. 3B, 16.10 "Machine-Check Initialization"): the run ends.
 */
static void deliver_mce(struct vcpu *v)
{
	if (vmread32(VMCS_VM_ENTRY_INTR_INFO) & INTR_INFO_VALID)
		return;
	if (!(guest_visible_cr4() & CR4_MCE)) {
		vcpu_dump(v);
		run_end_failure("machine check for L1 while its CR4.MCE = 0: its CPU would shut down");
	}
	vcpu_inject_exception(18, false, 0);
	l0_events.n.mce = 0;
	mces_to_l1++;
}

void vcpu_deliver_events(struct vcpu *v)
{
	if (l0_events.n.mce && !nested.in_l2)
		deliver_mce(v);
	if (l0_events.n.nmi)
		vcpu_deliver_nmi(v);
}

/*
 * The CPU delivered the machine check to L0 right after this exit (SDM Vol.
 * 3C, 26.8): core/mce.c latched it for L1 (or ended the run). L1's state is
 * as before the entry: it is entered again and gets the #MC.
 */
void handle_mce_during_entry(struct vcpu *v, const struct exit_ctx *x)
{
	log_line("mce: VM entry to L1 failed with a machine check at rip 0x%lx; entering again",
		 x->rip);
}

void nmi_print(void)
{
	if (nmis_to_l1 || nmis_to_l2 || l0_events.n.nmi)
		log_line("nmi: injected_to_l1=%lu injected_to_l2=%lu pending=%u", nmis_to_l1,
			 nmis_to_l2, l0_events.n.nmi);
	if (mces_to_l1 || l0_events.n.mce)
		log_line("mce: injected_to_l1=%lu pending=%u", mces_to_l1, l0_events.n.mce);
}
