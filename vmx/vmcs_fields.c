/* SPDX-License-Identifier: MIT */
/* The VMCS field table, expanded from vmcs_fields.def. */
#include "vmx/vmcs.h"

#include <stddef.h>

const struct vmcs_field_info vmcs_field_table[] = {
#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	{ (enc), (width), (group), (feature), (nested), #name },
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

const unsigned vmcs_field_count = sizeof(vmcs_field_table) / sizeof(vmcs_field_table[0]);

const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding)
{
	for (unsigned i = 0; i < vmcs_field_count; i++)
		if (vmcs_field_table[i].encoding == encoding)
			return &vmcs_field_table[i];
	return NULL;
}

const char *vmcs_field_name(uint32_t encoding)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(encoding & ~VMCS_ENC_HIGH);

	return f ? f->name : "unknown-field";
}
