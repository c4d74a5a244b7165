/* SPDX-License-Identifier: MIT */
/* drivers/dmar.c: the ACPI DMAR table, checked before L0 trusts it. */
#include "unit.h"

#include "drivers/dmar.h"

static uint8_t table[4096];
static uint32_t at;
static struct dmar_info info;

static void put(const void *p, unsigned n)
{
	memcpy(table + at, p, n);
	at += n;
}

static void put8(uint8_t v) { put(&v, 1); }
static void put16(uint16_t v) { put(&v, 2); }
static void put64(uint64_t v) { put(&v, 8); }

/* Start a table: header, host address width haw bits, flags. */
static void begin(unsigned haw, uint8_t flags)
{
	memset(table, 0, sizeof(table));
	memcpy(table, "DMAR", 4);
	table[8] = 1;
	table[36] = (uint8_t)(haw - 1);
	table[37] = flags;
	at = 48;
}

/* A device scope: type, enumeration id, start bus, one hop dev.fn. */
static void scope(uint8_t type, uint8_t id, uint8_t bus, uint8_t dev, uint8_t fn)
{
	put8(type); put8(8); put8(0); put8(0); put8(id); put8(bus); put8(dev); put8(fn);
}

static uint32_t drhd_begin(uint8_t flags, uint8_t size, uint16_t seg, uint64_t base)
{
	uint32_t start = at;

	put16(0); put16(0); put8(flags); put8(size); put16(seg); put64(base);
	return start;
}

static uint32_t rmrr_begin(uint16_t seg, uint64_t base, uint64_t limit)
{
	uint32_t start = at;

	put16(1); put16(0); put16(0); put16(seg); put64(base); put64(limit);
	return start;
}

/* Close a remapping structure begun at start: its length field. */
static void end_struct(uint32_t start)
{
	uint16_t len = (uint16_t)(at - start);

	memcpy(table + start + 2, &len, 2);
}

/* Close the table: length, checksum. Returns the length. */
static uint32_t finish(void)
{
	uint8_t sum = 0;

	memcpy(table + 4, &at, 4);
	table[9] = 0;
	for (uint32_t i = 0; i < at; i++)
		sum += table[i];
	table[9] = (uint8_t)-sum;
	return at;
}

static const char *why;

static int parse(uint32_t len)
{
	why = 0;
	return dmar_parse(table, len, &info, &why);
}

static void refused(uint32_t len, const char *what)
{
	CHECK_EQ(parse(len), -1);
	CHECK_CONTAINS(why, what);
}

/* QEMU's intel-iommu: one INCLUDE_PCI_ALL unit, 39-bit width. */
static uint32_t qemu_like(void)
{
	uint32_t d;

	begin(39, DMAR_INTR_REMAP);
	d = drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_IOAPIC, 0, 0xff, 0, 0);
	end_struct(d);
	return finish();
}

TEST(dmar_qemu_like_table)
{
	CHECK_EQ(parse(qemu_like()), 0);
	CHECK_EQ(info.haw, 39);
	CHECK_EQ(info.flags, DMAR_INTR_REMAP);
	CHECK_EQ(info.nunits, 1);
	CHECK_EQ(info.nrmrrs, 0);
	CHECK_EQ(info.unit[0].base, 0xfed90000);
	CHECK_EQ(info.unit[0].pages, 1);
	CHECK_EQ(info.unit[0].segment, 0);
	CHECK_EQ(info.unit[0].flags, DMAR_DRHD_INCLUDE_PCI_ALL);
	CHECK_EQ(info.unit[0].nscopes, 1);
	CHECK_EQ(info.unit[0].scope[0].type, DMAR_SCOPE_IOAPIC);
	CHECK_EQ(info.unit[0].scope[0].start_bus, 0xff);
}

/* A client platform: a graphics unit with one endpoint, the rest, two RMRRs, an ATSR. */
TEST(dmar_two_units_rmrrs_and_unknown_structures)
{
	uint32_t s;

	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0, 2, 0);
	end_struct(s);
	s = drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 1, 0, 0xfed91000);
	scope(DMAR_SCOPE_IOAPIC, 2, 0xf0, 0x1f, 0);
	scope(DMAR_SCOPE_HPET, 0, 0, 0x1f, 7);
	end_struct(s);
	s = rmrr_begin(0, 0x8d800000, 0x8fffffff);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0, 2, 0);
	end_struct(s);
	s = rmrr_begin(0, 0x7a000000, 0x7a01ffff);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0, 0x14, 0);
	scope(DMAR_SCOPE_PCI_ENDPOINT, 0, 0, 0x1a, 0);
	end_struct(s);
	put16(2); put16(8); put16(0); put16(0);   /* an ATSR with no scope */
	put16(0x55); put16(4);                    /* a type the parser does not know */
	CHECK_EQ(parse(finish()), 0);
	CHECK_EQ(info.nunits, 2);
	CHECK_EQ(info.unit[0].flags, 0);
	CHECK_EQ(info.unit[0].scope[0].path[0].dev, 2);
	CHECK_EQ(info.unit[1].pages, 2);
	CHECK_EQ(info.unit[1].nscopes, 2);
	CHECK_EQ(info.unit[1].scope[1].type, DMAR_SCOPE_HPET);
	CHECK_EQ(info.unit[1].scope[1].path[0].fn, 7);
	CHECK_EQ(info.nrmrrs, 2);
	CHECK_EQ(info.rmrr[0].base, 0x8d800000);
	CHECK_EQ(info.rmrr[0].end, 0x90000000);
	CHECK_EQ(info.rmrr[1].nscopes, 2);
	CHECK_EQ(info.rmrr[1].scope[1].path[0].dev, 0x1a);
}

TEST(dmar_scope_with_a_bridge_path)
{
	uint32_t s;

	begin(46, 0);
	s = drhd_begin(0, 0, 1, 0xfbffc000);
	put8(DMAR_SCOPE_PCI_SUBHIERARCHY); put8(10); put8(0); put8(0); put8(0); put8(0);
	put8(3); put8(0); put8(0); put8(1);
	end_struct(s);
	CHECK_EQ(parse(finish()), 0);
	CHECK_EQ(info.unit[0].segment, 1);
	CHECK_EQ(info.unit[0].scope[0].path_len, 2);
	CHECK_EQ(info.unit[0].scope[0].path[1].fn, 1);
}

TEST(dmar_header_errors)
{
	uint32_t len = qemu_like();

	refused(47, "shorter than its header");
	memcpy(table, "DMAX", 4);
	refused(len, "not a DMAR");
	len = qemu_like();
	refused(len - 1, "bad length");          /* the header says more than L0 may read */
	memcpy(table + 4, &(uint32_t){ 40 }, 4);
	refused(len, "bad length");
	len = qemu_like();
	table[9]++;
	refused(len, "bad checksum");
	begin(31, 0);
	refused(finish(), "host address width");
	begin(53, 0);
	refused(finish(), "host address width");
	begin(39, 0);
	refused(finish(), "no DRHD unit");
}

TEST(dmar_structure_length_errors)
{
	uint32_t s;

	begin(39, 0);
	put16(0); put16(0);                      /* length 0: would loop forever */
	refused(finish(), "length is wrong");
	begin(39, 0);
	put16(0); put16(200);                    /* past the table */
	refused(finish(), "length is wrong");
	begin(39, 0);
	put16(0);                                /* two bytes left */
	refused(finish(), "cut short");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	at -= 4;                                 /* 12 bytes: not all of the fixed part */
	end_struct(s);
	refused(finish(), "DRHD is shorter");
	begin(39, 0);
	s = rmrr_begin(0, 0x1000, 0x1fff);
	at -= 8;
	end_struct(s);
	refused(finish(), "RMRR is shorter");
}

TEST(dmar_drhd_errors)
{
	uint32_t s;

	begin(39, 0);
	end_struct(drhd_begin(0, 0, 0, 0xfed90800));
	refused(finish(), "not 4-KiB aligned");
	begin(39, 0);
	end_struct(drhd_begin(0, 0, 0, 0));
	refused(finish(), "zero");
	begin(39, 0);
	end_struct(drhd_begin(0, 5, 0, 0xfed90000));
	refused(finish(), "implausibly large");
	begin(39, 0);
	end_struct(drhd_begin(0, 0, 0, 1ull << 52));
	refused(finish(), "beyond any physical address");
	begin(39, 0);
	end_struct(drhd_begin(0, 4, 0, (1ull << 52) - 0x1000));
	refused(finish(), "beyond any physical address");
	begin(39, 0);
	end_struct(drhd_begin(0, 1, 0, 0xfed90000));
	end_struct(drhd_begin(0, 0, 0, 0xfed91000));
	refused(finish(), "overlap");
	begin(39, 0);
	end_struct(drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000));
	end_struct(drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed91000));
	refused(finish(), "two INCLUDE_PCI_ALL");
	/* ... but one per segment is fine. */
	begin(39, 0);
	end_struct(drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000));
	end_struct(drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 1, 0xfed91000));
	CHECK_EQ(parse(finish()), 0);
	begin(39, 0);
	for (unsigned i = 0; i <= DMAR_MAX_UNITS; i++)
		end_struct(drhd_begin(0, 0, 0, 0xfed00000 + i * 0x1000));
	refused(finish(), "too many DRHD");
	(void)s;
}

TEST(dmar_rmrr_errors)
{
	uint32_t s;

	begin(39, 0);
	end_struct(drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000));
	s = rmrr_begin(0, 0x2000, 0x1fff);
	scope(1, 0, 0, 2, 0);
	end_struct(s);
	refused(finish(), "base is above its limit");
	begin(39, 0);
	s = rmrr_begin(0, 0x1000, 1ull << 52);
	scope(1, 0, 0, 2, 0);
	end_struct(s);
	refused(finish(), "beyond any physical address");
	begin(39, 0);
	s = rmrr_begin(0, 0x1800, 0x1fff);
	scope(1, 0, 0, 2, 0);
	end_struct(s);
	refused(finish(), "not 4-KiB aligned");
	begin(39, 0);
	s = rmrr_begin(0, 0x1000, 0x1ffe);
	scope(1, 0, 0, 2, 0);
	end_struct(s);
	refused(finish(), "not 4-KiB aligned");
	begin(39, 0);
	end_struct(rmrr_begin(0, 0x1000, 0x1fff));
	refused(finish(), "lists no device");
	begin(39, 0);
	end_struct(drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000));
	for (unsigned i = 0; i <= DMAR_MAX_RMRRS; i++) {
		s = rmrr_begin(0, 0x100000 * (i + 1), 0x100000 * (i + 1) + 0xfff);
		scope(1, 0, 0, 2, 0);
		end_struct(s);
	}
	refused(finish(), "too many RMRRs");
}

TEST(dmar_scope_errors)
{
	uint32_t s;

	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	put8(1); put8(7); put8(0); put8(0); put8(0); put8(0); put8(2);   /* odd path */
	end_struct(s);
	refused(finish(), "6 plus whole path");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	put8(1); put8(6); put8(0); put8(0); put8(0); put8(0);            /* no hop */
	end_struct(s);
	refused(finish(), "6 plus whole path");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	put8(1); put8(10); put8(0); put8(0); put8(0); put8(0); put8(2); put8(0);
	end_struct(s);                         /* says 10, has 8 */
	refused(finish(), "runs past its structure");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	put8(1); put8(8); put8(0);             /* 3 bytes of a scope */
	end_struct(s);
	refused(finish(), "cut short");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	scope(6, 0, 0, 2, 0);
	end_struct(s);
	refused(finish(), "unknown type");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	scope(0, 0, 0, 2, 0);
	end_struct(s);
	refused(finish(), "unknown type");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	scope(1, 0, 0, 32, 0);
	end_struct(s);
	refused(finish(), "names no PCI device");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	scope(1, 0, 0, 3, 8);
	end_struct(s);
	refused(finish(), "names no PCI device");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	put8(2); put8(6 + 2 * (DMAR_MAX_PATH + 1)); put8(0); put8(0); put8(0); put8(0);
	for (unsigned i = 0; i <= DMAR_MAX_PATH; i++) {
		put8(1); put8(0);
	}
	end_struct(s);
	refused(finish(), "path is too long");
	begin(39, 0);
	s = drhd_begin(0, 0, 0, 0xfed90000);
	for (unsigned i = 0; i <= DMAR_MAX_SCOPES; i++)
		scope(1, 0, 0, (uint8_t)i, 0);
	end_struct(s);
	refused(finish(), "too many device scopes");
	/* An RMRR's scopes are checked the same way. */
	begin(39, 0);
	end_struct(drhd_begin(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000));
	s = rmrr_begin(0, 0x1000, 0x1fff);
	scope(7, 0, 0, 2, 0);
	end_struct(s);
	refused(finish(), "unknown type");
}
