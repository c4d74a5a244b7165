/* SPDX-License-Identifier: MIT */
/*
 * exitbench: the benchmark L1 of `make run` (see exitbench.h for the kinds of
 * measurement, tools/FORMATS.md for the lines it prints).
 *
 * The plan is every selected (kind, op, handler) that exists, in a fixed
 * order: kinds l1, l2-reflected, l2-absorbed; within a kind, ops in the order
 * of enum op; handlers realistic, then minimal (l2-reflected vmlaunch has
 * minimal only: no exit handler of L1 runs before a VMLAUNCH). The order
 * matters once: the l1 wrmsr of IA32_FEATURE_CONTROL must come before VMXON
 * locks that MSR, and every VMX operation comes after it. Each measurement prints a `progress`
 * line, then its `result` (with its `check`s) or a `skip`.
 */
#include "exitbench.h"

#define MAX_PLAN (NUM_KINDS * NUM_OPS * 2)

static bool kind_has_op(enum kind k, enum op o)
{
	switch (k) {
	case KIND_L1:           return l1_has_op(o);
	case KIND_L2_REFLECTED: return l2_reflected_has_op(o);
	case KIND_L2_ABSORBED:  return l2_absorbed_has_op(o);
	default:                return false;
	}
}

static unsigned make_plan(struct meas *plan)
{
	static const enum handler handlers[] = { HANDLER_REALISTIC, HANDLER_MINIMAL };
	unsigned count = 0;

	for (unsigned k = 0; k < NUM_KINDS; k++) {
		for (unsigned o = 0; o < NUM_OPS; o++) {
			if (!opt.kind[k] || !opt.op[o] || !kind_has_op(k, o))
				continue;
			if (k != KIND_L2_REFLECTED) {
				plan[count++] = (struct meas){ k, o, HANDLER_NONE };
				continue;
			}
			for (unsigned h = 0; h < 2; h++)
				if (opt.handler[handlers[h]] && l2_reflected_has_handler(o, handlers[h]))
					plan[count++] = (struct meas){ k, o, handlers[h] };
		}
	}
	return count;
}

static void measure(const struct meas *m)
{
	switch (m->kind) {
	case KIND_L1:
		l1_measure(m);
		break;
	case KIND_L2_REFLECTED:
		l2_reflected_measure(m);
		break;
	case KIND_L2_ABSORBED:
		l2_absorbed_measure(m);
		break;
	default:
		break;
	}
}

/* VMX operation for every measurement that needs it, entered once: SDM Vol.
 * 3C, 24.7 "Enabling and Entering VMX Operation" (vmxlib: vmx_ensure_on). */
bool vmx_ready(const char **why)
{
	static enum { UNTRIED, ON, UNAVAILABLE } state;
	static const char *reason;

	if (state == UNTRIED) {
		if (!(cpuid(1).ecx & CPUID_1_ECX_VMX)) {
			reason = "no VMX (CPUID.1:ECX.VMX = 0)";
		} else {
			bool on = caps_read() && vmx_ensure_on();

			check(NULL, "vmx.vmxon", on, "VMX capability MSRs and VMXON %s",
			      on ? "work" : "failed (see FAIL above)");
			reason = on ? NULL : "VMXON failed";
		}
		state = reason ? UNAVAILABLE : ON;
	}
	*why = reason;
	return state == ON;
}

int main(struct multiboot_info *mbi)
{
	static struct meas plan[MAX_PLAN];
	unsigned count;

	if (!options_parse(mbi_cmdline(mbi)))
		return GUEST_EXIT_FAIL;
	count = make_plan(plan);
	if (count == 0) {
		printf("exitbench: error: nothing to measure: no op of ops= exists in kinds= "
		       "(l2-absorbed has rdmsr, io and ept-fill only, vmcall is l2-reflected only, "
		       "vmlaunch is l2-reflected with handler minimal only)\n");
		return GUEST_EXIT_FAIL;
	}
	options_print_start();
	l0_detect();
	/* Nothing may interrupt a window: L1 runs with IF = 0, and L2 gets no
	 * external interrupts either (vmxlib). Caches on, as any OS has them
	 * (the legacy BIOS of bare Bochs leaves CR0.CD set). */
	quiesce_interrupts();
	read_descriptor_tables();
	enable_caches();

	if (timestamp_init()) {
		for (unsigned i = 0; i < count; i++) {
			printf("exitbench: progress i=%u of=%u kind=%s op=%s handler=%s\n", i + 1,
			       count, kind_name(plan[i].kind), op_name(plan[i].op),
			       handler_name(plan[i].handler));
			measure(&plan[i]);
		}
	} else {
		check(NULL, "timestamp", false, "no TSC or no LFENCE: nothing measured");
	}

	printf("exitbench: done passed=%u failed=%u\n", checks_passed, checks_failed);
	/* The same verdict in the form tools/bare_bochs.py and the test runner read. */
	printf("SUMMARY: %u tests, %u failures\n", checks_passed + checks_failed, checks_failed);
	return checks_failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
