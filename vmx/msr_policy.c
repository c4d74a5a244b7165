/* SPDX-License-Identifier: MIT */
#include "vmx/msr_policy.h"
#include "vmx/guest_mem.h"
#include "vmx/l1.h"
#include "core/log.h"
#include "core/x86.h"

/* IA32_APIC_BASE bits 51:12 (SDM Vol. 3A, 11.4.4 "Local APIC Status and Location"). */
#define APIC_BASE_ADDR(v) ((v) & 0x000ffffffffff000ull)

static bool apic_base_allowed(uint64_t value)
{
	uint64_t base = APIC_BASE_ADDR(value) & ((1ull << l1_maxphyaddr()) - 1);
	struct ept_walk w;

	ept_translate(&l1.ept01, base, &w);
	if (w.present && (w.leaf & EPT_W))
		return true;
	log_line("IA32_APIC_BASE 0x%lx refused: the APIC page would cover memory L1 may not "
		 "write (L0's or firmware's)", value);
	return false;
}

bool msr_write_allowed(uint32_t msr, uint64_t value)
{
	return msr != MSR_IA32_APIC_BASE || apic_base_allowed(value);
}
