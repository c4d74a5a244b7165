/* SPDX-License-Identifier: MIT */
/*
 * vmxhostile: an L1 that points nestvisor's VMX emulation at memory that is
 * not L1's: L0's own memory (a reserved range of L1's memory map), the local
 * APIC's MMIO page, the first page above RAM, the firmware flash. Every such
 * VMX operation must get nestvisor's documented architectural answer (README
 * "Nested VMX: what L1's VMX looks like": such a pointer is an invalid
 * address) and leave L0 running; L1 then goes on to use VMX normally.
 *
 * The expectations are nestvisor's (on a real CPU a VMCS may lie anywhere in
 * physical memory), so the kernel checks the CPUID 0x40000000 signature
 * first and reports a single FAIL without it.
 *
 * The command line word mode=<m> runs one operation that nestvisor answers by
 * ending the run (tools/testsuite.py expects L0's report):
 *   mode=vmread-l0             VMREAD to a memory operand in L0 memory
 *                              ("... not L1's memory")
 *   mode=vmwrite-l0            VMWRITE from a memory operand in L0 memory
 *                              (the same, for L0's read of an operand)
 *   mode=exit-msr-store-l0     VM-exit MSR-store list in L0 memory (VMX abort)
 *   mode=exit-msr-load-l0      VM-exit MSR-load list in L0 memory (VMX abort)
 *   mode=exit-msr-load-efer    VM-exit MSR-load list loading an IA32_EFER that
 *                              WRMSR would refuse in L1's host state (VMX abort)
 *   mode=l2-cli-hlt            L2 runs `cli; hlt` and L1 intercepts nothing that
 *                              could wake it ("L2 halted with interrupts disabled")
 *   mode=pci-reset             a hard reset through port 0xCF9 ("L1 reset the platform")
 *   mode=init-in-root          a self-INIT in VMX root operation is blocked (L1 goes
 *                              on); the VMXOFF that unblocks it ends the run
 *
 * fuzz=<n> (default 1): rounds of fuzz.c's random attacks on the guarded
 * devices, IA32_APIC_BASE and VM-entry MSR-load lists, run after the cases.
 */
#include <nestvisor/hypercall.h>
#include "vmxlib.h"
#include "hostile.h"

#define PAGE            0x1000ull
#define ONE_MIB         0x100000ull
#define APIC_MMIO_PAGE  0xFEE00000ull   /* the local APIC's default base */
#define FLASH_PAGE      0xFFFFF000ull   /* the last page below 4 GiB: firmware flash */

struct hostile_targets t;

struct bad_ptr {
	const char *what;
	uint64_t pa;
};
static struct bad_ptr bad[4];

static struct l2 g;
static struct vmx_region vmcs_a, io_a, io_b, msr_bitmap;

/* L2 programs of l2_hostile.asm. */
L2_SYM(l2_in80); L2_SYM(l2_in80_insn); L2_SYM(l2_in80_done);
L2_SYM(l2_flip_in80); L2_SYM(l2_flip_in80_insn); L2_SYM(l2_flip_in80_done);
L2_SYM(l2_cli_hlt);

static uint64_t align_up(uint64_t a)
{
	return (a + PAGE - 1) & ~(PAGE - 1);
}

static bool usable(const struct multiboot_info *mbi, uint64_t start, uint64_t end)
{
	const struct multiboot_mmap_entry *e;

	mmap_for_each(mbi, e)
		if (e->type == MMAP_TYPE_USABLE && e->base <= start && end <= e->base + e->length)
			return true;
	return false;
}

static const struct multiboot_info *map_mbi;

/* The type of the memory-map range holding addr, 0 if none does. */
uint32_t memory_map_type(uint64_t addr)
{
	const struct multiboot_mmap_entry *e;

	mmap_for_each(map_mbi, e)
		if (e->base <= addr && addr - e->base < e->length)
			return e->type;
	return 0;
}

/* As tests/guest/l0mem does: the first reserved range at or above 1 MiB below
 * the top of usable RAM holds L0 memory. */
static bool find_targets(const struct multiboot_info *mbi)
{
	const struct multiboot_mmap_entry *e;

	if (!mbi || !(mbi->flags & MBI_FLAG_MMAP))
		return false;
	map_mbi = mbi;
	mbi_print_mmap(mbi);
	mmap_for_each(mbi, e)
		if (e->type == MMAP_TYPE_USABLE && e->length && e->base + e->length > t.ram_top)
			t.ram_top = e->base + e->length;
	mmap_for_each(mbi, e) {
		uint64_t start = align_up(e->base), end = e->base + e->length;

		if (e->type != MMAP_TYPE_RESERVED || e->base < ONE_MIB || e->base >= t.ram_top)
			continue;
		if (end > t.ram_top)
			end = t.ram_top;
		if (start + 4 * PAGE > end)
			continue;               /* too small for the bitmap cases */
		t.l0 = start;
		t.l0_end = end;
		break;
	}
	if (!t.l0)
		return false;
	t.usable_below_l0 = usable(mbi, t.l0 - 16, t.l0);
	printf("vmxhostile: L0 memory: 0x%llx (the reserved range 0x%llx-0x%llx, the first at or "
	       "above 1 MiB below the top of usable RAM 0x%llx)\n", U64(t.l0), U64(t.l0),
	       U64(t.l0_end - 1), U64(t.ram_top));
	bad[0] = (struct bad_ptr){ "into L0 memory", t.l0 };
	bad[1] = (struct bad_ptr){ "to the local APIC (MMIO)", APIC_MMIO_PAGE };
	bad[2] = (struct bad_ptr){ "to the first page above RAM", align_up(t.ram_top) };
	bad[3] = (struct bad_ptr){ "to the firmware flash", FLASH_PAGE };
	return true;
}

static uint64_t current_vmcs(void)
{
	struct vmx_res r = vmptrst();

	return r.outcome == VMX_OK ? r.value : 0xBAD;
}

/* VMXON of each bad pointer: VMfailInvalid, still outside VMX operation. */
static bool vmxon_cases(void)
{
	struct vmx_res r;

	printf("vmxhostile: --- VMXON pointers that are not L1's RAM ---\n");
	for (unsigned i = 0; i < 4; i++) {
		r = vmxon(bad[i].pa);
		check_res(r, WANT_INVALID, "VMXON with a pointer %s (0x%llx)", bad[i].what,
			  U64(bad[i].pa));
		if (r.outcome == VMX_OK)
			vmxoff();       /* L0 took it: leave again so the next case is meaningful */
	}
	check_res(vmxoff(), WANT_EXC(VEC_UD), "VMXOFF after the failed VMXONs (not in VMX operation)");
	region_init(&vmxon_region, caps.revision);
	r = vmxon(region_pa(&vmxon_region));
	vmx_is_on = r.outcome == VMX_OK;
	return check_res(r, WANT_OK, "VMXON with a proper region after them");
}

/* VMCLEAR and VMPTRLD of each bad pointer, without and with a current VMCS. */
static void vmcs_pointer_cases(void)
{
	uint64_t a = region_pa(&vmcs_a), cur;
	struct vmx_res r;

	printf("vmxhostile: --- VMCLEAR/VMPTRLD pointers that are not L1's RAM ---\n");
	for (unsigned i = 0; i < 4; i++) {
		check_res(vmclear(bad[i].pa), WANT_INVALID,
			  "VMCLEAR of a pointer %s (0x%llx), no current VMCS", bad[i].what,
			  U64(bad[i].pa));
		check_res(vmptrld(bad[i].pa), WANT_INVALID,
			  "VMPTRLD of a pointer %s (0x%llx), no current VMCS", bad[i].what,
			  U64(bad[i].pa));
		cur = current_vmcs();
		report(cur == ~0ull, "... VMPTRST still stores 0xffffffffffffffff (got 0x%llx)",
		       U64(cur));
	}

	region_init(&vmcs_a, caps.revision);
	vmclear(a);
	if (!check_res(vmptrld(a), WANT_OK, "VMPTRLD of a proper VMCS (0x%llx)", U64(a)))
		return;
	vmw(VMCS_GUEST_RIP, 0x1234567ull);
	for (unsigned i = 0; i < 4; i++) {
		check_res(vmclear(bad[i].pa), WANT_VALID(VMXERR_VMCLEAR_BAD_ADDR),
			  "VMCLEAR of a pointer %s (0x%llx)", bad[i].what, U64(bad[i].pa));
		cur = current_vmcs();
		report(cur == a, "... the current VMCS is unchanged (VMPTRST 0x%llx, got 0x%llx)",
		       U64(a), U64(cur));
		check_res(vmptrld(bad[i].pa), WANT_VALID(VMXERR_VMPTRLD_BAD_ADDR),
			  "VMPTRLD of a pointer %s (0x%llx)", bad[i].what, U64(bad[i].pa));
		cur = current_vmcs();
		report(cur == a, "... the current VMCS is unchanged (VMPTRST 0x%llx, got 0x%llx)",
		       U64(a), U64(cur));
	}
	r = vmread(VMCS_GUEST_RIP);
	report(r.outcome == VMX_OK && r.value == 0x1234567ull,
	       "the current VMCS keeps its contents: VMREAD GUEST_RIP -> 0x1234567 (got %s, 0x%llx)",
	       res_str(r), U64(r.value));
	check_res(vmclear(a), WANT_OK, "VMCLEAR of the proper VMCS");
}

/* Runs L2 program `entry` with I/O and MSR bitmaps at io_a_pa/io_b_pa/msr_pa;
 * false (reported as a SKIP) if the controls cannot be set. */
static bool run_with_bitmaps(const void *entry, uint64_t io_a_pa, uint64_t io_b_pa,
			     uint64_t msr_pa, uint32_t msr)
{
	l2_init(&g, entry);
	if (!l2_set_ctl(VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS)) {
		report_skip("I/O and MSR bitmaps: the controls are not offered");
		return false;
	}
	vmw(VMCS_IO_BITMAP_A, io_a_pa);
	vmw(VMCS_IO_BITMAP_B, io_b_pa);
	vmw(VMCS_MSR_BITMAP, msr_pa);
	g.regs.rcx = msr;
	l2_run(&g);
	return true;
}

static void check_io_exit(unsigned port)
{
	uint64_t q = g.exit.qual;

	report(IO_QUAL_PORT(q) == port && (q & IO_QUAL_IN) && IO_QUAL_SIZE(q) == 1,
	       "... exit qualification: IN, 1 byte, port 0x%x (got 0x%llx)", port, U64(q));
}

static void flip_in80(uint64_t ia, uint64_t ib, uint8_t before, uint8_t now, bool exits,
		      const char *verb);

static void bitmap_cases(void)
{
	uint64_t l0a = t.l0, l0b = t.l0 + PAGE, l0m = t.l0 + 2 * PAGE;
	uint64_t ia = region_pa(&io_a), ib = region_pa(&io_b), mb = region_pa(&msr_bitmap);

	printf("vmxhostile: --- I/O and MSR bitmaps in L0 memory (0x%llx, 0x%llx, 0x%llx) ---\n",
	       U64(l0a), U64(l0b), U64(l0m));
	memset(&io_a, 0, sizeof(io_a));
	memset(&io_b, 0, sizeof(io_b));
	memset(&msr_bitmap, 0, sizeof(msr_bitmap));

	/* Control: the same programs with zeroed bitmaps in L1's RAM do not exit. */
	if (!run_with_bitmaps(l2_rdmsr, ia, ib, mb, MSR_IA32_SYSENTER_CS))
		return;
	check_exit(&g, EXIT_REASON_VMCALL, l2_rdmsr_done,
		   "control: L2 RDMSR 0x174 with a zeroed MSR bitmap in L1's RAM does not exit");
	run_with_bitmaps(l2_in80, ia, ib, mb, 0);
	check_exit(&g, EXIT_REASON_VMCALL, l2_in80_done,
		   "control: L2 IN from port 0x80 with zeroed I/O bitmaps in L1's RAM does not exit");

	/* Unreadable bitmaps: every access exits (nestvisor reads them as all ones). */
	run_with_bitmaps(l2_rdmsr, l0a, l0b, l0m, MSR_IA32_SYSENTER_CS);
	check_exit(&g, EXIT_REASON_RDMSR, l2_rdmsr_insn,
		   "L2 RDMSR 0x174 with the MSR bitmap in L0 memory exits to L1");
	run_with_bitmaps(l2_rdmsr, l0a, l0b, l0m, MSR_STAR);
	check_exit(&g, EXIT_REASON_RDMSR, l2_rdmsr_insn,
		   "L2 RDMSR 0xc0000081 (high MSR range) with the MSR bitmap in L0 memory exits to L1");
	run_with_bitmaps(l2_in80, l0a, l0b, l0m, 0);
	if (check_exit(&g, EXIT_REASON_IO, l2_in80_insn,
		       "L2 IN from port 0x80 with I/O bitmap A in L0 memory exits to L1"))
		check_io_exit(0x80);
	run_with_bitmaps(l2_in9000, l0a, l0b, l0m, 0);
	if (check_exit(&g, EXIT_REASON_IO, l2_in9000_insn,
		       "L2 IN from port 0x9000 with I/O bitmap B in L0 memory exits to L1"))
		check_io_exit(0x9000);
	/* The same bitmaps aimed at MMIO and the flash. */
	run_with_bitmaps(l2_in80, APIC_MMIO_PAGE, FLASH_PAGE, APIC_MMIO_PAGE, 0);
	check_exit(&g, EXIT_REASON_IO, l2_in80_insn,
		   "L2 IN from port 0x80 with I/O bitmap A at the local APIC page exits to L1");
	run_with_bitmaps(l2_rdmsr, APIC_MMIO_PAGE, FLASH_PAGE, FLASH_PAGE, MSR_IA32_SYSENTER_CS);
	check_exit(&g, EXIT_REASON_RDMSR, l2_rdmsr_insn,
		   "L2 RDMSR 0x174 with the MSR bitmap at the firmware flash exits to L1");

	/* L2 rewrites L1's I/O bitmap while it runs (it shares L1's memory). The
	 * CPU reads the bitmap at the access (real CPUs and Bochs do; nestvisor
	 * decides L2's I/O exits on L1's bitmap as it is then), so L2's next I/O
	 * follows the change in both directions. */
	flip_in80(ia, ib, 1u << (0x80 % 8), 0, false, "clears");
	flip_in80(ia, ib, 0, 1u << (0x80 % 8), true, "sets");

	/* L1 changes its MSR bitmap between two entries without any VMWRITE: the
	 * second entry follows the new bits (nestvisor merges L1's page again
	 * when it was written since: EPT01 write-protects it to notice). */
	memset(&io_a, 0, sizeof(io_a));
	memset(&msr_bitmap, 0, sizeof(msr_bitmap));
	if (run_with_bitmaps(l2_rdmsr, ia, ib, mb, MSR_IA32_SYSENTER_CS)) {
		check_exit(&g, EXIT_REASON_VMCALL, NULL,
			   "MSR bitmap, entry 1: read bit of 0x174 clear: L2 RDMSR 0x174 does not exit");
		((uint8_t *)&msr_bitmap)[MSR_IA32_SYSENTER_CS / 8] = 1u << (MSR_IA32_SYSENTER_CS % 8);
		run_with_bitmaps(l2_rdmsr, ia, ib, mb, MSR_IA32_SYSENTER_CS);
		check_exit(&g, EXIT_REASON_RDMSR, NULL,
			   "MSR bitmap, entry 2: L1 set the bit in its page: L2 RDMSR 0x174 exits to L1");
		((uint8_t *)&msr_bitmap)[MSR_IA32_SYSENTER_CS / 8] = 0;
		run_with_bitmaps(l2_rdmsr, ia, ib, mb, MSR_IA32_SYSENTER_CS);
		check_exit(&g, EXIT_REASON_VMCALL, NULL,
			   "MSR bitmap, entry 3: L1 cleared the bit again: L2 RDMSR 0x174 does not exit");
	}
}

/* L2 writes `now` over port 0x80's byte of L1's I/O bitmap A (which holds
 * `before`), then executes IN 0x80: it exits to L1 iff `exits`. */
static void flip_in80(uint64_t ia, uint64_t ib, uint8_t before, uint8_t now, bool exits,
		      const char *verb)
{
	memset(&io_a, 0, sizeof(io_a));
	((uint8_t *)&io_a)[0x80 / 8] = before;
	l2_init(&g, l2_flip_in80);
	if (!l2_set_ctl(VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS))
		return;
	vmw(VMCS_IO_BITMAP_A, ia);
	vmw(VMCS_IO_BITMAP_B, ib);
	g.regs.rbx = (uintptr_t)&io_a + 0x80 / 8;
	g.regs.rcx = now;
	l2_run(&g);
	if (exits) {
		if (check_exit(&g, EXIT_REASON_IO, l2_flip_in80_insn,
			       "L2 %s port 0x80's bit in L1's I/O bitmap, then IN 0x80: exits to L1",
			       verb))
			check_io_exit(0x80);
	} else {
		check_exit(&g, EXIT_REASON_VMCALL, l2_flip_in80_done,
			   "L2 %s port 0x80's bit in L1's I/O bitmap, then IN 0x80: does not exit",
			   verb);
	}
	report(((uint8_t *)&io_a)[0x80 / 8] == now,
	       "... L2's write reached L1's bitmap (byte 0x%02x)", ((uint8_t *)&io_a)[0x80 / 8]);
}

/* 26.8 "VM-Entry Failures During or After Loading Guest State": a VM exit to
 * HOST_RIP with the reason's bit 31 set and the given qualification. */
static void check_entry_failure(uint32_t reason, uint64_t qual, const char *what)
{
	l2_run(&g);
	if (check_exit(&g, reason | EXIT_REASON_ENTRY_FAILURE, NULL, "VMLAUNCH with %s", what))
		report(g.exit.qual == qual, "... exit qualification %llu (got 0x%llx)", U64(qual),
		       U64(g.exit.qual));
	report(current_vmcs() == region_pa(g.vmcs), "... L1's current VMCS is unchanged (got 0x%llx)",
	       U64(current_vmcs()));
}


static void msr_list_and_link_cases(void)
{
	printf("vmxhostile: --- VM-entry MSR-load list and VMCS link pointer in L0 memory ---\n");
	l2_init(&g, l2_vmcall_only);
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, t.l0);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	check_entry_failure(EXIT_REASON_MSR_LOADING, 1,
			    "the VM-entry MSR-load list (count 1) in L0 memory");

	/* A list whose first entry is L1's RAM and whose second is L0's. */
	if (t.usable_below_l0) {
		struct msr_entry *e = (struct msr_entry *)(uintptr_t)(t.l0 - 16);

		*e = (struct msr_entry){ MSR_IA32_SYSENTER_CS, 0, 0 };
		l2_init(&g, l2_vmcall_only);
		vmw(VMCS_ENTRY_MSR_LOAD_ADDR, t.l0 - 16);
		vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 2);
		check_entry_failure(EXIT_REASON_MSR_LOADING, 2,
				    "a VM-entry MSR-load list whose 2nd entry is in L0 memory");
	} else {
		report_skip("MSR-load list straddling into L0 memory: 0x%llx is not usable RAM",
			    U64(t.l0 - 16));
	}

	for (unsigned i = 0; i < 4; i++) {
		char what[96];

		l2_init(&g, l2_vmcall_only);
		vmw(VMCS_VMCS_LINK_POINTER, bad[i].pa);
		nv_snprintf(what, sizeof(what), "the VMCS link pointer %s (0x%llx)", bad[i].what,
			    U64(bad[i].pa));
		check_entry_failure(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_LINK_PTR, what);
	}
}

/* The most entries an MSR list may have (SDM Vol. 3D, A.6): 512 x (MISC[27:25] + 1). */
#define MSR_LIST_MAX_ENTRIES (512u * 8u)
static struct msr_entry long_list[MSR_LIST_MAX_ENTRIES + 1] __attribute__((aligned(16)));

/*
 * IA32_APIC_BASE is guarded: its page overlays memory for every access of the
 * CPU, L0's too. A base over L0 memory is refused (#GP), directly and in an
 * MSR-load list; VMCS12's MSR-load lists are capped at IA32_VMX_MISC's
 * recommended maximum (nestvisor fails the entry past it, as KVM does).
 */
static void apic_base_and_list_cap_cases(void)
{
	uint64_t apic_base = 0, after = 0, misc = 0;
	uint32_t max;
	int v;

	printf("vmxhostile: --- IA32_APIC_BASE over L0 memory; MSR-list length ---\n");
	rdmsr_checked(MSR_IA32_APIC_BASE, &apic_base);
	v = wrmsr_checked(MSR_IA32_APIC_BASE, t.l0 | (apic_base & 0xfff));
	rdmsr_checked(MSR_IA32_APIC_BASE, &after);
	report(v == VEC_GP && after == apic_base,
	       "WRMSR IA32_APIC_BASE with its page over L0 memory (0x%llx) -> #GP, base unchanged "
	       "(%s, 0x%llx)", U64(t.l0), exception_name(v), U64(after));
	v = wrmsr_checked(MSR_IA32_APIC_BASE, apic_base);
	report(v == NO_EXCEPTION, "WRMSR IA32_APIC_BASE with its own value -> no fault (%s)",
	       exception_name(v));

	long_list[0] = (struct msr_entry){ MSR_IA32_APIC_BASE, 0, t.l0 | (apic_base & 0xfff) };
	l2_init(&g, l2_vmcall_only);
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)long_list);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	check_entry_failure(EXIT_REASON_MSR_LOADING, 1,
			    "a VM-entry MSR-load list moving IA32_APIC_BASE over L0 memory");
	rdmsr_checked(MSR_IA32_APIC_BASE, &after);
	report(after == apic_base, "... IA32_APIC_BASE unchanged (0x%llx)", U64(after));

	rdmsr_checked(MSR_IA32_VMX_MISC, &misc);
	max = 512u * (uint32_t)(((misc >> 25) & 7) + 1);
	for (uint32_t i = 0; i <= max; i++)
		long_list[i] = (struct msr_entry){ MSR_IA32_SYSENTER_CS, 0, 0 };
	l2_init(&g, l2_vmcall_only);
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)long_list);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, max);
	l2_run(&g);
	check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_only,
		   "a VM-entry MSR-load list of the recommended maximum (MISC: 512 x (N+1)) loads");
	l2_init(&g, l2_vmcall_only);
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)long_list);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, max + 1);
	check_entry_failure(EXIT_REASON_MSR_LOADING, max + 1,
			    "a VM-entry MSR-load list one entry longer than the maximum");
	l2_init(&g, l2_vmcall_only);
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)long_list);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 0xffffffffu);
	check_entry_failure(EXIT_REASON_MSR_LOADING, max + 1,
			    "a VM-entry MSR-load list of 2^32 - 1 entries (fails at once, no stall)");
}

/* ---- NMIs are L1's: never L0's panic, each delivered once (issue 8) ---------- */

#define APIC_BASE_MMIO  0xFEE00000u
#define APIC_ID         0x020u
#define APIC_ICR_LO     0x300u
#define APIC_ICR_HI     0x310u
#define ICR_NMI         (4u << 8)       /* delivery mode NMI (SDM Vol. 3A, 11.6.1) */
#define ICR_ASSERT      (1u << 14)
#define ICR_PENDING     (1u << 12)
#define IOAPIC_REGSEL   0xFEC00000u
#define IOAPIC_WIN      0xFEC00010u
#define PIT_GSI         2u              /* ISA IRQ 0 (the PIT) on the usual override */

static volatile uint32_t nmis;

static void count_nmi(void)
{
	nmis++;
}

static uint32_t apic_id(void)
{
	return mmio_read32(APIC_BASE_MMIO + APIC_ID) >> 24;
}

/* One NMI to this CPU through the local APIC's ICR; waits for it. */
static bool self_nmi(void)
{
	uint32_t before = nmis;

	mmio_write32(APIC_BASE_MMIO + APIC_ICR_HI, apic_id() << 24);
	mmio_write32(APIC_BASE_MMIO + APIC_ICR_LO, ICR_ASSERT | ICR_NMI);
	for (unsigned spin = 0; spin < 100000 && nmis == before; spin++)
		asm volatile("pause");
	return nmis == before + 1;
}

/* I/O APIC redirection entry of a GSI: mask, or NMI to this CPU (SDM-style 82093AA layout). */
static void ioapic_route_nmi(uint32_t gsi, bool on)
{
	mmio_write32(IOAPIC_REGSEL, 0x10 + 2 * gsi + 1);
	mmio_write32(IOAPIC_WIN, apic_id() << 24);
	mmio_write32(IOAPIC_REGSEL, 0x10 + 2 * gsi);
	mmio_write32(IOAPIC_WIN, on ? ICR_NMI : (1u << 16));
}

static void nmi_cases(void)
{
	uint32_t exits_done = 0, n;

	printf("vmxhostile: --- NMIs: L1's, delivered once, never L0's panic ---\n");
	nmi_hook = count_nmi;
	nmis = 0;
	for (unsigned i = 0; i < 10; i++) {
		if (!self_nmi())
			break;
		(void)cpuid(0);  /* an exit between NMIs */
	}
	report(nmis == 10, "10 self-NMIs through the local APIC, each delivered to L1 once "
	       "(got %u)", nmis);

	/* The PIT, routed to NMI, fires at any point: in L1, in L0 during exits. */
	nmis = 0;
	outb(0x43, 0x34);               /* channel 0, lo/hi byte, mode 2 (rate generator) */
	outb(0x40, 0x00);
	outb(0x40, 0x04);               /* divisor 1024 */
	ioapic_route_nmi(PIT_GSI, true);
	for (unsigned i = 0; i < 20000; i++, exits_done++)
		(void)cpuid(0);
	ioapic_route_nmi(PIT_GSI, false);
	outb(0x43, 0x30);               /* channel 0 back to one-shot, stopped */
	n = nmis;
	report(n > 0, "a PIT routed to NMI during %u exits: %u NMIs reached L1, L0 went on",
	       exits_done, n);
	printf("vmxhostile: NMIs received in all: %u\n", 10 + n);
	nmi_hook = 0;
}

/* ---- Devices that reach L0 memory or SMM (issue 8) ---------------------------- */

static void device_cases(void)
{
	uint32_t id, v, old;
	uint8_t b, pam;

	printf("vmxhostile: --- devices: bus mastering, PAM/SMRAM, APMC_EN, BARs ---\n");
	/* PIIX3/4 IDE (00:01.1): the bus master the issue used to write L0 to disk. */
	id = cfg_read32(1, 1, 0);
	if (report(id == 0x70108086u || id == 0x71118086u, "00:01.1 is the PIIX IDE function "
		   "(id 0x%08x)", id)) {
		cfg_write16(1, 1, 0x04, (uint16_t)(cfg_read32(1, 1, 0x04) | 0x5));
		v = cfg_read32(1, 1, 0x04);
		report((v & 1) && !(v & 4), "IDE: command register I/O enable kept, bus master "
		       "enable refused (0x%04x)", v & 0xffff);
	}
	/* i440FX host bridge: PAM0 (0x59) and SMRAM (0x72) keep their values. */
	if (report(cfg_read32(0, 0, 0) == 0x12378086u, "00:00.0 is the i440FX host bridge")) {
		pam = cfg_read8(0, 0, 0x59);
		cfg_write8(0, 0, 0x59, (uint8_t)(pam ^ 0x33));
		b = cfg_read8(0, 0, 0x59);
		report(b == pam, "i440FX PAM0 write refused (0x%02x, before 0x%02x)", b, pam);
		old = cfg_read8(0, 0, 0x72);
		cfg_write8(0, 0, 0x72, 0x4a);   /* D_OPEN | G_SMRAME | C_BASE_SEG */
		b = cfg_read8(0, 0, 0x72);
		report(b == old, "i440FX SMRAM write refused (0x%02x, before 0x%02x)", b, (unsigned)old);
	}
	/* PIIX4 PM (00:01.3): APMC_EN (DEVACTB bit 25) stays off; port 0xB2 is dropped. */
	if (report(cfg_read32(1, 3, 0) == 0x71138086u, "00:01.3 is the PIIX4 power management")) {
		cfg_write32(1, 3, 0x58, cfg_read32(1, 3, 0x58) | (1u << 25));
		v = cfg_read32(1, 3, 0x58);
		report(!(v & (1u << 25)), "PIIX4 DEVACTB: APMC_EN refused (0x%08x)", v);
		outb(0xb2, 0x00);
		report(true, "a write to the APM control port 0xB2 came back (no SMI)");
	}
	/* A memory BAR over L0 memory keeps its address; sizing and restoring work. */
	unsigned tried = 0;

	for (unsigned dev = 0; dev < 32 && !tried; dev++) {
		uint32_t bar;

		if ((cfg_read32(dev, 0, 0) & 0xffff) == 0xffff)
			continue;
		bar = cfg_read32(dev, 0, 0x10);
		if ((bar & 1) || !(bar & 0xfffffff0u))
			continue;
		cfg_write32(dev, 0, 0x10, (uint32_t)t.l0);
		v = cfg_read32(dev, 0, 0x10);
		report(v == bar, "device 00:%02x.0 BAR0 moved over L0 memory (0x%llx): refused "
		       "(0x%08x, before 0x%08x)", dev, U64(t.l0), v, bar);
		cfg_write32(dev, 0, 0x10, 0xffffffffu);
		v = cfg_read32(dev, 0, 0x10);
		cfg_write32(dev, 0, 0x10, bar);
		report(v != bar && cfg_read32(dev, 0, 0x10) == bar,
		       "... BAR sizing (size mask 0x%08x) and restoring work", v);
		tried++;
	}
	if (!tried)
		report_skip("no function 0 on bus 0 has a memory BAR0 to move");
}

/* mode=init-in-root: INIT is blocked in VMX root operation (SDM Vol. 3C, 24.8). */
static void mode_init_in_root(void)
{
	mmio_write32(APIC_BASE_MMIO + APIC_ICR_HI, apic_id() << 24);
	mmio_write32(APIC_BASE_MMIO + APIC_ICR_LO, ICR_ASSERT | (5u << 8));   /* INIT */
	for (unsigned spin = 0; spin < 1000; spin++)
		asm volatile("pause");
	(void)cpuid(0);
	report(true, "a self-INIT in VMX root operation is blocked: L1 goes on");
	printf("vmxhostile: mode=init-in-root: VMXOFF now lets the pending INIT through: "
	       "nestvisor must end the run\n");
	vmxoff();
	report(false, "VMXOFF with an INIT pending ends the run (L1 went on)");
}

/* mode=pci-reset: L1 resets the platform through the PIIX reset control register. */
static void mode_pci_reset(void)
{
	printf("vmxhostile: mode=pci-reset: L1 writes 0x06 to port 0xCF9 (hard reset): nestvisor "
	       "must end the run\n");
	outb(0xcf9, 0x06);
	report(false, "the reset through port 0xCF9 ends the run (L1 went on)");
}

/* mode=l2-cli-hlt: L2 halts with nothing that could wake it; L0 must end the run. */
static void mode_l2_cli_hlt(void)
{
	l2_init(&g, l2_cli_hlt);
	printf("vmxhostile: mode=l2-cli-hlt: L2 runs cli; hlt, L1 does not intercept HLT, "
	       "external interrupts, NMIs or the preemption timer: nestvisor must end the run\n");
	l2_run(&g);
	report(false, "L2's cli; hlt ends the run (got: %s, exit reason 0x%x)", res_str(g.entry),
	       g.exit.reason);
}

static void normal_run(void)
{
	struct vmx_res r;

	printf("vmxhostile: --- VMX still works ---\n");
	l2_init(&g, l2_cpuid);
	l2_run(&g);
	check_exit(&g, EXIT_REASON_CPUID, l2_cpuid_insn, "afterwards: L2 CPUID exits to L1");
	l2_skip(&g);
	l2_run(&g);
	check_exit(&g, EXIT_REASON_VMCALL, l2_cpuid_done, "afterwards: VMRESUME, L2 runs to its VMCALL");
	r = vmxoff();
	if (check_res(r, WANT_OK, "afterwards: VMXOFF"))
		vmx_is_on = false;
}

/* ---- The modes that end the run ------------------------------------------ */

static void mode_operand_l0(bool read)
{
	const char *insn = read ? "VMREAD" : "VMWRITE";
	struct vmx_res r;

	region_init(&vmcs_a, caps.revision);
	vmclear(region_pa(&vmcs_a));
	vmptrld(region_pa(&vmcs_a));
	printf("vmxhostile: mode=%s-l0: %s GUEST_RIP %s the memory operand [0x%llx] (L0 memory): "
	       "nestvisor must end the run\n", read ? "vmread" : "vmwrite", insn,
	       read ? "to" : "from", U64(t.l0));
	if (read)
		r = vmread_to(VMCS_GUEST_RIP, (void *)(uintptr_t)t.l0);
	else
		r = vmwrite_from(VMCS_GUEST_RIP, (const void *)(uintptr_t)t.l0);
	report(false, "%s with its memory operand in L0 memory ends the run (got %s, L1 went on)",
	       insn, res_str(r));
}

static void mode_exit_msr_list_l0(bool store)
{
	l2_init(&g, l2_vmcall_only);
	vmw(store ? VMCS_EXIT_MSR_STORE_ADDR : VMCS_EXIT_MSR_LOAD_ADDR, t.l0);
	vmw(store ? VMCS_EXIT_MSR_STORE_COUNT : VMCS_EXIT_MSR_LOAD_COUNT, 1);
	printf("vmxhostile: mode=exit-msr-%s-l0: the VM-exit MSR-%s list (count 1) at 0x%llx "
	       "(L0 memory), L2 exits: VMX abort, nestvisor must end the run\n",
	       store ? "store" : "load", store ? "store" : "load", U64(t.l0));
	l2_run(&g);
	report(false, "the VM exit with the MSR-%s list in L0 memory ends the run (got: %s, "
	       "exit reason 0x%x)", store ? "store" : "load", res_str(g.entry), g.exit.reason);
}

/*
 * mode=exit-msr-load-efer: the VM-exit MSR-load list holds IA32_EFER with LME
 * and LMA clear. The exit has loaded L1's host state (host address-space
 * size 1: CR0.PG = 1, EFER.LME = 1); an entry is loaded as WRMSR would load
 * it, and WRMSR may not change LME while CR0.PG = 1 (SDM Vol. 3A, 4.1.2
 * "Paging-Mode Enabling"): the entry fails, a VMX abort with indicator 4
 * (Vol. 3C, chapter "VM Exits": "Loading MSRs", "VMX Aborts"). An abort
 * shuts the processor down, so bare hardware would stop here too.
 */
static struct { uint32_t index, reserved; uint64_t value; } efer_load[1] __attribute__((aligned(16)));

static void mode_exit_msr_load_efer(void)
{
	uint64_t efer = rdmsr(MSR_IA32_EFER) & ~(uint64_t)(EFER_LME | EFER_LMA);

	l2_init(&g, l2_vmcall_only);
	efer_load[0].index = MSR_IA32_EFER;
	efer_load[0].reserved = 0;
	efer_load[0].value = efer;
	vmw(VMCS_EXIT_MSR_LOAD_ADDR, (uintptr_t)efer_load);
	vmw(VMCS_EXIT_MSR_LOAD_COUNT, 1);
	printf("vmxhostile: mode=exit-msr-load-efer: the VM-exit MSR-load list (count 1) loads "
	       "IA32_EFER 0x%llx (LME = LMA = 0) into a 64-bit host, L2 exits: VMX abort "
	       "(indicator 4), nestvisor must end the run\n", U64(efer));
	l2_run(&g);
	report(false, "the VM exit loading IA32_EFER with LME = 0 under paging ends the run (got: "
	       "%s, exit reason 0x%x, L1's EFER 0x%llx)", res_str(g.entry), g.exit.reason,
	       U64(rdmsr(MSR_IA32_EFER)));
}

/* nestvisor's hypercall (include/nestvisor/hypercall.h): CPUID 0x40000002. */
static struct cpuid_regs hypercall(uint32_t fn, uint64_t rbx, uint64_t rdx)
{
	struct cpuid_regs r;

	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(NV_CPUID_HYPERCALL), "b"(rbx), "c"(fn), "d"(rdx)
		     : "memory");
	return r;
}

static struct nv_acct_snapshot acct_buf;

/* Buffers L1 hands L0 for the counters: only L1's RAM, never past its end. */
static void hypercall_cases(void)
{
	bool on = cpuid(NV_CPUID_INFO).ebx & NV_INFO_ACCOUNTING;
	uint64_t good = (uintptr_t)&acct_buf, straddle = t.ram_top - sizeof(acct_buf) / 2;
	struct cpuid_regs r;
	uint32_t want_bad = on ? NV_HC_EFAULT : NV_HC_EOFF;

	printf("vmxhostile: --- hypercall buffers that are not L1's RAM (accounting %s) ---\n",
	       on ? "on" : "off");
	report(cpuid(NV_CPUID_BASE).eax == NV_CPUID_MAX_LEAF, "CPUID 0x40000000: max leaf 0x%x",
	       NV_CPUID_MAX_LEAF);
	for (unsigned i = 0; i < 4; i++) {
		r = hypercall(NV_HC_ACCT_READ, bad[i].pa, sizeof(acct_buf));
		report(r.eax == want_bad, "ACCT_READ into a buffer %s (0x%llx) -> status %u (got %u)",
		       bad[i].what, U64(bad[i].pa), want_bad, r.eax);
	}
	r = hypercall(NV_HC_ACCT_READ, straddle, sizeof(acct_buf));
	report(r.eax == want_bad, "ACCT_READ into a buffer running past the end of RAM (0x%llx) -> "
	       "status %u (got %u)", U64(straddle), want_bad, r.eax);
	memset(&acct_buf, 0xAA, sizeof(acct_buf));
	r = hypercall(NV_HC_ACCT_READ, good, sizeof(acct_buf) - 1);
	report(r.eax == (on ? NV_HC_EINVAL : NV_HC_EOFF) && acct_buf.version == 0xAAAAAAAAu,
	       "ACCT_READ with a buffer one byte too small -> status %u, buffer untouched (got %u)",
	       on ? NV_HC_EINVAL : NV_HC_EOFF, r.eax);
	r = hypercall(NV_HC_ACCT_READ, good, sizeof(acct_buf));
	if (on)
		report(r.eax == NV_HC_OK && r.ebx == sizeof(acct_buf) &&
			       acct_buf.version == NV_ACCT_VERSION && acct_buf.size == sizeof(acct_buf),
		       "ACCT_READ into L1's RAM -> OK, %u bytes, version %u (got status %u, %u bytes, "
		       "version %u)", (unsigned)sizeof(acct_buf), NV_ACCT_VERSION, r.eax, r.ebx,
		       acct_buf.version);
	else
		report(r.eax == NV_HC_EOFF && acct_buf.version == 0xAAAAAAAAu,
		       "accounting off: ACCT_READ -> NV_HC_EOFF, buffer untouched (got %u)", r.eax);
	r = hypercall(NV_HC_ACCT_RESET, 0, 0);
	report(r.eax == (on ? NV_HC_OK : NV_HC_EOFF), "ACCT_RESET -> status %u (got %u)",
	       on ? NV_HC_OK : NV_HC_EOFF, r.eax);
	r = hypercall(0x7fffffff, 0, 0);
	report(r.eax == NV_HC_ENOSYS, "an unknown hypercall -> NV_HC_ENOSYS (got %u)", r.eax);
}

int main(struct multiboot_info *mbi)
{
	const char *cmdline = mbi_cmdline(mbi);
	unsigned failures;

	printf("vmxhostile: VMX operations on memory that is not L1's (64-bit L1)\n");
	if (!detect_environment("vmxhostile")) {
		report(false, "CPUID 0x40000000 signature \"nestvisor\": these expectations are "
		       "nestvisor's, not the architecture's; run this kernel under nestvisor only");
		report_summary();
		return GUEST_EXIT_FAIL;
	}
	quiesce_interrupts();
	read_descriptor_tables();
	enable_caches();
	if (!report(find_targets(mbi), "the memory map shows a reserved range of L0 memory "
		    "(at or above 1 MiB, below the top of usable RAM, at least 16 KiB)") ||
	    !report(caps_read(), "the VMX capability MSRs can be read") ||
	    !report(feature_control_enable(), "IA32_FEATURE_CONTROL allows VMXON")) {
		report_summary();
		return GUEST_EXIT_FAIL;
	}
	fix_control_registers();
	region_init(&vmxon_region, caps.revision);

	if (has_word(cmdline, "mode=pci-reset")) {
		mode_pci_reset();
	} else if (has_word(cmdline, "mode=vmread-l0") || has_word(cmdline, "mode=vmwrite-l0") ||
	    has_word(cmdline, "mode=exit-msr-store-l0") || has_word(cmdline, "mode=exit-msr-load-l0") ||
	    has_word(cmdline, "mode=l2-cli-hlt") || has_word(cmdline, "mode=init-in-root") ||
	    has_word(cmdline, "mode=exit-msr-load-efer")) {
		if (vmx_ensure_on()) {
			if (has_word(cmdline, "mode=l2-cli-hlt"))
				mode_l2_cli_hlt();
			else if (has_word(cmdline, "mode=exit-msr-load-efer"))
				mode_exit_msr_load_efer();
			else if (has_word(cmdline, "mode=init-in-root"))
				mode_init_in_root();
			else if (has_word(cmdline, "mode=vmread-l0") || has_word(cmdline, "mode=vmwrite-l0"))
				mode_operand_l0(has_word(cmdline, "mode=vmread-l0"));
			else
				mode_exit_msr_list_l0(has_word(cmdline, "mode=exit-msr-store-l0"));
		}
	} else {
		hypercall_cases();
		nmi_cases();
		device_cases();
		if (vmxon_cases()) {
			vmcs_pointer_cases();
			bitmap_cases();
			msr_list_and_link_cases();
			apic_base_and_list_cap_cases();
			fuzz_cases(cmdline);
			normal_run();
		}
	}
	failures = report_summary();
	return failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
