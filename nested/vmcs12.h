/* SPDX-License-Identifier: MIT */
/*
 * VMCS12: the VMCS L1 manages, as L0 keeps it. Its layout is generated from
 * vmx/vmcs_fields.def: a header, then every field at its natural width in
 * table order. L0 caches the current VMCS12 in its own memory (read once from
 * L1's VMCS region at VMPTRLD, written back at VMCLEAR/VMPTRLD/VMXOFF), so a
 * value L1 changes behind L0's back is never used.
 */
#ifndef NESTVISOR_NESTED_VMCS12_H
#define NESTVISOR_NESTED_VMCS12_H

#include "vmx/vmcs.h"

#include <stddef.h>
#include <stdint.h>

/* nestvisor's VMCS revision identifier, distinct from any CPU's (bit 31 clear). */
#define NV_VMCS12_REVISION 0x4e560001u

typedef uint16_t vmcs12_W16;
typedef uint32_t vmcs12_W32;
typedef uint64_t vmcs12_W64;
typedef uint64_t vmcs12_WNAT;

enum vmcs12_launch_state { VMCS12_CLEAR = 0, VMCS12_LAUNCHED = 1 };

struct vmcs12 {
	uint32_t revision_id;     /* SDM Vol. 3C, 25.2 "Format of the VMCS Region" */
	uint32_t abort;           /* VMX-abort indicator (27.7 "VMX Aborts") */
	uint32_t launch_state;    /* enum vmcs12_launch_state */
	uint32_t reserved;
#define VMCS_FIELD(name, enc, width, group, feature, nested) vmcs12_##width name;
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* The layout is L1-visible memory format: changing it is an ABI change. */
_Static_assert(offsetof(struct vmcs12, launch_state) == 8, "VMCS12 header");
_Static_assert(offsetof(struct vmcs12, VIRTUAL_PROCESSOR_ID) == 16, "VMCS12 layout frozen");
_Static_assert(offsetof(struct vmcs12, IO_BITMAP_A) == 56, "VMCS12 layout frozen");
_Static_assert(offsetof(struct vmcs12, GUEST_RIP) == 856, "VMCS12 layout frozen");
_Static_assert(offsetof(struct vmcs12, HOST_RIP) == 1008, "VMCS12 layout frozen");
_Static_assert(sizeof(struct vmcs12) == 1040, "VMCS12 layout frozen");
_Static_assert(sizeof(struct vmcs12) <= 4096, "VMCS12 fits in one VMCS region");

/*
 * Encoding -> slot: the encoding's index (bits 5:1), type (11:10) and width
 * (14:13) kept in place or shifted right by 4, which leaves them in bits
 * 5:1, 7:6 and 10:9 of an even number below 0x700: VMCS12_SLOT2. A slot is
 * 16 bytes, so VMCS12_SLOT2 * 8 is its byte offset in vmcs12_slots (one
 * addressing mode). Every field of the table has an index below 32 (checked
 * at compile time in vmcs12.c); the reserved-bit test of vmcs12_field()
 * makes index bits 8:5 zero.
 */
#define VMCS12_SLOT2(enc) (((enc) & 0x3e) | (((enc) >> 4) & 0x6c0))
#define VMCS12_SLOT(enc) (VMCS12_SLOT2(enc) >> 1)
#define VMCS12_SLOTS 0x380

/* Each field's position in vmcs_fields.def: the index of its dirty bit. */
enum vmcs12_index {
#define VMCS_FIELD(name, enc, width, group, feature, nested) V12_##name,
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
	V12_FIELDS
};

/* vmcs12_field.fast: what the hot paths of VMREAD/VMWRITE may do with a field. */
enum {
	V12_FAST_READ = 1 << 0,   /* VMCS12 holds its value: not cold guest state */
	V12_FAST_WRITE = 1 << 1,  /* writable without asking: not exit information */
};

struct vmcs12_field {
	uint16_t offset;      /* in struct vmcs12; 0 = no such field */
	uint8_t width;        /* enum vmcs_width */
	uint8_t group;        /* enum vmcs_group */
	uint8_t feature;      /* enum vmcs_feature */
	uint8_t nested;       /* enum vmcs_nested_class */
	uint8_t index;        /* enum vmcs12_index */
	uint8_t fast;         /* V12_FAST_* */
	uint32_t encoding;    /* full encoding */
	uint32_t pad;         /* 16 bytes: a slot is one shift away */
};
_Static_assert(sizeof(struct vmcs12_field) == 16, "VMCS12_SLOT2 scales by 8 to a slot");

/* Every field, in table order (index = enum vmcs12_index). */
extern const struct vmcs12_field vmcs12_fields[V12_FIELDS];

/*
 * The field an encoding names, or NULL if the encoding is malformed or names
 * no field (bits 63:32 of a 64-bit operand count too). *high is set for the
 * high-half access of a 64-bit field.
 */
static inline const struct vmcs12_field *vmcs12_field(uint64_t encoding, int *high)
{
	extern const struct vmcs12_field vmcs12_slots[VMCS12_SLOTS];
	const struct vmcs12_field *f;

	if (encoding & (0xffffffff00000000ull | VMCS_ENC_RESERVED | (0x1e0u << 1)))
		return NULL;
	f = (const struct vmcs12_field *)((const char *)vmcs12_slots + VMCS12_SLOT2(encoding) * 8);
	if (!f->offset)
		return NULL;
	*high = encoding & VMCS_ENC_HIGH;
	/* Only 64-bit fields have a high access type. */
	if (*high && f->width != W64)
		return NULL;
	return f;
}

/*
 * The hot paths of VMREAD and VMWRITE (nested/vmx_insn.c) load and store 8
 * bytes at a field's offset and mask them to its width: every field has 8
 * bytes of struct vmcs12 from its offset on.
 */
#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	_Static_assert(offsetof(struct vmcs12, name) + 8 <= sizeof(struct vmcs12), #name);
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD

/*
 * A slot of the hot paths' table (nested.fast_slots, by VMCS12_SLOT): for a
 * field L1 has, its offset when VMCS12 holds its value (rd_off) and when L1
 * may write it (wr_off), 0 otherwise or for no field; the mask of its width.
 */
struct vmcs12_fast_slot {
	uint64_t mask;
	uint16_t rd_off, wr_off;
	uint8_t index;        /* enum vmcs12_index */
	uint8_t dirty_group;  /* enum dirty_group of a write (nested/internal.h) */
	uint8_t pad[2];
};
_Static_assert(sizeof(struct vmcs12_fast_slot) == 16, "VMCS12_SLOT2 scales by 8 to a slot");

static inline void *vmcs12_field_ptr(const struct vmcs12 *v, const struct vmcs12_field *f)
{
	return (char *)v + f->offset;
}

/*
 * VMREAD semantics (SDM Vol. 3C, 31.3 "VMREAD"): the field's value, the high
 * half for a high access; the caller truncates to its operand size.
 */
static inline uint64_t vmcs12_read(const struct vmcs12 *v, const struct vmcs12_field *f, int high)
{
	uint64_t x;

	switch (f->width) {
	case W16: x = *(const uint16_t *)vmcs12_field_ptr(v, f); break;
	case W32: x = *(const uint32_t *)vmcs12_field_ptr(v, f); break;
	default: x = *(const uint64_t *)vmcs12_field_ptr(v, f); break;
	}
	return high ? x >> 32 : x;
}

/*
 * VMWRITE semantics: truncated to the field's width; a high access writes
 * bits 63:32 only; a 32-bit operand (operand_bits 32) into a 64-bit field
 * clears bits 63:32.
 */
static inline void vmcs12_write(struct vmcs12 *v, const struct vmcs12_field *f, int high,
				uint64_t value, unsigned operand_bits)
{
	void *p = vmcs12_field_ptr(v, f);

	if (operand_bits == 32)
		value &= 0xffffffffu;
	switch (f->width) {
	case W16: *(uint16_t *)p = (uint16_t)value; break;
	case W32: *(uint32_t *)p = (uint32_t)value; break;
	default:
		if (high)
			*(uint64_t *)p = (*(uint64_t *)p & 0xffffffffu) | (value << 32);
		else
			*(uint64_t *)p = value;
		break;
	}
}

#endif
