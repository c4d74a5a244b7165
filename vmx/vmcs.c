/* SPDX-License-Identifier: MIT */
/* VMREAD/VMWRITE on the current VMCS. SDM Vol. 3C, 31.3 "VMX Instructions". */
#include "vmx/vmcs.h"
#include "core/panic.h"

static __attribute__((noreturn, cold)) void vmcs_fail(const char *insn, uint32_t encoding)
{
	uint64_t err = 0;

	__asm__ volatile("vmread %1, %0" : "=r"(err) : "r"((uint64_t)VMCS_VM_INSTRUCTION_ERROR)
			 : "cc");
	panic("%s of %s (0x%x) failed, VM-instruction error %lu", insn,
	      vmcs_field_name(encoding), encoding, err);
}

uint64_t vmcs_read_raw(uint32_t encoding)
{
	uint64_t v;
	uint8_t fail;

	__asm__ volatile("vmread %2, %0; setna %1"
			 : "=r"(v), "=q"(fail)
			 : "r"((uint64_t)encoding)
			 : "cc");
	if (__builtin_expect(fail, 0))
		vmcs_fail("VMREAD", encoding);
	return v;
}

void vmcs_write_raw(uint32_t encoding, uint64_t value)
{
	uint8_t fail;

	__asm__ volatile("vmwrite %1, %2; setna %0"
			 : "=q"(fail)
			 : "r"(value), "r"((uint64_t)encoding)
			 : "cc", "memory");
	if (__builtin_expect(fail, 0))
		vmcs_fail("VMWRITE", encoding);
}
