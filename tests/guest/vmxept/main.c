/* SPDX-License-Identifier: MIT */
/*
 * vmxept: a 64-bit L1 that uses EPT, VPID and unrestricted guest for its L2
 * (issue 7). Its expectations are the architecture's (SDM Vol. 3C, 25.6.11,
 * 26.2.1.1, 28.2.1, 29.3, 31.3): it must pass on bare Bochs
 * (tools/bare_bochs.py) and, once nestvisor offers these features to L1,
 * under nestvisor. Where the VMX capability MSRs do not offer a feature, the
 * cases that need it print "SKIP <name>: <why>".
 */
#include "vmxept.h"

struct l2 g;

bool ept_offered(void)
{
	return can_set_proc2(PROC2_ENABLE_EPT);
}

bool vpid_offered(void)
{
	return can_set_proc2(PROC2_ENABLE_VPID);
}

bool ug_offered(void)
{
	return can_set_proc2(PROC2_UNRESTRICTED_GUEST);
}

bool l2_start(const void *entry, const char *what)
{
	if (!ept_offered()) {
		report_skip("%s: \"enable EPT\" is not offered (PROCBASED_CTLS2 allowed-1 0x%08x)",
			    what, caps.proc2.allowed1);
		return false;
	}
	l2_init(&g, entry);
	l2_set_ctl(VMCS_PROC_CONTROLS2, PROC2_ENABLE_EPT);
	vmw(VMCS_EPT_POINTER, ept_eptp(&w.ept));
	vmw(VMCS_GUEST_CR3, w.cr3);
	/* The pool hands out the same pages case after case: translations cached
	 * from an earlier case's tables (same EPTP) must go. */
	ept_invalidate(&w.ept);
	return true;
}

bool run_to_vmcall(const void *done, const char *what)
{
	l2_run(&g);
	return check_exit(&g, EXIT_REASON_VMCALL, done, "%s", what);
}

void resume_after_vmcall(void)
{
	l2_skip(&g);
}

bool expect_violation(const void *rip, uint64_t gpa, uint64_t gla, uint64_t qual, uint64_t ignore,
		      const char *what)
{
	/* Table 28-7: bit 6 depends on mode-based execute control (off here);
	 * bits 9-11 are defined only with advanced VM-exit information. */
	uint64_t mask = EPT_QUAL_READ | EPT_QUAL_WRITE | EPT_QUAL_FETCH | EPT_QUAL_READABLE |
			EPT_QUAL_WRITABLE | EPT_QUAL_EXECUTABLE | EPT_QUAL_GLA_VALID |
			EPT_QUAL_TRANSLATED | EPT_QUAL_NMI_UNBLOCK;
	uint64_t got_gpa, got_gla;

	if ((caps.ept_vpid & EPT_CAP_ADV_EXIT_INFO) && (qual & EPT_QUAL_TRANSLATED)) {
		/* Defined for accesses to a linear address's translation: L2's are
		 * supervisor, writable and executable. */
		mask |= EPT_QUAL_USER_LINEAR | EPT_QUAL_RW_LINEAR | EPT_QUAL_XD_LINEAR;
		qual |= EPT_QUAL_RW_LINEAR;
	}
	mask &= ~ignore;
	l2_run(&g);
	if (!check_exit(&g, EXIT_REASON_EPT_VIOLATION, rip, "%s", what))
		return false;
	got_gpa = vmr(VMCS_GUEST_PHYSICAL_ADDR);
	got_gla = g.exit.guest_linear;
	report((g.exit.qual & mask) == qual,
	       "... %s: exit qualification 0x%llx under mask 0x%llx (got 0x%llx)", what,
	       U64(qual), U64(mask), U64(g.exit.qual));
	report(got_gpa == gpa, "... %s: guest-physical address 0x%llx (got 0x%llx)", what,
	       U64(gpa), U64(got_gpa));
	report(got_gla == gla, "... %s: guest-linear address 0x%llx (got 0x%llx)", what,
	       U64(gla), U64(got_gla));
	return true;
}

bool expect_misconfig(const void *rip, uint64_t gpa, const char *what)
{
	uint64_t got;

	l2_run(&g);
	if (!check_exit(&g, EXIT_REASON_EPT_MISCONFIG, rip, "%s", what))
		return false;
	got = vmr(VMCS_GUEST_PHYSICAL_ADDR);
	report(got == gpa, "... %s: guest-physical address 0x%llx (got 0x%llx)", what, U64(gpa),
	       U64(got));
	return true;
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

void test_capabilities(void)
{
	bool ept = ept_offered(), vpid = vpid_offered();
	uint64_t c = caps.ept_vpid, v = 0;
	int vec;

	printf("vmxept: --- capabilities (SDM Vol. 3C, A.3.3, A.10) ---\n");
	printf("vmxept: PROCBASED_CTLS2 allowed-1 0x%08x (secondary controls %s): enable EPT %s, "
	       "enable VPID %s, unrestricted guest %s\n", caps.proc2.allowed1,
	       can_set(&caps.proc, PROC_SECONDARY_CONTROLS) ? "allowed" : "NOT allowed", yes(ept),
	       yes(vpid), yes(ug_offered()));
	/* A.10: IA32_VMX_EPT_VPID_CAP exists only if "enable EPT" or "enable VPID"
	 * may be 1; otherwise RDMSR 0x48C raises #GP, so it is not read. */
	if (!ept && !vpid) {
		printf("vmxept: IA32_VMX_EPT_VPID_CAP not read: neither EPT nor VPID is offered "
		       "(RDMSR 0x48c would #GP)\n");
		report_skip("RDMSR IA32_VMX_EPT_VPID_CAP: neither \"enable EPT\" nor \"enable VPID\" "
			    "is offered");
		return;
	}
	vec = rdmsr_checked(MSR_IA32_VMX_EPT_VPID_CAP, &v);
	report(vec == NO_EXCEPTION && v == c,
	       "RDMSR IA32_VMX_EPT_VPID_CAP (0x48c) succeeds where EPT or VPID is offered "
	       "(got %s, 0x%016llx)", vec == NO_EXCEPTION ? "no exception" : exception_name(vec),
	       U64(v));
	printf("vmxept: IA32_VMX_EPT_VPID_CAP 0x%016llx\n", U64(c));
	printf("vmxept: EPT: execute-only %s, 4-level walk %s, 5-level walk %s, EPTP UC %s, WB %s, "
	       "2 MiB pages %s, 1 GiB pages %s, A/D flags %s, advanced violation info %s, "
	       "supervisor shadow stack %s\n", yes(c & EPT_CAP_EXEC_ONLY), yes(c & EPT_CAP_WALK4),
	       yes(c & EPT_CAP_WALK5), yes(c & EPT_CAP_UC), yes(c & EPT_CAP_WB),
	       yes(c & EPT_CAP_2M), yes(c & EPT_CAP_1G), yes(c & EPT_CAP_AD),
	       yes(c & EPT_CAP_ADV_EXIT_INFO), yes(c & EPT_CAP_SSS));
	printf("vmxept: INVEPT %s (single-context %s, all-context %s); INVVPID %s "
	       "(individual-address %s, single-context %s, all-context %s, "
	       "single-context-retaining-globals %s)\n", yes(c & EPT_CAP_INVEPT),
	       yes(c & EPT_CAP_INVEPT_SINGLE), yes(c & EPT_CAP_INVEPT_ALL),
	       yes(c & VPID_CAP_INVVPID), yes(c & VPID_CAP_INVVPID_ADDR),
	       yes(c & VPID_CAP_INVVPID_SINGLE), yes(c & VPID_CAP_INVVPID_ALL),
	       yes(c & VPID_CAP_INVVPID_SINGLE_GLOBALS));
	printf("vmxept: MAXPHYADDR %u\n", caps.maxphyaddr);
	if (ept) {
		/* 26.2.1.1: an EPTP needs a supported walk length and memory type,
		 * else no VM entry with EPT can succeed. */
		report(c & EPT_CAP_WALK4, "EPT offered: a 4-level EPT walk is supported (bit 6)");
		report(c & (EPT_CAP_WB | EPT_CAP_UC),
		       "EPT offered: an EPTP memory type is supported (UC bit 8 or WB bit 14)");
		if (!(c & EPT_CAP_INVEPT))
			printf("vmxept: note: EPT without INVEPT: L1 cannot invalidate EPT12 "
			       "translations; cases that change a live mapping may see stale ones\n");
	}
}

int main(struct multiboot_info *mbi)
{
	const char *cmdline = mbi ? mbi_cmdline(mbi) : "";
	bool stress = has_word(cmdline, "mode=stress");
	unsigned failures;

	printf("vmxept: nested EPT / VPID / unrestricted guest test suite (64-bit L1)%s\n",
	       stress ? ": mode=stress" : "");
	detect_environment("vmxept");
	quiesce_interrupts();
	read_descriptor_tables();
	enable_caches();
	if (report(caps_read(), "the VMX capability MSRs can be read")) {
		caps_print();
		test_capabilities();
		if (vmx_ensure_on() && stress) {
			test_ept02_stress(mbi);
			if (g.vmcs)
				vmclear(region_pa(g.vmcs));
			check_res(vmxoff(), WANT_OK, "final VMXOFF");
			vmx_is_on = false;
		} else if (vmx_is_on) {
			test_mapping();
			test_violations();
			test_misconfigs();
			test_invept();
			test_accessed_dirty();
			test_entry_checks();
			test_vpid();
			test_unrestricted();
			test_preemption_timer();
			if (g.vmcs)
				vmclear(region_pa(g.vmcs));
			check_res(vmxoff(), WANT_OK, "final VMXOFF");
			vmx_is_on = false;
		}
	}
	failures = report_summary();
	return failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
