/* SPDX-License-Identifier: MIT */
/* vmx/mmio_decode.c: the MOV store forms L0 emulates on MMIO, and everything it refuses. */
#include "unit.h"

#include "vmx/mmio_decode.h"

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* GPR n holds 0x1111111100000000 * ... : distinct, with high bits to wrap away. */
static uint64_t regs[16];

static uint64_t reg(void *ctx, unsigned n)
{
	return regs[n & 15];
}

static void set_regs(void)
{
	for (unsigned i = 0; i < 16; i++)
		regs[i] = 0xabcd000000000000ull | (0x1000ull * (i + 1)) | i;
}

static struct mmio_store ok(const uint8_t *b, unsigned n, enum mmio_mode m)
{
	struct mmio_store s;
	const char *why = 0;
	enum mmio_status st = mmio_decode_store(b, n, m, &s, &why);

	if (!unit_check(st == MMIO_OK, "decoded", __FILE__, __LINE__)) {
		unit_fail_detail("  status %d (%s), bytes", st, why ? why : "");
		for (unsigned i = 0; i < n; i++)
			unit_fail_detail(" %02x", b[i]);
		unit_fail_detail("\n");
	}
	CHECK_EQ(s.len, n);
	return s;
}

static const char *refused(const uint8_t *b, unsigned n, enum mmio_mode m)
{
	struct mmio_store s;
	const char *why = 0;

	CHECK_EQ(mmio_decode_store(b, n, m, &s, &why), MMIO_UNSUPPORTED);
	CHECK(why != 0);
	return why ? why : "";
}

static uint64_t ea(const struct mmio_store *s, uint64_t rip)
{
	return mmio_effective_address(s, rip, reg, 0);
}

TEST(mov_r8_r32_r64_to_memory_64bit)
{
	struct mmio_store s;

	set_regs();
	s = ok(B(0x88, 0x02), MMIO_MODE_64);      /* mov [rdx], al */
	CHECK_EQ(s.size, 1);
	CHECK(!s.is_imm);
	CHECK_EQ(s.src, 0);
	CHECK(!s.src_high8);
	CHECK_EQ(s.base, 2);
	CHECK_EQ(s.index, MMIO_NO_REG);
	CHECK_EQ(s.addr_size, 8);
	CHECK_EQ(s.seg, MMIO_SEG_DS);
	CHECK_EQ(ea(&s, 0), regs[2]);
	s = ok(B(0x89, 0x02), MMIO_MODE_64);      /* mov [rdx], eax */
	CHECK_EQ(s.size, 4);
	s = ok(B(0x48, 0x89, 0x0a), MMIO_MODE_64);  /* mov [rdx], rcx */
	CHECK_EQ(s.size, 8);
	CHECK_EQ(s.src, 1);
	s = ok(B(0x66, 0x89, 0x02), MMIO_MODE_64);  /* mov [rdx], ax */
	CHECK_EQ(s.size, 2);
	s = ok(B(0x66, 0x48, 0x89, 0x02), MMIO_MODE_64);  /* REX.W wins over 66 */
	CHECK_EQ(s.size, 8);
	s = ok(B(0x4c, 0x89, 0x3a), MMIO_MODE_64);  /* mov [rdx], r15 */
	CHECK_EQ(s.size, 8);
	CHECK_EQ(s.src, 15);
}

TEST(rex_counts_only_right_before_the_opcode)
{
	struct mmio_store s;

	s = ok(B(0x48, 0x66, 0x89, 0x02), MMIO_MODE_64);  /* REX then 66: REX ignored */
	CHECK_EQ(s.size, 2);
	s = ok(B(0x41, 0x48, 0x89, 0x02), MMIO_MODE_64);  /* two REX: the last one */
	CHECK_EQ(s.size, 8);
	CHECK_EQ(s.base, 2);
	s = ok(B(0x4c, 0x65, 0x88, 0x22), MMIO_MODE_64);  /* REX.R dropped: AH again */
	CHECK(s.src_high8);
	CHECK_EQ(s.src, 0);
	CHECK_EQ(s.seg, MMIO_SEG_GS);
}

TEST(byte_registers_with_and_without_rex)
{
	struct mmio_store s;

	s = ok(B(0x88, 0x22), MMIO_MODE_64);        /* mov [rdx], ah */
	CHECK(s.src_high8);
	CHECK_EQ(s.src, 0);
	CHECK_EQ(mmio_store_value(&s, 0x1234), 0x12);
	s = ok(B(0x88, 0x3a), MMIO_MODE_64);        /* mov [rdx], bh */
	CHECK(s.src_high8);
	CHECK_EQ(s.src, 3);
	s = ok(B(0x40, 0x88, 0x22), MMIO_MODE_64);  /* mov [rdx], spl */
	CHECK(!s.src_high8);
	CHECK_EQ(s.src, 4);
	CHECK_EQ(mmio_store_value(&s, 0x1234), 0x34);
	s = ok(B(0x40, 0x88, 0x3a), MMIO_MODE_64);  /* dil */
	CHECK_EQ(s.src, 7);
	s = ok(B(0x44, 0x88, 0x02), MMIO_MODE_64);  /* r8b */
	CHECK_EQ(s.src, 8);
	CHECK(!s.src_high8);
	s = ok(B(0x88, 0x22), MMIO_MODE_32);        /* ah in 32-bit code */
	CHECK(s.src_high8);
}

TEST(modrm_sib_and_displacements_64bit)
{
	struct mmio_store s;

	set_regs();
	s = ok(B(0x41, 0x88, 0x02), MMIO_MODE_64);  /* [r10] */
	CHECK_EQ(s.base, 10);
	s = ok(B(0x88, 0x04, 0x24), MMIO_MODE_64);  /* [rsp]: SIB, SS */
	CHECK_EQ(s.base, 4);
	CHECK_EQ(s.index, MMIO_NO_REG);
	CHECK_EQ(s.seg, MMIO_SEG_SS);
	s = ok(B(0x41, 0x88, 0x04, 0x24), MMIO_MODE_64);  /* [r12]: SIB, DS */
	CHECK_EQ(s.base, 12);
	CHECK_EQ(s.seg, MMIO_SEG_DS);
	s = ok(B(0x88, 0x45, 0x08), MMIO_MODE_64);  /* [rbp+8]: SS */
	CHECK_EQ(s.base, 5);
	CHECK_EQ(s.disp, 8);
	CHECK_EQ(s.seg, MMIO_SEG_SS);
	CHECK_EQ(ea(&s, 0), regs[5] + 8);
	s = ok(B(0x41, 0x88, 0x45, 0x08), MMIO_MODE_64);  /* [r13+8]: DS */
	CHECK_EQ(s.base, 13);
	CHECK_EQ(s.seg, MMIO_SEG_DS);
	s = ok(B(0x89, 0x42, 0xfc), MMIO_MODE_64);  /* [rdx-4] */
	CHECK_EQ(s.disp, -4);
	CHECK_EQ(ea(&s, 0), regs[2] - 4);
	s = ok(B(0x42, 0x89, 0x04, 0x8a), MMIO_MODE_64);  /* [rdx+r9*4] */
	CHECK_EQ(s.base, 2);
	CHECK_EQ(s.index, 9);
	CHECK_EQ(s.scale, 4);
	CHECK_EQ(ea(&s, 0), regs[2] + regs[9] * 4);
	s = ok(B(0x4a, 0x89, 0x04, 0xe2), MMIO_MODE_64);  /* [rdx+r12*8]: REX.X makes index 4 real */
	CHECK_EQ(s.index, 12);
	CHECK_EQ(s.scale, 8);
	s = ok(B(0x89, 0x04, 0xa2), MMIO_MODE_64);  /* index 100b without REX.X: none */
	CHECK_EQ(s.index, MMIO_NO_REG);
	CHECK_EQ(s.base, 2);
	s = ok(B(0x89, 0x84, 0x4a, 0x78, 0x56, 0x34, 0x12), MMIO_MODE_64);  /* [rdx+rcx*2+0x12345678] */
	CHECK_EQ(s.disp, 0x12345678);
	CHECK_EQ(ea(&s, 0), regs[2] + regs[1] * 2 + 0x12345678);
	s = ok(B(0x89, 0x82, 0x00, 0x00, 0x00, 0x80), MMIO_MODE_64);  /* [rdx-0x80000000] */
	CHECK_EQ(s.disp, -0x80000000ll);
	/* SIB with base 101b and mod 0: disp32, no base (sign-extended in 64-bit mode). */
	s = ok(B(0x89, 0x04, 0x25, 0x00, 0x00, 0x00, 0x07), MMIO_MODE_64);
	CHECK_EQ(s.base, MMIO_NO_REG);
	CHECK(!s.rip_relative);
	CHECK_EQ(ea(&s, 0), 0x07000000);
	s = ok(B(0x89, 0x04, 0x25, 0x00, 0x00, 0x0b, 0xb0), MMIO_MODE_64);
	CHECK_EQ(ea(&s, 0), 0xffffffffb00b0000ull);
	s = ok(B(0x67, 0x89, 0x04, 0x25, 0x00, 0x00, 0x0b, 0xb0), MMIO_MODE_64);
	CHECK_EQ(s.addr_size, 4);
	CHECK_EQ(ea(&s, 0), 0xb00b0000u);
	/* ... and with REX.B (r13) too: the rule looks at the 3 bits only. */
	s = ok(B(0x41, 0x89, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00), MMIO_MODE_64);
	CHECK_EQ(s.base, MMIO_NO_REG);
	s = ok(B(0x41, 0x89, 0x44, 0x25, 0x10), MMIO_MODE_64);  /* [r13+0x10]: mod 1 */
	CHECK_EQ(s.base, 13);
	CHECK_EQ(s.index, MMIO_NO_REG);
	CHECK_EQ(s.disp, 0x10);
	/* 32-bit addressing in 64-bit code wraps. */
	regs[2] = 0xfffffff0;
	s = ok(B(0x67, 0x89, 0x42, 0x20), MMIO_MODE_64);
	CHECK_EQ(ea(&s, 0), 0x10);
}

TEST(rip_relative)
{
	struct mmio_store s;

	s = ok(B(0x88, 0x05, 0x10, 0x00, 0x00, 0x00), MMIO_MODE_64);  /* mov [rip+0x10], al */
	CHECK(s.rip_relative);
	CHECK_EQ(s.base, MMIO_NO_REG);
	CHECK_EQ(s.seg, MMIO_SEG_DS);
	CHECK_EQ(ea(&s, 0x1000), 0x1000 + 6 + 0x10);
	/* With an immediate after the displacement: the next RIP is past the immediate. */
	s = ok(B(0xc7, 0x05, 0xf0, 0xff, 0xff, 0xff, 0x78, 0x56, 0x34, 0x12), MMIO_MODE_64);
	CHECK(s.rip_relative);
	CHECK_EQ(s.imm, 0x12345678);
	CHECK_EQ(ea(&s, 0x2000), 0x2000 + 10 - 0x10);
	/* REX.B does not make it [r13]. */
	s = ok(B(0x41, 0x88, 0x05, 0x00, 0x01, 0x00, 0x00), MMIO_MODE_64);
	CHECK(s.rip_relative);
	CHECK_EQ(ea(&s, 0), 7 + 0x100);
	/* 67: EIP-relative, 32 bits. */
	s = ok(B(0x67, 0x88, 0x05, 0x10, 0x00, 0x00, 0x00), MMIO_MODE_64);
	CHECK_EQ(ea(&s, 0xfffffff0ull), (0xfffffff0ull + 7 + 0x10) & 0xffffffffu);
	/* In 32-bit code the same bytes are an absolute disp32. */
	s = ok(B(0x88, 0x05, 0x00, 0x00, 0x0b, 0xb0), MMIO_MODE_32);
	CHECK(!s.rip_relative);
	CHECK_EQ(ea(&s, 0x1000), 0xb00b0000u);
}

TEST(mov_immediates)
{
	struct mmio_store s;

	s = ok(B(0xc6, 0x02, 0x5a), MMIO_MODE_64);  /* mov byte [rdx], 0x5a */
	CHECK(s.is_imm);
	CHECK_EQ(s.size, 1);
	CHECK_EQ(s.imm, 0x5a);
	CHECK_EQ(mmio_store_value(&s, 0xffff), 0x5a);
	s = ok(B(0xc6, 0x02, 0xff), MMIO_MODE_64);
	CHECK_EQ(s.imm, 0xff);
	s = ok(B(0xc7, 0x02, 0x78, 0x56, 0x34, 0x12), MMIO_MODE_64);
	CHECK_EQ(s.size, 4);
	CHECK_EQ(s.imm, 0x12345678);
	s = ok(B(0xc7, 0x02, 0x00, 0x00, 0x00, 0x80), MMIO_MODE_64);
	CHECK_EQ(s.imm, 0x80000000u);
	s = ok(B(0x66, 0xc7, 0x02, 0x34, 0x12), MMIO_MODE_64);  /* imm16 */
	CHECK_EQ(s.size, 2);
	CHECK_EQ(s.imm, 0x1234);
	s = ok(B(0x48, 0xc7, 0x02, 0xf0, 0xff, 0xff, 0xff), MMIO_MODE_64);  /* imm32 -> 64 */
	CHECK_EQ(s.size, 8);
	CHECK_EQ(s.imm, 0xfffffffffffffff0ull);
	s = ok(B(0x48, 0xc7, 0x02, 0x01, 0x00, 0x00, 0x00), MMIO_MODE_64);
	CHECK_EQ(s.imm, 1);
	s = ok(B(0x66, 0x48, 0xc7, 0x02, 0x01, 0x00, 0x00, 0x80), MMIO_MODE_64);  /* REX.W: imm32 */
	CHECK_EQ(s.size, 8);
	CHECK_EQ(s.imm, 0xffffffff80000001ull);
	s = ok(B(0xc7, 0x44, 0x24, 0x08, 0x01, 0x00, 0x00, 0x00), MMIO_MODE_64);  /* [rsp+8] */
	CHECK_EQ(s.base, 4);
	CHECK_EQ(s.disp, 8);
	CHECK_EQ(s.imm, 1);
	CHECK_EQ(s.seg, MMIO_SEG_SS);
	s = ok(B(0x41, 0xc6, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00, 0x07), MMIO_MODE_64);  /* [r12+0x100] */
	CHECK_EQ(s.base, 12);
	CHECK_EQ(s.disp, 0x100);
	CHECK_EQ(s.imm, 7);
}

TEST(segment_overrides)
{
	static const struct { uint8_t p; enum mmio_seg seg; } t[] = {
		{ 0x26, MMIO_SEG_ES }, { 0x2e, MMIO_SEG_CS }, { 0x36, MMIO_SEG_SS },
		{ 0x3e, MMIO_SEG_DS }, { 0x64, MMIO_SEG_FS }, { 0x65, MMIO_SEG_GS },
	};
	struct mmio_store s;

	for (unsigned i = 0; i < 6; i++) {
		uint8_t b[] = { t[i].p, 0x89, 0x02 };

		s = ok(b, 3, MMIO_MODE_64);
		CHECK_EQ(s.seg, t[i].seg);
		s = ok(b, 3, MMIO_MODE_32);
		CHECK_EQ(s.seg, t[i].seg);
	}
	/* An override of an SS default; the last of two overrides. */
	s = ok(B(0x3e, 0x89, 0x45, 0x00), MMIO_MODE_32);  /* ds: [ebp] */
	CHECK_EQ(s.seg, MMIO_SEG_DS);
	s = ok(B(0x64, 0x65, 0x89, 0x02), MMIO_MODE_64);
	CHECK_EQ(s.seg, MMIO_SEG_GS);
	/* Every legacy prefix L0 accepts at once, and a REX. */
	s = ok(B(0x65, 0x67, 0x66, 0x44, 0x89, 0x44, 0x8a, 0x10), MMIO_MODE_64);
	CHECK_EQ(s.seg, MMIO_SEG_GS);
	CHECK_EQ(s.addr_size, 4);
	CHECK_EQ(s.size, 2);
	CHECK_EQ(s.src, 8);
	CHECK_EQ(s.index, 1);
	CHECK_EQ(s.scale, 4);
}

TEST(protected_mode_32bit)
{
	struct mmio_store s;

	set_regs();
	s = ok(B(0x89, 0x02), MMIO_MODE_32);
	CHECK_EQ(s.size, 4);
	CHECK_EQ(s.addr_size, 4);
	CHECK_EQ(ea(&s, 0), regs[2] & 0xffffffffu);
	s = ok(B(0x66, 0x89, 0x02), MMIO_MODE_32);
	CHECK_EQ(s.size, 2);
	s = ok(B(0x89, 0x84, 0x4a, 0x00, 0x00, 0x0b, 0xb0), MMIO_MODE_32);
	CHECK_EQ(ea(&s, 0), (regs[2] + regs[1] * 2 + 0xb00b0000u) & 0xffffffffu);
	s = ok(B(0x66, 0xc7, 0x02, 0x34, 0x12), MMIO_MODE_32);
	CHECK_EQ(s.imm, 0x1234);
	CHECK_EQ(s.len, 5);
	/* 0x40-0x4F are INC/DEC outside 64-bit mode, not REX. */
	CHECK_CONTAINS(refused(B(0x48, 0x89, 0x02), MMIO_MODE_32), "not a MOV store");
}

TEST(addressing_16bit)
{
	struct mmio_store s;

	set_regs();
	regs[3] = 0xffff;  /* BX */
	regs[6] = 0x0002;  /* SI */
	s = ok(B(0x67, 0x89, 0x00), MMIO_MODE_32);  /* [bx+si]: wraps at 64 KiB */
	CHECK_EQ(s.addr_size, 2);
	CHECK_EQ(s.base, 3);
	CHECK_EQ(s.index, 6);
	CHECK_EQ(ea(&s, 0), 1);
	s = ok(B(0x67, 0x89, 0x07), MMIO_MODE_32);  /* [bx] */
	CHECK_EQ(s.base, 3);
	CHECK_EQ(s.index, MMIO_NO_REG);
	s = ok(B(0x67, 0x89, 0x06, 0x34, 0x12), MMIO_MODE_32);  /* [0x1234] */
	CHECK_EQ(s.base, MMIO_NO_REG);
	CHECK_EQ(ea(&s, 0), 0x1234);
	s = ok(B(0x67, 0x89, 0x46, 0xfe), MMIO_MODE_32);  /* [bp-2]: SS */
	CHECK_EQ(s.base, 5);
	CHECK_EQ(s.seg, MMIO_SEG_SS);
	CHECK_EQ(ea(&s, 0), (regs[5] - 2) & 0xffff);
	s = ok(B(0x67, 0x89, 0x83, 0x00, 0x80), MMIO_MODE_32);  /* [bp+di+0x8000] */
	CHECK_EQ(s.base, 5);
	CHECK_EQ(s.index, 7);
	CHECK_EQ(ea(&s, 0), (regs[5] + regs[7] + 0x8000) & 0xffff);
	s = ok(B(0x67, 0x89, 0x42, 0x01), MMIO_MODE_32);  /* [bp+si+1] */
	CHECK_EQ(s.seg, MMIO_SEG_SS);
	s = ok(B(0x67, 0x89, 0x44, 0x01), MMIO_MODE_32);  /* [si+1] */
	CHECK_EQ(s.base, 6);
	CHECK_EQ(s.seg, MMIO_SEG_DS);
	s = ok(B(0x67, 0x89, 0x05), MMIO_MODE_32);  /* [di] */
	CHECK_EQ(s.base, 7);
	s = ok(B(0x67, 0x89, 0x01), MMIO_MODE_32);  /* [bx+di] */
	CHECK_EQ(s.index, 7);
	s = ok(B(0x67, 0x89, 0x03), MMIO_MODE_32);  /* [bp+di] */
	CHECK_EQ(s.base, 5);
	CHECK_EQ(s.seg, MMIO_SEG_SS);
}

TEST(real_and_16bit_code)
{
	struct mmio_store s;

	s = ok(B(0x89, 0x07), MMIO_MODE_16);  /* mov [bx], ax */
	CHECK_EQ(s.size, 2);
	CHECK_EQ(s.addr_size, 2);
	CHECK_EQ(s.base, 3);
	s = ok(B(0x66, 0x89, 0x07), MMIO_MODE_16);  /* mov [bx], eax */
	CHECK_EQ(s.size, 4);
	s = ok(B(0x67, 0x89, 0x04, 0x24), MMIO_MODE_16);  /* mov [esp], ax */
	CHECK_EQ(s.addr_size, 4);
	CHECK_EQ(s.base, 4);
	CHECK_EQ(s.seg, MMIO_SEG_SS);
	s = ok(B(0xc7, 0x07, 0x34, 0x12), MMIO_MODE_16);
	CHECK_EQ(s.imm, 0x1234);
	s = ok(B(0x66, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), MMIO_MODE_16);
	CHECK_EQ(s.size, 4);
	CHECK_EQ(s.imm, 0x12345678);
	s = ok(B(0xc6, 0x06, 0x00, 0x10, 0x01), MMIO_MODE_16);  /* mov byte [0x1000], 1 */
	CHECK_EQ(s.imm, 1);
}

TEST(unsupported_prefixes)
{
	CHECK_CONTAINS(refused(B(0xf0, 0x89, 0x02), MMIO_MODE_64), "LOCK");
	CHECK_CONTAINS(refused(B(0x66, 0xf0, 0x89, 0x02), MMIO_MODE_32), "LOCK");
	CHECK_CONTAINS(refused(B(0xf3, 0x89, 0x02), MMIO_MODE_64), "REP");
	CHECK_CONTAINS(refused(B(0xf2, 0x88, 0x02), MMIO_MODE_64), "REP");
	CHECK_CONTAINS(refused(B(0xf3, 0xab), MMIO_MODE_64), "REP");  /* rep stosd */
	CHECK_CONTAINS(refused(B(0xf3, 0xc7, 0x02, 1, 0, 0, 0), MMIO_MODE_32), "REP");  /* xrelease */
}

TEST(unsupported_instructions)
{
	CHECK_CONTAINS(refused(B(0xaa), MMIO_MODE_64), "string");        /* stosb */
	CHECK_CONTAINS(refused(B(0xab), MMIO_MODE_32), "string");        /* stosd */
	CHECK_CONTAINS(refused(B(0x48, 0xab), MMIO_MODE_64), "string");  /* stosq */
	CHECK_CONTAINS(refused(B(0xa4), MMIO_MODE_64), "string");        /* movsb */
	CHECK_CONTAINS(refused(B(0xa5), MMIO_MODE_16), "string");
	CHECK_CONTAINS(refused(B(0x87, 0x02), MMIO_MODE_64), "not a MOV");  /* xchg [rdx], eax */
	CHECK_CONTAINS(refused(B(0x01, 0x02), MMIO_MODE_64), "not a MOV");  /* add */
	CHECK_CONTAINS(refused(B(0x09, 0x02), MMIO_MODE_64), "not a MOV");  /* or */
	CHECK_CONTAINS(refused(B(0x8b, 0x02), MMIO_MODE_64), "not a MOV");  /* a load */
	CHECK_CONTAINS(refused(B(0xa3, 0, 0, 0, 0), MMIO_MODE_32), "not a MOV");  /* mov moffs, eax */
	CHECK_CONTAINS(refused(B(0x0f, 0xc3, 0x02), MMIO_MODE_64), "0F");   /* movnti */
	CHECK_CONTAINS(refused(B(0x0f, 0x11, 0x02), MMIO_MODE_64), "0F");   /* movups */
	CHECK_CONTAINS(refused(B(0x0f, 0x97, 0x02), MMIO_MODE_64), "0F");   /* seta */
	CHECK_CONTAINS(refused(B(0xc5, 0xf8, 0x11, 0x02), MMIO_MODE_64), "VEX");
	CHECK_CONTAINS(refused(B(0xc4, 0xe1, 0x78, 0x11, 0x02), MMIO_MODE_64), "VEX");
	CHECK_CONTAINS(refused(B(0x62, 0xf1, 0x7c, 0x48, 0x11, 0x02), MMIO_MODE_64), "VEX");
	CHECK_CONTAINS(refused(B(0x89, 0xc2), MMIO_MODE_64), "register destination");
	CHECK_CONTAINS(refused(B(0xc6, 0xf8, 0x00), MMIO_MODE_64), "register destination");
	CHECK_CONTAINS(refused(B(0xc7, 0x4a, 0x08, 1, 0, 0, 0), MMIO_MODE_64), "ModRM.reg");
	CHECK_CONTAINS(refused(B(0xc6, 0x7a, 0x08, 1), MMIO_MODE_64), "ModRM.reg");
}

TEST(length_limit_and_truncation)
{
	uint8_t b[16];
	struct mmio_store s;
	const char *why;

	/* 13 prefixes + opcode + ModRM = 15 bytes: fine; one more prefix: too long. */
	memset(b, 0x66, sizeof(b));
	b[13] = 0x89, b[14] = 0x02;
	s = ok(b, 15, MMIO_MODE_64);
	CHECK_EQ(s.size, 2);
	memset(b, 0x66, sizeof(b));
	b[14] = 0x89, b[15] = 0x02;
	CHECK_CONTAINS(refused(b, 16, MMIO_MODE_64), "15 bytes");
	/* Immediate beyond byte 15. */
	memset(b, 0x3e, sizeof(b));
	b[10] = 0xc7, b[11] = 0x02;
	CHECK_CONTAINS(refused(b, 16, MMIO_MODE_64), "15 bytes");
	/* Too few bytes: fetch more. */
	CHECK_EQ(mmio_decode_store(b, 0, MMIO_MODE_64, &s, &why), MMIO_TRUNCATED);
	CHECK_EQ(mmio_decode_store(B(0x89), MMIO_MODE_64, &s, &why), MMIO_TRUNCATED);
	CHECK_EQ(mmio_decode_store(B(0x66), MMIO_MODE_64, &s, &why), MMIO_TRUNCATED);
	CHECK_EQ(mmio_decode_store(B(0x89, 0x84, 0x4a, 0x78, 0x56), MMIO_MODE_64, &s, &why),
		 MMIO_TRUNCATED);
	CHECK_EQ(mmio_decode_store(B(0x89, 0x04), MMIO_MODE_64, &s, &why), MMIO_TRUNCATED);
	CHECK_EQ(mmio_decode_store(B(0xc7, 0x02, 0x78), MMIO_MODE_64, &s, &why), MMIO_TRUNCATED);
	CHECK_EQ(mmio_decode_store(B(0x67, 0x89, 0x06, 0x34), MMIO_MODE_32, &s, &why),
		 MMIO_TRUNCATED);
}

TEST(store_values)
{
	struct mmio_store s;

	s = ok(B(0x89, 0x02), MMIO_MODE_64);
	CHECK_EQ(mmio_store_value(&s, 0x1122334455667788ull), 0x55667788);
	s = ok(B(0x66, 0x89, 0x02), MMIO_MODE_64);
	CHECK_EQ(mmio_store_value(&s, 0x1122334455667788ull), 0x7788);
	s = ok(B(0x48, 0x89, 0x02), MMIO_MODE_64);
	CHECK_EQ(mmio_store_value(&s, 0x1122334455667788ull), 0x1122334455667788ull);
	s = ok(B(0x88, 0x02), MMIO_MODE_64);
	CHECK_EQ(mmio_store_value(&s, 0x1122334455667788ull), 0x88);
	s = ok(B(0x88, 0x3a), MMIO_MODE_64);  /* bh */
	CHECK_EQ(mmio_store_value(&s, 0x1122334455667788ull), 0x77);
}
