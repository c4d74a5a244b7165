/* SPDX-License-Identifier: MIT */
/*
 * L2 running: what exits L1 gets and does not get. SDM Vol. 3C, 26.1 "Instructions
 * That Cause VM Exits Unconditionally" / "Conditionally" (chapter 27 "VMX
 * Non-Root Operation", 27.1), 25.6 for the controls, 28.2 "Recording VM-Exit
 * Information" for the qualifications (Tables 28-1 to 28-5) and instruction
 * length/information. Every case checks reason, guest RIP, qualification and
 * length of the exit it asked for, then that L2 reaches its closing VMCALL with
 * no other exit; cases where nothing may exit check what L2 observed.
 */
#include "vmx.h"

#define MSR_IA32_TSC 0x10
/* Cycles a CPU may count between L2's RDTSC and the VMCALL exit right after
 * it (one instruction and the exit; 64 leaves room for real hardware). */
#define TSC_AT_EXIT_SLACK 64u

#define UNMAPPED_ADDR 0x100000000ull    /* the identity map covers [0, 4 GiB) only */
#define TSC_TEST_OFFSET (1ull << 40)
#define COM1_SCRATCH  0x3FF

/* 25.6.4 "I/O-Bitmap Addresses", 25.6.9 "MSR-Bitmap Address". */
static struct vmx_region io_bitmap_a, io_bitmap_b, msr_bitmap;
#define MSR_BITMAP_READ_LOW   0
#define MSR_BITMAP_READ_HIGH  1024
#define MSR_BITMAP_WRITE_LOW  2048
#define MSR_BITMAP_WRITE_HIGH 3072

static struct l2 g;

static void set_bit(uint8_t *map, unsigned bit)
{
	map[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static void io_bitmaps(void)
{
	memset(&io_bitmap_a, 0, sizeof(io_bitmap_a));
	memset(&io_bitmap_b, 0, sizeof(io_bitmap_b));
	vmw(VMCS_IO_BITMAP_A, region_pa(&io_bitmap_a));
	vmw(VMCS_IO_BITMAP_B, region_pa(&io_bitmap_b));
}

static void io_intercept(unsigned port)
{
	set_bit(port < 0x8000 ? io_bitmap_a.bytes : io_bitmap_b.bytes, port & 0x7FFF);
}

static void msr_bitmaps(void)
{
	memset(&msr_bitmap, 0, sizeof(msr_bitmap));
	vmw(VMCS_MSR_BITMAP, region_pa(&msr_bitmap));
}

static void msr_intercept(uint32_t msr, bool write)
{
	unsigned base = msr >= 0xC0000000u ? (write ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_READ_HIGH)
					   : (write ? MSR_BITMAP_WRITE_LOW : MSR_BITMAP_READ_LOW);

	set_bit(msr_bitmap.bytes + base, msr & 0x1FFF);
}

/* Starts L2 at entry with the given control bits; false (reported SKIP) if
 * the capabilities do not allow them. */
static bool start(const void *entry, uint32_t field, uint32_t bits, const char *what)
{
	l2_init(&g, entry);
	if (field && !l2_set_ctl(field, bits)) {
		report_skip("%s: control 0x%x of VMCS field 0x%x not allowed", what, bits, field);
		return false;
	}
	return true;
}

/* 28.2.5: the instruction length is defined for instruction exits and
 * software exceptions, not for faults such as #UD or #PF. */
#define LEN_ANY 0xFFFFFFFFu

/* Runs L2 to the next exit: it must be `reason` at `rip`, with the exit
 * qualification (bits in qual_mask) and instruction length given; then
 * L1 skips the instruction. */
static bool expect(uint32_t reason, const void *rip, uint64_t qual, uint64_t qual_mask,
		   uint32_t len, const char *what)
{
	l2_run(&g);
	if (!check_exit(&g, reason, rip, "%s", what))
		return false;
	if (len == LEN_ANY)
		report((g.exit.qual & qual_mask) == qual, "... %s: exit qualification 0x%llx (got 0x%llx)",
		       what, U64(qual), U64(g.exit.qual));
	else
		report((g.exit.qual & qual_mask) == qual && g.exit.insn_len == len,
		       "... %s: exit qualification 0x%llx, instruction length %u (got 0x%llx, %u)",
		       what, U64(qual), len, U64(g.exit.qual), g.exit.insn_len);
	l2_skip(&g);
	return true;
}

/* The closing VMCALL: L2 ran to its end with no other exit. */
static bool expect_done(const void *done, const char *what)
{
	l2_run(&g);
	return check_exit(&g, EXIT_REASON_VMCALL, done, "%s: then nothing exits until the VMCALL",
			  what);
}

static void unconditional(void)
{
	start(l2_vmcall_only, 0, 0, "VMCALL");
	expect(EXIT_REASON_VMCALL, l2_vmcall_only, 0, ~0ull, 3, "VMCALL in L2 (unconditional)");

	start(l2_cpuid, 0, 0, "CPUID");
	if (expect(EXIT_REASON_CPUID, l2_cpuid_insn, 0, ~0ull, 2, "CPUID in L2 (unconditional)"))
		report(g.regs.rax == 0 && g.regs.rcx == 0,
		       "... CPUID: L1 sees L2's EAX and ECX (leaf 0, subleaf 0; got 0x%llx 0x%llx)",
		       U64(g.regs.rax), U64(g.regs.rcx));
	expect_done(l2_cpuid_done, "CPUID");

	start(l2_invd, 0, 0, "INVD");
	expect(EXIT_REASON_INVD, l2_invd_insn, 0, ~0ull, 2, "INVD in L2 (unconditional)");
	expect_done(l2_invd_done, "INVD");

	/* VMX instructions in L2 (no VMCS shadowing): 28.2.5 instruction info. */
	start(l2_vmread, 0, 0, "VMREAD");
	g.regs.rax = VMCS_GUEST_RIP;
	if (expect(EXIT_REASON_VMREAD, l2_vmread_insn, 0, 0, 3, "VMREAD rbx, rax in L2")) {
		uint32_t i = g.exit.insn_info;

		report((i & INSN_INFO_REG_OPERAND) && INSN_INFO_REG1(i) == GPR_RBX &&
		       INSN_INFO_REG2(i) == GPR_RAX,
		       "... VMREAD: instruction info: register operand, reg1 RBX, reg2 RAX (got 0x%08x)", i);
	}
	expect_done(l2_vmread_done, "VMREAD");

	start(l2_vmptrld, 0, 0, "VMPTRLD");
	if (expect(EXIT_REASON_VMPTRLD, l2_vmptrld_insn, 0x10, ~0ull, 5,
		   "VMPTRLD [rbx + rcx*8 + 0x10] in L2 (qualification = displacement)")) {
		uint32_t i = g.exit.insn_info;

		report(INSN_INFO_SCALE(i) == 3 && INSN_INFO_ADDR_SIZE(i) == 2 &&
		       INSN_INFO_SEG(i) == SEG_DS && INSN_INFO_INDEX(i) == GPR_RCX &&
		       !(i & INSN_INFO_INDEX_INVALID) && INSN_INFO_BASE(i) == GPR_RBX &&
		       !(i & INSN_INFO_BASE_INVALID),
		       "... VMPTRLD: instruction info: scale 8, 64-bit address, DS, index RCX, base RBX "
		       "(got 0x%08x)", i);
	}
	expect_done(l2_vmptrld_done, "VMPTRLD");
}

static void hlt(void)
{
	if (start(l2_hlt, VMCS_PROC_CONTROLS, PROC_HLT_EXITING, "HLT exiting")) {
		expect(EXIT_REASON_HLT, l2_hlt_insn, 0, ~0ull, 1, "HLT in L2 with HLT exiting");
		report(g.exit.activity == ACTIVITY_ACTIVE,
		       "... HLT exiting: activity state active (got %u)", g.exit.activity);
		expect_done(l2_hlt_done, "HLT exiting");
	}
	/* Without HLT exiting L2 halts (IF = 0); the preemption timer ends it. */
	if (start(l2_hlt, VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER, "HLT without HLT exiting")) {
		vmw(VMCS_PREEMPTION_TIMER_VALUE, 50000);
		l2_run(&g);
		if (check_exit(&g, EXIT_REASON_PREEMPT_TIMER, l2_hlt_done,
			       "HLT in L2 without HLT exiting: L2 halts, the preemption timer exits"))
			report(g.exit.activity == ACTIVITY_HLT,
			       "... HLT without exiting: activity state HLT (1) saved (got %u)",
			       g.exit.activity);
	}
}

static void io(void)
{
	uint8_t saved = inb(COM1_SCRATCH);

	if (start(l2_io, VMCS_PROC_CONTROLS, PROC_UNCOND_IO_EXITING, "unconditional I/O exiting")) {
		expect(EXIT_REASON_IO, l2_io_in_dx, 0x3FFu << 16 | IO_QUAL_IN, ~0ull, 1,
		       "IN AL, DX (port 0x3ff) with unconditional I/O exiting");
		expect(EXIT_REASON_IO, l2_io_out_imm, 0x80u << 16 | IO_QUAL_IMM | (2 - 1), ~0ull, 3,
		       "OUT 0x80, AX with unconditional I/O exiting");
		expect(EXIT_REASON_IO, l2_io_out_dx32, 0x80u << 16 | (4 - 1), ~0ull, 1,
		       "OUT DX, EAX (port 0x80) with unconditional I/O exiting");
		expect_done(l2_io_done, "unconditional I/O exiting");
	}
	if (start(l2_in3ff, VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS, "I/O bitmaps")) {
		io_bitmaps();
		io_intercept(COM1_SCRATCH);
		expect(EXIT_REASON_IO, l2_in3ff_insn, 0x3FFu << 16 | IO_QUAL_IN, ~0ull, 1,
		       "IN AL, DX (port 0x3ff) with its I/O-bitmap A bit set");
		expect_done(l2_in3ff_done, "I/O bitmap A bit set");
	}
	if (start(l2_in3ff, VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING,
		  "I/O bitmaps")) {
		io_bitmaps();
		outb(COM1_SCRATCH, 0x5A);
		if (expect_done(l2_in3ff_done, "IN AL, DX (port 0x3ff) with its bitmap bit clear "
				"(unconditional I/O exiting ignored with bitmaps)"))
			report((g.regs.rax & 0xFF) == 0x5A,
			       "... L2 read the device: COM1 scratch register 0x5a (got 0x%02llx)",
			       U64(g.regs.rax & 0xFF));
	}
	if (start(l2_in9000, VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS, "I/O bitmaps")) {
		io_bitmaps();
		io_intercept(0x9000);
		expect(EXIT_REASON_IO, l2_in9000_insn, 0x9000u << 16 | IO_QUAL_IN, ~0ull, 1,
		       "IN AL, DX (port 0x9000) with its I/O-bitmap B bit set");
		expect_done(l2_in9000_done, "I/O bitmap B bit set");
	}
	if (start(l2_in9000, VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS, "I/O bitmaps")) {
		io_bitmaps();
		expect_done(l2_in9000_done, "IN AL, DX (port 0x9000) with its bitmap B bit clear");
	}
	if (start(l2_inw_7fff, VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS, "I/O bitmaps")) {
		io_bitmaps();
		io_intercept(0x8000);
		expect(EXIT_REASON_IO, l2_inw_7fff_insn, 0x7FFFu << 16 | IO_QUAL_IN | (2 - 1), ~0ull, 2,
		       "IN AX, DX (port 0x7fff, 2 bytes) with only port 0x8000's bit (bitmap B) set");
		expect_done(l2_inw_7fff_done, "I/O access straddling bitmaps A and B");
	}
	outb(COM1_SCRATCH, saved);
}

static void msrs(void)
{
	if (start(l2_rdmsr, 0, 0, "RDMSR")) {
		g.regs.rcx = MSR_IA32_SYSENTER_CS;
		if (expect(EXIT_REASON_RDMSR, l2_rdmsr_insn, 0, ~0ull, 2,
			   "RDMSR 0x174 without MSR bitmaps (every RDMSR exits)"))
			report(g.regs.rcx == MSR_IA32_SYSENTER_CS, "... RDMSR: L2's ECX is 0x174 (got 0x%llx)",
			       U64(g.regs.rcx));
		expect_done(l2_rdmsr_done, "RDMSR without MSR bitmaps");
	}
	if (start(l2_rdmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR bitmaps")) {
		msr_bitmaps();
		msr_intercept(MSR_IA32_SYSENTER_CS, false);
		g.regs.rcx = MSR_IA32_SYSENTER_CS;
		expect(EXIT_REASON_RDMSR, l2_rdmsr_insn, 0, ~0ull, 2, "RDMSR 0x174 with its read bit set");
		expect_done(l2_rdmsr_done, "RDMSR read bit set");
	}
	if (start(l2_rdmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR bitmaps")) {
		msr_bitmaps();
		msr_intercept(MSR_IA32_SYSENTER_CS, true);      /* the write bit does not matter */
		vmw(VMCS_GUEST_SYSENTER_CS, 0x1234);
		g.regs.rcx = MSR_IA32_SYSENTER_CS;
		if (expect_done(l2_rdmsr_done, "RDMSR 0x174 with its read bit clear"))
			report(g.regs.rax == 0x1234 && g.regs.rdx == 0,
			       "... L2 read IA32_SYSENTER_CS = the guest-state field 0x1234 (got "
			       "edx:eax 0x%llx:0x%llx)", U64(g.regs.rdx), U64(g.regs.rax));
	}
	if (start(l2_wrmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR bitmaps")) {
		uint64_t host = rdmsr(MSR_IA32_SYSENTER_CS);

		msr_bitmaps();
		msr_intercept(MSR_IA32_SYSENTER_CS, false);     /* the read bit does not matter */
		g.regs.rcx = MSR_IA32_SYSENTER_CS;
		g.regs.rax = 0x4321;
		g.regs.rdx = 0;
		if (expect_done(l2_wrmsr_done, "WRMSR 0x174 with its write bit clear"))
			report(vmr(VMCS_GUEST_SYSENTER_CS) == 0x4321 && rdmsr(MSR_IA32_SYSENTER_CS) == host,
			       "... the exit saved L2's 0x4321 in the guest field and loaded L1's "
			       "0x%llx (got 0x%llx, 0x%llx)", U64(host), U64(vmr(VMCS_GUEST_SYSENTER_CS)),
			       U64(rdmsr(MSR_IA32_SYSENTER_CS)));
	}
	if (start(l2_wrmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR bitmaps")) {
		msr_bitmaps();
		msr_intercept(MSR_IA32_SYSENTER_CS, true);
		g.regs.rcx = MSR_IA32_SYSENTER_CS;
		g.regs.rax = 0x4321;
		expect(EXIT_REASON_WRMSR, l2_wrmsr_insn, 0, ~0ull, 2, "WRMSR 0x174 with its write bit set");
		expect_done(l2_wrmsr_done, "WRMSR write bit set");
	}
	if (start(l2_rdmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR bitmaps")) {
		msr_bitmaps();
		msr_intercept(MSR_KERNEL_GS_BASE, false);
		g.regs.rcx = MSR_KERNEL_GS_BASE;
		expect(EXIT_REASON_RDMSR, l2_rdmsr_insn, 0, ~0ull, 2,
		       "RDMSR 0xc0000102 with its read bit set (high MSR range)");
		expect_done(l2_rdmsr_done, "RDMSR high range");
	}
	if (start(l2_rdmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR bitmaps")) {
		uint64_t kgs = rdmsr(MSR_KERNEL_GS_BASE);

		wrmsr(MSR_KERNEL_GS_BASE, 0x5555000ull);
		msr_bitmaps();
		g.regs.rcx = MSR_KERNEL_GS_BASE;
		if (expect_done(l2_rdmsr_done, "RDMSR 0xc0000102 with its read bit clear"))
			report(g.regs.rax == 0x5555000 && g.regs.rdx == 0,
			       "... L2 read the MSR itself, L1's 0x5555000 (got 0x%llx:0x%llx)",
			       U64(g.regs.rdx), U64(g.regs.rax));
		wrmsr(MSR_KERNEL_GS_BASE, kgs);
	}
	if (start(l2_rdmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR bitmaps")) {
		msr_bitmaps();
		g.regs.rcx = 0x2000;
		expect(EXIT_REASON_RDMSR, l2_rdmsr_insn, 0, ~0ull, 2,
		       "RDMSR 0x2000 (outside both bitmap ranges) with an all-clear bitmap");
		expect_done(l2_rdmsr_done, "RDMSR outside the ranges");
	}
}

/* VM-entry MSR-load, VM-exit MSR-store and MSR-load lists (25.7.2, 25.8.2,
 * 26.4, 28.4, 28.6), on IA32_STAR with bitmaps letting L2 access it. */
static struct { uint32_t index, reserved; uint64_t value; } entry_load[1], exit_store[1],
	exit_load[1] __attribute__((aligned(16)));

static void msr_lists(void)
{
	uint64_t l1_star = rdmsr(MSR_STAR), l2_star = 0x0023001000000000ull;

	if (!start(l2_rdmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR lists"))
		return;
	msr_bitmaps();
	entry_load[0].index = exit_store[0].index = exit_load[0].index = MSR_STAR;
	entry_load[0].reserved = exit_store[0].reserved = exit_load[0].reserved = 0;
	entry_load[0].value = l2_star;
	exit_store[0].value = 0;
	exit_load[0].value = l1_star;
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)entry_load);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	vmw(VMCS_EXIT_MSR_STORE_ADDR, (uintptr_t)exit_store);
	vmw(VMCS_EXIT_MSR_STORE_COUNT, 1);
	vmw(VMCS_EXIT_MSR_LOAD_ADDR, (uintptr_t)exit_load);
	vmw(VMCS_EXIT_MSR_LOAD_COUNT, 1);
	g.regs.rcx = MSR_STAR;
	if (!expect_done(l2_rdmsr_done, "RDMSR IA32_STAR with MSR lists"))
		return;
	report((g.regs.rax | g.regs.rdx << 32) == l2_star,
	       "VM-entry MSR-load list: L2 reads IA32_STAR = 0x%llx (got 0x%llx)", U64(l2_star),
	       U64(g.regs.rax | g.regs.rdx << 32));
	report(exit_store[0].value == l2_star,
	       "VM-exit MSR-store list: stored L2's IA32_STAR 0x%llx (got 0x%llx)", U64(l2_star),
	       U64(exit_store[0].value));
	report(rdmsr(MSR_STAR) == l1_star, "VM-exit MSR-load list: L1's IA32_STAR 0x%llx is back "
	       "(got 0x%llx)", U64(l1_star), U64(rdmsr(MSR_STAR)));
	/* L2 writes it: the store list sees the new value. */
	vmw(VMCS_GUEST_RIP, (uintptr_t)l2_wrmsr);
	g.regs.rcx = MSR_STAR;
	g.regs.rax = 0x1000;
	g.regs.rdx = 0x00330018;
	if (expect_done(l2_wrmsr_done, "WRMSR IA32_STAR with MSR lists"))
		report(exit_store[0].value == 0x0033001800001000ull && rdmsr(MSR_STAR) == l1_star,
		       "VM-exit MSR-store list keeps L2's write 0x0033001800001000, L1's value back "
		       "(got 0x%llx, 0x%llx)", U64(exit_store[0].value), U64(rdmsr(MSR_STAR)));
	/* IA32_TSC is stored as of the VM exit (28.4 "Saving MSRs"): L2's RDTSC
	 * (RAX = the whole TSC), then VMCALL. The stored value follows L2's by the few cycles between
	 * them, not by the work of the VMM that handles the exit. */
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmw(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	exit_store[0].index = MSR_IA32_TSC;
	vmw(VMCS_GUEST_RIP, (uintptr_t)l2_rdtsc);
	if (expect_done(l2_rdtsc_done, "RDTSC with IA32_TSC in the VM-exit MSR-store list")) {
		uint64_t l2_tsc = g.regs.rax;

		report(exit_store[0].value >= l2_tsc && exit_store[0].value - l2_tsc <= TSC_AT_EXIT_SLACK,
		       "VM-exit MSR-store list: IA32_TSC as of the exit, at most %u after L2's RDTSC "
		       "(L2 read 0x%llx, stored 0x%llx)", TSC_AT_EXIT_SLACK, U64(l2_tsc),
		       U64(exit_store[0].value));
	}
}

/*
 * The VM-exit MSR-store list stores L2's IA32_FS_BASE and IA32_GS_BASE (28.4
 * "Saving MSRs": the values as of the VM exit, L2's, whether from the guest
 * segment fields at entry or from L2's own WRMSR), not L1's, which the exit
 * loads afterwards from the host fields (28.5.2).
 */
#define L1_FS_BASE 0x0000000000701000ull
#define L1_GS_BASE 0x0000000000702000ull
#define L2_FS_BASE 0x0000123456789000ull
#define L2_GS_BASE 0x0000654321000000ull
#define L2_FS_BASE_WRMSR 0xFFFF800012340000ull

static struct { uint32_t index, reserved; uint64_t value; } base_store[2] __attribute__((aligned(16)));

static void store_bases_list(void)
{
	base_store[0] = (typeof(base_store[0])){ MSR_FS_BASE, 0, 0 };
	base_store[1] = (typeof(base_store[1])){ MSR_GS_BASE, 0, 0 };
	vmw(VMCS_EXIT_MSR_STORE_ADDR, (uintptr_t)base_store);
	vmw(VMCS_EXIT_MSR_STORE_COUNT, 2);
}

static void msr_store_segment_bases(void)
{
	uint64_t fs = rdmsr(MSR_FS_BASE), gs = rdmsr(MSR_GS_BASE);

	wrmsr(MSR_FS_BASE, L1_FS_BASE);         /* l2_init takes the host fields from here */
	wrmsr(MSR_GS_BASE, L1_GS_BASE);
	start(l2_vmcall_only, 0, 0, "MSR-store list");
	vmw(VMCS_GUEST_FS_BASE, L2_FS_BASE);
	vmw(VMCS_GUEST_GS_BASE, L2_GS_BASE);
	store_bases_list();
	l2_run(&g);
	if (check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_only,
		       "L2 with FS/GS base 0x%llx/0x%llx, VM-exit MSR-store list of IA32_FS_BASE and "
		       "IA32_GS_BASE", U64(L2_FS_BASE), U64(L2_GS_BASE))) {
		report(base_store[0].value == L2_FS_BASE && base_store[1].value == L2_GS_BASE,
		       "VM-exit MSR-store list: L2's IA32_FS_BASE 0x%llx and IA32_GS_BASE 0x%llx, not "
		       "L1's (got 0x%llx, 0x%llx)", U64(L2_FS_BASE), U64(L2_GS_BASE),
		       U64(base_store[0].value), U64(base_store[1].value));
		report(rdmsr(MSR_FS_BASE) == L1_FS_BASE && rdmsr(MSR_GS_BASE) == L1_GS_BASE,
		       "... L1's FS/GS base 0x%llx/0x%llx are back (got 0x%llx/0x%llx)",
		       U64(L1_FS_BASE), U64(L1_GS_BASE), U64(rdmsr(MSR_FS_BASE)),
		       U64(rdmsr(MSR_GS_BASE)));
	}

	/* L2 writes its FS base itself (the MSR bitmap lets WRMSR through). */
	if (start(l2_wrmsr, VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, "MSR-store list")) {
		msr_bitmaps();
		vmw(VMCS_GUEST_GS_BASE, L2_GS_BASE);
		store_bases_list();
		g.regs.rcx = MSR_FS_BASE;
		g.regs.rax = (uint32_t)L2_FS_BASE_WRMSR;
		g.regs.rdx = L2_FS_BASE_WRMSR >> 32;
		if (expect_done(l2_wrmsr_done, "WRMSR IA32_FS_BASE in L2, VM-exit MSR-store list of "
				"IA32_FS_BASE and IA32_GS_BASE"))
			report(base_store[0].value == L2_FS_BASE_WRMSR &&
			       vmr(VMCS_GUEST_FS_BASE) == L2_FS_BASE_WRMSR &&
			       base_store[1].value == L2_GS_BASE && rdmsr(MSR_FS_BASE) == L1_FS_BASE,
			       "VM-exit MSR-store list: L2's written IA32_FS_BASE 0x%llx (also in the "
			       "guest FS base field), its GS base; L1's FS base back (got 0x%llx, 0x%llx, "
			       "0x%llx, 0x%llx)", U64(L2_FS_BASE_WRMSR), U64(base_store[0].value),
			       U64(vmr(VMCS_GUEST_FS_BASE)), U64(base_store[1].value),
			       U64(rdmsr(MSR_FS_BASE)));
	}
	wrmsr(MSR_FS_BASE, fs);
	wrmsr(MSR_GS_BASE, gs);
}

/*
 * "load debug controls" (26.3.2.1 "Loading Guest Control Registers, Debug
 * Registers, and MSRs"): with 0, VM entry leaves DR7 alone and L2 runs with
 * L1's current DR7; with 1, DR7 comes from the guest field. A VM exit sets
 * DR7 to 400H (28.5.1). L1's DR7 enables instruction breakpoints 0 and 1 at
 * linear address 0, which nothing executes.
 */
static inline uint64_t read_dr7(void)
{
	uint64_t v;

	asm volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

static inline void write_dr7(uint64_t v)
{
	asm volatile("mov %0, %%dr7" : : "r"(v));
}

static inline void write_dr0_dr1(uint64_t dr0, uint64_t dr1)
{
	asm volatile("mov %0, %%dr0; mov %1, %%dr1" : : "r"(dr0), "r"(dr1));
}

static void debug_controls(void)
{
	const uint64_t l1_dr7 = DR7_FIXED1 | DR7_L0 | DR7_G1, field = DR7_FIXED1 | DR7_G0;
	uint64_t after;

	write_dr0_dr1(0, 0);
	write_dr7(l1_dr7);
	(void)cpuid(0);
	after = read_dr7();
	write_dr7(DR7_FIXED1);
	report(after == l1_dr7, "L1's DR7 0x%llx is unchanged by a CPUID (got 0x%llx)", U64(l1_dr7),
	       U64(after));
	if (caps.entry.allowed0 & ENTRY_LOAD_DEBUG) {
		report_skip("\"load debug controls\" = 0: the control must be 1 (allowed0 0x%08x)",
			    caps.entry.allowed0);
	} else if (start(l2_dr7, 0, 0, "load debug controls")) {
		l2_clear_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG);
		vmw(VMCS_GUEST_DR7, field);
		write_dr7(l1_dr7);
		l2_run(&g);
		after = read_dr7();
		write_dr7(DR7_FIXED1);
		if (check_exit(&g, EXIT_REASON_VMCALL, l2_dr7_done,
			       "L1's DR7 0x%llx, \"load debug controls\" = 0, guest DR7 field 0x%llx: "
			       "L2 reads DR7", U64(l1_dr7), U64(field))) {
			report(g.regs.rax == l1_dr7, "... L2's DR7 is L1's 0x%llx, not the field's "
			       "(got 0x%llx)", U64(l1_dr7), U64(g.regs.rax));
			report(after == DR7_FIXED1, "... the VM exit left L1 with DR7 0x400 (got 0x%llx)",
			       U64(after));
		}
	}
	if (start(l2_dr7, VMCS_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG, "load debug controls")) {
		vmw(VMCS_GUEST_DR7, field);
		write_dr7(l1_dr7);
		l2_run(&g);
		write_dr7(DR7_FIXED1);
		if (check_exit(&g, EXIT_REASON_VMCALL, l2_dr7_done,
			       "L1's DR7 0x%llx, \"load debug controls\" = 1, guest DR7 field 0x%llx: "
			       "L2 reads DR7", U64(l1_dr7), U64(field)))
			report(g.regs.rax == field, "... L2's DR7 is the field's 0x%llx (got 0x%llx)",
			       U64(field), U64(g.regs.rax));
	}
}

static void control_registers(void)
{
	ureg_t cr0 = read_cr0(), cr4 = read_cr4();

	/* A bit in the mask reads from the shadow; writing the shadow's value does
	 * not exit and leaves the real bit alone (25.6.6, 27.3 "Changes to
	 * Instruction Behavior in VMX Non-Root Operation": MOV from/to CR0). */
	if (start(l2_cr0_set, 0, 0, "CR0 shadow")) {
		vmw(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
		vmw(VMCS_CR0_READ_SHADOW, cr0 | CR0_TS);
		g.regs.rsi = CR0_AM;
		if (expect_done(l2_cr0_set_done, "MOV to CR0 (TS owned by L1, read shadow TS = 1) "
				"writing TS = 1 and AM = 1")) {
			report(g.regs.rbx == (cr0 | CR0_TS),
			       "... L2's MOV from CR0 read TS from the shadow: 0x%llx (got 0x%llx)",
			       U64(cr0 | CR0_TS), U64(g.regs.rbx));
			report(vmr(VMCS_GUEST_CR0) == (cr0 | CR0_AM),
			       "... guest CR0 got AM (not in the mask), TS unchanged: 0x%llx (got 0x%llx)",
			       U64(cr0 | CR0_AM), U64(vmr(VMCS_GUEST_CR0)));
		}
	}
	if (start(l2_cr0_set, 0, 0, "CR0 mask")) {
		vmw(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
		vmw(VMCS_CR0_READ_SHADOW, cr0);
		g.regs.rsi = CR0_TS;
		if (expect(EXIT_REASON_CR_ACCESS, l2_cr0_set_write,
			   0 | CR_ACCESS_MOV_TO << 4 | GPR_RAX << 8, ~0ull, 3,
			   "MOV to CR0 from RAX setting TS (in the mask, shadow TS = 0)"))
			report(g.regs.rax == (cr0 | CR0_TS), "... CR0 write: L2's RAX is 0x%llx (got 0x%llx)",
			       U64(cr0 | CR0_TS), U64(g.regs.rax));
		expect_done(l2_cr0_set_done, "MOV to CR0 in the mask");
	}
	if (start(l2_cr4_rbx, 0, 0, "CR4 mask")) {
		vmw(VMCS_CR4_GUEST_HOST_MASK, CR4_PCE);
		vmw(VMCS_CR4_READ_SHADOW, cr4);
		g.regs.rsi = CR4_PCE;
		expect(EXIT_REASON_CR_ACCESS, l2_cr4_rbx_write, 4 | CR_ACCESS_MOV_TO << 4 | GPR_RBX << 8,
		       ~0ull, 3, "MOV to CR4 from RBX toggling PCE (in the mask)");
		expect_done(l2_cr4_rbx_done, "MOV to CR4 in the mask");
	}
	if (start(l2_cr4_rbx, 0, 0, "CR4 mask")) {
		vmw(VMCS_CR4_GUEST_HOST_MASK, CR4_PCE);
		vmw(VMCS_CR4_READ_SHADOW, cr4);
		g.regs.rsi = CR4_OSFXSR;
		if (expect_done(l2_cr4_rbx_done, "MOV to CR4 toggling OSFXSR (not in the mask)"))
			report(vmr(VMCS_GUEST_CR4) == (cr4 ^ CR4_OSFXSR),
			       "... guest CR4 is 0x%llx (got 0x%llx)", U64(cr4 ^ CR4_OSFXSR),
			       U64(vmr(VMCS_GUEST_CR4)));
	}
	if (start(l2_cr3_read, VMCS_PROC_CONTROLS, PROC_CR3_STORE_EXITING, "CR3-store exiting")) {
		expect(EXIT_REASON_CR_ACCESS, l2_cr3_read_insn, 3 | CR_ACCESS_MOV_FROM << 4 | GPR_RDX << 8,
		       ~0ull, 3, "MOV RDX, CR3 with CR3-store exiting");
		expect_done(l2_cr3_read_done, "CR3-store exiting");
	}
	if (start(l2_cr3_write, VMCS_PROC_CONTROLS, PROC_CR3_LOAD_EXITING, "CR3-load exiting")) {
		g.regs.rcx = read_cr3();
		expect(EXIT_REASON_CR_ACCESS, l2_cr3_write_insn, 3 | CR_ACCESS_MOV_TO << 4 | GPR_RCX << 8,
		       ~0ull, 3, "MOV CR3, RCX with CR3-load exiting and no CR3 targets");
		expect_done(l2_cr3_write_done, "CR3-load exiting");
	}
	if (MISC_CR3_TARGETS(caps.misc) == 0) {
		report_skip("MOV to CR3 of a CR3-target value: IA32_VMX_MISC has no CR3 targets");
	} else if (start(l2_cr3_write, VMCS_PROC_CONTROLS, PROC_CR3_LOAD_EXITING, "CR3 targets")) {
		g.regs.rcx = read_cr3();
		vmw(VMCS_CR3_TARGET_COUNT, 1);
		vmw(VMCS_CR3_TARGET0, read_cr3());
		expect_done(l2_cr3_write_done, "MOV CR3, RCX with RCX = CR3-target value 0");
	}
	if (caps.proc.allowed0 & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING)) {
		report_skip("CR3 accesses without exiting: CR3 exiting must be 1 (allowed0 0x%08x)",
			    caps.proc.allowed0);
	} else if (start(l2_cr3_read, 0, 0, "CR3")) {
		if (expect_done(l2_cr3_read_done, "MOV RDX, CR3 without CR3-store exiting"))
			report(g.regs.rdx == read_cr3(), "... L2 read its CR3 0x%llx (got 0x%llx)",
			       U64(read_cr3()), U64(g.regs.rdx));
	}
	if (start(l2_clts, 0, 0, "CLTS")) {
		vmw(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
		vmw(VMCS_CR0_READ_SHADOW, cr0 | CR0_TS);
		expect(EXIT_REASON_CR_ACCESS, l2_clts_insn, 0 | CR_ACCESS_CLTS << 4, ~0ull, 2,
		       "CLTS with TS in the mask and shadow TS = 1");
		expect_done(l2_clts_done, "CLTS exiting");
	}
	if (start(l2_clts, 0, 0, "CLTS")) {
		vmw(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
		vmw(VMCS_CR0_READ_SHADOW, cr0 & ~(ureg_t)CR0_TS);
		expect_done(l2_clts_done, "CLTS with TS in the mask and shadow TS = 0");
	}
	if (start(l2_lmsw, 0, 0, "LMSW")) {
		uint16_t msw = (uint16_t)((cr0 & 0xFFFF) | CR0_MP);

		vmw(VMCS_CR0_GUEST_HOST_MASK, CR0_MP);
		vmw(VMCS_CR0_READ_SHADOW, cr0 & ~(ureg_t)CR0_MP);
		g.regs.rax = msw;
		/* Table 28-3: bits 11:8 are defined for MOV CR only. */
		expect(EXIT_REASON_CR_ACCESS, l2_lmsw_insn,
		       0 | CR_ACCESS_LMSW << 4 | (uint64_t)msw << 16, ~0xF00ull, 3,
		       "LMSW AX setting MP (in the mask, shadow MP = 0): register operand, source data");
		expect_done(l2_lmsw_done, "LMSW exiting");
	}
}

static void exceptions(void)
{
	if (start(l2_ud2, 0, 0, "exception bitmap")) {
		vmw(VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
		if (expect(EXIT_REASON_EXCEPTION_NMI, l2_ud2_insn, 0, ~0ull, LEN_ANY,
			   "UD2 with #UD in the exception bitmap")) {
			report(g.exit.intr_info == INTR_INFO(VEC_UD, INTR_TYPE_HW_EXCEPTION) &&
			       !(g.exit.idt_info & INTR_INFO_VALID) && l2_events.count == 0,
			       "... #UD exit: interruption info 0x%08x (valid, hardware exception, "
			       "vector 6, no error code), no IDT vectoring, L2 IDT not used (got 0x%08x, "
			       "0x%08x, %llu events)", INTR_INFO(VEC_UD, INTR_TYPE_HW_EXCEPTION),
			       g.exit.intr_info, g.exit.idt_info, U64(l2_events.count));
		}
		vmw(VMCS_GUEST_RIP, (uintptr_t)l2_ud2_done);
		expect_done(l2_ud2_done, "#UD intercepted");
	}
	if (start(l2_ud2, 0, 0, "exception bitmap")) {
		l2_events.fixup_rip = (uintptr_t)l2_ud2_done;
		if (expect_done(l2_ud2_done, "UD2 with #UD not in the exception bitmap"))
			report(l2_events.count == 1 && l2_events.vector == VEC_UD &&
			       l2_events.rip == (uintptr_t)l2_ud2_insn,
			       "... #UD delivered through L2's IDT at the UD2 (got %llu events, vector "
			       "%llu, rip 0x%llx)", U64(l2_events.count), U64(l2_events.vector),
			       U64(l2_events.rip));
	}
	if (start(l2_int3, 0, 0, "exception bitmap")) {
		vmw(VMCS_EXCEPTION_BITMAP, 1u << VEC_BP);
		if (expect(EXIT_REASON_EXCEPTION_NMI, l2_int3_insn, 0, ~0ull, 1,
			   "INT3 with #BP in the exception bitmap (instruction length 1)"))
			report(g.exit.intr_info == INTR_INFO(VEC_BP, INTR_TYPE_SW_EXCEPTION),
			       "... #BP exit: interruption info 0x%08x (software exception, vector 3) "
			       "(got 0x%08x)", INTR_INFO(VEC_BP, INTR_TYPE_SW_EXCEPTION), g.exit.intr_info);
		expect_done(l2_int3_done, "#BP intercepted");
	}
	if (start(l2_int3, 0, 0, "exception bitmap")) {
		l2_events.fixup_rip = L2_EVENT_RETURN;
		if (expect_done(l2_int3_done, "INT3 with #BP not in the exception bitmap"))
			report(l2_events.count == 1 && l2_events.vector == VEC_BP &&
			       l2_events.rip == (uintptr_t)l2_int3_done,
			       "... #BP delivered through L2's IDT, return address after INT3 (got %llu "
			       "events, vector %llu, rip 0x%llx)", U64(l2_events.count),
			       U64(l2_events.vector), U64(l2_events.rip));
	}
	/* #PF: the exception bitmap bit and the error-code mask/match (25.6.3). */
	if (start(l2_pf, 0, 0, "#PF")) {
		vmw(VMCS_EXCEPTION_BITMAP, 1u << VEC_PF);
		g.regs.rbx = UNMAPPED_ADDR;
		if (expect(EXIT_REASON_EXCEPTION_NMI, l2_pf_insn, UNMAPPED_ADDR, ~0ull, LEN_ANY,
			   "read of an unmapped address with #PF in the bitmap (qualification = "
			   "linear address)"))
			report(g.exit.intr_info == (INTR_INFO(VEC_PF, INTR_TYPE_HW_EXCEPTION) |
						    INTR_INFO_ERROR_CODE) && g.exit.intr_error == 0,
			       "... #PF exit: interruption info 0x%08x, error code 0 (got 0x%08x, 0x%x)",
			       INTR_INFO(VEC_PF, INTR_TYPE_HW_EXCEPTION) | INTR_INFO_ERROR_CODE,
			       g.exit.intr_info, g.exit.intr_error);
		vmw(VMCS_GUEST_RIP, (uintptr_t)l2_pf_done);
		expect_done(l2_pf_done, "#PF intercepted");
	}
	if (start(l2_pf, 0, 0, "#PF")) {
		vmw(VMCS_EXCEPTION_BITMAP, 1u << VEC_PF);
		vmw(VMCS_PF_ERROR_CODE_MASK, 1);        /* P */
		vmw(VMCS_PF_ERROR_CODE_MATCH, 1);       /* not-present faults do not match */
		g.regs.rbx = UNMAPPED_ADDR;
		l2_events.fixup_rip = (uintptr_t)l2_pf_done;
		if (expect_done(l2_pf_done, "#PF in the bitmap, error code & mask != match"))
			report(l2_events.count == 1 && l2_events.vector == VEC_PF &&
			       l2_events.error == 0 && read_cr2() == UNMAPPED_ADDR,
			       "... #PF delivered to L2 (error 0), CR2 = 0x%llx, not switched by VM exit "
			       "(got %llu events, vector %llu, error 0x%llx, CR2 0x%llx)",
			       U64(UNMAPPED_ADDR), U64(l2_events.count), U64(l2_events.vector),
			       U64(l2_events.error), U64(read_cr2()));
	}
	if (start(l2_pf, 0, 0, "#PF")) {
		vmw(VMCS_PF_ERROR_CODE_MATCH, 1);       /* bit clear: exit iff no match */
		g.regs.rbx = UNMAPPED_ADDR;
		expect(EXIT_REASON_EXCEPTION_NMI, l2_pf_insn, UNMAPPED_ADDR, ~0ull, LEN_ANY,
		       "#PF not in the bitmap, error code & mask != match (inverted: exits)");
	}
}

static void other_instructions(void)
{
	if (start(l2_rdtsc, VMCS_PROC_CONTROLS, PROC_RDTSC_EXITING, "RDTSC exiting")) {
		expect(EXIT_REASON_RDTSC, l2_rdtsc_insn, 0, ~0ull, 2, "RDTSC with RDTSC exiting");
		expect_done(l2_rdtsc_done, "RDTSC exiting");
	}
	if (start(l2_rdtsc, VMCS_PROC_CONTROLS, PROC_TSC_OFFSETTING, "TSC offsetting")) {
		uint64_t before, after;

		vmw(VMCS_TSC_OFFSET, TSC_TEST_OFFSET);
		before = rdtsc();
		if (expect_done(l2_rdtsc_done, "RDTSC with TSC offsetting, no RDTSC exiting")) {
			after = rdtsc();
			report(g.regs.rax >= before + TSC_TEST_OFFSET && g.regs.rax <= after + TSC_TEST_OFFSET,
			       "... L2's TSC is L1's + 2^40, in [0x%llx, 0x%llx] (got 0x%llx)",
			       U64(before + TSC_TEST_OFFSET), U64(after + TSC_TEST_OFFSET), U64(g.regs.rax));
		}
	}
	if (start(l2_invlpg, VMCS_PROC_CONTROLS, PROC_INVLPG_EXITING, "INVLPG exiting")) {
		g.regs.rbx = 0x123000;
		expect(EXIT_REASON_INVLPG, l2_invlpg_insn, 0x123000, ~0ull, 3,
		       "INVLPG [rbx] with INVLPG exiting (qualification = linear address)");
		expect_done(l2_invlpg_done, "INVLPG exiting");
	}
	if (start(l2_invlpg, 0, 0, "INVLPG")) {
		g.regs.rbx = 0x123000;
		expect_done(l2_invlpg_done, "INVLPG without INVLPG exiting");
	}
	if (start(l2_movdr, VMCS_PROC_CONTROLS, PROC_MOV_DR_EXITING, "MOV-DR exiting")) {
		g.regs.rcx = 0;
		expect(EXIT_REASON_DR_ACCESS, l2_movdr_read, 7 | DR_QUAL_FROM_DR | GPR_RAX << 8, ~0ull, 3,
		       "MOV RAX, DR7 with MOV-DR exiting");
		expect(EXIT_REASON_DR_ACCESS, l2_movdr_write, 0 | GPR_RCX << 8, ~0ull, 3,
		       "MOV DR0, RCX with MOV-DR exiting");
		expect_done(l2_movdr_done, "MOV-DR exiting");
	}
	if (start(l2_pause, VMCS_PROC_CONTROLS, PROC_PAUSE_EXITING, "PAUSE exiting")) {
		expect(EXIT_REASON_PAUSE, l2_pause_insn, 0, ~0ull, 2, "PAUSE with PAUSE exiting");
		expect_done(l2_pause_done, "PAUSE exiting");
	}
	if (start(l2_pause, 0, 0, "PAUSE"))
		expect_done(l2_pause_done, "PAUSE without PAUSE exiting");
}

void test_l2_exits(void)
{
	printf("vmx: --- L2 exits (SDM 25.6, 27.1, 28.2) ---\n");
	if (!vmx_ensure_on())
		return;
	unconditional();
	hlt();
	io();
	msrs();
	msr_lists();
	msr_store_segment_bases();
	debug_controls();
	control_registers();
	exceptions();
	other_instructions();
	vmclear(region_pa(g.vmcs));
}
