/* SPDX-License-Identifier: MIT */
#include "nested/vmcs12.h"

#include <nestvisor/string.h>

#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	_Static_assert(((enc) >> 1 & 0x1ff) < 32, #name ": index too large for VMCS12_SLOT");
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD

_Static_assert(V12_FIELDS <= 256, "field index fits in uint8_t");

#define FIELD_ROW(name, enc, width, group, feature, nested)                          \
	{ offsetof(struct vmcs12, name), (width), (group), (feature), (nested), V12_##name, \
	  (enc) }

const struct vmcs12_field vmcs12_fields[V12_FIELDS] = {
#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	[V12_##name] = FIELD_ROW(name, enc, width, group, feature, nested),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

static const struct vmcs12_field slots[VMCS12_SLOTS] = {
#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	[VMCS12_SLOT(enc)] = FIELD_ROW(name, enc, width, group, feature, nested),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

const struct vmcs12_field *vmcs12_field(uint64_t encoding, int *high)
{
	const struct vmcs12_field *f;

	if (encoding & (0xffffffff00000000ull | VMCS_ENC_RESERVED | (0x1e0u << 1)))
		return NULL;
	f = &slots[VMCS12_SLOT(encoding)];
	if (!f->offset)
		return NULL;
	*high = encoding & VMCS_ENC_HIGH;
	/* Only 64-bit fields have a high access type. */
	if (*high && f->width != W64)
		return NULL;
	return f;
}

static void *field_ptr(const struct vmcs12 *v, const struct vmcs12_field *f)
{
	return (char *)v + f->offset;
}

uint64_t vmcs12_read(const struct vmcs12 *v, const struct vmcs12_field *f, int high)
{
	uint64_t x = 0;

	switch (f->width) {
	case W16: x = *(const uint16_t *)field_ptr(v, f); break;
	case W32: x = *(const uint32_t *)field_ptr(v, f); break;
	default: x = *(const uint64_t *)field_ptr(v, f); break;
	}
	return high ? x >> 32 : x;
}

void vmcs12_write(struct vmcs12 *v, const struct vmcs12_field *f, int high, uint64_t value,
		  unsigned operand_bits)
{
	void *p = field_ptr(v, f);

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
