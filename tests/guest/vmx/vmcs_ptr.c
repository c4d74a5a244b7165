/* SPDX-License-Identifier: MIT */
/*
 * The current-VMCS pointer: VMCLEAR, VMPTRLD, VMPTRST (SDM Vol. 3C, 31.3) and
 * 25.1 "Overview", 25.11 "Software Use of the VMCS". A VMfail with no current
 * VMCS is VMfailInvalid, with one it is VMfailValid(n) (31.2 "Conventions"):
 * both are checked.
 */
#include "vmx.h"

static uint64_t current_vmcs(void)
{
	struct vmx_res r = vmptrst();

	return r.outcome == VMX_OK ? r.value : 0xBAD;
}

/* Loads vmcs_b as "the other current VMCS" for VMfailValid cases. */
static void load_b(void)
{
	region_init(&vmcs_b, caps.revision);
	vmclear(region_pa(&vmcs_b));
	vmptrld(region_pa(&vmcs_b));
}

static void no_current_vmcs(void)
{
	uint64_t pa = region_pa(&vmcs_a);
	uint64_t stored[3] = { 1, 2, 3 };
	struct vmx_res r;

	/* Make sure there is none: VMCLEAR of the current one forgets it. */
	vmclear(current_vmcs());
	r = vmptrst_form(FORM_MEM_BASE);
	report(r.outcome == VMX_OK && r.value == ~0ull,
	       "VMPTRST with no current VMCS stores 0xffffffffffffffff (got %s, 0x%llx)",
	       res_str(r), U64(r.value));
	r = vmptrst_at(&stored[1]);
	report(r.outcome == VMX_OK && stored[1] == ~0ull && stored[0] == 1 && stored[2] == 3,
	       "VMPTRST stores exactly 8 bytes (got %s: 0x%llx 0x%llx 0x%llx)", res_str(r),
	       U64(stored[0]), U64(stored[1]), U64(stored[2]));
	check_res(vmclear(pa | 0x10), WANT_INVALID, "VMCLEAR unaligned pointer, no current VMCS");
	check_res(vmptrld(pa | 0x10), WANT_INVALID, "VMPTRLD unaligned pointer, no current VMCS");
	check_res(vmread(VMCS_GUEST_RIP), WANT_INVALID, "VMREAD with no current VMCS");
	check_res(vmwrite(VMCS_GUEST_RIP, 0), WANT_INVALID, "VMWRITE with no current VMCS");
}

static void vmclear_errors(void)
{
	uint64_t beyond = 1ull << caps.maxphyaddr;
	uint64_t b = region_pa(&vmcs_b);

	load_b();
	check_res(vmclear(region_pa(&vmcs_a) | 0x800), WANT_VALID(VMXERR_VMCLEAR_BAD_ADDR),
		  "VMCLEAR of an unaligned pointer");
	check_res(vmclear(beyond), WANT_VALID(VMXERR_VMCLEAR_BAD_ADDR),
		  "VMCLEAR of a pointer at 1 << MAXPHYADDR (0x%llx)", U64(beyond));
	check_res(vmclear(region_pa(&vmxon_region)), WANT_VALID(VMXERR_VMCLEAR_VMXON_PTR),
		  "VMCLEAR of the VMXON region");
	report(current_vmcs() == b, "the failed VMCLEARs leave the current VMCS (0x%llx, got 0x%llx)",
	       U64(b), U64(current_vmcs()));
	/* 31.3 VMCLEAR: no revision check; a non-current VMCS leaves the pointer alone. */
	region_init(&bad_region, caps.revision ^ 1);
	check_res(vmclear(region_pa(&bad_region)), WANT_OK,
		  "VMCLEAR of a region with a wrong revision identifier (not checked)");
	report(current_vmcs() == b, "VMCLEAR of another VMCS keeps the current one (got 0x%llx)",
	       U64(current_vmcs()));
}

static void vmptrld_errors(void)
{
	uint64_t beyond = 1ull << caps.maxphyaddr;
	uint64_t b = region_pa(&vmcs_b);
	struct vmx_res r;

	load_b();
	check_res(vmptrld(region_pa(&vmcs_a) | 0x800), WANT_VALID(VMXERR_VMPTRLD_BAD_ADDR),
		  "VMPTRLD of an unaligned pointer");
	check_res(vmptrld(beyond), WANT_VALID(VMXERR_VMPTRLD_BAD_ADDR),
		  "VMPTRLD of a pointer at 1 << MAXPHYADDR (0x%llx)", U64(beyond));
	check_res(vmptrld(region_pa(&vmxon_region)), WANT_VALID(VMXERR_VMPTRLD_VMXON_PTR),
		  "VMPTRLD of the VMXON region");
	region_init(&bad_region, caps.revision ^ 1);
	check_res(vmptrld(region_pa(&bad_region)), WANT_VALID(VMXERR_VMPTRLD_BAD_REVISION),
		  "VMPTRLD of a region with a wrong revision identifier (0x%x)", caps.revision ^ 1);
	report(current_vmcs() == b, "the failed VMPTRLDs leave the current VMCS (0x%llx, got 0x%llx)",
	       U64(b), U64(current_vmcs()));

	/* Revision bit 31 = shadow-VMCS indicator: accepted only with VMCS shadowing. */
	region_init(&bad_region, caps.revision | 0x80000000u);
	vmclear(region_pa(&bad_region));
	r = vmptrld(region_pa(&bad_region));
	if (can_set_proc2(PROC2_SHADOW_VMCS)) {
		struct l2 g = { .vmcs = &bad_region };

		check_res(r, WANT_OK, "VMPTRLD of a shadow VMCS (revision bit 31, VMCS shadowing allowed)");
		/* 26.1 "Basic VM-Entry Checks", item 4. Bochs 2.7 deviation: it goes
		 * on to the control checks (VMfailValid(7) for this empty VMCS). */
		if (bare_metal_bochs) {
			report_skip("VMLAUNCH with a shadow VMCS as current VMCS -> VMfailInvalid: "
				    "Bochs 2.7 does not check the shadow-VMCS indicator");
		} else {
			l2_enter(&g, L2_LAUNCH);
			check_res(g.entry, WANT_INVALID, "VMLAUNCH with a shadow VMCS as current VMCS");
		}
		vmclear(region_pa(&bad_region));
	} else {
		check_res(r, WANT_VALID(VMXERR_VMPTRLD_BAD_REVISION),
			  "VMPTRLD of a region with revision bit 31 set (no VMCS shadowing)");
	}
}

static void vmptrld_vmptrst_forms(void)
{
	uint64_t a = region_pa(&vmcs_a);
	struct vmx_res r;

	region_init(&vmcs_a, caps.revision);
	check_res(vmclear(a), WANT_OK, "VMCLEAR of a fresh VMCS");
	for (enum vmx_form f = FORM_FIRST_MEM; f < NUM_FORMS; f++) {
		vmclear(a);
		load_b();
		check_res(vmptrld_form(a, f), WANT_OK, "VMPTRLD, memory operand %s", form_name(f));
		r = vmptrst_form(f);
		report(r.outcome == VMX_OK && r.value == a,
		       "VMPTRST, memory operand %s, returns the VMCS loaded (0x%llx, got %s 0x%llx)",
		       form_name(f), U64(a), res_str(r), U64(r.value));
		check_res(vmclear_form(a, f), WANT_OK, "VMCLEAR of the current VMCS, memory operand %s",
			  form_name(f));
		r = vmptrst();
		report(r.outcome == VMX_OK && r.value == ~0ull,
		       "VMPTRST after VMCLEAR of the current VMCS: 0xffffffffffffffff (got %s 0x%llx)",
		       res_str(r), U64(r.value));
	}
	check_res(vmread(VMCS_GUEST_RIP), WANT_INVALID, "VMREAD after VMCLEAR of the current VMCS");
	check_res(vmptrld_at((const void *)0x8000000000000000ull), WANT_EXC(VEC_GP),
		  "VMPTRLD with a non-canonical memory operand");
	check_res(vmclear_at((const void *)0x8000000000000000ull), WANT_EXC(VEC_GP),
		  "VMCLEAR with a non-canonical memory operand");
	check_res(vmptrst_at((void *)0x8000000000000000ull), WANT_EXC(VEC_GP),
		  "VMPTRST with a non-canonical memory operand");
}

/* Field values belong to their VMCS: written in A, kept across B and VMCLEAR. */
static void two_vmcss(void)
{
	uint64_t a = region_pa(&vmcs_a), b = region_pa(&vmcs_b);
	struct vmx_res r;

	region_init(&vmcs_a, caps.revision);
	region_init(&vmcs_b, caps.revision);
	vmclear(a);
	vmclear(b);
	vmptrld(a);
	vmw(VMCS_GUEST_RSP, 0x1111111111111111ull);
	vmw(VMCS_GUEST_ES_LIMIT, 0xAAAA);
	vmptrld(b);
	vmw(VMCS_GUEST_RSP, 0x2222222222222222ull);
	vmw(VMCS_GUEST_ES_LIMIT, 0xBBBB);
	vmptrld(a);
	r = vmread(VMCS_GUEST_RSP);
	report(r.outcome == VMX_OK && r.value == 0x1111111111111111ull,
	       "two VMCSs: A's GUEST_RSP after switching to B and back is A's (got %s 0x%llx)",
	       res_str(r), U64(r.value));
	r = vmread(VMCS_GUEST_ES_LIMIT);
	report(r.outcome == VMX_OK && r.value == 0xAAAA,
	       "two VMCSs: A's GUEST_ES_LIMIT is 0xaaaa (got %s 0x%llx)", res_str(r), U64(r.value));
	vmclear(a);                     /* A's data goes to memory */
	vmptrld(b);
	r = vmread(VMCS_GUEST_RSP);
	report(r.outcome == VMX_OK && r.value == 0x2222222222222222ull,
	       "two VMCSs: B's GUEST_RSP is B's (got %s 0x%llx)", res_str(r), U64(r.value));
	vmptrld(a);
	r = vmread(VMCS_GUEST_RSP);
	report(r.outcome == VMX_OK && r.value == 0x1111111111111111ull,
	       "two VMCSs: A's GUEST_RSP survives VMCLEAR + VMPTRLD (got %s 0x%llx)", res_str(r),
	       U64(r.value));
	vmclear(a);
	vmclear(b);
}

void test_vmcs_ptr(void)
{
	printf("vmx: --- VMCLEAR / VMPTRLD / VMPTRST (SDM 31.3) ---\n");
	if (!vmx_ensure_on())
		return;
	no_current_vmcs();
	vmclear_errors();
	vmptrld_errors();
	vmptrld_vmptrst_forms();
	two_vmcss();
}
