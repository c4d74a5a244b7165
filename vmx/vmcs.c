/* SPDX-License-Identifier: MIT */
/* VMREAD/VMWRITE on the current VMCS. SDM Vol. 3C, 31.3 "VMX Instructions". */
#include "vmx/vmcs.h"
#include "core/panic.h"

void vmcs_fail(const char *insn, uint32_t encoding)
{
	uint64_t err = 0;

	__asm__ volatile("vmread %1, %0" : "=r"(err) : "r"((uint64_t)VMCS_VM_INSTRUCTION_ERROR)
			 : "cc");
	panic("%s of %s (0x%x) failed, VM-instruction error %lu", insn,
	      vmcs_field_name(encoding), encoding, err);
}
