/* SPDX-License-Identifier: MIT */
/*
 * vmx: L1-side test suite of VMX semantics (SDM Vol. 3C, chapters 25-28 and 31).
 * A 64-bit Multiboot kernel that uses VMX itself: VMXON, the VMCS pointer
 * instructions, VMREAD/VMWRITE of every field, VM-entry checks, and an L2
 * guest whose exits and injected events it checks. Every expectation is the
 * architecture's: the suite must pass on bare Bochs (tools/bare_bochs.py) and
 * under nestvisor (L0 emulating VMX), adapting to the capability MSRs. Cases
 * are independent: each sets up what it needs, and every FAIL line shows what
 * was observed. Bochs deviations from the SDM are SKIPped on bare Bochs only.
 */
#include "vmx.h"

struct vmx_region vmcs_a, vmcs_b, bad_region, scratch_page;

int main(struct multiboot_info *mbi)
{
	unsigned failures;

	printf("vmx: VMX semantics test suite (64-bit L1)\n");
	detect_environment("vmx");
	quiesce_interrupts();
	read_descriptor_tables();
	enable_caches();
	printf("vmx: CR0 0x%llx CR4 0x%llx EFER 0x%llx GDT 0x%llx/%u IDT 0x%llx/%u\n",
	       U64(read_cr0()), U64(read_cr4()), U64(rdmsr(MSR_IA32_EFER)), U64(l1_gdt_base),
	       l1_gdt_limit, U64(l1_idt_base), l1_idt_limit);

	if (test_vmxon()) {
		test_vmcs_ptr();
		test_vmread_write();
		test_invept_invvpid();
		test_entry_checks();
		test_l2_exits();
		test_events();
		if (vmx_ensure_on()) {
			check_res(vmxoff(), WANT_OK, "final VMXOFF");
			vmx_is_on = false;
		}
	} else {
		printf("vmx: VMX is not usable: the remaining cases are not run\n");
	}
	failures = report_summary();
	return failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
