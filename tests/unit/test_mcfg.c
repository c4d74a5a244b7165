/* SPDX-License-Identifier: MIT */
/* drivers/mcfg.c: the ACPI MCFG table, checked before L0 trusts it. */
#include "unit.h"

#include "drivers/mcfg.h"

struct entry {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

static uint8_t table[44 + 16 * 20];

/* An MCFG with these entries and a correct checksum; returns its length. */
static uint32_t build(const struct entry *e, unsigned n)
{
	uint32_t len = 44 + 16 * n;
	uint8_t sum = 0;

	memset(table, 0, sizeof(table));
	memcpy(table, "MCFG", 4);
	memcpy(table + 4, &len, 4);
	table[8] = 1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = table + 44 + 16 * i;

		memcpy(p, &e[i].base, 8);
		memcpy(p + 8, &e[i].segment, 2);
		p[10] = e[i].bus_start;
		p[11] = e[i].bus_end;
	}
	for (uint32_t i = 0; i < len; i++)
		sum += table[i];
	table[9] = (uint8_t)-sum;
	return len;
}

static int parse(uint32_t len, struct ecam_window *w, const char **why)
{
	*why = 0;
	return mcfg_parse(table, len, w, MCFG_MAX_WINDOWS, why);
}

TEST(mcfg_q35_window)
{
	const struct entry e[] = { { 0xb0000000, 0, 0, 0xff } };
	struct ecam_window w[MCFG_MAX_WINDOWS];
	const char *why;

	CHECK_EQ(parse(build(e, 1), w, &why), 1);
	CHECK_EQ(w[0].base, 0xb0000000);
	CHECK_EQ(w[0].segment, 0);
	CHECK_EQ(w[0].bus_start, 0);
	CHECK_EQ(w[0].bus_end, 0xff);
	CHECK_EQ(ecam_start(&w[0]), 0xb0000000);
	CHECK_EQ(ecam_end(&w[0]), 0xc0000000);
}

TEST(mcfg_several_segments_and_a_partial_bus_range)
{
	const struct entry e[] = {
		{ 0xe0000000, 0, 0, 0x3f },
		{ 0x4000000000ull, 1, 0x80, 0x8f },  /* base is bus 0's: buses 0x80-0x8f only */
	};
	struct ecam_window w[MCFG_MAX_WINDOWS];
	const char *why;

	CHECK_EQ(parse(build(e, 2), w, &why), 2);
	CHECK_EQ(ecam_end(&w[0]), 0xe4000000);
	CHECK_EQ(ecam_start(&w[1]), 0x4000000000ull + 0x80 * (1ull << 20));
	CHECK_EQ(ecam_end(&w[1]), 0x4000000000ull + 0x90 * (1ull << 20));
	CHECK_EQ(w[1].segment, 1);
}

TEST(mcfg_empty_is_valid)
{
	struct ecam_window w[1];
	const char *why;

	CHECK_EQ(parse(build(0, 0), w, &why), 0);
}

TEST(mcfg_bad_length_or_checksum_is_ignored)
{
	const struct entry e[] = { { 0xb0000000, 0, 0, 0xff } };
	struct ecam_window w[MCFG_MAX_WINDOWS];
	const char *why;
	uint32_t len = build(e, 1), v;

	CHECK_EQ(mcfg_parse(table, 40, w, MCFG_MAX_WINDOWS, &why), -1);
	CHECK_CONTAINS(why, "shorter");
	/* The header's length beyond what L0 may read. */
	CHECK_EQ(mcfg_parse(table, len - 1, w, MCFG_MAX_WINDOWS, &why), -1);
	CHECK_CONTAINS(why, "length");
	/* Not whole entries. */
	v = len - 4;
	memcpy(table + 4, &v, 4);
	table[9] += 4;  /* checksum still right: only the length is wrong */
	CHECK_EQ(parse(len, w, &why), -1);
	CHECK_CONTAINS(why, "whole entries");
	v = 40;
	build(e, 1);
	memcpy(table + 4, &v, 4);
	CHECK_EQ(parse(len, w, &why), -1);
	CHECK_CONTAINS(why, "length");
	build(e, 1);
	table[44] ^= 1;
	CHECK_EQ(parse(len, w, &why), -1);
	CHECK_CONTAINS(why, "checksum");
}

TEST(mcfg_entry_count_is_bounded)
{
	struct entry e[MCFG_MAX_WINDOWS + 1];
	struct ecam_window w[MCFG_MAX_WINDOWS + 1];
	const char *why;

	for (unsigned i = 0; i <= MCFG_MAX_WINDOWS; i++)
		e[i] = (struct entry){ 0x100000000ull * (i + 1), (uint16_t)i, 0, 0xff };
	CHECK_EQ(parse(build(e, MCFG_MAX_WINDOWS), w, &why), MCFG_MAX_WINDOWS);
	CHECK_EQ(parse(build(e, MCFG_MAX_WINDOWS + 1), w, &why), -1);
	CHECK_CONTAINS(why, "too many");
	/* The caller's own bound. */
	CHECK_EQ(mcfg_parse(table, build(e, 3), w, 2, &why), -1);
}

TEST(mcfg_bad_entries_are_ignored)
{
	struct ecam_window w[MCFG_MAX_WINDOWS];
	const char *why;
	const struct entry unaligned[] = { { 0xb0080000, 0, 0, 0xff } };
	const struct entry buses[] = { { 0xb0000000, 0, 0x10, 0x0f } };
	const struct entry beyond[] = { { 0xffffffff00000ull, 0, 0, 0x1 } };
	const struct entry huge[] = { { 0x8000000000000000ull, 0, 0, 0 } };
	const struct entry overlap[] = { { 0xb0000000, 0, 0, 0xff }, { 0xb8000000, 1, 0, 0x0f } };
	const struct entry same_bus[] = { { 0xb0000000, 0, 0, 0x7f }, { 0xd0000000, 0, 0x7f, 0xff } };
	const struct entry disjoint[] = { { 0xb0000000, 0, 0, 0x7f }, { 0xb0000000, 1, 0x80, 0xff } };

	CHECK_EQ(parse(build(unaligned, 1), w, &why), -1);
	CHECK_CONTAINS(why, "aligned");
	CHECK_EQ(parse(build(buses, 1), w, &why), -1);
	CHECK_CONTAINS(why, "start bus");
	CHECK_EQ(parse(build(beyond, 1), w, &why), -1);
	CHECK_CONTAINS(why, "beyond");
	CHECK_EQ(parse(build(huge, 1), w, &why), -1);
	CHECK_CONTAINS(why, "beyond");
	CHECK_EQ(parse(build(overlap, 2), w, &why), -1);
	CHECK_CONTAINS(why, "overlap");
	CHECK_EQ(parse(build(same_bus, 2), w, &why), -1);
	CHECK_CONTAINS(why, "same bus");
	/* One base shared by two segments' disjoint bus ranges: disjoint addresses, fine. */
	CHECK_EQ(parse(build(disjoint, 2), w, &why), 2);
}
