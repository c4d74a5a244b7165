/* SPDX-License-Identifier: MIT */
#include "nested/vmcs12.h"

#include <nestvisor/string.h>

#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	_Static_assert(((enc) >> 1 & 0x1ff) < 32, #name ": index too large for VMCS12_SLOT");
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD

_Static_assert(V12_FIELDS <= 256, "field index fits in uint8_t");

/* Cold guest state may be newer in VMCS02 (nested/sync.c); L1 may not write exit
 * information unless its IA32_VMX_MISC says so (nested/vmx_insn.c). */
#define FIELD_FAST(group, nested)                                                      \
	(((group) == GUEST && ((nested) == NC_COLD || (nested) == NC_WIDE) ? 0 : V12_FAST_READ) | \
	 ((group) == EXIT ? 0 : V12_FAST_WRITE))
#define FIELD_ROW(name, enc, width, group, feature, nested)                          \
	{ offsetof(struct vmcs12, name), (width), (group), (feature), (nested), V12_##name, \
	  FIELD_FAST(group, nested), (enc), 0 }

const struct vmcs12_field vmcs12_fields[V12_FIELDS] = {
#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	[V12_##name] = FIELD_ROW(name, enc, width, group, feature, nested),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

const struct vmcs12_field vmcs12_slots[VMCS12_SLOTS] = {
#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	[VMCS12_SLOT(enc)] = FIELD_ROW(name, enc, width, group, feature, nested),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};
