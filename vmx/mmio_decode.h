/* SPDX-License-Identifier: MIT */
/*
 * Decoding the memory stores L1 makes to MMIO that L0 emulates (ECAM writes,
 * vmx/exit_ecam.c). Pure: host unit tests run it. Only the forms compilers and
 * kernels use for a device register store are accepted:
 *   88 /r      MOV r/m8, r8
 *   89 /r      MOV r/m16/32/64, r16/32/64
 *   C6 /0 ib   MOV r/m8, imm8
 *   C7 /0 iw/id MOV r/m16/32/64, imm16/32 (sign-extended to 64 with REX.W)
 * with the operand-size (66) and address-size (67) prefixes, segment
 * overrides (26 2E 36 3E 64 65), REX (W, R, X, B; in 64-bit mode), ModRM, SIB,
 * displacements and RIP-relative addressing, in 16-, 32- and 64-bit code.
 * Everything else is MMIO_UNSUPPORTED with the reason: LOCK (F0: #UD with MOV),
 * REP/REPNE/XACQUIRE/XRELEASE (F2, F3), register destinations, other opcodes
 * (string stores, XCHG and other read-modify-writes, SETcc, MOVNTI, VEX/EVEX
 * and every 0F opcode), and instructions over 15 bytes.
 * SDM Vol. 2A, 2.1 "Instruction Format for Protected Mode, Real-Address Mode,
 * and Virtual-8086 Mode", 2.2.1 "REX Prefixes", Tables 2-1..2-3 (ModR/M and
 * SIB), 2.2.1.6 "RIP-Relative Addressing"; Vol. 2B, MOV.
 */
#ifndef NESTVISOR_VMX_MMIO_DECODE_H
#define NESTVISOR_VMX_MMIO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#define MMIO_MAX_INSN_LEN 15   /* SDM Vol. 2A, 2.3.11 "AVX Instruction Length" and 2.1 */

/* The code segment's default operand and address size (CS.L, CS.D). */
enum mmio_mode { MMIO_MODE_16 = 2, MMIO_MODE_32 = 4, MMIO_MODE_64 = 8 };

enum mmio_status {
	MMIO_OK = 0,
	MMIO_TRUNCATED,     /* the instruction goes on past the bytes given: fetch more */
	MMIO_UNSUPPORTED,   /* not a store form L0 emulates (why says which) */
};

/* Segment registers in the SDM's order (the VMCS guest segment fields' order too). */
enum mmio_seg { MMIO_SEG_ES, MMIO_SEG_CS, MMIO_SEG_SS, MMIO_SEG_DS, MMIO_SEG_FS, MMIO_SEG_GS };

#define MMIO_NO_REG (-1)

struct mmio_store {
	unsigned len;           /* instruction length, prefixes included */
	unsigned size;          /* bytes stored: 1, 2, 4 or 8 */
	bool is_imm;            /* the value is imm, not a register */
	uint64_t imm;           /* the immediate, sign-extended to size */
	unsigned src;           /* source GPR (0 = RAX .. 15 = R15) */
	bool src_high8;         /* AH, CH, DH, BH: bits 15:8 of GPR src (0-3) */
	/* The destination: base + index * scale + disp (RIP-relative: next RIP + disp),
	 * wrapped to addr_size bytes, in segment seg. */
	unsigned addr_size;     /* 2, 4 or 8 */
	int base, index;        /* GPR numbers, or MMIO_NO_REG */
	unsigned scale;         /* 1, 2, 4 or 8 */
	int64_t disp;
	bool rip_relative;
	enum mmio_seg seg;      /* an override, else DS (SS with a RSP or RBP base) */
};

/* Decode the n bytes at b (n <= MMIO_MAX_INSN_LEN is enough). */
enum mmio_status mmio_decode_store(const uint8_t *b, unsigned n, enum mmio_mode mode,
				   struct mmio_store *s, const char **why);

/*
 * The destination's effective address (the offset in its segment), with
 * reg(ctx, n) giving GPR n and rip the instruction's address.
 */
uint64_t mmio_effective_address(const struct mmio_store *s, uint64_t rip,
				uint64_t (*reg)(void *ctx, unsigned n), void *ctx);

/* The bytes stored, from the source register's value (ignored for an immediate). */
uint64_t mmio_store_value(const struct mmio_store *s, uint64_t src_value);

#endif
