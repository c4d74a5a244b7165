/* SPDX-License-Identifier: MIT */
/* vmx/vmcs_fields.def: every row agrees with the encoding rules of SDM Vol. 3C, 25.11.2. */
#include "unit.h"

#include "vmx/vmcs.h"

TEST(every_field_width_matches_encoding)
{
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];

		if (!CHECK(VMCS_ENC_WIDTH(f->encoding) == f->width))
			printf("  %s 0x%x\n", f->name, f->encoding);
	}
}

TEST(every_field_group_matches_encoding)
{
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];

		if (!CHECK(VMCS_ENC_GROUP(f->encoding) == f->group))
			printf("  %s 0x%x\n", f->name, f->encoding);
	}
}

TEST(encodings_are_full_and_well_formed)
{
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];

		CHECK(!(f->encoding & VMCS_ENC_HIGH));      /* "full" access type */
		CHECK(!(f->encoding & VMCS_ENC_RESERVED));
	}
}

TEST(encodings_and_names_unique_and_lookup_round_trips)
{
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];

		CHECK(vmcs_field_lookup(f->encoding) == f);
		CHECK_STR(vmcs_field_name(f->encoding), f->name);
		for (unsigned j = i + 1; j < vmcs_field_count; j++) {
			CHECK(vmcs_field_table[j].encoding != f->encoding);
			CHECK(strcmp(vmcs_field_table[j].name, f->name) != 0);
		}
	}
	CHECK(vmcs_field_lookup(0x7fff) == NULL);
	CHECK_STR(vmcs_field_name(VMCS_TSC_OFFSET | VMCS_ENC_HIGH), "TSC_OFFSET");
}

TEST(known_encodings)
{
	/* Spot checks against SDM Appendix B. */
	CHECK_EQ(VMCS_GUEST_RIP, 0x681e);
	CHECK_EQ(VMCS_EPT_POINTER, 0x201a);
	CHECK_EQ(VMCS_VM_EXIT_REASON, 0x4402);
	CHECK_EQ(VMCS_HOST_RIP, 0x6c16);
	CHECK_EQ(VMCS_VMCS_LINK_POINTER, 0x2800);
	CHECK_EQ(VMCS_SECONDARY_VM_EXEC_CONTROL, 0x401e);
	CHECK(vmcs_field_count >= 150);
}

/*
 * The nested column: exit information is NC_EXIT or NC_COLD; NC_HOT is guest
 * state; NC_WIDE (vmcs_shadow_set = wide, read and write in the shadow VMCS)
 * is guest state or a control: never exit information, which L1 may not
 * write, nor host state, which KVM writes only when its own changes.
 */
TEST(nested_classes_fit_their_groups)
{
	unsigned wide = 0;

	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];

		if (f->group == EXIT && !CHECK(f->nested == NC_EXIT || f->nested == NC_COLD))
			printf("  %s\n", f->name);
		if (f->nested == NC_HOT && !CHECK(f->group == GUEST))
			printf("  %s\n", f->name);
		if (f->nested == NC_SHADOW && !CHECK(f->group == CTRL))
			printf("  %s\n", f->name);
		if (f->nested == NC_WIDE) {
			wide++;
			if (!CHECK(f->group == GUEST || f->group == CTRL))
				printf("  %s\n", f->name);
		}
	}
	/* The fields KVM's nested transitions trap on most (README, "Linux/KVM as L1"). */
	CHECK_EQ(vmcs_field_lookup(VMCS_GUEST_ES_SELECTOR)->nested, NC_WIDE);
	CHECK_EQ(vmcs_field_lookup(VMCS_GUEST_CS_BASE)->nested, NC_WIDE);
	CHECK_EQ(vmcs_field_lookup(VMCS_GUEST_IA32_EFER)->nested, NC_WIDE);
	CHECK_EQ(vmcs_field_lookup(VMCS_EPT_POINTER)->nested, NC_WIDE);
	CHECK_EQ(vmcs_field_lookup(VMCS_TSC_OFFSET)->nested, NC_WIDE);
	CHECK_EQ(vmcs_field_lookup(VMCS_GUEST_DR7)->nested, NC_WIDE);
	CHECK(wide >= 40);
}
