/* SPDX-License-Identifier: MIT */
/* nested/merge.c: VMCS02 controls for combinations of L1's choices and L0's needs. */
#include "unit.h"

#include "nested/merge.h"
#include "nested_fixture.h"

static struct nested_caps caps;
static struct vmx_caps hw;
static struct vmcs12 v;
static const struct l0_needs l0 = { CR0_NE, CR4_VMXE };

static struct vmcs02_controls merge(void)
{
	struct vmcs02_controls c;
	const char *what;

	CHECK(nested_merge_controls(&v, &hw, &l0, &c, &what));
	return c;
}

TEST(l0_controls_always_present)
{
	hw = fixture_hw_caps();
	nested_caps_init(&caps, &hw);
	fixture_vmcs12(&v, &caps);
	struct vmcs02_controls c = merge();

	CHECK(c.proc & PROC_USE_IO_BITMAPS);
	CHECK(c.proc & PROC_USE_MSR_BITMAPS);
	CHECK(c.proc & PROC_ACTIVATE_SECONDARY);
	CHECK(c.proc2 & PROC2_ENABLE_EPT);
	CHECK(!(c.proc2 & PROC2_UNRESTRICTED_GUEST));
	CHECK(c.exit & EXIT_HOST_ADDR_SPACE_SIZE);
	CHECK(c.exit & EXIT_LOAD_EFER && c.exit & EXIT_SAVE_EFER);
	CHECK(c.entry & ENTRY_LOAD_EFER && c.entry & ENTRY_LOAD_PAT);
	CHECK(c.proc & PROC_HLT_EXITING);             /* L1's choice kept */
	CHECK(c.entry & ENTRY_IA32E_MODE_GUEST);      /* L1's choice kept */
}

TEST(table_of_l1_x_l0_combinations)
{
	/* Each row: an L1 setting and what VMCS02 must have. */
	struct {
		uint32_t proc12, proc2_12;
		uint32_t want_proc_set, want_proc_clear, want_proc2_set;
		bool io_from_l1, io_all, msr_from_l1;
	} rows[] = {
		{ 0, 0, PROC_USE_IO_BITMAPS, PROC_UNCOND_IO_EXITING, PROC2_ENABLE_EPT, false, false, false },
		/* Any I/O L1 may want exits to L0 (decided on L1's bitmaps then). */
		{ PROC_UNCOND_IO_EXITING, 0, PROC_UNCOND_IO_EXITING, PROC_USE_IO_BITMAPS, 0, false, true, false },
		{ PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING, 0, PROC_UNCOND_IO_EXITING,
		  PROC_USE_IO_BITMAPS, 0, true, false, false },
		{ PROC_USE_IO_BITMAPS, 0, PROC_UNCOND_IO_EXITING, PROC_USE_IO_BITMAPS, 0, true, false, false },
		{ PROC_USE_MSR_BITMAPS, 0, PROC_USE_MSR_BITMAPS, 0, 0, false, false, true },
		{ PROC_RDTSC_EXITING | PROC_INVLPG_EXITING, 0, PROC_RDTSC_EXITING | PROC_INVLPG_EXITING,
		  0, 0, false, false, false },
		{ PROC_ACTIVATE_SECONDARY, PROC2_ENABLE_RDTSCP | PROC2_WBINVD_EXITING, 0, 0,
		  PROC2_ENABLE_RDTSCP | PROC2_WBINVD_EXITING | PROC2_ENABLE_EPT, false, false, false },
		/* Secondary controls without "activate secondary" are ignored. */
		{ 0, PROC2_ENABLE_RDTSCP, 0, 0, PROC2_ENABLE_EPT, false, false, false },
	};

	hw = fixture_hw_caps();
	nested_caps_init(&caps, &hw);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fixture_vmcs12(&v, &caps);
		v.CPU_BASED_VM_EXEC_CONTROL |= rows[i].proc12;
		v.SECONDARY_VM_EXEC_CONTROL = rows[i].proc2_12;
		struct vmcs02_controls c = merge();
		bool ok = (c.proc & rows[i].want_proc_set) == rows[i].want_proc_set &&
			  !(c.proc & rows[i].want_proc_clear) &&
			  (c.proc2 & rows[i].want_proc2_set) == rows[i].want_proc2_set &&
			  c.io_bitmaps_from_l1 == rows[i].io_from_l1 &&
			  c.io_all_exit == rows[i].io_all && c.msr_bitmap_from_l1 == rows[i].msr_from_l1;

		if (!CHECK(ok))
			printf("  row %u: proc 0x%x proc2 0x%x io %d/%d msr %d\n", i, c.proc, c.proc2,
			       c.io_bitmaps_from_l1, c.io_all_exit, c.msr_bitmap_from_l1);
		if (!(rows[i].proc12 & PROC_ACTIVATE_SECONDARY) && rows[i].proc2_12)
			CHECK(!(c.proc2 & PROC2_ENABLE_RDTSCP));
	}
}

TEST(cr_masks_and_shadows)
{
	hw = fixture_hw_caps();
	nested_caps_init(&caps, &hw);
	fixture_vmcs12(&v, &caps);
	v.CR0_GUEST_HOST_MASK = CR0_TS;
	v.CR0_READ_SHADOW = CR0_TS | CR0_PE;   /* L1 says L2 reads TS = 1 */
	v.GUEST_CR0 = CR0_PE | CR0_NE | CR0_PG | CR0_ET;
	struct vmcs02_controls c = merge();

	CHECK_EQ(c.cr0_mask, CR0_TS | CR0_NE);
	/* TS from L1's shadow, NE (L0's alone) from L1's guest CR0. */
	CHECK_EQ(c.cr0_shadow & (CR0_TS | CR0_NE), CR0_TS | CR0_NE);
	CHECK_EQ(c.cr4_mask, CR4_VMXE);
	CHECK(c.cr4_shadow & CR4_VMXE);
}

TEST(exceptions_and_tsc_offset_pass_through)
{
	hw = fixture_hw_caps();
	nested_caps_init(&caps, &hw);
	fixture_vmcs12(&v, &caps);
	v.EXCEPTION_BITMAP = (1u << 6) | (1u << 14);
	v.PAGE_FAULT_ERROR_CODE_MASK = 2;
	v.PAGE_FAULT_ERROR_CODE_MATCH = 2;
	v.TSC_OFFSET = 12345;
	struct vmcs02_controls c = merge();

	CHECK_EQ(c.exception_bitmap, (1u << 6) | (1u << 14));
	CHECK_EQ(c.pf_mask, 2);
	CHECK_EQ(c.pf_match, 2);
	CHECK_EQ(c.tsc_offset, 0);  /* L1 did not enable TSC offsetting */
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_USE_TSC_OFFSETTING;
	c = merge();
	CHECK_EQ(c.tsc_offset, 12345);
}

TEST(hardware_without_ept_is_refused)
{
	struct vmcs02_controls c;
	const char *what;

	hw = fixture_hw_caps();
	nested_caps_init(&caps, &hw);
	fixture_vmcs12(&v, &caps);
	hw.proc2.may1 &= ~PROC2_ENABLE_EPT;
	CHECK(!nested_merge_controls(&v, &hw, &l0, &c, &what));
	CHECK_STR(what, "secondary");
}
