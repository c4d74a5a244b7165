/* SPDX-License-Identifier: MIT */
/* L1's environment as the VMX test kernels need it: its descriptor tables,
 * no stray interrupts, and whether nestvisor is underneath. */
#include "vmxlib.h"

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
bool bare_metal_bochs;

void quiesce_interrupts(void)
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

void read_descriptor_tables(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr, idtr;

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	l1_gdt_base = gdtr.base;
	l1_gdt_limit = gdtr.limit;
	l1_idt_base = idtr.base;
	l1_idt_limit = idtr.limit;
}

bool detect_environment(const char *prefix)
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
	printf("%s: CPU \"%s\", CPUID 0x40000000 signature \"%s\": %s\n", prefix, vendor,
	       bare_metal_bochs ? "" : sig,
	       bare_metal_bochs ? "no hypervisor (bare Bochs: its VMX deviations are SKIPped or avoided)"
				: "under nestvisor");
	return !bare_metal_bochs;
}

void enable_caches(void)
{
	write_cr0(read_cr0() & ~(ureg_t)(CR0_CD | CR0_NW));
}
