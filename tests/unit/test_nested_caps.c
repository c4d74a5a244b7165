/* SPDX-License-Identifier: MIT */
/* nested/caps.c: L1's capability MSRs are the hardware's, restricted to what L0 emulates. */
#include "unit.h"

#include "nested_fixture.h"

static struct nested_caps n;
static struct vmx_caps hw;

static uint64_t msr(uint32_t m)
{
	uint64_t v = 0;

	CHECK(nested_caps_rdmsr(&n, m, &v));
	return v;
}

TEST(basic_reports_nestvisor_revision)
{
	hw = fixture_hw_caps();
	nested_caps_init(&n, &hw);
	uint64_t basic = msr(MSR_IA32_VMX_BASIC);

	CHECK_EQ(basic & 0x7fffffff, NV_VMCS12_REVISION);
	CHECK_EQ((basic >> 32) & 0x1fff, 4096);
	CHECK_EQ((basic >> 50) & 0xf, 6);
	CHECK(basic & (1ull << 55));
}

TEST(never_advertises_unemulated_controls)
{
	hw = fixture_hw_caps();
	nested_caps_init(&n, &hw);
	uint64_t proc2 = msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
	uint64_t proc = msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32;
	uint64_t pin = msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS) >> 32;
	uint64_t exit = msr(MSR_IA32_VMX_TRUE_EXIT_CTLS) >> 32;
	uint64_t entry = msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS) >> 32;

	CHECK(!(proc2 & ~(uint64_t)NESTED_PROC2_SUPPORTED));
	CHECK(!(proc2 & PROC2_VMCS_SHADOWING));
	CHECK(!(proc & ~(uint64_t)(NESTED_PROC_SUPPORTED | hw.proc.must1)));
	CHECK(!(proc & PROC_USE_TPR_SHADOW));
	CHECK(!(pin & PIN_POSTED_INTERRUPTS));
	CHECK(!(exit & EXIT_LOAD_PERF_GLOBAL_CTRL));
	CHECK(!(entry & (ENTRY_LOAD_PERF_GLOBAL_CTRL | ENTRY_SMM)));
	CHECK(!(msr(MSR_IA32_VMX_MISC) & (1ull << 29)));  /* no VMWRITE to exit fields */
	/* The preemption timer's rate is the hardware's (L2's timer counts in it). */
	CHECK_EQ(msr(MSR_IA32_VMX_MISC) & 0x1f, hw.misc & 0x1f);
}

TEST(feature_msrs_exist_only_with_their_features)
{
	uint64_t v;

	hw = fixture_hw_caps();
	nested_caps_init(&n, &hw);
	CHECK(!nested_caps_rdmsr(&n, MSR_IA32_VMX_VMFUNC, &v));
	CHECK(!nested_caps_rdmsr(&n, MSR_IA32_VMX_PROCBASED_CTLS3, &v));
	CHECK(!nested_caps_rdmsr(&n, 0x3a, &v));
	CHECK(n.feature[F_BASE] && n.feature[F_EPT] && n.feature[F_VPID]);
	/* Without EPT and VPID in the hardware, no EPT_VPID_CAP (A.10). */
	hw.proc2.may1 &= ~(PROC2_ENABLE_EPT | PROC2_ENABLE_VPID);
	nested_caps_init(&n, &hw);
	CHECK(!nested_caps_rdmsr(&n, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CHECK(!n.feature[F_EPT] && !n.feature[F_VPID]);
}

TEST(ept_vpid_caps_are_what_nested_ept_implements)
{
	uint64_t v;

	hw = fixture_hw_caps();
	nested_caps_init(&n, &hw);
	CHECK(nested_caps_rdmsr(&n, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CHECK((v & (EPT_CAP_PWL4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_MEMTYPE_UC | EPT_CAP_INVEPT |
		    EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL | EPT_CAP_2MB_PAGES |
		    EPT_CAP_1GB_PAGES)) ==
	      (EPT_CAP_PWL4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_MEMTYPE_UC | EPT_CAP_INVEPT |
	       EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL | EPT_CAP_2MB_PAGES | EPT_CAP_1GB_PAGES));
	CHECK(!(v & EPT_CAP_ADVANCED_EXIT_INFO));
	/* Execute-only and A/D only as the hardware has them. */
	CHECK(!!(v & EPT_CAP_EXEC_ONLY) == !!(hw.ept_vpid & EPT_CAP_EXEC_ONLY));
	CHECK(!!(v & EPT_CAP_AD_FLAGS) == !!(hw.ept_vpid & EPT_CAP_AD_FLAGS));
	CHECK((v >> 40 & 0xf) == 0xf && (v & VPID_CAP_INVVPID));
	hw.ept_vpid &= ~(EPT_CAP_EXEC_ONLY | EPT_CAP_AD_FLAGS);
	nested_caps_init(&n, &hw);
	CHECK(nested_caps_rdmsr(&n, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CHECK(!(v & (EPT_CAP_EXEC_ONLY | EPT_CAP_AD_FLAGS)));
}

TEST(non_true_msrs_report_default1_bits)
{
	hw = fixture_hw_caps();
	nested_caps_init(&n, &hw);
	CHECK_EQ(msr(MSR_IA32_VMX_PROCBASED_CTLS) & 0xffffffff,
		 (hw.proc.must1 | 0x0401e172u));
	CHECK((msr(MSR_IA32_VMX_PROCBASED_CTLS) >> 32) & PROC_CR3_LOAD_EXITING);
}

TEST(vmcs_enum_matches_the_highest_exposed_index)
{
	hw = fixture_hw_caps();
	nested_caps_init(&n, &hw);
	uint64_t max = 0;

	for (unsigned i = 0; i < vmcs_field_count; i++)
		if (n.feature[vmcs_field_table[i].feature] &&
		    VMCS_ENC_INDEX(vmcs_field_table[i].encoding) > max)
			max = VMCS_ENC_INDEX(vmcs_field_table[i].encoding);
	CHECK_EQ(msr(MSR_IA32_VMX_VMCS_ENUM), max << 1);
}

TEST(nmi_controls_follow_their_dependencies)
{
	hw = fixture_hw_caps();
	hw.pin.may1 &= ~PIN_NMI_EXITING;
	nested_caps_init(&n, &hw);
	CHECK(!((msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS) >> 32) & PIN_VIRTUAL_NMIS));
	CHECK(!((msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32) & PROC_NMI_WINDOW_EXITING));
}

/* Controls whose VMCS02 form needs another control of the CPU (found by fuzz/merge:
 * L1 could set them, and the VMCS02 merge then failed, a panic in L0). */
TEST(controls_needing_another_hardware_control)
{
	hw = fixture_hw_caps();
	nested_caps_init(&n, &hw);
	CHECK((msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS) >> 32) & PIN_PREEMPTION_TIMER);
	CHECK((msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32) & PROC_USE_IO_BITMAPS);

	/* Without "save VMX-preemption timer value": no timer for L1. */
	hw.exit.may1 &= ~EXIT_SAVE_PREEMPTION_TIMER;
	nested_caps_init(&n, &hw);
	CHECK(!((msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS) >> 32) & PIN_PREEMPTION_TIMER));
	CHECK(!((msr(MSR_IA32_VMX_TRUE_EXIT_CTLS) >> 32) & EXIT_SAVE_PREEMPTION_TIMER));
	CHECK_EQ(msr(MSR_IA32_VMX_MISC) & 0x1f, 0);
	CHECK(!n.feature[F_PREEMPTION_TIMER]);

	/* Without unconditional I/O exiting: no I/O bitmaps for L1. */
	hw = fixture_hw_caps();
	hw.proc.may1 &= ~PROC_UNCOND_IO_EXITING;
	nested_caps_init(&n, &hw);
	CHECK(!((msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32) &
		(PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING)));
}
