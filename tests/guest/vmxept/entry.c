/* SPDX-License-Identifier: MIT */
/*
 * The VM-entry checks on the EPT and VPID controls (SDM Vol. 3C, 26.2.1.1
 * "VM-Execution Control Fields"), and VPID with INVVPID (28.1 "Virtual
 * Processor Identifiers (VPIDs)", 31.3 "INVVPID").
 */
#include "vmxept.h"

static volatile uint64_t *q(void *page, unsigned offset)
{
	return (volatile uint64_t *)((uint8_t *)page + offset);
}

/* VMLAUNCH of L2 (entry: its VMCALL) on w.ept, with the EPTP replaced. */
static void eptp_check(uint64_t eptp, const char *why)
{
	if (!l2_start(l2_vmcall_only, why))
		return;
	vmw(VMCS_EPT_POINTER, eptp);
	l2_enter(&g, L2_LAUNCH);
	check_res(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_CONTROLS), "VMLAUNCH with EPTP 0x%llx (%s)",
		  U64(eptp), why);
}

static void eptp_checks(void)
{
	uint64_t good, c = caps.ept_vpid;

	world_reset(false);
	good = ept_eptp(&w.ept);
	if (l2_start(l2_vmcall_only, "valid EPTP")) {
		l2_run(&g);
		check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_only,
			   "VMLAUNCH with a valid EPTP 0x%llx: L2 runs", U64(good));
	}
	/* Bits 2:0: a memory type A.10 offers (UC bit 8, WB bit 14), nothing else. */
	eptp_check((good & ~7ull) | MT_WC, "memory type 1 (WC), never an EPTP type");
	eptp_check((good & ~7ull) | 7, "memory type 7, reserved");
	if (!(c & EPT_CAP_UC))
		eptp_check(good & ~7ull, "memory type UC where EPT_VPID_CAP bit 8 is 0");
	else if (l2_start(l2_vmcall_only, "EPTP memory type UC")) {
		vmw(VMCS_EPT_POINTER, (good & ~7ull) | MT_UC);
		l2_run(&g);
		check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_only,
			   "VMLAUNCH with EPTP memory type UC (offered): L2 runs");
	}
	if (!(c & EPT_CAP_WB))
		eptp_check((good & ~7ull) | MT_WB, "memory type WB where EPT_VPID_CAP bit 14 is 0");
	/* Bits 5:3: the walk length less one, 3 (or 4 where bit 7 offers it). */
	eptp_check((good & ~EPTP_WALK_MASK) | EPTP_WALK(2), "page-walk length 2");
	eptp_check((good & ~EPTP_WALK_MASK) | EPTP_WALK(3), "page-walk length 3");
	if (c & EPT_CAP_WALK5)
		report_skip("VMLAUNCH with EPTP page-walk length 5: offered (EPT_VPID_CAP bit 7)");
	else
		eptp_check((good & ~EPTP_WALK_MASK) | EPTP_WALK(5),
			   "page-walk length 5 where EPT_VPID_CAP bit 7 is 0");
	eptp_check((good & ~EPTP_WALK_MASK) | EPTP_WALK(8), "page-walk length 8");
	/* Bit 6: A/D flags only where bit 21 offers them. */
	if (c & EPT_CAP_AD)
		report_skip("VMLAUNCH with EPTP bit 6 (A/D) set: A/D flags are offered "
			    "(EPT_VPID_CAP bit 21)");
	else
		eptp_check(good | EPTP_AD, "A/D flags (bit 6) where EPT_VPID_CAP bit 21 is 0");
	/* Bits 11:7 reserved (bit 7: supervisor shadow-stack control where offered). */
	if (c & EPT_CAP_SSS)
		report_skip("VMLAUNCH with EPTP bit 7 set: supervisor shadow-stack control is "
			    "offered (EPT_VPID_CAP bit 23)");
	else
		eptp_check(good | EPTP_SSS, "reserved bit 7");
	for (unsigned bit = 8; bit <= 11; bit++) {
		char why[32];

		nv_snprintf(why, sizeof(why), "reserved bit %u", bit);
		eptp_check(good | (1ull << bit), why);
	}
	/* Bits 63:N, N = MAXPHYADDR: beyond the physical-address width. */
	if (caps.maxphyaddr < 52)
		eptp_check(good | (1ull << caps.maxphyaddr), "bit MAXPHYADDR: beyond the address width");
}

void test_entry_checks(void)
{
	printf("vmxept: --- VM-entry checks on EPT, VPID and unrestricted guest (SDM 26.2.1.1) ---\n");
	if (ept_offered())
		eptp_checks();
	else
		report_skip("VM-entry checks on the EPTP: EPT is not offered");

	if (vpid_offered()) {
		l2_init(&g, l2_vmcall_only);
		l2_set_ctl(VMCS_PROC_CONTROLS2, PROC2_ENABLE_VPID);
		vmw(VMCS_VPID, 0);
		l2_enter(&g, L2_LAUNCH);
		check_res(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_CONTROLS),
			  "VMLAUNCH with \"enable VPID\" and VPID 0");
	} else {
		report_skip("VMLAUNCH with \"enable VPID\" and VPID 0: VPID is not offered");
	}

	/* 26.2.1.1: "unrestricted guest" needs "enable EPT". */
	if (ug_offered()) {
		l2_init(&g, l2_vmcall_only);
		l2_set_ctl(VMCS_PROC_CONTROLS2, PROC2_UNRESTRICTED_GUEST);
		l2_clear_ctl(VMCS_PROC_CONTROLS2, PROC2_ENABLE_EPT);
		l2_enter(&g, L2_LAUNCH);
		check_res(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_CONTROLS),
			  "VMLAUNCH with \"unrestricted guest\" without \"enable EPT\"");
	} else {
		report_skip("VMLAUNCH with \"unrestricted guest\" without \"enable EPT\": "
			    "unrestricted guest is not offered");
	}
}

/* ---- VPID ------------------------------------------------------------------ */

static void invvpid_ok(uint64_t type, uint64_t cap, uint16_t vpid, uint64_t linear,
		       const char *name)
{
	struct invvpid_desc d = { .vpid = vpid, .linear = linear };

	if (caps.ept_vpid & cap)
		check_res(invvpid(type, &d), WANT_OK, "INVVPID %s (VPID %u, address 0x%llx)", name,
			  vpid, U64(linear));
	else
		check_res(invvpid(type, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVVPID %s where EPT_VPID_CAP does not offer it", name);
}

static void invvpid_bad(uint64_t type, uint64_t cap, uint64_t vpid, uint64_t linear,
			const char *why)
{
	struct invvpid_desc d = { .vpid = vpid, .linear = linear };

	if (!(caps.ept_vpid & cap))
		return;         /* an unoffered type fails anyway (invvpid_ok) */
	check_res(invvpid(type, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND), "INVVPID %s",
		  why);
}

/* L2 with VPID 1, on EPT12 if `ept`, runs l2e_sum. */
static bool vpid_l2(bool ept, const char *what)
{
	void *src, *dst;

	if (ept) {
		world_reset(false);
		if (!l2_start(l2e_sum, what))
			return false;
	} else {
		pool_reset();
		l2_init(&g, l2e_sum);
	}
	src = pool_page();
	dst = pool_page();
	*(volatile uint64_t *)src = 0x7670696400000000ull;
	l2_set_ctl(VMCS_PROC_CONTROLS2, PROC2_ENABLE_VPID);
	vmw(VMCS_VPID, 1);
	g.regs.rsi = pa_of(src);
	g.regs.rcx = 1;
	g.regs.rdi = pa_of(dst) + 8;
	if (!run_to_vmcall(l2e_sum_done, what))
		return false;
	return report(g.regs.rax == 0x7670696400000001ull && *q(dst, 8) == 0x7670696400000001ull,
		      "... %s: L2's read and write went through (got 0x%llx, 0x%llx)", what,
		      U64(g.regs.rax), U64(*q(dst, 8)));
}

void test_vpid(void)
{
	const uint64_t noncanonical = 0x0000800000000000ull;

	printf("vmxept: --- VPID and INVVPID (SDM 28.1, 31.3) ---\n");
	if (!vpid_offered()) {
		report_skip("VPID cases: \"enable VPID\" is not offered (PROCBASED_CTLS2 allowed-1 "
			    "0x%08x)", caps.proc2.allowed1);
		return;
	}
	if (ept_offered())
		vpid_l2(true, "L2 with VPID 1 on an identity EPT12");
	if (!vpid_l2(false, "L2 with VPID 1 (no EPT)"))
		return;
	if (!(caps.ept_vpid & VPID_CAP_INVVPID)) {
		report_skip("INVVPID cases: INVVPID is not offered (EPT_VPID_CAP bit 32 is 0)");
		return;
	}
	/* The VMCS of the L2 above is current: failures are VMfailValid. */
	invvpid_ok(INVVPID_ADDR, VPID_CAP_INVVPID_ADDR, 1, g.regs.rdi, "individual-address");
	invvpid_ok(INVVPID_SINGLE, VPID_CAP_INVVPID_SINGLE, 1, 0, "single-context");
	invvpid_ok(INVVPID_ALL, VPID_CAP_INVVPID_ALL, 0, 0, "all-context");
	invvpid_ok(INVVPID_SINGLE_GLOBALS, VPID_CAP_INVVPID_SINGLE_GLOBALS, 1, 0,
		   "single-context-retaining-globals");
	{
		struct invvpid_desc d = { .vpid = 1, .linear = 0 };

		check_res(invvpid(4, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVVPID type 4 (never a type)");
	}
	invvpid_bad(INVVPID_ADDR, VPID_CAP_INVVPID_ADDR, 1, noncanonical,
		    "individual-address with the non-canonical address 0x0000800000000000");
	invvpid_bad(INVVPID_ADDR, VPID_CAP_INVVPID_ADDR, 0, 0x1000, "individual-address with VPID 0");
	invvpid_bad(INVVPID_SINGLE, VPID_CAP_INVVPID_SINGLE, 0, 0, "single-context with VPID 0");
	invvpid_bad(INVVPID_SINGLE_GLOBALS, VPID_CAP_INVVPID_SINGLE_GLOBALS, 0, 0,
		    "single-context-retaining-globals with VPID 0");
	invvpid_bad(INVVPID_SINGLE, VPID_CAP_INVVPID_SINGLE, 1 | (1ull << 16), 0,
		    "single-context with descriptor bit 16 set (bits 63:16 reserved)");
	invvpid_bad(INVVPID_ALL, VPID_CAP_INVVPID_ALL, 1ull << 63, 0,
		    "all-context with descriptor bit 63 set (bits 63:16 reserved, checked for every type)");
	/* L2 still runs after the invalidations. */
	resume_after_vmcall();
	run_to_vmcall(l2e_sum_done, "L2 with VPID 1 resumes after the INVVPIDs");
}
