/* SPDX-License-Identifier: MIT */
/*
 * basic: everything L1 sees under nestvisor, one report() each.
 *
 * Expected command line (after the kernel path, which the loader prepends):
 *     alpha beta=gamma [want-module]
 * With want-module, exactly one module is expected: "<path>/module.txt modarg1
 * modarg2", whose content starts with "nestvisor test module" (basic/module.txt).
 * The nestvisor-specific checks (hypervisor CPUID leaf, FEATURE_CONTROL, VMX
 * hidden) fail on bare QEMU; the rest must pass anywhere.
 */
#include <guest.h>

#define MIB               0x100000ull
#define EXPECTED_ARGS     "alpha beta=gamma"
#define MODULE_MAGIC      "nestvisor test module"
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1u << 2)
#define APIC_DEFAULT_BASE 0xFEE00000u
#define APIC_BASE_MASK    0xFFFFF000u
#define APIC_REG_VERSION  0x30
#define APIC_VERSION_MASK 0xFFu    /* SDM Vol. 3A, 11.4.8 "Local APIC Version Register" */
#define PAGE_OFFSET_MASK  0xFFFu
#define COM1_SCRATCH      0x3FF
#define CMOS_INDEX        0x70
#define CMOS_DATA         0x71
#define CMOS_STATUS_A     0x0A
/* 82093AA I/O APIC data sheet, 3.0 "Register Descriptions": index/data window. */
/* nestvisor's VMCS revision identifier (nested/vmcs12.h). */
#define NV_VMCS12_REVISION 0x4e560001u
#define IOAPIC_BASE       0xFEC00000u
#define IOAPIC_REGSEL     (IOAPIC_BASE + 0x00)
#define IOAPIC_WIN        (IOAPIC_BASE + 0x10)
#define IOAPIC_REG_VER    0x01

extern char __image_start[], __image_end[];     /* guest.ld */

/* Never written: the loader must have zeroed it (ELF p_memsz > p_filesz). */
static volatile uint8_t bss_probe[64 * 1024];

static void check_bss(void)
{
	size_t i;

	for (i = 0; i < sizeof(bss_probe); i++)
		if (bss_probe[i])
			break;
	report(i == sizeof(bss_probe), "bss zeroed by the loader (first non-zero at %u of %u)",
	       (unsigned)i, (unsigned)sizeof(bss_probe));
}

static void check_flags(const struct multiboot_info *mbi, bool want_module)
{
	printf("basic: MBI at 0x%08x, flags 0x%08x\n", boot_mbi, mbi->flags);
	report(mbi->flags & MBI_FLAG_MEM, "MBI flags: MEM (bit 0)");
	report(mbi->flags & MBI_FLAG_CMDLINE, "MBI flags: CMDLINE (bit 2)");
	report(mbi->flags & MBI_FLAG_MMAP, "MBI flags: MMAP (bit 6)");
	if (want_module)
		report(mbi->flags & MBI_FLAG_MODS, "MBI flags: MODS (bit 3)");
}

/* End of the usable RAM that runs without a gap from 1 MiB (1 MiB if none). */
static uint64_t usable_end_from_1m(const struct multiboot_info *mbi)
{
	const struct multiboot_mmap_entry *e;
	uint64_t end = MIB;
	bool grew = true;

	while (grew) {
		grew = false;
		mmap_for_each(mbi, e) {
			if (e->type == MMAP_TYPE_USABLE && e->base <= end &&
			    e->base + e->length > end) {
				end = e->base + e->length;
				grew = true;
			}
		}
	}
	return end;
}

static bool in_usable_ram(const struct multiboot_info *mbi, uint64_t base, uint64_t end)
{
	const struct multiboot_mmap_entry *e;

	mmap_for_each(mbi, e)
		if (e->type == MMAP_TYPE_USABLE && e->base <= base && end <= e->base + e->length)
			return true;
	return false;
}

static void check_memory(const struct multiboot_info *mbi)
{
	const struct multiboot_mmap_entry *e, *prev = NULL;
	bool sorted = true, disjoint = true, nonzero = true, low = false, high = false;
	unsigned n;
	uint64_t contiguous;

	report(mbi->mem_lower > 0 && mbi->mem_lower <= 640, "mem_lower in (0, 640] KiB (%u)",
	       mbi->mem_lower);

	printf("basic: memory map at 0x%08x, %u bytes\n", mbi->mmap_addr, mbi->mmap_length);
	n = mbi_print_mmap(mbi);
	report(n > 0, "memory map has entries (%u)", n);
	mmap_for_each(mbi, e) {
		if (e->length == 0)
			nonzero = false;
		if (prev && e->base < prev->base)
			sorted = false;
		if (prev && e->base < prev->base + prev->length)
			disjoint = false;
		if (e->type == MMAP_TYPE_USABLE && e->length && e->base < MIB)
			low = true;
		if (e->type == MMAP_TYPE_USABLE && e->length && e->base >= MIB)
			high = true;
		prev = e;
	}
	report(sorted, "memory map sorted by address");
	report(disjoint, "memory map entries do not overlap");
	report(nonzero, "memory map entry sizes non-zero");
	report(low, "usable RAM below 1 MiB");
	report(high, "usable RAM above 1 MiB");

	/* Multiboot 3.3: mem_upper is at most the first upper memory hole minus 1 MiB. */
	contiguous = usable_end_from_1m(mbi) - MIB;
	report(mbi->mem_upper > 0 && (uint64_t)mbi->mem_upper * 1024 <= contiguous,
	       "mem_upper (%u KiB) within the usable RAM contiguous from 1 MiB (%llu KiB)",
	       mbi->mem_upper, (unsigned long long)(contiguous / 1024));
	report(in_usable_ram(mbi, (uintptr_t)__image_start, (uintptr_t)__image_end),
	       "kernel image [0x%08x-0x%08x) in usable RAM", (unsigned)(uintptr_t)__image_start,
	       (unsigned)(uintptr_t)__image_end);
}

static void check_cmdline(const struct multiboot_info *mbi, bool want_module)
{
	const char *cmdline = mbi_cmdline(mbi);
	const char *args = str_after_first_word(cmdline);
	size_t n = strlen(EXPECTED_ARGS);

	printf("basic: cmdline \"%s\"\n", cmdline);
	report(first_word_ends_with(cmdline, "basic.elf"), "cmdline first word ends with basic.elf");
	/* The test's own option words (want-module, expect-...) may follow. */
	report(strncmp(args, EXPECTED_ARGS, n) == 0 && (args[n] == '\0' || args[n] == ' '),
	       "cmdline arguments begin with \"%s\"", EXPECTED_ARGS);
	report(has_word(args, "want-module") == want_module, "want-module word seen");
}

/* With expect-usable-mib=N (the run set l1_memory = N M), L1's map offers exactly N MiB. */
static void check_ram_limit(const struct multiboot_info *mbi)
{
	const struct multiboot_mmap_entry *e;
	uint64_t usable = 0;
	uint32_t mib;

	if (!word_value(mbi_cmdline(mbi), "expect-usable-mib", &mib)) {
		report_skip("l1_memory limit (no expect-usable-mib= on the cmdline)");
		return;
	}
	mmap_for_each(mbi, e)
		if (e->type == MMAP_TYPE_USABLE)
			usable += e->length;
	report(usable == (uint64_t)mib << 20, "usable RAM in the map is %u MiB (0x%llx bytes)", mib,
	       (unsigned long long)usable);
}

static void check_modules(const struct multiboot_info *mbi, bool want_module)
{
	const struct multiboot_module *m;
	const char *str;

	if (!want_module) {
		report_skip("modules (no want-module on the cmdline)");
		return;
	}
	if (!report((mbi->flags & MBI_FLAG_MODS) && mbi->mods_count == 1,
		    "exactly one module (mods_count %u)", mbi->mods_count))
		return;
	m = mbi_modules(mbi);
	str = m->string ? (const char *)(uintptr_t)m->string : "";
	printf("basic: module [0x%08x-0x%08x) \"%s\"\n", m->mod_start, m->mod_end, str);
	report(first_word_ends_with(str, "module.txt"), "module string first word ends with module.txt");
	report(strcmp(str_after_first_word(str), "modarg1 modarg2") == 0,
	       "module string arguments are \"modarg1 modarg2\"");
	report((m->mod_start & PAGE_OFFSET_MASK) == 0, "module start page aligned");
	report(m->mod_end > m->mod_start &&
	       m->mod_end - m->mod_start >= sizeof(MODULE_MAGIC) - 1 &&
	       memcmp((const void *)(uintptr_t)m->mod_start, MODULE_MAGIC,
		      sizeof(MODULE_MAGIC) - 1) == 0,
	       "module content begins with \"" MODULE_MAGIC "\"");
	report(m->mod_end <= (uintptr_t)__image_start || m->mod_start >= (uintptr_t)__image_end,
	       "module does not overlap the kernel image");
	report(in_usable_ram(mbi, m->mod_start, m->mod_end), "module in usable RAM");
}

/* CPUID 0x40000000: EBX, ECX, EDX spell the hypervisor's name; returns EAX. */
static uint32_t hv_signature(char sig[13])
{
	struct cpuid_regs hv = cpuid(CPUID_HV_BASE);

	memcpy(sig + 0, &hv.ebx, 4);
	memcpy(sig + 4, &hv.ecx, 4);
	memcpy(sig + 8, &hv.edx, 4);
	sig[12] = '\0';
	return hv.eax;
}

static void check_cpuid(void)
{
	struct cpuid_regs r0 = cpuid(0), r1 = cpuid(1);
	char vendor[13], hv_sig[13];
	uint32_t hv_max;

	memcpy(vendor + 0, &r0.ebx, 4);
	memcpy(vendor + 4, &r0.edx, 4);
	memcpy(vendor + 8, &r0.ecx, 4);
	vendor[12] = '\0';
	printf("basic: cpu vendor \"%s\", max leaf 0x%x\n", vendor, r0.eax);

	report(r1.ecx & CPUID_1_ECX_HYPERVISOR, "CPUID.1:ECX.hypervisor[31] set");
	report(r1.ecx & CPUID_1_ECX_VMX, "CPUID.1:ECX.VMX[5] set (nestvisor offers nested VMX)");

	hv_max = hv_signature(hv_sig);
	printf("basic: CPUID 0x40000000: eax 0x%08x signature \"%s\"\n", hv_max, hv_sig);
	report(memcmp(hv_sig, "nestvisor\0\0\0", 12) == 0,
	       "CPUID 0x40000000 signature \"nestvisor\"");
	report(hv_max >= CPUID_HV_BASE + 1 && hv_max < CPUID_HV_BASE + 0x100,
	       "CPUID 0x40000000 max leaf >= 0x40000001");
}

static void check_msrs(void)
{
	uint64_t fc = ~0ull, apic_base = 0;
	int v;

	v = rdmsr_checked(MSR_IA32_FEATURE_CONTROL, &fc);
	report(v == NO_EXCEPTION, "RDMSR IA32_FEATURE_CONTROL succeeds (%s)", exception_name(v));
	/* L1's IA32_FEATURE_CONTROL starts unlocked, as firmware leaves it; the
	 * VMX suite (tests/guest/vmx) locks it. Bits L1 cannot have fault. */
	report(v == NO_EXCEPTION && fc == 0, "IA32_FEATURE_CONTROL = 0, unlocked (0x%llx)",
	       (unsigned long long)fc);
	v = wrmsr_checked(MSR_IA32_FEATURE_CONTROL, 1ull << 20);
	report(v == VEC_GP, "WRMSR IA32_FEATURE_CONTROL with SENTER bits raises #GP (%s)",
	       exception_name(v));

	uint64_t basic = 0;

	v = rdmsr_checked(MSR_IA32_VMX_BASIC, &basic);
	report(v == NO_EXCEPTION && (basic & 0x7fffffff) == NV_VMCS12_REVISION &&
		       ((basic >> 32) & 0x1fff) == 4096,
	       "IA32_VMX_BASIC: nestvisor's VMCS revision 0x%x, 4-KiB regions (0x%llx, %s)",
	       NV_VMCS12_REVISION, (unsigned long long)basic, exception_name(v));
	/* nestvisor offers nested EPT and VPID (Bochs has both): the MSR exists (A.10),
	 * with 4-level walks, write-back EPTPs and INVEPT. */
	uint64_t ept_vpid = 0;

	v = rdmsr_checked(MSR_IA32_VMX_EPT_VPID_CAP, &ept_vpid);
	report(v == NO_EXCEPTION && (ept_vpid & (1ull << 6)) && (ept_vpid & (1ull << 14)) &&
		       (ept_vpid & (1ull << 20)),
	       "RDMSR IA32_VMX_EPT_VPID_CAP: 4-level EPT, write-back, INVEPT (0x%llx, %s)",
	       (unsigned long long)ept_vpid, exception_name(v));

	v = rdmsr_checked(MSR_IA32_APIC_BASE, &apic_base);
	report(v == NO_EXCEPTION, "RDMSR IA32_APIC_BASE succeeds (0x%llx, %s)",
	       (unsigned long long)apic_base, exception_name(v));
}

static bool under_qemu_tcg(void)
{
	char sig[13];

	hv_signature(sig);
	return memcmp(sig, "TCGTCGTCGTCG", 12) == 0;
}

static void check_cr4(void)
{
	uint32_t cr4 = read_cr4();
	int v;

	/* QEMU 7.2 TCG never completes a MOV to CR4 that sets a bit its CPU
	 * model lacks (no #GP, the vCPU just spins there), so do not try. */
	report(!(cr4 & CR4_VMXE), "CR4 starts without VMXE (0x%08x)", cr4);
	if (under_qemu_tcg()) {
		report_skip("setting CR4.VMXE (QEMU TCG hangs on it)");
		return;
	}
	v = write_cr4_checked(cr4 | CR4_VMXE);
	report(v == NO_EXCEPTION && (read_cr4() & CR4_VMXE),
	       "setting CR4.VMXE succeeds and reads back (%s)", exception_name(v));
	v = write_cr4_checked(cr4);
	report(v == NO_EXCEPTION && !(read_cr4() & CR4_VMXE),
	       "clearing CR4.VMXE outside VMX operation succeeds (%s)", exception_name(v));
}

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));

static void check_vmx_instructions(void)
{
	int v = vmcall_checked();

	report(v == VEC_UD, "VMCALL outside VMX operation raises #UD (%s)", exception_name(v));
	v = vmxon_checked((uint32_t)(uintptr_t)vmxon_region);
	report(v == VEC_UD, "VMXON with CR4.VMXE = 0 raises #UD (%s)", exception_name(v));
}

static void check_devices(void)
{
	uint8_t scratch = inb(COM1_SCRATCH), a, b, rtc_a;
	uint64_t apic_msr;
	uint32_t apic_base = APIC_DEFAULT_BASE, apic_ver;
	uint32_t ioapic_ver;

	outb(COM1_SCRATCH, 0x5A);
	a = inb(COM1_SCRATCH);
	outb(COM1_SCRATCH, 0xA5);
	b = inb(COM1_SCRATCH);
	outb(COM1_SCRATCH, scratch);
	report(a == 0x5A && b == 0xA5, "COM1 scratch register reads back 0x5a/0xa5 (0x%02x/0x%02x)",
	       a, b);

	outb(CMOS_INDEX, CMOS_STATUS_A);
	rtc_a = inb(CMOS_DATA);
	report(rtc_a != 0xFF, "CMOS RTC status register A reads 0x%02x, not 0xff", rtc_a);

	if (rdmsr_checked(MSR_IA32_APIC_BASE, &apic_msr) == NO_EXCEPTION)
		apic_base = (uint32_t)apic_msr & APIC_BASE_MASK;
	apic_ver = mmio_read32(apic_base + APIC_REG_VERSION);
	report((apic_ver & APIC_VERSION_MASK) >= 0x10 && (apic_ver & APIC_VERSION_MASK) <= 0x15 &&
	       apic_ver != 0xFFFFFFFF,
	       "local APIC version register at 0x%08x reads 0x%08x (MMIO reaches the APIC)",
	       apic_base + APIC_REG_VERSION, apic_ver);

	/* An MMIO write then read: select the version register, read it back. */
	mmio_write32(IOAPIC_REGSEL, IOAPIC_REG_VER);
	ioapic_ver = mmio_read32(IOAPIC_WIN);
	report((ioapic_ver & 0xFF) >= 0x11 && (ioapic_ver & 0xFF) <= 0x20 &&
	       ((ioapic_ver >> 16) & 0xFF) >= 15,
	       "I/O APIC version register via REGSEL/IOWIN reads 0x%08x (MMIO writes reach it)",
	       ioapic_ver);
}

int main(struct multiboot_info *mbi)
{
	bool want_module;

	printf("basic: nestvisor L1 checks\n");
	report(boot_magic == MULTIBOOT_BOOTLOADER_MAGIC, "Multiboot magic in EAX (0x%08x)",
	       boot_magic);
	if (!mbi) {
		report_summary();
		return GUEST_EXIT_FAIL;
	}
	want_module = has_word(mbi_cmdline(mbi), "want-module");

	check_bss();
	check_flags(mbi, want_module);
	check_memory(mbi);
	check_cmdline(mbi, want_module);
	check_ram_limit(mbi);
	check_modules(mbi, want_module);
	check_cpuid();
	check_msrs();
	check_cr4();
	check_vmx_instructions();
	check_devices();

	guest_exit(report_summary() ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS);
}
