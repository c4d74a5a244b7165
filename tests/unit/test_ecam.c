/* SPDX-License-Identifier: MIT */
/* vmx/ecam.c with vmx/pci_guard.c: ECAM addresses, store pieces, the same filter as ports. */
#include "unit.h"

#include "vmx/ecam.h"
#include "vmx/pci_guard.h"

static const struct ecam_window q35[] = {
	{ 0xb0000000, 0, 0, 0xff },
	{ 0x4000000000ull, 1, 0x80, 0x8f },
};

TEST(ecam_find_holds_only_the_windows_buses)
{
	CHECK_EQ(ecam_find(q35, 2, 0xb0000000), 0);
	CHECK_EQ(ecam_find(q35, 2, 0xbfffffff), 0);
	CHECK_EQ(ecam_find(q35, 2, 0xc0000000), -1);
	CHECK_EQ(ecam_find(q35, 2, 0xafffffff), -1);
	/* Segment 1 starts at bus 0x80: below it is not ECAM. */
	CHECK_EQ(ecam_find(q35, 2, 0x4000000000ull), -1);
	CHECK_EQ(ecam_find(q35, 2, 0x4000000000ull + (0x80ull << 20)), 1);
	CHECK_EQ(ecam_find(q35, 2, 0x4000000000ull + (0x90ull << 20) - 1), 1);
	CHECK_EQ(ecam_find(q35, 2, 0x4000000000ull + (0x90ull << 20)), -1);
	CHECK_EQ(ecam_find(q35, 0, 0xb0000000), -1);
}

TEST(ecam_decode_bus_dev_fn_reg)
{
	struct ecam_addr a = ecam_decode(&q35[0], 0xb0000000 + (3u << 20) + (0x1fu << 15) +
						  (5u << 12) + 0xabc);

	CHECK_EQ(a.segment, 0);
	CHECK_EQ(a.bus, 3);
	CHECK_EQ(a.dev, 0x1f);
	CHECK_EQ(a.fn, 5);
	CHECK_EQ(a.reg, 0xabc);
	CHECK_EQ(a.fn_base, 0xb0000000 + (3u << 20) + (0x1fu << 15) + (5u << 12));
	a = ecam_decode(&q35[1], 0x4000000000ull + (0x85ull << 20) + (1u << 15) + 4);
	CHECK_EQ(a.segment, 1);
	CHECK_EQ(a.bus, 0x85);
	CHECK_EQ(a.dev, 1);
	CHECK_EQ(a.fn, 0);
	CHECK_EQ(a.reg, 4);
}

TEST(ecam_split_into_dword_pieces)
{
	struct ecam_piece p[ECAM_MAX_PIECES];

	CHECK_EQ(ecam_split(0x04, 2, 0x0107, p), 1);
	CHECK_EQ(p[0].reg, 0x04);
	CHECK_EQ(p[0].size, 2);
	CHECK_EQ(p[0].value, 0x0107);
	CHECK_EQ(ecam_split(0x10, 8, 0x1122334455667788ull, p), 2);
	CHECK_EQ(p[0].reg, 0x10);
	CHECK_EQ(p[0].size, 4);
	CHECK_EQ(p[0].value, 0x55667788);
	CHECK_EQ(p[1].reg, 0x14);
	CHECK_EQ(p[1].size, 4);
	CHECK_EQ(p[1].value, 0x11223344);
	/* Unaligned: a word over two dwords, a qword over three. */
	CHECK_EQ(ecam_split(0x07, 2, 0xaabb, p), 2);
	CHECK_EQ(p[0].reg, 0x07);
	CHECK_EQ(p[0].size, 1);
	CHECK_EQ(p[0].value, 0xbb);
	CHECK_EQ(p[1].reg, 0x08);
	CHECK_EQ(p[1].size, 1);
	CHECK_EQ(p[1].value, 0xaa);
	CHECK_EQ(ecam_split(0x05, 8, 0x1122334455667788ull, p), 3);
	CHECK_EQ(p[0].reg, 0x05);
	CHECK_EQ(p[0].size, 3);
	CHECK_EQ(p[0].value, 0x667788);
	CHECK_EQ(p[1].reg, 0x08);
	CHECK_EQ(p[1].size, 4);
	CHECK_EQ(p[1].value, 0x22334455);
	CHECK_EQ(p[2].reg, 0x0c);
	CHECK_EQ(p[2].size, 1);
	CHECK_EQ(p[2].value, 0x11);
	/* The last bytes of the 4 KiB, but not past them; no odd sizes. */
	CHECK_EQ(ecam_split(0xffc, 4, 1, p), 1);
	CHECK_EQ(ecam_split(0xffd, 4, 1, p), 0);
	CHECK_EQ(ecam_split(0xff8, 8, 1, p), 2);
	CHECK_EQ(ecam_split(0x0, 3, 1, p), 0);
	CHECK_EQ(ecam_split(0x0, 0, 1, p), 0);
}

static bool not_ram(uint64_t base)
{
	return base >= 0x40000000u;
}

/* L1's store through ECAM, piece by piece through pci_guard, over old dwords. */
static void store(const struct ecam_window *w, uint64_t pa, unsigned size, uint64_t value,
		  uint32_t cfg[1024], bool *refused)
{
	struct ecam_addr a = ecam_decode(w, pa);
	struct pci_dev_id d = { a.bus, a.dev, a.fn, (uint16_t)cfg[0], (uint16_t)(cfg[0] >> 16),
				(uint8_t)(cfg[3] >> 16) & 0x7f };
	struct ecam_piece p[ECAM_MAX_PIECES];
	unsigned n = ecam_split(a.reg, size, value, p);

	*refused = false;
	CHECK(n > 0);
	for (unsigned i = 0; i < n; i++) {
		bool r;

		cfg[p[i].reg / 4] = pci_guard_write(&d, p[i].reg, p[i].size, p[i].value,
						    cfg[p[i].reg / 4], not_ram, &r);
		*refused |= r;
	}
}

TEST(ecam_writes_meet_the_port_filter)
{
	static uint32_t nic[1024], host[1024];
	uint64_t nic_fn = 0xb0000000 + (3u << 15), host_fn = 0xb0000000;
	bool r;

	nic[0] = 0x813910ec;
	host[0] = 0x12378086;
	/* Bus mastering: a word, a byte, and a qword over command and status. */
	store(&q35[0], nic_fn + 4, 2, 0x0107, nic, &r);
	CHECK(r);
	CHECK_EQ(nic[1], 0x0103);
	store(&q35[0], nic_fn + 4, 1, 0x04, nic, &r);
	CHECK(r);
	CHECK_EQ(nic[1], 0x0100);
	store(&q35[0], nic_fn + 0, 8, 0x0000000700000000ull, nic, &r);
	CHECK(r);
	CHECK_EQ(nic[1], 0x3);
	/* A memory BAR over RAM keeps its value, in a qword too; MMIO passes. */
	nic[4] = 0xc101;  /* an I/O BAR */
	nic[5] = 0xfebf0000;
	store(&q35[0], nic_fn + 0x14, 4, 0x09e00000, nic, &r);
	CHECK(r);
	CHECK_EQ(nic[5], 0xfebf0000);
	store(&q35[0], nic_fn + 0x10, 8, 0x09e00000c001ull, nic, &r);
	CHECK(r);
	CHECK_EQ(nic[5], 0xfebf0000);
	CHECK_EQ(nic[4], 0xc001);
	store(&q35[0], nic_fn + 0x14, 4, 0xfe000000, nic, &r);
	CHECK(!r);
	CHECK_EQ(nic[5], 0xfe000000);
	/* The i440FX host bridge's PAM and SMRAM at 00:00.0, byte by byte. */
	host[0x58 / 4] = 0x11000000;
	store(&q35[0], host_fn + 0x59, 1, 0x33, host, &r);
	CHECK(r);
	CHECK_EQ(host[0x58 / 4], 0x11000000);
	store(&q35[0], host_fn + 0x72, 1, 0x4a, host, &r);
	CHECK(r);
	CHECK_EQ(host[0x70 / 4], 0);
}

TEST(ecam_extended_space_passes_through)
{
	static uint32_t nic[1024], host[1024];
	uint64_t nic_fn = 0xb0000000 + (3u << 15);
	bool r;

	nic[0] = 0x813910ec;
	host[0] = 0x12378086;
	/* Registers 0x104, 0x158, 0x159, 0x172: the guarded offsets plus 0x100. */
	store(&q35[0], nic_fn + 0x104, 4, 0x00000107, nic, &r);
	CHECK(!r);
	CHECK_EQ(nic[0x104 / 4], 0x107);
	store(&q35[0], 0xb0000000 + 0x159, 1, 0x33, host, &r);
	CHECK(!r);
	CHECK_EQ(host[0x158 / 4], 0x3300);
	store(&q35[0], 0xb0000000 + 0x110, 8, 0x1122334455667788ull, host, &r);
	CHECK(!r);
	CHECK_EQ(host[0x110 / 4], 0x55667788);
	CHECK_EQ(host[0x114 / 4], 0x11223344);
	store(&q35[0], 0xb0000000 + 0xffc, 4, 0xdeadbeef, host, &r);
	CHECK(!r);
	CHECK_EQ(host[0x3ff], 0xdeadbeef);
}
