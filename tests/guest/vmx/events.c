/* SPDX-License-Identifier: MIT */
/*
 * Events: injection by L1 (SDM Vol. 3C, 26.6 "Event Injection"), IDT-vectoring
 * information when delivering an event causes the exit (28.2.4 "Information
 * for VM Exits During Event Delivery"), the interrupt and NMI windows and the
 * preemption timer (26.7 "Special Features of VM Entry", 27.2 "Other Causes of
 * VM Exits", 27.5.1 "VMX-Preemption Timer"). L2's IDT stubs log what L2 got.
 */
#include "vmx.h"

#define VEC_EXT_TEST     0x40   /* injected external interrupt */
#define VEC_NOT_PRESENT  0x41   /* its L2 IDT gate is made not present */
#define VEC_INT_SITE     0x50   /* the INT n at l2_int_site */
/* 6.13 "Error Code": EXT (bit 0), IDT (bit 1), index in bits 15:3. */
#define ERR_EXT          1u
#define ERR_IDT          2u
#define IDT_ERROR(v, ext) (((uint32_t)(v) << 3) | ERR_IDT | ((ext) ? ERR_EXT : 0))

static struct l2 g;

static void inject(uint32_t info, uint32_t error, uint32_t len)
{
	vmw(VMCS_ENTRY_INTR_INFO, info);
	vmw(VMCS_ENTRY_EXCEPTION_ERROR, error);
	vmw(VMCS_ENTRY_INSN_LEN, len);
}

static bool run_to(const void *rip, const char *what)
{
	l2_run(&g);
	return check_exit(&g, EXIT_REASON_VMCALL, rip, "%s", what);
}

static bool event_seen(uint64_t vector, uint64_t error, const void *rip, const char *what)
{
	return report(l2_events.count == 1 && l2_events.vector == vector && l2_events.error == error &&
		      l2_events.rip == (uintptr_t)rip && l2_events.cs == SEL_CODE64,
		      "... %s: L2's handler ran once for vector %llu, error code 0x%llx, return RIP "
		      "0x%llx (got %llu events, vector %llu, error 0x%llx, rip 0x%llx, cs 0x%llx)",
		      what, U64(vector), U64(error), U64((uintptr_t)rip), U64(l2_events.count),
		      U64(l2_events.vector), U64(l2_events.error), U64(l2_events.rip),
		      U64(l2_events.cs));
}

static void injection(void)
{
	uint64_t info;

	l2_init(&g, l2_vmcall_only);
	l2_events.fixup_rip = L2_EVENT_RETURN;
	inject(INTR_INFO(VEC_UD, INTR_TYPE_HW_EXCEPTION), 0, 0);
	if (run_to(l2_vmcall_only, "inject #UD (hardware exception) into L2")) {
		event_seen(VEC_UD, 0, l2_vmcall_only, "injected #UD");
		info = vmr(VMCS_ENTRY_INTR_INFO);
		report(!(info & INTR_INFO_VALID),
		       "... the VM exit cleared the valid bit of the VM-entry interruption info (got "
		       "0x%llx)", U64(info));
	}

	l2_init(&g, l2_vmcall_only);
	l2_events.fixup_rip = L2_EVENT_RETURN;
	inject(INTR_INFO(VEC_GP, INTR_TYPE_HW_EXCEPTION) | INTR_INFO_ERROR_CODE, 0x1234, 0);
	if (run_to(l2_vmcall_only, "inject #GP with error code 0x1234 into L2"))
		event_seen(VEC_GP, 0x1234, l2_vmcall_only, "injected #GP");

	/* 26.2.1.3: bits 31:16 of the error code are reserved, bit 15 is not. */
	l2_init(&g, l2_vmcall_only);
	l2_events.fixup_rip = L2_EVENT_RETURN;
	inject(INTR_INFO(VEC_GP, INTR_TYPE_HW_EXCEPTION) | INTR_INFO_ERROR_CODE, 0x8000, 0);
	if (run_to(l2_vmcall_only, "inject #GP with error code 0x8000 (bit 15 set, 31:16 clear) "
		   "into L2"))
		event_seen(VEC_GP, 0x8000, l2_vmcall_only, "injected #GP, error code bit 15");

	/* Software interrupt: as if INT n executed; returns past it (length 2). */
	l2_init(&g, l2_int_site);
	l2_events.fixup_rip = L2_EVENT_RETURN;
	inject(INTR_INFO(VEC_INT_SITE, INTR_TYPE_SW_INTERRUPT), 0, 2);
	if (run_to(l2_int_site_done, "inject software interrupt 0x50, instruction length 2"))
		event_seen(VEC_INT_SITE, 0, l2_int_site_done, "injected INT 0x50");

	l2_init(&g, l2_int3_insn);
	l2_events.fixup_rip = L2_EVENT_RETURN;
	inject(INTR_INFO(VEC_BP, INTR_TYPE_SW_EXCEPTION), 0, 1);
	if (run_to(l2_int3_done, "inject #BP (software exception), instruction length 1"))
		event_seen(VEC_BP, 0, l2_int3_done, "injected #BP");

	l2_init(&g, l2_vmcall_only);
	l2_events.fixup_rip = L2_EVENT_RETURN;
	inject(INTR_INFO(VEC_NMI, INTR_TYPE_NMI), 0, 0);
	if (run_to(l2_vmcall_only, "inject an NMI into L2")) {
		event_seen(VEC_NMI, 0, l2_vmcall_only, "injected NMI");
		report(!(g.exit.interruptibility & INTERRUPTIBILITY_NMI),
		       "... L2's IRETQ ended NMI blocking (interruptibility 0x%x)",
		       g.exit.interruptibility);
	}

	l2_init(&g, l2_vmcall_only);
	l2_events.fixup_rip = L2_EVENT_RETURN;
	vmw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	inject(INTR_INFO(VEC_EXT_TEST, INTR_TYPE_EXTERNAL), 0, 0);
	if (run_to(l2_vmcall_only, "inject external interrupt 0x40 (guest RFLAGS.IF = 1)")) {
		event_seen(VEC_EXT_TEST, 0, l2_vmcall_only, "injected external interrupt");
		report(l2_events.rflags & RFLAGS_IF, "... the pushed RFLAGS has IF = 1 (got 0x%llx)",
		       U64(l2_events.rflags));
	}
}

/* Delivering the injected event faults (#NP: gate not present) and #NP exits:
 * the exit describes the #NP, the IDT-vectoring info the injected event. */
static void idt_vectoring(void)
{
	uint32_t want_info = INTR_INFO(VEC_NP, INTR_TYPE_HW_EXCEPTION) | INTR_INFO_ERROR_CODE;

	l2_init(&g, l2_vmcall_only);
	l2_idt_set_present(VEC_NOT_PRESENT, false);
	vmw(VMCS_EXCEPTION_BITMAP, 1u << VEC_NP);
	vmw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	inject(INTR_INFO(VEC_NOT_PRESENT, INTR_TYPE_EXTERNAL), 0, 0);
	l2_run(&g);
	if (check_exit(&g, EXIT_REASON_EXCEPTION_NMI, l2_vmcall_only,
		       "inject external interrupt 0x41 whose L2 IDT gate is not present, #NP intercepted")) {
		report(g.exit.intr_info == want_info && g.exit.intr_error == IDT_ERROR(VEC_NOT_PRESENT, 1),
		       "... exit interruption info 0x%08x (#NP), error code 0x%x (IDT, EXT, index "
		       "0x41) (got 0x%08x, 0x%x)", want_info, IDT_ERROR(VEC_NOT_PRESENT, 1),
		       g.exit.intr_info, g.exit.intr_error);
		report(g.exit.idt_info == INTR_INFO(VEC_NOT_PRESENT, INTR_TYPE_EXTERNAL),
		       "... IDT-vectoring info 0x%08x = the injected external interrupt (got 0x%08x)",
		       INTR_INFO(VEC_NOT_PRESENT, INTR_TYPE_EXTERNAL), g.exit.idt_info);
		report(l2_events.count == 0, "... L2's IDT saw nothing (got %llu events)",
		       U64(l2_events.count));
		/* L1 does what a hypervisor does: fix the cause, re-inject the event. */
		l2_idt_set_present(VEC_NOT_PRESENT, true);
		l2_events.fixup_rip = L2_EVENT_RETURN;
		inject(g.exit.idt_info, 0, 0);
		if (run_to(l2_vmcall_only, "re-inject the IDT-vectoring event after fixing the gate"))
			event_seen(VEC_NOT_PRESENT, 0, l2_vmcall_only, "re-injected interrupt 0x41");
	}

	l2_init(&g, l2_int_site);
	l2_idt_set_present(VEC_INT_SITE, false);
	vmw(VMCS_EXCEPTION_BITMAP, 1u << VEC_NP);
	inject(INTR_INFO(VEC_INT_SITE, INTR_TYPE_SW_INTERRUPT), 0, 2);
	l2_run(&g);
	if (check_exit(&g, EXIT_REASON_EXCEPTION_NMI, l2_int_site,
		       "inject software interrupt 0x50 whose L2 IDT gate is not present, #NP intercepted")) {
		report(g.exit.intr_info == want_info && g.exit.intr_error == IDT_ERROR(VEC_INT_SITE, 0),
		       "... exit interruption info 0x%08x (#NP), error code 0x%x (IDT, index 0x50, "
		       "EXT = 0 for INT n) (got 0x%08x, 0x%x)", want_info, IDT_ERROR(VEC_INT_SITE, 0),
		       g.exit.intr_info, g.exit.intr_error);
		report(g.exit.idt_info == INTR_INFO(VEC_INT_SITE, INTR_TYPE_SW_INTERRUPT) &&
		       g.exit.insn_len == 2,
		       "... IDT-vectoring info 0x%08x = the injected software interrupt, instruction "
		       "length 2 (got 0x%08x, %u)", INTR_INFO(VEC_INT_SITE, INTR_TYPE_SW_INTERRUPT),
		       g.exit.idt_info, g.exit.insn_len);
	}

	/* An exception L2 raises itself, with #GP intercepted while delivering #UD. */
	l2_init(&g, l2_ud2);
	l2_idt_set_present(VEC_UD, false);
	vmw(VMCS_EXCEPTION_BITMAP, 1u << VEC_NP);
	l2_run(&g);
	if (check_exit(&g, EXIT_REASON_EXCEPTION_NMI, l2_ud2_insn,
		       "UD2 in L2 whose #UD gate is not present, #NP intercepted"))
		report(g.exit.idt_info == INTR_INFO(VEC_UD, INTR_TYPE_HW_EXCEPTION) &&
		       g.exit.intr_error == IDT_ERROR(VEC_UD, 1),
		       "... IDT-vectoring info 0x%08x (the #UD), #NP error code 0x%x (got 0x%08x, 0x%x)",
		       INTR_INFO(VEC_UD, INTR_TYPE_HW_EXCEPTION), IDT_ERROR(VEC_UD, 1), g.exit.idt_info,
		       g.exit.intr_error);
}

static void windows(void)
{
	/* 26.7.5 "Interrupt-Window Exiting and Virtual-Interrupt Delivery". */
	l2_init(&g, l2_vmcall_only);
	if (!l2_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW)) {
		report_skip("interrupt-window exiting not allowed");
	} else {
		vmw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
		l2_run(&g);
		check_exit(&g, EXIT_REASON_INTR_WINDOW, l2_vmcall_only,
			   "interrupt-window exiting with guest RFLAGS.IF = 1: exit before any instruction");
		l2_init(&g, l2_sti_window);
		l2_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW);
		l2_run(&g);
		check_exit(&g, EXIT_REASON_INTR_WINDOW, l2_sti_window_open,
			   "interrupt-window exiting, L2 runs STI; NOP: exit after the NOP (STI shadow)");
		l2_clear_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW);
		run_to(l2_sti_window_done, "interrupt-window exiting cleared: L2 runs to its VMCALL");
	}

	/* 26.7.6 "NMI-Window Exiting": needs virtual NMIs (and so NMI exiting). */
	l2_init(&g, l2_vmcall_only);
	if (!l2_set_ctl(VMCS_PIN_CONTROLS, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS) ||
	    !l2_set_ctl(VMCS_PROC_CONTROLS, PROC_NMI_WINDOW)) {
		report_skip("NMI-window exiting (with virtual NMIs) not allowed");
	} else {
		l2_run(&g);
		check_exit(&g, EXIT_REASON_NMI_WINDOW, l2_vmcall_only,
			   "NMI-window exiting without virtual-NMI blocking: exit before any instruction");
	}

	/* 26.7.4 / 27.5.1: a timer value of 0 exits before any instruction. */
	l2_init(&g, l2_vmcall_only);
	if (!l2_set_ctl(VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER)) {
		report_skip("VMX-preemption timer not allowed");
	} else {
		bool save = l2_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER);

		vmw(VMCS_PREEMPTION_TIMER_VALUE, 0);
		l2_run(&g);
		if (check_exit(&g, EXIT_REASON_PREEMPT_TIMER, l2_vmcall_only,
			       "VMX-preemption timer value 0: exit before any instruction") && save)
			report(vmr(VMCS_PREEMPTION_TIMER_VALUE) == 0,
			       "... saved timer value 0 (got %llu)", U64(vmr(VMCS_PREEMPTION_TIMER_VALUE)));
	}
}

void test_events(void)
{
	printf("vmx: --- events (SDM 26.6, 26.7, 28.2.4) ---\n");
	if (!vmx_ensure_on())
		return;
	injection();
	idt_vectoring();
	windows();
	vmclear(region_pa(g.vmcs));
}
