/* SPDX-License-Identifier: MIT */
/*
 * SDM Vol. 2A, 2.1 "Instruction Format", 2.1.1 "Instruction Prefixes", 2.1.5
 * "Addressing-Mode Encoding of ModR/M and SIB Bytes" (Tables 2-1, 2-2, 2-3),
 * 2.2.1 "REX Prefixes", 2.2.1.6 "RIP-Relative Addressing"; Vol. 2B, "MOV--Move".
 */
#include "vmx/mmio_decode.h"

#define OP_MOV_RM8_R8    0x88
#define OP_MOV_RM_R      0x89
#define OP_MOV_RM8_IMM8  0xc6
#define OP_MOV_RM_IMM    0xc7
#define PFX_OPSIZE       0x66
#define PFX_ADDRSIZE     0x67
#define PFX_LOCK         0xf0
#define PFX_REPNE        0xf2
#define PFX_REP          0xf3
#define REX_W            0x8
#define REX_R            0x4
#define REX_X            0x2
#define REX_B            0x1
#define GPR_SP           4
#define GPR_BP           5

struct cursor {
	const uint8_t *b;
	unsigned n, pos;
	enum mmio_status status;
	const char *why;
};

/* Take k more bytes (little-endian); on failure the cursor's status says why. */
static uint64_t take(struct cursor *c, unsigned k)
{
	uint64_t v = 0;

	if (c->status)
		return 0;
	if (c->pos + k > MMIO_MAX_INSN_LEN) {
		c->status = MMIO_UNSUPPORTED;
		c->why = "longer than 15 bytes";
		return 0;
	}
	if (c->pos + k > c->n) {
		c->status = MMIO_TRUNCATED;
		c->why = "needs more bytes";
		return 0;
	}
	for (unsigned i = 0; i < k; i++)
		v |= (uint64_t)c->b[c->pos + i] << 8 * i;
	c->pos += k;
	return v;
}

static int64_t sext(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (int64_t)(v << shift) >> shift;
}

static enum mmio_seg segment_override(uint8_t p)
{
	switch (p) {
	case 0x26: return MMIO_SEG_ES;
	case 0x2e: return MMIO_SEG_CS;
	case 0x36: return MMIO_SEG_SS;
	case 0x3e: return MMIO_SEG_DS;
	case 0x64: return MMIO_SEG_FS;
	default: return MMIO_SEG_GS;  /* 0x65 */
	}
}

static bool is_segment_override(uint8_t p)
{
	return p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65;
}

/* Table 2-1 "16-Bit Addressing Forms with the ModR/M Byte". */
static void modrm16(struct cursor *c, unsigned mod, unsigned rm, struct mmio_store *s)
{
	static const int8_t base[8] = { 3, 3, GPR_BP, GPR_BP, 6, 7, GPR_BP, 3 };  /* BX, BP, SI, DI */
	static const int8_t index[8] = { 6, 7, 6, 7, MMIO_NO_REG, MMIO_NO_REG, MMIO_NO_REG,
					 MMIO_NO_REG };

	s->base = base[rm];
	s->index = index[rm];
	if (mod == 0 && rm == 6) {
		s->base = MMIO_NO_REG;
		s->disp = sext(take(c, 2), 2);
	} else if (mod == 1) {
		s->disp = sext(take(c, 1), 1);
	} else if (mod == 2) {
		s->disp = sext(take(c, 2), 2);
	}
}

/* Tables 2-2 "32-Bit Addressing Forms with the ModR/M Byte" and 2-3 (SIB), with REX.X/B. */
static void modrm32(struct cursor *c, unsigned mod, unsigned rm, unsigned rex, bool long_mode,
		    struct mmio_store *s)
{
	s->base = (int)(rm | (rex & REX_B ? 8 : 0));
	if (rm == 4) {
		unsigned sib = (unsigned)take(c, 1);
		unsigned idx = ((sib >> 3) & 7) | (rex & REX_X ? 8 : 0);

		s->scale = 1u << (sib >> 6);
		s->index = idx == GPR_SP ? MMIO_NO_REG : (int)idx;
		s->base = (int)((sib & 7) | (rex & REX_B ? 8 : 0));
		if (mod == 0 && (sib & 7) == 5) {
			s->base = MMIO_NO_REG;
			s->disp = sext(take(c, 4), 4);
			return;
		}
	} else if (mod == 0 && rm == 5) {
		s->base = MMIO_NO_REG;
		s->rip_relative = long_mode;
		s->disp = sext(take(c, 4), 4);
		return;
	}
	if (mod == 1)
		s->disp = sext(take(c, 1), 1);
	else if (mod == 2)
		s->disp = sext(take(c, 4), 4);
}

enum mmio_status mmio_decode_store(const uint8_t *b, unsigned n, enum mmio_mode mode,
				   struct mmio_store *s, const char **why)
{
	struct cursor c = { b, n, 0, MMIO_OK, 0 };
	bool opsize = false, addrsize = false, seg_override = false, long_mode = mode == MMIO_MODE_64;
	enum mmio_seg seg = MMIO_SEG_DS;
	unsigned rex = 0, op, modrm, mod, reg, rm, opbytes;
	bool has_rex = false;

	*s = (struct mmio_store){ .base = MMIO_NO_REG, .index = MMIO_NO_REG, .scale = 1 };
	/* Legacy prefixes, any order; a REX counts only right before the opcode. */
	for (;;) {
		uint8_t p = (uint8_t)take(&c, 1);

		if (c.status)
			goto out;
		if (long_mode && (p & 0xf0) == 0x40) {
			rex = p & 0xf;
			has_rex = true;
			continue;
		}
		if (p == PFX_OPSIZE) {
			opsize = true;
		} else if (p == PFX_ADDRSIZE) {
			addrsize = true;
		} else if (is_segment_override(p)) {
			seg = segment_override(p);
			seg_override = true;
		} else if (p == PFX_LOCK) {
			c.status = MMIO_UNSUPPORTED, c.why = "LOCK prefix";
		} else if (p == PFX_REP || p == PFX_REPNE) {
			c.status = MMIO_UNSUPPORTED, c.why = "REP/REPNE (XACQUIRE/XRELEASE) prefix";
		} else {
			op = p;
			break;
		}
		if (c.status)
			goto out;
		rex = 0, has_rex = false;  /* a legacy prefix after a REX: the REX is ignored */
	}

	switch (op) {
	case OP_MOV_RM8_R8:
	case OP_MOV_RM8_IMM8:
		opbytes = 1;
		break;
	case OP_MOV_RM_R:
	case OP_MOV_RM_IMM:
		if (rex & REX_W)
			opbytes = 8;
		else if (mode == MMIO_MODE_16)
			opbytes = opsize ? 4 : 2;
		else
			opbytes = opsize ? 2 : 4;
		break;
	default:
		c.status = MMIO_UNSUPPORTED;
		c.why = op == 0x0f ? "a two-byte (0F) opcode" :
			(op == 0xc4 || op == 0xc5 || op == 0x62) && long_mode ? "VEX/EVEX" :
			op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab ? "a string store" :
			"not a MOV store (88, 89, C6, C7)";
		goto out;
	}
	modrm = (unsigned)take(&c, 1);
	if (c.status)
		goto out;
	mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
	if (mod == 3) {
		c.status = MMIO_UNSUPPORTED, c.why = "a register destination";
		goto out;
	}
	if ((op == OP_MOV_RM8_IMM8 || op == OP_MOV_RM_IMM) && reg != 0) {
		c.status = MMIO_UNSUPPORTED, c.why = "C6/C7 with ModRM.reg != 0 (XABORT, XBEGIN or #UD)";
		goto out;
	}
	s->size = opbytes;
	if (long_mode)
		s->addr_size = addrsize ? 4 : 8;
	else if (mode == MMIO_MODE_32)
		s->addr_size = addrsize ? 2 : 4;
	else
		s->addr_size = addrsize ? 4 : 2;
	if (s->addr_size == 2)
		modrm16(&c, mod, rm, s);
	else
		modrm32(&c, mod, rm, rex, long_mode, s);
	if (op == OP_MOV_RM8_IMM8 || op == OP_MOV_RM_IMM) {
		unsigned ibytes = opbytes == 8 ? 4 : opbytes;

		s->is_imm = true;
		s->imm = (uint64_t)sext(take(&c, ibytes), ibytes);
		if (opbytes < 8)
			s->imm &= (1ull << 8 * opbytes) - 1;
	} else {
		s->src = reg | (rex & REX_R ? 8 : 0);
		/* Without any REX, r8 encodings 4-7 are AH, CH, DH, BH (Table 3-1). */
		s->src_high8 = opbytes == 1 && !has_rex && reg >= 4;
		if (s->src_high8)
			s->src = reg - 4;
	}
	if (c.status)
		goto out;
	s->seg = seg_override ? seg
		 : !s->rip_relative && (s->base == GPR_SP || s->base == GPR_BP) ? MMIO_SEG_SS
		 : MMIO_SEG_DS;
	s->len = c.pos;
out:
	*why = c.why;
	return c.status;
}

static uint64_t wrap(uint64_t v, unsigned bytes)
{
	return bytes == 8 ? v : v & ((1ull << 8 * bytes) - 1);
}

uint64_t mmio_effective_address(const struct mmio_store *s, uint64_t rip,
				uint64_t (*reg)(void *ctx, unsigned n), void *ctx)
{
	uint64_t ea = (uint64_t)s->disp;

	if (s->rip_relative)
		ea += rip + s->len;
	if (s->base != MMIO_NO_REG)
		ea += reg(ctx, (unsigned)s->base);
	if (s->index != MMIO_NO_REG)
		ea += reg(ctx, (unsigned)s->index) * s->scale;
	return wrap(ea, s->addr_size);
}

uint64_t mmio_store_value(const struct mmio_store *s, uint64_t src_value)
{
	if (s->is_imm)
		return s->imm;
	if (s->src_high8)
		return (src_value >> 8) & 0xff;
	return wrap(src_value, s->size);
}
