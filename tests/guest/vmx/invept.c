/* SPDX-License-Identifier: MIT */
/*
 * INVEPT and INVVPID (SDM Vol. 3C, 31.3): #UD where the capability MSRs say
 * the instruction does not exist (A.10 "VPID and EPT Capabilities"), else
 * VMfailValid(28) for an unsupported type or a bad descriptor.
 */
#include "vmx.h"

static void invept_cases(void)
{
	struct invept_desc d = { 0, 0 };
	bool all = caps.ept_vpid & EPT_CAP_INVEPT_ALL, single = caps.ept_vpid & EPT_CAP_INVEPT_SINGLE;

	if (!can_set_proc2(PROC2_ENABLE_EPT) || !(caps.ept_vpid & EPT_CAP_INVEPT)) {
		check_res(invept(INVEPT_ALL, &d), WANT_EXC(VEC_UD),
			  "INVEPT where EPT or INVEPT is not supported (EPT_VPID_CAP 0x%llx)",
			  U64(caps.ept_vpid));
		return;
	}
	region_init(&vmcs_a, caps.revision);
	vmclear(region_pa(&vmcs_a));
	check_res(invept(0, &d), WANT_INVALID, "INVEPT type 0 (never supported), no current VMCS");
	vmptrld(region_pa(&vmcs_a));
	if (all)
		check_res(invept(INVEPT_ALL, &d), WANT_OK, "INVEPT all-context");
	check_res(invept(0, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND), "INVEPT type 0");
	check_res(invept(3, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND), "INVEPT type 3");
	/* 31.3 INVEPT: in 64-bit mode the type operand has 64 bits. Bochs 2.7
	 * deviation: it uses bits 31:0 only (type 2: success). */
	if (bare_metal_bochs)
		report_skip("INVEPT type 2 with register bit 32 set -> VMfailValid(28): Bochs 2.7 "
			    "ignores bits 63:32 of the type");
	else
		check_res(invept(INVEPT_ALL | (1ull << 32), &d),
			  WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVEPT type 2 with register bit 32 set (64-bit type operand)");
	if (single) {
		d.eptp = region_pa(&scratch_page) | EPTP_MEMTYPE(MT_WB) | EPTP_WALK4;
		check_res(invept(INVEPT_SINGLE, &d), WANT_OK, "INVEPT single-context, valid EPTP");
		d.eptp = region_pa(&scratch_page) | 2 | EPTP_WALK4;
		check_res(invept(INVEPT_SINGLE, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVEPT single-context, EPTP memory type 2 (reserved)");
	}
	check_res(invept(INVEPT_ALL, (const void *)0x8000000000000000ull), WANT_EXC(VEC_GP),
		  "INVEPT with a non-canonical descriptor address");
	vmclear(region_pa(&vmcs_a));
}

static void invvpid_cases(void)
{
	struct invvpid_desc d = { 0, 0 };

	if (!can_set_proc2(PROC2_ENABLE_VPID) || !(caps.ept_vpid & VPID_CAP_INVVPID)) {
		check_res(invvpid(INVVPID_ALL, &d), WANT_EXC(VEC_UD),
			  "INVVPID where VPID or INVVPID is not supported (EPT_VPID_CAP 0x%llx)",
			  U64(caps.ept_vpid));
		return;
	}
	region_init(&vmcs_a, caps.revision);
	vmclear(region_pa(&vmcs_a));
	vmptrld(region_pa(&vmcs_a));
	if (caps.ept_vpid & VPID_CAP_INVVPID_ALL)
		check_res(invvpid(INVVPID_ALL, &d), WANT_OK, "INVVPID all-context");
	check_res(invvpid(4, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND), "INVVPID type 4");
	/* Same Bochs 2.7 deviation as INVEPT: bits 63:32 of the type ignored. */
	if (bare_metal_bochs)
		report_skip("INVVPID type 2 with register bit 32 set -> VMfailValid(28): Bochs 2.7 "
			    "ignores bits 63:32 of the type");
	else if (caps.ept_vpid & VPID_CAP_INVVPID_ALL)
		check_res(invvpid(INVVPID_ALL | (1ull << 32), &d),
			  WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVVPID type 2 with register bit 32 set (64-bit type operand)");
	if (caps.ept_vpid & VPID_CAP_INVVPID_SINGLE) {
		d.vpid = 0;
		check_res(invvpid(INVVPID_SINGLE, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVVPID single-context with VPID 0");
		d.vpid = 1;
		check_res(invvpid(INVVPID_SINGLE, &d), WANT_OK, "INVVPID single-context with VPID 1");
		d.vpid = 1 | (1ull << 16);
		check_res(invvpid(INVVPID_SINGLE, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVVPID with descriptor bits 63:16 set");
	}
	if (caps.ept_vpid & VPID_CAP_INVVPID_ADDR) {
		d.vpid = 1;
		d.linear = 0x8000000000000000ull;
		check_res(invvpid(INVVPID_ADDR, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVVPID individual-address with a non-canonical address");
		d.linear = 0x1000;
		check_res(invvpid(INVVPID_ADDR, &d), WANT_OK, "INVVPID individual-address 0x1000, VPID 1");
	}
	check_res(invvpid(INVVPID_ALL, (const void *)0x8000000000000000ull), WANT_EXC(VEC_GP),
		  "INVVPID with a non-canonical descriptor address");
	vmclear(region_pa(&vmcs_a));
}

void test_invept_invvpid(void)
{
	printf("vmx: --- INVEPT / INVVPID (SDM 31.3) ---\n");
	if (!vmx_ensure_on())
		return;
	invept_cases();
	invvpid_cases();
}
