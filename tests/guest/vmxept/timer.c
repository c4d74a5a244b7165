/* SPDX-License-Identifier: MIT */
/*
 * The VMX-preemption timer (SDM Vol. 3C, 25.5.1 "VMX-Preemption Timer"; 26.7.4
 * "VMX-Preemption Timer" for VM entry; 28.3.4 "Saving Non-Register State" for
 * the "save VMX-preemption timer value" exit control; 26.2.1.2 "VM-Exit Control
 * Fields" for the entry check). The timer counts down by 1 each time bit X of
 * the TSC changes in VMX non-root operation, X = IA32_VMX_MISC bits 4:0. What
 * the architecture makes exact is checked exactly (a value of 0 exits before
 * the first instruction; a timer exit saves 0; without the save control the
 * field keeps L1's value); the rest through what L2 itself saw of the TSC:
 * between two of its RDTSCs that are D ticks apart, bit X changed at least
 * D >> X times, so the timer cannot have counted fewer.
 */
#include "vmxept.h"

/* Slack on TSC-derived bounds, in timer units: the instructions between L2's
 * RDTSC and the VM exit, and between VM entry and L2's first RDTSC. */
#define TIMER_SLACK(v)  ((v) / 8 + 256)

static unsigned rate;           /* X: IA32_VMX_MISC bits 4:0 */

static bool timer_offered(const char *what)
{
	if (can_set(&caps.pin, PIN_PREEMPTION_TIMER))
		return true;
	report_skip("%s: \"activate VMX-preemption timer\" is not offered (%sPINBASED_CTLS "
		    "allowed-1 0x%08x)", what, caps.basic & BASIC_TRUE_CTLS ? "TRUE_" : "",
		    caps.pin.allowed1);
	return false;
}

static bool save_offered(const char *what)
{
	if (can_set(&caps.exit, EXIT_SAVE_PREEMPT_TIMER))
		return true;
	report_skip("%s: \"save VMX-preemption timer value\" is not offered (EXIT_CTLS allowed-1 "
		    "0x%08x)", what, caps.exit.allowed1);
	return false;
}

/* L2 without EPT at `entry`, its timer active with `value`, saving it or not. */
static void timer_l2(const void *entry, uint32_t value, bool save)
{
	pool_reset();
	l2_init(&g, entry);
	l2_set_ctl(VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER);
	if (save)
		l2_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER);
	vmw(VMCS_PREEMPTION_TIMER_VALUE, value);
}

/* (a) 26.7.4: a value of 0 expires during VM entry: the exit comes before
 * L2's first instruction (no event is injected, activity state active). */
static void timer_zero(bool save)
{
	char what[120];
	volatile uint64_t *marker;
	uint64_t field;

	nv_snprintf(what, sizeof(what), "preemption timer value 0%s: VM exit before L2's first "
		    "instruction", save ? " (saving the timer)" : "");
	if (!timer_offered(what) || (save && !save_offered(what)))
		return;
	timer_l2(l2e_marker, 0, save);
	marker = pool_page();
	*marker = 0x756e746f75636864ull;
	g.regs.rdi = pa_of((const void *)marker);
	g.regs.rdx = 0x5752495454454e21ull;
	l2_run(&g);
	if (!check_exit(&g, EXIT_REASON_PREEMPT_TIMER, l2e_marker, "%s", what))
		return;
	report(*marker == 0x756e746f75636864ull,
	       "... value 0: L2's first instruction (a store) did not run (got 0x%llx)",
	       U64(*marker));
	field = vmr(VMCS_PREEMPTION_TIMER_VALUE);
	report(field == 0, "... value 0: the timer-value field holds 0 (got 0x%llx)", U64(field));
	/* The exit left L2 where it was: resuming with the value still 0 exits again. */
	l2_run(&g);
	check_exit(&g, EXIT_REASON_PREEMPT_TIMER, l2e_marker,
		   "... value 0: VMRESUME with the value still 0 exits again before the store");
}

/* (b) A running timer ends a loop L2 never leaves by itself. Without the save
 * control, the VM exit leaves the field as L1 wrote it (28.3.4). */
static void timer_expires(void)
{
	const char *what = "preemption timer expires while L2 spins (no save control)";
	const uint32_t value = 50000;
	uint64_t field;

	if (!timer_offered(what))
		return;
	timer_l2(l2e_spin, value, false);
	g.regs.rcx = 0;
	l2_run(&g);
	if (!check_exit(&g, EXIT_REASON_PREEMPT_TIMER, NULL, "%s", what))
		return;
	report(g.exit.rip >= (uintptr_t)l2e_spin && g.exit.rip < (uintptr_t)l2e_spin_end,
	       "... expiry: the exit is in L2's loop (RIP 0x%llx in [0x%llx, 0x%llx))",
	       U64(g.exit.rip), U64((uintptr_t)l2e_spin), U64((uintptr_t)l2e_spin_end));
	report(g.regs.rcx > 0, "... expiry: L2 made progress before it (%llu iterations)",
	       U64(g.regs.rcx));
	field = vmr(VMCS_PREEMPTION_TIMER_VALUE);
	report(field == value, "... expiry without the save control: the field keeps L1's value "
	       "%u (got %llu)", value, U64(field));
	/* Resumed, the timer starts again from the field: another expiry. */
	g.regs.rcx = 0;
	l2_run(&g);
	if (check_exit(&g, EXIT_REASON_PREEMPT_TIMER, NULL,
		       "... expiry: VMRESUME restarts the timer from the field; it expires again"))
		report(g.regs.rcx > 0, "... expiry: L2 made progress again (%llu iterations)",
		       U64(g.regs.rcx));
}

/*
 * (c) With the save control: L2 works for `work` TSC ticks, then CPUID
 * exits. The saved value is below L1's by at least the ticks L2 saw, and
 * above 0. Resumed, the timer goes on from the saved value: L2 then runs for
 * about that many more units, not L1's whole value, and the timer exit saves 0.
 * Where EPT is offered L2 runs on an identity EPT12, so that under an L0 the
 * timer also runs across the exits L0 keeps for itself.
 */
static void timer_saved(void)
{
	const char *what = "preemption timer saved at a CPUID exit";
	const uint64_t value = 600000;                  /* timer units */
	const uint64_t work = (value * 2 / 3) << rate;  /* TSC ticks L2 spends before CPUID */
	uint64_t saved, seen, after, field;

	if (!timer_offered(what) || !save_offered(what))
		return;
	if (ept_offered()) {
		world_reset(false);
		if (!l2_start(l2e_timed_cpuid, what))
			return;
		l2_set_ctl(VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER);
		l2_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER);
		vmw(VMCS_PREEMPTION_TIMER_VALUE, value);
	} else {
		timer_l2(l2e_timed_cpuid, (uint32_t)value, true);
	}
	g.regs.rsi = work;
	g.regs.r8 = 0;
	l2_run(&g);
	if (!check_exit(&g, EXIT_REASON_CPUID, l2e_timed_cpuid_insn,
			"%s%s: L2 works %llu TSC ticks, then CPUID", what,
			ept_offered() ? " (L2 on EPT12)" : "", U64(work)))
		return;
	saved = vmr(VMCS_PREEMPTION_TIMER_VALUE);
	seen = (g.regs.r10 - g.regs.r9) >> rate;
	printf("vmxept: timer: L1 wrote %llu, saved %llu after L2 saw %llu TSC ticks (%llu units, "
	       "%llu iterations)\n", U64(value), U64(saved), U64(g.regs.r10 - g.regs.r9), U64(seen),
	       U64(g.regs.r8));
	report(saved > 0 && saved < value,
	       "... saved: at the CPUID exit the field holds less than L1's %llu and more than 0 "
	       "(got %llu)", U64(value), U64(saved));
	report(saved + seen <= value,
	       "... saved: the timer counted at least the %llu units L2 saw of the TSC "
	       "(%llu + %llu <= %llu)", U64(seen), U64(saved), U64(seen), U64(value));
	l2_skip(&g);
	g.regs.r8 = 0;
	l2_run(&g);
	if (!check_exit(&g, EXIT_REASON_PREEMPT_TIMER, NULL,
			"... saved: resumed after the CPUID, L2 spins until the timer expires"))
		return;
	report(g.exit.rip >= (uintptr_t)l2e_timed_spin && g.exit.rip < (uintptr_t)l2e_timed_spin_end &&
	       g.regs.r8 > 0, "... saved: the exit is in L2's last loop, after %llu iterations "
	       "(RIP 0x%llx)", U64(g.regs.r8), U64(g.exit.rip));
	field = vmr(VMCS_PREEMPTION_TIMER_VALUE);
	report(field == 0, "... saved: the timer exit saved 0 (got %llu)", U64(field));
	/* From the first to the last RDTSC of its loop L2 saw `after` units; the
	 * timer had `saved` to count, not L1's value. */
	after = (g.regs.r11 - g.regs.r12) >> rate;
	printf("vmxept: timer: after the resume L2 saw %llu units before the timer exit\n",
	       U64(after));
	report(after <= saved && after + TIMER_SLACK(saved) >= saved,
	       "... saved: after the resume the timer ran from the saved %llu, not from %llu "
	       "(L2 saw %llu units)", U64(saved), U64(value), U64(after));
}

/* (c) without the save control: the CPUID exit leaves the field as L1 wrote it. */
static void timer_not_saved(void)
{
	const char *what = "preemption timer not saved at a CPUID exit";
	const uint32_t value = 300000;
	uint64_t field;

	if (!timer_offered(what))
		return;
	timer_l2(l2e_timed_cpuid, value, false);
	g.regs.rsi = (uint64_t)(value / 2) << rate;
	l2_run(&g);
	if (!check_exit(&g, EXIT_REASON_CPUID, l2e_timed_cpuid_insn,
			"%s: L2 works %llu TSC ticks, then CPUID", what, U64(g.regs.rsi)))
		return;
	field = vmr(VMCS_PREEMPTION_TIMER_VALUE);
	report(field == value, "... not saved: the field keeps L1's value %u (got %llu)", value,
	       U64(field));
}

/* (d) 26.2.1.2: "save VMX-preemption timer value" needs "activate
 * VMX-preemption timer". */
static void save_without_timer(void)
{
	const char *what = "VMLAUNCH with \"save VMX-preemption timer value\" without "
			   "\"activate VMX-preemption timer\"";

	if (!save_offered(what))
		return;
	pool_reset();
	l2_init(&g, l2_vmcall_only);
	l2_clear_ctl(VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER);
	l2_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER);
	l2_enter(&g, L2_LAUNCH);
	check_res(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_CONTROLS), "%s", what);
}

void test_preemption_timer(void)
{
	printf("vmxept: --- VMX-preemption timer (SDM 25.5.1, 26.7.4, 28.3.4) ---\n");
	rate = MISC_PREEMPT_RATE(caps.misc);
	printf("vmxept: timer: IA32_VMX_MISC bits 4:0 = %u: one count each 2^%u TSC ticks\n", rate,
	       rate);
	timer_zero(false);
	timer_zero(true);
	timer_expires();
	timer_saved();
	timer_not_saved();
	save_without_timer();
}
