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

/* 8259A: OCW1 (interrupt mask) of master and slave. */
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA  0xA1
/* SDM Vol. 3A, 11.5.1 "Local Vector Table", 11.4.4: xAPIC registers. */
#define APIC_BASE_MASK      0xFFFFF000ull
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_X2APIC    (1ull << 10)
#define APIC_LVT_TIMER      0x320
#define APIC_LVT_LINT0      0x350
#define APIC_TIMER_INITIAL  0x380
#define APIC_LVT_MASKED     (1u << 16)

uint64_t l1_idt_base, l1_gdt_base;
uint16_t l1_idt_limit, l1_gdt_limit;
struct vmx_region vmcs_a, vmcs_b, bad_region, scratch_page;

/* Some cases run L2 with RFLAGS.IF = 1: nothing may interrupt it but what the
 * case injects. L1 itself always runs with IF = 0. */
static void quiesce_interrupts(void)
{
	uint64_t apic = rdmsr(MSR_IA32_APIC_BASE);

	outb(PIC_MASTER_DATA, 0xFF);
	outb(PIC_SLAVE_DATA, 0xFF);
	if ((apic & APIC_BASE_ENABLE) && !(apic & APIC_BASE_X2APIC)) {
		uintptr_t base = (uintptr_t)(apic & APIC_BASE_MASK);

		mmio_write32(base + APIC_TIMER_INITIAL, 0);
		mmio_write32(base + APIC_LVT_TIMER,
			     mmio_read32(base + APIC_LVT_TIMER) | APIC_LVT_MASKED);
		mmio_write32(base + APIC_LVT_LINT0,
			     mmio_read32(base + APIC_LVT_LINT0) | APIC_LVT_MASKED);
	}
}

static void read_descriptor_tables(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr, idtr;

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	l1_gdt_base = gdtr.base;
	l1_gdt_limit = gdtr.limit;
	l1_idt_base = idtr.base;
	l1_idt_limit = idtr.limit;
}

static void detect_environment(void)
{
	struct cpuid_regs hv = cpuid(CPUID_HV_BASE), r0 = cpuid(0);
	char sig[13], vendor[13];

	memcpy(sig + 0, &hv.ebx, 4);
	memcpy(sig + 4, &hv.ecx, 4);
	memcpy(sig + 8, &hv.edx, 4);
	sig[12] = '\0';
	memcpy(vendor + 0, &r0.ebx, 4);
	memcpy(vendor + 4, &r0.edx, 4);
	memcpy(vendor + 8, &r0.ecx, 4);
	vendor[12] = '\0';
	bare_metal_bochs = memcmp(sig, "nestvisor", 9) != 0;
	printf("vmx: CPU \"%s\", CPUID 0x40000000 signature \"%s\": %s\n", vendor,
	       bare_metal_bochs ? "" : sig,
	       bare_metal_bochs ? "no hypervisor (bare Bochs: its VMX deviations are SKIPped)"
				: "under nestvisor");
}

int main(struct multiboot_info *mbi)
{
	unsigned failures;

	printf("vmx: VMX semantics test suite (64-bit L1)\n");
	detect_environment();
	quiesce_interrupts();
	read_descriptor_tables();
	/* The legacy BIOS leaves caches disabled (CD, NW); VMX does not care, but
	 * enable them as any OS would. */
	write_cr0(read_cr0() & ~(ureg_t)(CR0_CD | CR0_NW));
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
