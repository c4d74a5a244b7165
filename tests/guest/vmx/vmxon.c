/* SPDX-License-Identifier: MIT */
/*
 * Entering and leaving VMX operation: SDM Vol. 3C, 24.7 "Enabling and Entering
 * VMX Operation", 24.8 "Restrictions on VMX Operation", and the VMXON and
 * VMXOFF pseudocode of 31.3, checked in its order: #UD, then #GP, then
 * VMfailInvalid for the pointer, then success, then VMfailValid(15) in root.
 */
#include "vmx.h"

/* Every VMX instruction but VMXON raises #UD outside VMX operation (31.3). */
static void outside_vmx_operation(const char *when)
{
	uint64_t pa = region_pa(&vmcs_a);
	struct l2 g = { .vmcs = &vmcs_a };

	check_res(vmxoff(), WANT_EXC(VEC_UD), "VMXOFF %s", when);
	check_res(vmclear(pa), WANT_EXC(VEC_UD), "VMCLEAR %s", when);
	check_res(vmptrld(pa), WANT_EXC(VEC_UD), "VMPTRLD %s", when);
	check_res(vmptrst(), WANT_EXC(VEC_UD), "VMPTRST %s", when);
	check_res(vmread(VMCS_GUEST_RIP), WANT_EXC(VEC_UD), "VMREAD %s", when);
	check_res(vmwrite(VMCS_GUEST_RIP, 0), WANT_EXC(VEC_UD), "VMWRITE %s", when);
	check_res(vmcall_root(), WANT_EXC(VEC_UD), "VMCALL %s", when);
	l2_enter(&g, L2_LAUNCH);
	check_res(g.entry, WANT_EXC(VEC_UD), "VMLAUNCH %s", when);
	l2_enter(&g, L2_RESUME);
	check_res(g.entry, WANT_EXC(VEC_UD), "VMRESUME %s", when);
}

static void feature_control(void)
{
	uint64_t fc = 0, want = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	uint64_t pa = region_pa(&vmxon_region);
	int v;

	rdmsr_checked(MSR_IA32_FEATURE_CONTROL, &fc);
	printf("vmx: IA32_FEATURE_CONTROL 0x%llx\n", U64(fc));
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		/* 24.7: VMXON needs the lock bit and (outside SMX) bit 2. */
		check_res(vmxon(pa), WANT_EXC(VEC_GP), "VMXON with IA32_FEATURE_CONTROL unlocked (0x%llx)",
			  U64(fc));
		v = wrmsr_checked(MSR_IA32_FEATURE_CONTROL, fc | want);
		report(v == NO_EXCEPTION, "WRMSR IA32_FEATURE_CONTROL = lock | VMX outside SMX succeeds "
		       "(got %s)", exception_name(v));
		v = wrmsr_checked(MSR_IA32_FEATURE_CONTROL, fc | want);
		report(v == VEC_GP, "a second WRMSR to the locked IA32_FEATURE_CONTROL -> #GP (got %s)",
		       exception_name(v));
	} else {
		report_skip("VMXON with IA32_FEATURE_CONTROL unlocked: it is locked already (0x%llx)",
			    U64(fc));
		v = wrmsr_checked(MSR_IA32_FEATURE_CONTROL, fc);
		report(v == VEC_GP, "WRMSR to the locked IA32_FEATURE_CONTROL -> #GP (got %s)",
		       exception_name(v));
	}
}

/* VMXON with a bad pointer or region: VMfailInvalid, still outside VMX operation. */
static void vmxon_bad_pointers(void)
{
	uint64_t pa = region_pa(&vmxon_region);
	uint64_t beyond = 1ull << caps.maxphyaddr;

	check_res(vmxon(pa + 0x800), WANT_INVALID, "VMXON with a pointer not 4 KiB aligned (0x%llx)",
		  U64(pa + 0x800));
	check_res(vmxon(pa | 4), WANT_INVALID, "VMXON with pointer bits 11:0 = 4 (0x%llx)",
		  U64(pa | 4));
	check_res(vmxon(beyond), WANT_INVALID, "VMXON with a pointer at 1 << MAXPHYADDR (0x%llx)",
		  U64(beyond));
	check_res(vmxon(pa | (1ull << 63)), WANT_INVALID, "VMXON with pointer bit 63 set");
	region_init(&bad_region, caps.revision ^ 1);
	check_res(vmxon(region_pa(&bad_region)), WANT_INVALID,
		  "VMXON of a region with a wrong revision identifier (0x%x)", caps.revision ^ 1);
	region_init(&bad_region, caps.revision | 0x80000000u);
	check_res(vmxon(region_pa(&bad_region)), WANT_INVALID,
		  "VMXON of a region with revision bit 31 set (0x%x)", caps.revision | 0x80000000u);
	check_res(vmxoff(), WANT_EXC(VEC_UD), "VMXOFF after the failed VMXONs (still outside VMX operation)");
}

/* In VMX operation: the fixed CR0/CR4 bits cannot be cleared (24.8). */
static void root_restrictions(void)
{
	ureg_t cr0 = read_cr0(), cr4 = read_cr4();
	int v;

	v = write_cr4_checked((uint32_t)(cr4 & ~(ureg_t)CR4_VMXE));
	if (v == NO_EXCEPTION)
		write_cr4(cr4);
	report(v == VEC_GP, "MOV to CR4 clearing VMXE in VMX operation -> #GP (got %s)",
	       exception_name(v));
	if (caps.cr0_fixed0 & CR0_NE) {
		v = write_cr0_checked(cr0 & ~(ureg_t)CR0_NE);
		if (v == NO_EXCEPTION)
			write_cr0(cr0);
		report(v == VEC_GP, "MOV to CR0 clearing NE (CR0_FIXED0 bit 5) in VMX operation -> #GP "
		       "(got %s)", exception_name(v));
	}
}

bool test_vmxon(void)
{
	struct cpuid_regs r1 = cpuid(1);
	uint64_t pa = region_pa(&vmxon_region);
	ureg_t cr0, cr4 = read_cr4();
	struct vmx_res r;
	int v;

	printf("vmx: --- VMXON / VMXOFF (SDM 24.7, 24.8, 31.3) ---\n");
	if (!report(r1.ecx & CPUID_1_ECX_VMX, "CPUID.1:ECX.VMX[5] is set (ecx 0x%08x)", r1.ecx))
		return false;
	if (!caps_read())
		return false;
	caps_print();
	report(BASIC_REGION_SIZE(caps.basic) > 0 && BASIC_REGION_SIZE(caps.basic) <= PAGE_SIZE,
	       "IA32_VMX_BASIC region size in (0, 4096] (%llu)", U64(BASIC_REGION_SIZE(caps.basic)));
	report(!(caps.basic & (1ull << 31)), "IA32_VMX_BASIC bit 31 is 0 (0x%llx)", U64(caps.basic));
	region_init(&vmxon_region, caps.revision);

	/* #UD first: CR4.VMXE = 0 means outside VMX operation, even for VMXON. */
	write_cr4(cr4 & ~(ureg_t)CR4_VMXE);
	check_res(vmxon(pa), WANT_EXC(VEC_UD), "VMXON with CR4.VMXE = 0");
	outside_vmx_operation("with CR4.VMXE = 0");
	v = write_cr4_checked((uint32_t)(read_cr4() | CR4_VMXE));
	report(v == NO_EXCEPTION && (read_cr4() & CR4_VMXE),
	       "MOV to CR4 setting VMXE succeeds (CR4 0x%llx, got %s)", U64(read_cr4()),
	       exception_name(v));
	if (v != NO_EXCEPTION)
		return false;
	outside_vmx_operation("with CR4.VMXE = 1 before VMXON");
	check_res(vmxon_compat(pa), WANT_EXC(VEC_UD), "VMXON in compatibility mode (CS.L = 0, EFER.LMA = 1)");

	/* #GP: IA32_FEATURE_CONTROL, then CR0 not supported in VMX operation. */
	feature_control();
	write_cr0(cr0_fixed(read_cr0()));
	write_cr4(cr4_fixed(read_cr4()));
	cr0 = read_cr0();
	if (caps.cr0_fixed0 & CR0_NE) {
		write_cr0(cr0 & ~(ureg_t)CR0_NE);
		r = vmxon(pa);
		write_cr0(cr0);
		check_res(r, WANT_EXC(VEC_GP), "VMXON with CR0.NE = 0 (CR0_FIXED0 bit 5)");
		if (r.outcome == VMX_OK)
			vmxoff();
	} else {
		report_skip("VMXON with CR0.NE = 0: CR0_FIXED0 does not require NE (0x%llx)",
			    U64(caps.cr0_fixed0));
	}

	vmxon_bad_pointers();

	/* Success. */
	r = vmxon(pa);
	vmx_is_on = r.outcome == VMX_OK;
	if (!check_res(r, WANT_OK, "VMXON with a valid region"))
		return false;
	r = vmptrst();
	report(r.outcome == VMX_OK && r.value == ~0ull,
	       "VMPTRST right after VMXON stores 0xffffffffffffffff (got %s, 0x%llx)", res_str(r),
	       U64(r.value));
	check_res(vmxon(pa), WANT_INVALID, "VMXON in VMX root operation, no current VMCS");
	check_res(vmcall_root(), WANT_INVALID, "VMCALL in VMX root operation, no current VMCS");
	region_init(&vmcs_a, caps.revision);
	vmclear(region_pa(&vmcs_a));
	check_res(vmptrld(region_pa(&vmcs_a)), WANT_OK, "VMPTRLD of a cleared VMCS");
	check_res(vmxon(pa), WANT_VALID(VMXERR_VMXON_IN_ROOT), "VMXON in VMX root operation");
	/* Bochs 2.7 deviation: VMCALL in VMX root with a current VMCS (and no
	 * dual-monitor treatment) stops Bochs with "VMCALL: not implemented yet"
	 * instead of VMfailValid(1). */
	if (bare_metal_bochs)
		report_skip("VMCALL in VMX root operation -> VMfailValid(1): Bochs 2.7 panics "
			    "(\"VMCALL: not implemented yet\")");
	else
		check_res(vmcall_root(), WANT_VALID(VMXERR_VMCALL_IN_ROOT),
			  "VMCALL in VMX root operation");
	root_restrictions();

	/* VMXOFF, VMXOFF outside, VMXON again with each memory form. */
	r = vmxoff();
	if (check_res(r, WANT_OK, "VMXOFF"))
		vmx_is_on = false;
	check_res(vmxoff(), WANT_EXC(VEC_UD), "VMXOFF outside VMX operation (after VMXOFF)");
	v = write_cr4_checked((uint32_t)(read_cr4() & ~(ureg_t)CR4_VMXE));
	report(v == NO_EXCEPTION, "MOV to CR4 clearing VMXE after VMXOFF succeeds (got %s)",
	       exception_name(v));
	write_cr4(read_cr4() | CR4_VMXE);
	for (enum vmx_form f = FORM_FIRST_MEM; f < NUM_FORMS; f++) {
		r = vmxon_form(pa, f);
		if (!check_res(r, WANT_OK, "VMXON again, memory operand %s", form_name(f)))
			continue;
		r = vmptrst();
		report(r.outcome == VMX_OK && r.value == ~0ull,
		       "VMPTRST after VMXOFF + VMXON (%s): no current VMCS (got %s, 0x%llx)",
		       form_name(f), res_str(r), U64(r.value));
		check_res(vmxoff(), WANT_OK, "VMXOFF after VMXON %s", form_name(f));
	}
	r = vmxon(pa);
	vmx_is_on = r.outcome == VMX_OK;
	return check_res(r, WANT_OK, "VMXON again: VMX root operation for the rest of the suite");
}
