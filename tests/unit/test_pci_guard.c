/* SPDX-License-Identifier: MIT */
/* vmx/pci_guard.c: what L1 may write into PCI configuration space. */
#include "unit.h"

#include "vmx/pci_guard.h"

static const struct pci_dev_id ide = { 0, 1, 1, 0x8086, 0x7010, 0 };
static const struct pci_dev_id host = { 0, 0, 0, 0x8086, 0x1237, 0 };
static const struct pci_dev_id mch = { 0, 0, 0, 0x8086, 0x29c0, 0 };
static const struct pci_dev_id pm = { 0, 1, 3, 0x8086, 0x7113, 0 };
static const struct pci_dev_id nic = { 0, 3, 0, 0x10ec, 0x8139, 0 };
static const struct pci_dev_id bridge = { 0, 4, 0, 0x8086, 0x244e, 1 };

/* RAM below 1 GiB; MMIO above. */
static bool not_ram(uint64_t base)
{
	return base >= 0x40000000u;
}

static uint32_t w(const struct pci_dev_id *d, unsigned reg, unsigned size, uint32_t value,
		  uint32_t old, bool *refused)
{
	return pci_guard_write(d, reg, size, value, old, not_ram, refused);
}

TEST(bus_mastering_is_refused_at_every_width)
{
	bool r;

	CHECK_EQ(w(&ide, 0x04, 2, 0x0005, 0x02800000, &r), 0x02800001u);
	CHECK(r);
	CHECK_EQ(w(&ide, 0x04, 1, 0x07, 0x0, &r), 0x3u);
	CHECK(r);
	CHECK_EQ(w(&nic, 0x04, 4, 0x00000107, 0x0, &r), 0x103u);
	CHECK(r);
	/* A write that leaves bus mastering off passes as it is. */
	CHECK_EQ(w(&nic, 0x04, 2, 0x0003, 0x0, &r), 0x3u);
	CHECK(!r);
	/* The status word's byte lanes are not the command register's. */
	CHECK_EQ(w(&nic, 0x06, 2, 0xffff, 0x00000003, &r), 0xffff0003u);
	CHECK(!r);
}

/* With VT-d translating DMA, bus mastering passes; the other rules stay. */
TEST(bus_mastering_passes_when_vtd_translates)
{
	bool r;

	pci_guard_bus_master_ok = true;
	CHECK_EQ(w(&ide, 0x04, 2, 0x0005, 0x02800000, &r), 0x02800005u);
	CHECK(!r);
	CHECK_EQ(w(&nic, 0x04, 4, 0x00000107, 0x0, &r), 0x107u);
	CHECK(!r);
	CHECK_EQ(w(&host, 0x59, 1, 0x33, 0x11224400, &r), 0x11224400u);
	CHECK(r);
	CHECK_EQ(w(&pm, 0x58, 4, 0x02000001, 0x0, &r), 0x1u);
	CHECK(r);
	CHECK_EQ(w(&nic, 0x14, 4, 0x09e00000, 0xfebf0000, &r), 0xfebf0000u);
	CHECK(r);
	pci_guard_bus_master_ok = false;
	CHECK_EQ(w(&nic, 0x04, 4, 0x00000107, 0x0, &r), 0x103u);
	CHECK(r);
}

TEST(host_bridge_pam_and_smram_keep_their_values)
{
	bool r;

	CHECK_EQ(w(&host, 0x59, 1, 0x33, 0x11224400, &r), 0x11224400u);
	CHECK(r);
	/* A dword over 0x5C-0x5F: every byte is a PAM register. */
	CHECK_EQ(w(&host, 0x5c, 4, 0xffffffff, 0x11111111, &r), 0x11111111u);
	CHECK(r);
	CHECK_EQ(w(&host, 0x72, 1, 0x4a, 0x00020000, &r), 0x00020000u);
	CHECK(r);
	/* Other host-bridge registers pass, and so does the same register elsewhere. */
	CHECK_EQ(w(&host, 0x50, 1, 0x12, 0x0, &r), 0x12u);
	CHECK(!r);
	CHECK_EQ(w(&nic, 0x59, 1, 0x33, 0x0, &r), 0x3300u);
	CHECK(!r);
}

TEST(apmc_enable_stays_off)
{
	bool r;

	CHECK_EQ(w(&pm, 0x58, 4, 0x02000001, 0x0, &r), 0x1u);
	CHECK(r);
	CHECK_EQ(w(&pm, 0x5b, 1, 0x02, 0x0, &r), 0x0u);
	CHECK(r);
	CHECK_EQ(w(&pm, 0x58, 1, 0x01, 0x0, &r), 0x1u);
	CHECK(!r);
}

TEST(memory_bars_only_where_no_ram_is)
{
	bool r;

	/* Over RAM: the old address stays. */
	CHECK_EQ(w(&nic, 0x14, 4, 0x09e00000, 0xfebf0000, &r), 0xfebf0000u);
	CHECK(r);
	/* Sizing (all ones) and MMIO addresses pass. */
	CHECK_EQ(w(&nic, 0x14, 4, 0xffffffff, 0xfebf0000, &r), 0xffffffffu);
	CHECK(!r);
	CHECK_EQ(w(&nic, 0x14, 4, 0xfeb00000, 0xfebf0000, &r), 0xfeb00000u);
	CHECK(!r);
	/* A byte write that moves the BAR over RAM is refused too. */
	CHECK_EQ(w(&nic, 0x17, 1, 0x00, 0xfebf0000, &r), 0xfebf0000u);
	CHECK(r);
	/* I/O BARs, and BAR offsets of a bridge (header type 1), are not memory BARs. */
	CHECK_EQ(w(&nic, 0x10, 4, 0x0000c001, 0x0000c101, &r), 0x0000c001u);
	CHECK(!r);
	CHECK_EQ(w(&bridge, 0x18, 4, 0x00010100, 0x0, &r), 0x00010100u);
	CHECK(!r);
}

TEST(q35_mch_pciexbar_pam_smram_keep_their_values)
{
	bool r;

	/* PCIEXBAR: moving, resizing or disabling ECAM, at any width. */
	CHECK_EQ(w(&mch, 0x60, 4, 0x80000001, 0xb0000001, &r), 0xb0000001u);
	CHECK(r);
	CHECK_EQ(w(&mch, 0x60, 1, 0x00, 0xb0000001, &r), 0xb0000001u);
	CHECK(r);
	CHECK_EQ(w(&mch, 0x64, 4, 0x1, 0x0, &r), 0x0u);
	CHECK(r);
	/* PAM, SMBASE, SMRAM, ESMRAMC, TSEG size. */
	CHECK_EQ(w(&mch, 0x90, 4, 0x33333333, 0x10111111, &r), 0x10111111u);
	CHECK(r);
	CHECK_EQ(w(&mch, 0x9c, 4, 0x00ff4a02, 0x00380200, &r), 0x00380200u);
	CHECK(r);
	CHECK_EQ(w(&mch, 0x9f, 1, 0x12, 0x00380200, &r), 0x12380200u);  /* 0x9f is not guarded */
	CHECK(!r);
	CHECK_EQ(w(&mch, 0x50, 2, 0xffff, 0x00000040, &r), 0x00000040u);
	CHECK(r);
	/* Other MCH registers pass; so does 0x60 of another device. */
	CHECK_EQ(w(&mch, 0x54, 4, 0x12345678, 0x0, &r), 0x12345678u);
	CHECK(!r);
	CHECK_EQ(w(&nic, 0x60, 4, 0x80000001, 0xb0000001, &r), 0x80000001u);
	CHECK(!r);
}
