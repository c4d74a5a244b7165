/* SPDX-License-Identifier: MIT */
/* A Bochs-like hardware (shared/PLATFORM.md capability values) and a valid VMCS12 for it. */
#ifndef NESTVISOR_TEST_NESTED_FIXTURE_H
#define NESTVISOR_TEST_NESTED_FIXTURE_H

#include "nested/caps.h"
#include "nested/checks.h"
#include "nested/vmcs12.h"
#include "vmx/vmx_bits.h"
#include "core/x86.h"

#include <string.h>

static inline struct vmx_caps fixture_hw_caps(void)
{
	struct vmx_caps hw = {
		.basic = 0x00d810000000002bull,
		.revision = 0x2b,
		.pin = { 0x00000016, 0x0000007f },
		.proc = { 0x04006172, 0xf7f9fffe },
		.proc2 = { 0, 0x00047fff },
		.exit = { 0x00036dfb, 0x007fffff },
		.entry = { 0x000011fb, 0x0000ffff },
		.misc = 0x200401e0,
		.cr0_fixed0 = 0x80000021, .cr0_fixed1 = 0xffffffff,
		.cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x003767ff,
		.ept_vpid = 0x00000f0106334141ull,
	};
	return hw;
}

/* A 64-bit host (L1) entering a 64-bit L2 that shares its paging. */
static inline void fixture_vmcs12(struct vmcs12 *v, const struct nested_caps *n)
{
	memset(v, 0, sizeof(*v));
	v->revision_id = NV_VMCS12_REVISION;
	v->PIN_BASED_VM_EXEC_CONTROL = n->l1.pin.must1;
	v->CPU_BASED_VM_EXEC_CONTROL = n->l1.proc.must1 | PROC_HLT_EXITING;
	v->VM_EXIT_CONTROLS = n->l1.exit.must1 | EXIT_HOST_ADDR_SPACE_SIZE;
	v->VM_ENTRY_CONTROLS = n->l1.entry.must1 | ENTRY_IA32E_MODE_GUEST;
	v->HOST_CR0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	v->HOST_CR4 = CR4_PAE | CR4_VMXE;
	v->HOST_CR3 = 0x1000;
	v->HOST_CS_SELECTOR = 0x08;
	v->HOST_SS_SELECTOR = 0x10;
	v->HOST_DS_SELECTOR = 0x10;
	v->HOST_TR_SELECTOR = 0x18;
	v->HOST_RIP = 0x100000;
	v->HOST_RSP = 0x200000;
	v->GUEST_CR0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	v->GUEST_CR4 = CR4_PAE | CR4_VMXE;
	v->VMCS_LINK_POINTER = ~0ull;
}

static inline struct entry_check_env fixture_env(const struct nested_caps *n)
{
	return (struct entry_check_env){ n, 39, true, NULL };
}

#endif
