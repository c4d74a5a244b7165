/* SPDX-License-Identifier: MIT */
/*
 * vmx/mmio_decode.c: L1's instruction bytes for a store to ECAM (L1 chooses
 * every byte), against a reference decoder written here from the SDM:
 *  - Vol. 2A, 2.1.1 "Instruction Prefixes": 66, 67, the segment overrides, and
 *    F0/F2/F3, which the decoder refuses (mmio_decode.h); 2.2.1 "REX Prefixes":
 *    40-4F in 64-bit mode, only right before the opcode (a REX before a legacy
 *    prefix is ignored); an instruction is at most 15 bytes (2.1);
 *  - the accepted opcodes (Vol. 2B, "MOV"): 88 /r, 89 /r, C6 /0 ib, C7 /0 iw/id,
 *    operand size from REX.W, 66 and the mode, C7's imm32 sign-extended to 64;
 *    r8 4-7 are AH..BH without any REX, SPL..DIL with one (Table 3-1);
 *  - addressing (Tables 2-1 16-bit, 2-2 32-bit ModRM, 2-3 SIB; 2.2.1.6
 *    "RIP-Relative Addressing"), the address size from 67 and the mode, and the
 *    default segment (Vol. 1, 3.7.4 "Specifying a Segment Selector", Table 3-5:
 *    SS for an (E)BP/(E)SP base, DS otherwise, the last override instead).
 * Invariants: the decoder never reads past the n bytes it is given (they are
 * exactly a malloc'd block); TRUNCATED, UNSUPPORTED and OK exactly when the
 * reference says so (TRUNCATED only while more bytes could decide it, never at
 * 15); an accepted store has 1 <= len <= min(n, 15), size 1/2/4/8, and the
 * reference's source register (and high-8 flag) or immediate, address size,
 * base/index/scale/displacement (32/64-bit forms), RIP-relativity, segment;
 * mmio_effective_address (for random registers and RIP) and mmio_store_value
 * equal the reference's; the same bytes followed by garbage decode the same
 * (OK or UNSUPPORTED); a refusal says why.
 *
 * Input: mode (0 16-bit, 1 32-bit, 2 64-bit), n (bit 7: all the bytes; else
 * bits 4:0, at most what there is), RIP (8), a register seed (8), the bytes.
 */
#include "fuzz.h"

#include "vmx/mmio_decode.h"

#define MAXB 32

struct ref {
	enum mmio_status st;
	struct mmio_store s;
};

static unsigned ref_n, ref_pos;
static const uint8_t *ref_b;
static enum mmio_status ref_fail;

/* The next k bytes of the instruction: too long (past 15) or past n, in that order
 * for the piece that crosses first (the decoder fetches piece by piece). */
FUZZ_NO_COVERAGE static bool piece(unsigned k, uint64_t *v)
{
	if (ref_pos + k > 15) {
		ref_fail = MMIO_UNSUPPORTED;
		return false;
	}
	if (ref_pos + k > ref_n) {
		ref_fail = MMIO_TRUNCATED;
		return false;
	}
	*v = 0;
	for (unsigned i = 0; i < k; i++)
		*v |= (uint64_t)ref_b[ref_pos + i] << 8 * i;
	ref_pos += k;
	return true;
}

FUZZ_NO_COVERAGE static int64_t sx(uint64_t v, unsigned bytes)
{
	if (bytes == 1)
		return (int8_t)v;
	if (bytes == 2)
		return (int16_t)v;
	if (bytes == 4)
		return (int32_t)v;
	return (int64_t)v;
}

FUZZ_NO_COVERAGE static struct ref reference(const uint8_t *b, unsigned n, enum mmio_mode mode)
{
	struct ref r = { .st = MMIO_UNSUPPORTED };
	struct mmio_store *s = &r.s;
	bool p66 = false, p67 = false, x64 = mode == MMIO_MODE_64;
	int seg = -1;
	unsigned rex = 0, op = 0, modrm, mod, regf, rm;
	bool any_rex = false;
	uint64_t v;

	ref_b = b, ref_n = n, ref_pos = 0;
#define NEED(k, out)                          \
	do {                                  \
		if (!piece(k, out)) {         \
			r.st = ref_fail;      \
			return r;             \
		}                             \
	} while (0)
	for (;;) {
		NEED(1, &v);
		if (x64 && v >= 0x40 && v <= 0x4f) {
			rex = (unsigned)v & 0xf, any_rex = true;
			continue;
		}
		if (v == 0xf0 || v == 0xf2 || v == 0xf3)
			return r;                           /* refused prefixes */
		if (v == 0x66)
			p66 = true;
		else if (v == 0x67)
			p67 = true;
		else if (v == 0x26)
			seg = MMIO_SEG_ES;
		else if (v == 0x2e)
			seg = MMIO_SEG_CS;
		else if (v == 0x36)
			seg = MMIO_SEG_SS;
		else if (v == 0x3e)
			seg = MMIO_SEG_DS;
		else if (v == 0x64)
			seg = MMIO_SEG_FS;
		else if (v == 0x65)
			seg = MMIO_SEG_GS;
		else {
			op = (unsigned)v;
			break;
		}
		rex = 0, any_rex = false;                   /* not right before the opcode */
	}
	if (op != 0x88 && op != 0x89 && op != 0xc6 && op != 0xc7)
		return r;
	NEED(1, &v);
	modrm = (unsigned)v, mod = modrm >> 6, regf = modrm >> 3 & 7, rm = modrm & 7;
	if (mod == 3 || ((op == 0xc6 || op == 0xc7) && regf))
		return r;
	if (op == 0x88 || op == 0xc6)
		s->size = 1;
	else if (rex & 8)
		s->size = 8;
	else
		s->size = (mode == MMIO_MODE_16) != p66 ? 2 : 4;
	s->addr_size = x64 ? (p67 ? 4 : 8) : ((mode == MMIO_MODE_16) != p67 ? 2 : 4);
	s->base = s->index = MMIO_NO_REG;
	s->scale = 1;
	if (s->addr_size == 2) {
		/* Table 2-1: [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI] [BP] [BX]. */
		static const int b16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
		static const int i16[8] = { 6, 7, 6, 7, -1, -1, -1, -1 };

		s->base = b16[rm], s->index = i16[rm];
		if (mod == 0 && rm == 6) {
			s->base = MMIO_NO_REG;
			NEED(2, &v);
			s->disp = sx(v, 2);
		} else if (mod) {
			NEED(mod == 1 ? 1 : 2, &v);
			s->disp = sx(v, mod == 1 ? 1 : 2);
		}
	} else {
		unsigned dispbytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;

		if (rm == 4) {
			unsigned sib, ss, idx, bse;

			NEED(1, &v);
			sib = (unsigned)v, ss = sib >> 6, idx = (sib >> 3 & 7) | (rex & 2 ? 8 : 0);
			bse = (sib & 7) | (rex & 1 ? 8 : 0);
			s->index = idx == 4 ? MMIO_NO_REG : (int)idx;
			s->scale = 1u << ss;
			s->base = (int)bse;
			if ((sib & 7) == 5 && mod == 0)
				s->base = MMIO_NO_REG, dispbytes = 4;
		} else if (rm == 5 && mod == 0) {
			s->rip_relative = x64;
			dispbytes = 4;
		} else {
			s->base = (int)(rm | (rex & 1 ? 8 : 0));
		}
		if (dispbytes) {
			NEED(dispbytes, &v);
			s->disp = sx(v, dispbytes);
		}
	}
	if (op == 0xc6 || op == 0xc7) {
		unsigned ib = s->size == 8 ? 4 : s->size;

		NEED(ib, &v);
		s->is_imm = true;
		s->imm = (uint64_t)sx(v, ib);
		if (s->size < 8)
			s->imm &= ~0ull >> (64 - 8 * s->size);
	} else if (s->size == 1 && !any_rex && regf >= 4) {
		s->src = regf - 4, s->src_high8 = true;     /* AH CH DH BH */
	} else {
		s->src = regf | (rex & 4 ? 8 : 0);
	}
	if (seg >= 0)
		s->seg = (enum mmio_seg)seg;
	else if (!s->rip_relative && (s->base == 4 || s->base == 5))
		s->seg = MMIO_SEG_SS;
	else
		s->seg = MMIO_SEG_DS;
	s->len = ref_pos;
	r.st = MMIO_OK;
	return r;
#undef NEED
}

/* ---- Registers for the effective address. */

static uint64_t regs[16];

static uint64_t reg(void *ctx, unsigned n)
{
	INVARIANT(n < 16, "register %u", n);
	return regs[n];
}

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

FUZZ_NO_COVERAGE static uint64_t ref_ea(const struct mmio_store *s, uint64_t rip)
{
	uint64_t ea = (uint64_t)s->disp, mask;

	if (s->rip_relative)
		ea += rip + s->len;
	if (s->base != MMIO_NO_REG)
		ea += regs[s->base];
	if (s->index != MMIO_NO_REG)
		ea += regs[s->index] * s->scale;
	mask = s->addr_size == 8 ? ~0ull : (1ull << 8 * s->addr_size) - 1;
	return ea & mask;
}

FUZZ_NO_COVERAGE static uint64_t ref_value(const struct mmio_store *s, uint64_t v)
{
	if (s->is_imm)
		return s->imm;
	if (s->src_high8)
		return v >> 8 & 0xff;
	return s->size == 8 ? v : v & ((1ull << 8 * s->size) - 1);
}

FUZZ_NO_COVERAGE static void same_store(const struct mmio_store *a, const struct mmio_store *b,
					bool sixteen, const char *what)
{
	INVARIANT(a->len == b->len && a->size == b->size && a->is_imm == b->is_imm &&
		  a->addr_size == b->addr_size && a->rip_relative == b->rip_relative &&
		  a->seg == b->seg && a->disp == b->disp,
		  "%s: len %u/%u size %u/%u imm? %d/%d asize %u/%u rip %d/%d seg %d/%d disp %lx/%lx",
		  what, a->len, b->len, a->size, b->size, a->is_imm, b->is_imm, a->addr_size,
		  b->addr_size, a->rip_relative, b->rip_relative, a->seg, b->seg,
		  (unsigned long)a->disp, (unsigned long)b->disp);
	if (a->is_imm)
		INVARIANT(a->imm == b->imm, "%s: imm %lx, expected %lx", what,
			  (unsigned long)a->imm, (unsigned long)b->imm);
	else
		INVARIANT(a->src == b->src && a->src_high8 == b->src_high8,
			  "%s: source %u%s, expected %u%s", what, a->src, a->src_high8 ? "h" : "",
			  b->src, b->src_high8 ? "h" : "");
	/* 16-bit forms: which of BX/BP/SI/DI is called base is the decoder's business
	 * (the effective address is compared); 32/64-bit: exactly. */
	if (!sixteen)
		INVARIANT(a->base == b->base && a->index == b->index &&
			  (a->index == MMIO_NO_REG || a->scale == b->scale),
			  "%s: base %d/%d index %d/%d scale %u/%u", what, a->base, b->base, a->index,
			  b->index, a->scale, b->scale);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum mmio_mode modes[3] = { MMIO_MODE_16, MMIO_MODE_32, MMIO_MODE_64 };
	struct fuzz_in in = { data, size };
	enum mmio_mode mode = modes[take(&in, 1) % 3];
	unsigned nsel = (unsigned)take(&in, 1), avail, n;
	uint64_t rip = take(&in, 8), seed = take(&in, 8);
	uint8_t all[MAXB] = { 0 };
	struct mmio_store s, s2;
	const char *why = NULL, *why2 = NULL;
	enum mmio_status st, st2;
	struct ref r;
	uint8_t *b;

	avail = in.n < MAXB ? (unsigned)in.n : MAXB;
	memcpy(all, in.p, avail);
	n = nsel & 0x80 ? avail : (nsel & 31) < avail ? (nsel & 31) : avail;
	for (unsigned i = 0; i < 16; i++)
		regs[i] = mix(&seed);

	/* Exactly n bytes: a read past them is ASan's heap overflow. */
	b = malloc(n ? n : 1);
	memcpy(b, all, n);
	st = mmio_decode_store(b + 0, n, mode, &s, &why);
	free(b);
	r = reference(all, n, mode);
	INVARIANT(st == r.st, "mode %d, %u bytes %02x %02x %02x %02x: status %d (%s), the "
		  "reference %d", mode, n, all[0], all[1], all[2], all[3], st, why ? why : "-", r.st);
	if (st != MMIO_OK) {
		INVARIANT(why && *why, "status %d without a reason", st);
		INVARIANT(st != MMIO_TRUNCATED || n < MMIO_MAX_INSN_LEN,
			  "TRUNCATED with %u bytes given", n);
	} else {
		INVARIANT(s.len >= 1 && s.len <= MMIO_MAX_INSN_LEN && s.len <= n, "len %u of %u",
			  s.len, n);
		INVARIANT(s.size == 1 || s.size == 2 || s.size == 4 || s.size == 8, "size %u", s.size);
		INVARIANT(s.addr_size == 2 || s.addr_size == 4 || s.addr_size == 8, "address size %u",
			  s.addr_size);
		INVARIANT(s.src < 16 && (!s.src_high8 || s.src < 4), "source %u", s.src);
		same_store(&s, &r.s, r.s.addr_size == 2, "decode");
		for (int k = 0; k < 2; k++) {
			uint64_t ea = mmio_effective_address(&s, rip, reg, NULL), v = regs[s.src];

			INVARIANT(ea == ref_ea(&r.s, rip), "effective address %lx, expected %lx",
				  (unsigned long)ea, (unsigned long)ref_ea(&r.s, rip));
			INVARIANT(mmio_store_value(&s, v) == ref_value(&r.s, v), "value %lx, expected %lx",
				  (unsigned long)mmio_store_value(&s, v), (unsigned long)ref_value(&r.s, v));
			for (unsigned i = 0; i < 16; i++)
				regs[i] = mix(&seed);
			rip = mix(&seed);
		}
	}
	/* With the rest of the bytes (garbage after the instruction): the same verdict. */
	if (st != MMIO_TRUNCATED && avail > n) {
		b = malloc(avail);
		memcpy(b, all, avail);
		st2 = mmio_decode_store(b, avail, mode, &s2, &why2);
		free(b);
		INVARIANT(st2 == st, "%u bytes: status %d, %u bytes: %d (%s)", n, st, avail, st2,
			  why2 ? why2 : "-");
		if (st == MMIO_OK)
			same_store(&s2, &s, false, "with trailing bytes");
		else
			INVARIANT(why2 == why, "why: %s, then %s", why, why2);
	}
	return 0;
}
