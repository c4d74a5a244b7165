/* SPDX-License-Identifier: MIT */
/* nested/vmcs12.c: encodings -> fields, VMREAD/VMWRITE width semantics (SDM Vol. 3C, 31.3). */
#include "unit.h"

#include "nested/vmcs12.h"

TEST(every_table_field_round_trips_by_encoding)
{
	static struct vmcs12 v;

	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *info = &vmcs_field_table[i];
		int high = -1;
		const struct vmcs12_field *f = vmcs12_field(info->encoding, &high);
		uint64_t pattern = 0x0123456789abcdefull ^ info->encoding;
		uint64_t want = info->width == W16 ? (uint16_t)pattern
				: info->width == W32 ? (uint32_t)pattern : pattern;

		if (!CHECK(f && high == 0 && f->width == info->width && f->group == info->group)) {
			printf("  %s\n", info->name);
			continue;
		}
		vmcs12_write(&v, f, 0, pattern, 64);
		if (!CHECK(vmcs12_read(&v, f, 0) == want))
			printf("  %s\n", info->name);
	}
	/* No two fields share storage: write all, then read all back. */
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		int high;
		const struct vmcs12_field *f = vmcs12_field(vmcs_field_table[i].encoding, &high);

		vmcs12_write(&v, f, 0, i + 1, 64);
	}
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		int high;
		const struct vmcs12_field *f = vmcs12_field(vmcs_field_table[i].encoding, &high);

		if (!CHECK(vmcs12_read(&v, f, 0) == i + 1))
			printf("  %s overlaps another field\n", vmcs_field_table[i].name);
	}
}

TEST(unsupported_encodings)
{
	int high;

	CHECK(vmcs12_field(0x0006, &high) == NULL);          /* unassigned 16-bit control */
	CHECK(vmcs12_field(0x7fff, &high) == NULL);
	CHECK(vmcs12_field(0x681e | 0x1000, &high) == NULL);  /* bit 12 reserved */
	CHECK(vmcs12_field(0x681e | 0x8000, &high) == NULL);  /* bits 31:15 */
	CHECK(vmcs12_field(0x100000000ull | 0x681e, &high) == NULL);  /* bits 63:32 */
	CHECK(vmcs12_field(0x681f, &high) == NULL);           /* high access of a natural field */
	CHECK(vmcs12_field(0x4403, &high) == NULL);           /* high access of a 32-bit field */
	CHECK(vmcs12_field(0x2011, &high) != NULL && high);   /* TSC_OFFSET_HIGH */
}

TEST(width_truncation_and_high_access)
{
	static struct vmcs12 v;
	int high;
	const struct vmcs12_field *sel = vmcs12_field(VMCS_GUEST_ES_SELECTOR, &high);
	const struct vmcs12_field *lim = vmcs12_field(VMCS_GUEST_ES_LIMIT, &high);
	const struct vmcs12_field *tsc = vmcs12_field(VMCS_TSC_OFFSET, &high);
	const struct vmcs12_field *tsc_hi = vmcs12_field(VMCS_TSC_OFFSET | 1, &high);

	vmcs12_write(&v, sel, 0, ~0ull, 64);
	CHECK_EQ(vmcs12_read(&v, sel, 0), 0xffff);
	vmcs12_write(&v, lim, 0, ~0ull, 64);
	CHECK_EQ(vmcs12_read(&v, lim, 0), 0xffffffff);
	vmcs12_write(&v, tsc, 0, 0x1111111122222222ull, 64);
	CHECK_EQ(vmcs12_read(&v, tsc_hi, 1), 0x11111111);
	vmcs12_write(&v, tsc_hi, 1, 0x33333333, 64);
	CHECK_EQ(vmcs12_read(&v, tsc, 0), 0x3333333322222222ull);
	/* A 32-bit VMWRITE of a 64-bit field clears its upper half. */
	vmcs12_write(&v, tsc, 0, 0xffffffff44444444ull, 32);
	CHECK_EQ(vmcs12_read(&v, tsc, 0), 0x44444444);
}
