/* SPDX-License-Identifier: MIT */
/* Intel VT-d Specification, 8 "BIOS Considerations": the DMAR table. */
#include "drivers/dmar.h"
#include <nestvisor/unaligned.h>

#include <stdbool.h>
#include <nestvisor/string.h>

#define DMAR_HEADER_LEN   48   /* ACPI header (36), width, flags, 10 reserved */
#define DMAR_HAW          36
#define DMAR_FLAGS        37
#define ACPI_LENGTH       4

/* Remapping structure types (8.2, Table 20) and their fixed parts */
#define DMAR_TYPE_DRHD    0
#define DMAR_TYPE_RMRR    1
#define RS_HEADER_LEN     4    /* type (2), length (2) */
#define DRHD_FIXED_LEN    16   /* + flags, size, segment, register base */
#define DRHD_FLAGS        4
#define DRHD_SIZE         5    /* bits 3:0: the register set is 2^N pages */
#define DRHD_SEGMENT      6
#define DRHD_BASE         8
#define RMRR_FIXED_LEN    24   /* + reserved, segment, base, limit */
#define RMRR_SEGMENT      6
#define RMRR_BASE         8
#define RMRR_LIMIT        16   /* the last byte, inclusive */
#define SCOPE_FIXED_LEN   6    /* type, length, flags, reserved, enum id, start bus */

#define PAGE_4K           0x1000ull

static int bad(const char **why, const char *what)
{
	*why = what;
	return -1;
}

/* The device scopes in [p, end): stored in scope[], count in *n. */
static int parse_scopes(const uint8_t *p, const uint8_t *end, struct dmar_scope *scope,
			unsigned *n, const char **why)
{
	*n = 0;
	while (p < end) {
		struct dmar_scope *s;
		unsigned len;

		if (end - p < SCOPE_FIXED_LEN)
			return bad(why, "a device scope is cut short");
		len = p[1];
		if (len < SCOPE_FIXED_LEN + 2 || (len - SCOPE_FIXED_LEN) % 2)
			return bad(why, "a device scope's length is not 6 plus whole path entries");
		if (len > (size_t)(end - p))
			return bad(why, "a device scope runs past its structure");
		if (p[0] < DMAR_SCOPE_PCI_ENDPOINT || p[0] > DMAR_SCOPE_ACPI_NAMESPACE)
			return bad(why, "a device scope has an unknown type");
		if ((len - SCOPE_FIXED_LEN) / 2 > DMAR_MAX_PATH)
			return bad(why, "a device scope's path is too long");
		if (*n >= DMAR_MAX_SCOPES)
			return bad(why, "too many device scopes in one structure");
		s = &scope[(*n)++];
		s->type = p[0];
		s->enum_id = p[4];
		s->start_bus = p[5];
		s->path_len = (uint8_t)((len - SCOPE_FIXED_LEN) / 2);
		for (unsigned i = 0; i < s->path_len; i++) {
			s->path[i].dev = p[SCOPE_FIXED_LEN + 2 * i];
			s->path[i].fn = p[SCOPE_FIXED_LEN + 2 * i + 1];
			if (s->path[i].dev >= 32 || s->path[i].fn >= 8)
				return bad(why, "a device scope's path names no PCI device/function");
		}
		p += len;
	}
	return 0;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

static int parse_drhd(const uint8_t *p, unsigned len, struct dmar_info *out, const char **why)
{
	struct dmar_unit *u;
	unsigned size_log2;

	if (len < DRHD_FIXED_LEN)
		return bad(why, "a DRHD is shorter than its fixed part");
	size_log2 = p[DRHD_SIZE] & 0xf;  /* only once the fixed part is known to be there */
	if (out->nunits >= DMAR_MAX_UNITS)
		return bad(why, "too many DRHD units");
	u = &out->unit[out->nunits];
	u->flags = p[DRHD_FLAGS];
	u->segment = nv_rd16(p + DRHD_SEGMENT);
	u->base = nv_rd64(p + DRHD_BASE);
	if (size_log2 > DMAR_MAX_REG_PAGES_LOG2)
		return bad(why, "a DRHD's register set is implausibly large");
	u->pages = 1u << size_log2;
	if (!u->base || (u->base & (PAGE_4K - 1)))
		return bad(why, "a DRHD's register base is zero or not 4-KiB aligned");
	/* base < 2^52 and the set at most 64 KiB: no overflow below. */
	if (u->base >= DMAR_ADDR_LIMIT || u->base + u->pages * PAGE_4K > DMAR_ADDR_LIMIT)
		return bad(why, "a DRHD's registers lie beyond any physical address");
	for (unsigned i = 0; i < out->nunits; i++) {
		const struct dmar_unit *o = &out->unit[i];

		if (overlaps(u->base, u->base + u->pages * PAGE_4K, o->base,
			     o->base + o->pages * PAGE_4K))
			return bad(why, "two DRHDs' register sets overlap");
		if ((u->flags & DMAR_DRHD_INCLUDE_PCI_ALL) && (o->flags & DMAR_DRHD_INCLUDE_PCI_ALL) &&
		    u->segment == o->segment)
			return bad(why, "two INCLUDE_PCI_ALL DRHDs for one segment");
	}
	if (parse_scopes(p + DRHD_FIXED_LEN, p + len, u->scope, &u->nscopes, why))
		return -1;
	out->nunits++;
	return 0;
}

static int parse_rmrr(const uint8_t *p, unsigned len, struct dmar_info *out, const char **why)
{
	struct dmar_rmrr *r;
	uint64_t limit;

	if (len < RMRR_FIXED_LEN)
		return bad(why, "an RMRR is shorter than its fixed part");
	if (out->nrmrrs >= DMAR_MAX_RMRRS)
		return bad(why, "too many RMRRs");
	r = &out->rmrr[out->nrmrrs];
	r->segment = nv_rd16(p + RMRR_SEGMENT);
	r->base = nv_rd64(p + RMRR_BASE);
	limit = nv_rd64(p + RMRR_LIMIT);
	if (r->base > limit || limit >= DMAR_ADDR_LIMIT)
		return bad(why, "an RMRR's base is above its limit, or it lies beyond any physical "
			   "address");
	if ((r->base & (PAGE_4K - 1)) || ((limit + 1) & (PAGE_4K - 1)))
		return bad(why, "an RMRR is not 4-KiB aligned");
	r->end = limit + 1;
	if (parse_scopes(p + RMRR_FIXED_LEN, p + len, r->scope, &r->nscopes, why))
		return -1;
	if (!r->nscopes)
		return bad(why, "an RMRR lists no device");
	out->nrmrrs++;
	return 0;
}

int dmar_parse(const void *table, size_t len, struct dmar_info *out, const char **why)
{
	const uint8_t *t = table;
	uint32_t length, at;
	uint8_t sum = 0;

	memset(out, 0, sizeof(*out));
	if (len < DMAR_HEADER_LEN)
		return bad(why, "shorter than its header");
	if (memcmp(t, "DMAR", 4))
		return bad(why, "not a DMAR table");
	memcpy(&length, t + ACPI_LENGTH, 4);
	if (length < DMAR_HEADER_LEN || length > len)
		return bad(why, "bad length");
	for (uint32_t i = 0; i < length; i++)
		sum += t[i];
	if (sum)
		return bad(why, "bad checksum");
	out->haw = t[DMAR_HAW] + 1u;
	out->flags = t[DMAR_FLAGS];
	if (out->haw < 32 || out->haw > 52)
		return bad(why, "host address width outside 32-52 bits");
	for (at = DMAR_HEADER_LEN; at < length;) {
		const uint8_t *p = t + at;
		unsigned type, slen;

		if (length - at < RS_HEADER_LEN)
			return bad(why, "a remapping structure is cut short");
		type = nv_rd16(p);
		slen = nv_rd16(p + 2);
		if (slen < RS_HEADER_LEN || slen > length - at)
			return bad(why, "a remapping structure's length is wrong");
		if (type == DMAR_TYPE_DRHD && parse_drhd(p, slen, out, why))
			return -1;
		if (type == DMAR_TYPE_RMRR && parse_rmrr(p, slen, out, why))
			return -1;
		at += slen;
	}
	if (!out->nunits)
		return bad(why, "no DRHD unit");
	return 0;
}
