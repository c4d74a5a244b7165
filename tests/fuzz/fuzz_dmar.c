/* SPDX-License-Identifier: MIT */
/*
 * drivers/dmar.c: the ACPI DMAR table (firmware's, so a user's or a bare-metal
 * machine's input), against a reference parser written here from the VT-d
 * Specification (8.1 "DMA Remapping Reporting Structure", 8.2, 8.3 "DMA
 * Remapping Hardware Unit Definition Structure", 8.3.1 "Device Scope
 * Structure", 8.4 "Reserved Memory Region Reporting Structure") and the rules
 * dmar.h documents (its bounds, 4-KiB alignment, no overlapping units, ...):
 *  - the parser never reads a byte past the table's header length (the bytes
 *    past it, up to the len it is given, are poisoned for ASan), nor past len;
 *  - it accepts exactly the tables the reference accepts, and then returns
 *    exactly the reference's units, RMRRs and scopes (so accepted tables have
 *    bounded, non-overlapping structure lists within the table, counts within
 *    DMAR_MAX_*), and refuses all or nothing: one bad structure anywhere
 *    refuses the table (the caller then ignores everything, drivers/acpi.c);
 *  - a refusal says why; the parse is deterministic.
 *
 * Input: flags (bit 0: keep the input's checksum byte, bit 1: keep its
 * signature, bit 2: keep its length field, bit 3: give the parser more bytes
 * than the header's length, poisoned), the host address width byte, DMAR
 * flags, then the remapping structures' bytes as they are (a DRHD: 0,0, len16,
 * flags, size, segment16, base64, scopes...).
 */
#include "fuzz.h"

#include <sanitizer/asan_interface.h>

#include "drivers/dmar.h"

#define HDR 48
#define ADDR_LIMIT (1ull << 52)

static uint16_t r16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint64_t r64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- The reference (see the top). Every read goes through ref_byte, which
 * checks its index against the table's length. */

static const uint8_t *ref_t;
static uint32_t ref_len;

FUZZ_NO_COVERAGE static uint8_t ref_byte(uint32_t i)
{
	INVARIANT(i < ref_len, "reference reads byte %u of %u", i, ref_len);
	return ref_t[i];
}

FUZZ_NO_COVERAGE static bool ref_scopes(uint32_t at, uint32_t end, struct dmar_scope *sc,
					unsigned *n)
{
	*n = 0;
	while (at < end) {
		uint32_t len, hops;

		if (end - at < 6)
			return false;
		len = ref_byte(at + 1);
		if (len < 8 || len % 2 || len > end - at)
			return false;
		hops = (len - 6) / 2;
		if (ref_byte(at) < 1 || ref_byte(at) > 5 || hops > DMAR_MAX_PATH)
			return false;
		if (*n == DMAR_MAX_SCOPES)
			return false;
		sc[*n] = (struct dmar_scope){ .type = ref_byte(at), .enum_id = ref_byte(at + 4),
					      .start_bus = ref_byte(at + 5), .path_len = (uint8_t)hops };
		for (uint32_t h = 0; h < hops; h++) {
			sc[*n].path[h].dev = ref_byte(at + 6 + 2 * h);
			sc[*n].path[h].fn = ref_byte(at + 7 + 2 * h);
			if (sc[*n].path[h].dev >= 32 || sc[*n].path[h].fn >= 8)
				return false;
		}
		(*n)++;
		at += len;
	}
	return true;
}

FUZZ_NO_COVERAGE static bool reference(const uint8_t *t, size_t len, struct dmar_info *o)
{
	uint32_t length, at;
	uint8_t sum = 0;

	memset(o, 0, sizeof(*o));
	if (len < HDR || memcmp(t, "DMAR", 4))
		return false;
	length = (uint32_t)r16(t + 4) | (uint32_t)r16(t + 6) << 16;
	if (length < HDR || length > len)
		return false;
	ref_t = t, ref_len = length;
	for (uint32_t i = 0; i < length; i++)
		sum += ref_byte(i);
	if (sum)
		return false;
	o->haw = ref_byte(36) + 1u;
	o->flags = ref_byte(37);
	if (o->haw < 32 || o->haw > 52)
		return false;
	for (at = HDR; at < length;) {
		uint32_t type, slen;

		if (length - at < 4)
			return false;
		type = ref_byte(at) | ref_byte(at + 1) << 8;
		slen = ref_byte(at + 2) | ref_byte(at + 3) << 8;
		if (slen < 4 || slen > length - at)
			return false;
		if (type == 0) {                  /* DRHD */
			struct dmar_unit *u = &o->unit[o->nunits];
			unsigned size;

			if (slen < 16 || o->nunits == DMAR_MAX_UNITS)
				return false;
			size = ref_byte(at + 5) & 0xf;
			u->flags = ref_byte(at + 4);
			u->segment = (uint16_t)(ref_byte(at + 6) | ref_byte(at + 7) << 8);
			u->base = r64(t + at + 8);
			if (size > DMAR_MAX_REG_PAGES_LOG2 || !u->base || u->base % 4096)
				return false;
			u->pages = 1u << size;
			if (u->base > ADDR_LIMIT - u->pages * 4096ull)
				return false;
			for (unsigned i = 0; i < o->nunits; i++) {
				const struct dmar_unit *v = &o->unit[i];

				if (u->base < v->base + v->pages * 4096ull &&
				    v->base < u->base + u->pages * 4096ull)
					return false;
				if ((u->flags & v->flags & DMAR_DRHD_INCLUDE_PCI_ALL) &&
				    u->segment == v->segment)
					return false;
			}
			if (!ref_scopes(at + 16, at + slen, u->scope, &u->nscopes))
				return false;
			o->nunits++;
		} else if (type == 1) {           /* RMRR */
			struct dmar_rmrr *r = &o->rmrr[o->nrmrrs];
			uint64_t limit;

			if (slen < 24 || o->nrmrrs == DMAR_MAX_RMRRS)
				return false;
			r->segment = (uint16_t)(ref_byte(at + 6) | ref_byte(at + 7) << 8);
			r->base = r64(t + at + 8);
			limit = r64(t + at + 16);
			if (r->base > limit || limit >= ADDR_LIMIT || r->base % 4096 ||
			    (limit + 1) % 4096)
				return false;
			r->end = limit + 1;
			if (!ref_scopes(at + 24, at + slen, r->scope, &r->nscopes) || !r->nscopes)
				return false;
			o->nrmrrs++;
		}
		at += slen;
	}
	return o->nunits > 0;
}

/*
 * Found by this harness and fixed: parse_drhd read the size byte (offset 5)
 * before it checked the structure's length, 1 or 2 bytes past a table ending
 * in a short DRHD (tests/fuzz/repro/dmar-short-drhd-at-end.bin). No slack is
 * left for it: every byte past the table's length is poisoned.
 */
#define KNOWN_BUG_SLACK 0

FUZZ_NO_COVERAGE static bool known_bug_short_drhd(const uint8_t *t, uint32_t length)
{
	for (uint32_t at = HDR; KNOWN_BUG_SLACK && at < length && length - at >= 4;) {
		uint32_t slen = r16(t + at + 2);

		if (slen < 4 || slen > length - at)
			return false;
		if (r16(t + at) == 0 && at + 6 > length)
			return true;
		at += slen;
	}
	return false;
}

/* ---- Comparing results. */

FUZZ_NO_COVERAGE static void same_scopes(const char *what, unsigned k, const struct dmar_scope *a,
					 const struct dmar_scope *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		INVARIANT(a[i].type == b[i].type && a[i].enum_id == b[i].enum_id &&
			  a[i].start_bus == b[i].start_bus && a[i].path_len == b[i].path_len,
			  "%s %u scope %u: type %u/%u enum %u/%u bus %u/%u hops %u/%u", what, k, i,
			  a[i].type, b[i].type, a[i].enum_id, b[i].enum_id, a[i].start_bus,
			  b[i].start_bus, a[i].path_len, b[i].path_len);
		INVARIANT(a[i].path_len >= 1 && a[i].path_len <= DMAR_MAX_PATH, "%u hops",
			  a[i].path_len);
		for (unsigned h = 0; h < a[i].path_len; h++)
			INVARIANT(a[i].path[h].dev == b[i].path[h].dev &&
				  a[i].path[h].fn == b[i].path[h].fn && a[i].path[h].dev < 32 &&
				  a[i].path[h].fn < 8,
				  "%s %u scope %u hop %u: %x.%x, reference %x.%x", what, k, i, h,
				  a[i].path[h].dev, a[i].path[h].fn, b[i].path[h].dev, b[i].path[h].fn);
	}
}

FUZZ_NO_COVERAGE static void same_info(const struct dmar_info *a, const struct dmar_info *b)
{
	INVARIANT(a->haw == b->haw && a->flags == b->flags, "haw %u/%u flags %x/%x", a->haw,
		  b->haw, a->flags, b->flags);
	INVARIANT(a->nunits == b->nunits && a->nrmrrs == b->nrmrrs,
		  "%u units, %u RMRRs; reference %u, %u", a->nunits, a->nrmrrs, b->nunits, b->nrmrrs);
	INVARIANT(a->nunits >= 1 && a->nunits <= DMAR_MAX_UNITS && a->nrmrrs <= DMAR_MAX_RMRRS,
		  "%u units, %u RMRRs", a->nunits, a->nrmrrs);
	for (unsigned i = 0; i < a->nunits; i++) {
		const struct dmar_unit *u = &a->unit[i], *v = &b->unit[i];

		INVARIANT(u->base == v->base && u->pages == v->pages && u->segment == v->segment &&
			  u->flags == v->flags && u->nscopes == v->nscopes,
			  "unit %u: base %lx/%lx pages %u/%u seg %u/%u flags %x/%x scopes %u/%u", i,
			  u->base, v->base, u->pages, v->pages, u->segment, v->segment, u->flags,
			  v->flags, u->nscopes, v->nscopes);
		INVARIANT(u->nscopes <= DMAR_MAX_SCOPES && u->base + u->pages * 4096ull <= ADDR_LIMIT,
			  "unit %u: %u scopes, end %lx", i, u->nscopes, u->base + u->pages * 4096);
		for (unsigned j = 0; j < i; j++)
			INVARIANT(u->base >= a->unit[j].base + a->unit[j].pages * 4096ull ||
				  a->unit[j].base >= u->base + u->pages * 4096ull,
				  "units %u and %u overlap", j, i);
		same_scopes("unit", i, u->scope, v->scope, u->nscopes);
	}
	for (unsigned i = 0; i < a->nrmrrs; i++) {
		const struct dmar_rmrr *r = &a->rmrr[i], *s = &b->rmrr[i];

		INVARIANT(r->base == s->base && r->end == s->end && r->segment == s->segment &&
			  r->nscopes == s->nscopes,
			  "RMRR %u: [%lx, %lx) seg %u scopes %u; reference [%lx, %lx) %u %u", i,
			  r->base, r->end, r->segment, r->nscopes, s->base, s->end, s->segment,
			  s->nscopes);
		INVARIANT(r->nscopes >= 1 && r->nscopes <= DMAR_MAX_SCOPES && r->base < r->end &&
			  r->end <= ADDR_LIMIT, "RMRR %u: [%lx, %lx), %u scopes", i, r->base, r->end,
			  r->nscopes);
		same_scopes("RMRR", i, r->scope, s->scope, r->nscopes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned flags = (unsigned)take(&in, 1);
	size_t body = in.n, length = HDR + (body > 2 ? body - 2 : 0), len, extra = 0;
	struct dmar_info *got = malloc(sizeof(*got)), *ref = malloc(sizeof(*ref)),
			 *again = malloc(sizeof(*again));
	const char *why = NULL, *why2 = NULL;
	uint8_t *t, sum = 0;
	bool ok, ref_ok;
	int rc;

	if (length > 0xffff) {
		free(got), free(ref), free(again);
		return 0;
	}
	if (flags & 8)
		extra = 1 + (flags >> 4);
	len = length + extra;
	t = malloc(len + KNOWN_BUG_SLACK);
	memset(t, 0, len + KNOWN_BUG_SLACK);
	/* The header: signature, length, revision 1, checksum, OEM fields; width, flags. */
	memcpy(t, "DMAR", 4);
	t[4] = (uint8_t)length, t[5] = (uint8_t)(length >> 8);
	t[8] = 1;
	memcpy(t + 10, "NVFUZZ", 6);
	/* The input's first bytes: width and flags at 36, 37, then the structures at 48. */
	if (body >= 2) {
		t[36] = in.p[0], t[37] = in.p[1];
		memcpy(t + HDR, in.p + 2, body - 2);
	} else if (body == 1) {
		t[36] = in.p[0];
	}
	if (flags & 2)
		t[0] ^= (uint8_t)(flags & 0xf0) | 1;     /* a wrong signature */
	if (flags & 4) {
		t[4] = (uint8_t)(t[4] + (flags >> 4) - 8);   /* a length off by a little */
		t[6] = (uint8_t)(flags & 0x80 ? 1 : 0);
	}
	if (!(flags & 1)) {
		uint32_t hl = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16;

		for (uint32_t i = 0; i < hl && i < len; i++)
			sum += i == 9 ? 0 : t[i];
		t[9] = (uint8_t)-sum;
	}

	ref_ok = reference(t, len, ref);
	{
		uint32_t hl = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
			      (uint32_t)t[7] << 24;

		/* Past the header's length (up to len, and the slack past len): not the table's. */
		if (hl >= HDR && hl < len) {
			size_t from = hl + (known_bug_short_drhd(t, hl) ? KNOWN_BUG_SLACK : 0);

			__asan_poison_memory_region(t + from, len + KNOWN_BUG_SLACK - from);
		} else {
			size_t from = len + (hl == len && known_bug_short_drhd(t, hl) ?
					     KNOWN_BUG_SLACK : 0);

			__asan_poison_memory_region(t + from, len + KNOWN_BUG_SLACK - from);
		}
	}
	rc = dmar_parse(t, len, got, &why);
	ok = rc == 0;
	INVARIANT(rc == 0 || rc == -1, "dmar_parse returned %d", rc);
	INVARIANT(ok == ref_ok, "dmar_parse %s (%s), the reference %s (length %zu of %zu)",
		  ok ? "accepts" : "refuses", why ? why : "-", ref_ok ? "accepts" : "refuses",
		  length, len);
	if (ok)
		same_info(got, ref);
	else
		INVARIANT(why && *why, "a refusal without a reason");
	INVARIANT(dmar_parse(t, len, again, &why2) == rc && (ok ? !memcmp(got, again, sizeof(*got))
							       : why2 == why),
		  "not deterministic");
	__asan_unpoison_memory_region(t, len + KNOWN_BUG_SLACK);
	free(t);
	free(got), free(ref), free(again);
	return 0;
}
