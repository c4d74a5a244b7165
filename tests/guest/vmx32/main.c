/* SPDX-License-Identifier: MIT */
/*
 * vmx32: VMX from a 32-bit L1 (SDM Vol. 3C, chapters 24-28 and 31). The library
 * starts this kernel in 32-bit protected mode with paging off; VMX operation
 * needs CR0.PG = 1 (IA32_VMX_CR0_FIXED0), so it turns on PAE paging (not IA-32e
 * mode) first, then runs VMXON, the VMCS-pointer instructions with 64-bit memory
 * operands in every addressing form, through segments with bases, limits and
 * access rights and through PAE page tables, VMREAD/VMWRITE with 32-bit operands,
 * and a 32-bit L2 guest. Every expectation is the architecture's: the suite must
 * pass on bare Bochs (tools/bare_bochs.py) and under nestvisor; Bochs deviations
 * are SKIPped on bare Bochs only, with the reason.
 */
#include "vmx32.h"

#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA  0xA1

struct caps caps;
bool bare_bochs;
uint32_t l1_gdt_base, l1_idt_base;
uint16_t l1_gdt_limit, l1_idt_limit;
uint8_t small_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
uint8_t tss32[104] __attribute__((aligned(128)));
uint32_t seg16_base;
/* The operand area of the addressing-form cases: form_area[2..3], guards around;
 * SEL_SEG16's base is its 64-KiB frame, so a 16-bit offset reaches it. */
uint32_t form_area[8] __attribute__((aligned(32)));

/* SDM Vol. 3A, 3.4.5 "Segment Descriptors": flags = G (8), D/B (4), L (2), AVL (1). */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (limit & 0xFFFFull) | ((uint64_t)(base & 0xFFFFFF) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xF) << 48) |
	       ((uint64_t)(flags & 0xF) << 52) | ((uint64_t)(base >> 24) << 56);
}

#define ACC_CODE_RX  0x9B       /* present, DPL 0, code, execute/read, accessed */
#define ACC_DATA_RW  0x93       /* present, DPL 0, data, read/write, accessed */
#define ACC_DATA_RO  0x91       /* present, DPL 0, data, read-only, accessed */
#define ACC_DATA_RWD 0x97       /* present, DPL 0, data, read/write, expand-down, accessed */
#define ACC_TSS32    0x89       /* present, 32-bit TSS (available) */
#define FL_G_D       0xC
#define FL_D         0x4

static uint64_t gdt[12] __attribute__((aligned(8)));

/* This kernel's own GDT: the library's selectors, then the test segments. */
static void gdt_setup(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } d, idtr;

	seg16_base = (uint32_t)(uintptr_t)form_area & 0xFFFF0000u;
	gdt[0] = 0;
	gdt[SEL_CODE32 / 8] = descriptor(0, 0xFFFFF, ACC_CODE_RX, FL_G_D);
	gdt[SEL_DATA32 / 8] = descriptor(0, 0xFFFFF, ACC_DATA_RW, FL_G_D);
	gdt[SEL_CODE64 / 8] = 0x00AF9A000000FFFFull;
	gdt[SEL_BASE1000 / 8] = descriptor(BASE1000, 0xFFFFF, ACC_DATA_RW, FL_G_D);
	gdt[SEL_WRAP / 8] = descriptor(WRAP_BASE, 0xFFFFF, ACC_DATA_RW, FL_G_D);
	gdt[SEL_SMALL / 8] = descriptor((uint32_t)(uintptr_t)small_page, SMALL_LIMIT,
					ACC_DATA_RW, FL_D);
	gdt[SEL_STACK16M / 8] = descriptor(0, STACK16M_LIMIT >> 12, ACC_DATA_RW, FL_G_D);
	gdt[SEL_RO / 8] = descriptor(0, 0xFFFFF, ACC_DATA_RO, FL_G_D);
	gdt[SEL_SEG16 / 8] = descriptor(seg16_base, 0xFFFF, ACC_DATA_RW, FL_D);
	gdt[SEL_EXPDOWN / 8] = descriptor(0, EXPDOWN_LIMIT, ACC_DATA_RWD, FL_D);
	gdt[SEL_TSS / 8] = descriptor((uint32_t)(uintptr_t)tss32, sizeof(tss32) - 1, ACC_TSS32, 0);

	d.limit = sizeof(gdt) - 1;
	d.base = (uint32_t)(uintptr_t)gdt;
	asm volatile("lgdt %0\n\t"
		     "ljmp %1, $1f\n"
		     "1:\n\t"
		     "mov %2, %%ds\n\tmov %2, %%es\n\tmov %2, %%fs\n\tmov %2, %%gs\n\tmov %2, %%ss\n\t"
		     "ltr %w3"
		     : : "m"(d), "i"(SEL_CODE32), "r"(SEL_DATA32), "r"(SEL_TSS) : "memory");
	asm volatile("sidt %0" : "=m"(idtr));
	l1_gdt_base = d.base;
	l1_gdt_limit = d.limit;
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
	bare_bochs = memcmp(sig, "nestvisor", 9) != 0;
	printf("vmx32: CPU \"%s\", CPUID 0x40000000 signature \"%s\": %s\n", vendor,
	       bare_bochs ? "" : sig,
	       bare_bochs ? "no hypervisor (bare Bochs: its VMX deviations are SKIPped)"
			  : "under nestvisor");
}

static bool read_cap(uint32_t msr, uint64_t *v)
{
	int vec = rdmsr_checked(msr, v);

	if (vec != NO_EXCEPTION)
		report(false, "RDMSR 0x%x (VMX capability) succeeds (got %s)", msr, exception_name(vec));
	return vec == NO_EXCEPTION;
}

static struct ctl_cap split(uint64_t v)
{
	return (struct ctl_cap){ (uint32_t)v, (uint32_t)(v >> 32) };
}

/* SDM Vol. 3C, Appendix A: the capability MSRs, read with RDMSR in 32-bit mode. */
static bool caps_read(void)
{
	uint64_t pin, proc, exit, entry, proc2 = 0;
	struct cpuid_regs r;

	if (!read_cap(MSR_IA32_VMX_BASIC, &caps.basic) ||
	    !read_cap(MSR_IA32_VMX_PINBASED_CTLS, &pin) ||
	    !read_cap(MSR_IA32_VMX_PROCBASED_CTLS, &proc) ||
	    !read_cap(MSR_IA32_VMX_EXIT_CTLS, &exit) ||
	    !read_cap(MSR_IA32_VMX_ENTRY_CTLS, &entry) ||
	    !read_cap(MSR_IA32_VMX_MISC, &caps.misc) ||
	    !read_cap(MSR_IA32_VMX_CR0_FIXED0, &caps.cr0_fixed0) ||
	    !read_cap(MSR_IA32_VMX_CR0_FIXED1, &caps.cr0_fixed1) ||
	    !read_cap(MSR_IA32_VMX_CR4_FIXED0, &caps.cr4_fixed0) ||
	    !read_cap(MSR_IA32_VMX_CR4_FIXED1, &caps.cr4_fixed1) ||
	    !read_cap(MSR_IA32_VMX_VMCS_ENUM, &caps.vmcs_enum))
		return false;
	/* A.3.3: PROCBASED_CTLS2 exists only if "activate secondary controls" may be 1. */
	if (((proc >> 32) & PROC_SECONDARY_CONTROLS) &&
	    !read_cap(MSR_IA32_VMX_PROCBASED_CTLS2, &proc2))
		return false;
	/* A.1: bit 55 says the TRUE_* MSRs exist; they may clear default1 bits. */
	if ((caps.basic & BASIC_TRUE_CTLS) &&
	    (!read_cap(MSR_IA32_VMX_TRUE_PINBASED_CTLS, &pin) ||
	     !read_cap(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &proc) ||
	     !read_cap(MSR_IA32_VMX_TRUE_EXIT_CTLS, &exit) ||
	     !read_cap(MSR_IA32_VMX_TRUE_ENTRY_CTLS, &entry)))
		return false;
	caps.pin = split(pin);
	caps.proc = split(proc);
	caps.proc2 = split(proc2);
	caps.exit = split(exit);
	caps.entry = split(entry);
	caps.revision = (uint32_t)(caps.basic & 0x7FFFFFFFu);
	r = cpuid(0x80000000);
	caps.maxphyaddr = r.eax >= 0x80000008 ? (cpuid(0x80000008).eax & 0xFF) : 36;
	return true;
}

static void caps_print(void)
{
	printf("vmx32: IA32_VMX_BASIC 0x%016llx (revision 0x%x%s)\n", U64(caps.basic),
	       caps.revision, caps.basic & BASIC_TRUE_CTLS ? ", TRUE controls" : "");
	printf("vmx32: PINBASED   allowed0 0x%08x allowed1 0x%08x\n", caps.pin.allowed0,
	       caps.pin.allowed1);
	printf("vmx32: PROCBASED  allowed0 0x%08x allowed1 0x%08x\n", caps.proc.allowed0,
	       caps.proc.allowed1);
	printf("vmx32: PROCBASED2 allowed0 0x%08x allowed1 0x%08x\n", caps.proc2.allowed0,
	       caps.proc2.allowed1);
	printf("vmx32: EXIT       allowed0 0x%08x allowed1 0x%08x\n", caps.exit.allowed0,
	       caps.exit.allowed1);
	printf("vmx32: ENTRY      allowed0 0x%08x allowed1 0x%08x\n", caps.entry.allowed0,
	       caps.entry.allowed1);
	printf("vmx32: IA32_VMX_MISC 0x%016llx\n", U64(caps.misc));
	printf("vmx32: CR0 FIXED0 0x%016llx FIXED1 0x%016llx\n", U64(caps.cr0_fixed0),
	       U64(caps.cr0_fixed1));
	printf("vmx32: CR4 FIXED0 0x%016llx FIXED1 0x%016llx\n", U64(caps.cr4_fixed0),
	       U64(caps.cr4_fixed1));
	printf("vmx32: IA32_VMX_VMCS_ENUM 0x%016llx, MAXPHYADDR %u\n", U64(caps.vmcs_enum),
	       caps.maxphyaddr);
}

int main(struct multiboot_info *mbi)
{
	struct cpuid_regs r1 = cpuid(1);
	unsigned failures;

	(void)mbi;
	printf("vmx32: VMX from a 32-bit L1 with PAE paging\n");
	detect_environment();
	outb(PIC_MASTER_DATA, 0xFF);
	outb(PIC_SLAVE_DATA, 0xFF);
	gdt_setup();
	/* The legacy BIOS leaves caches disabled (CD, NW); VMX needs CR0.NE. */
	write_cr0((read_cr0() & ~(ureg_t)(CR0_CD | CR0_NW)) | CR0_NE);
	printf("vmx32: CR0 0x%x CR4 0x%x GDT 0x%x/%u IDT 0x%x/%u\n", read_cr0(), read_cr4(),
	       l1_gdt_base, l1_gdt_limit, l1_idt_base, l1_idt_limit);

	if (report(r1.ecx & CPUID_1_ECX_VMX, "CPUID.1:ECX.VMX[5] is set (ecx 0x%08x)", r1.ecx) &&
	    caps_read()) {
		caps_print();
		test_before_paging();
		paging_build();
		paging_enable();
		if (test_vmxon()) {
			test_pointer_forms();
			test_segmentation();
			test_paging();
			test_vmread_write();
			test_l2();
			test_vmxoff();
		} else {
			printf("vmx32: VMXON failed: the remaining cases are not run\n");
		}
	}
	failures = report_summary();
	return failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
