/* SPDX-License-Identifier: MIT */
/*
 * Kinds l2-reflected and l2-absorbed: exits of L2, vmxlib's 64-bit guest that
 * shares L1's page tables (l2_programs.asm holds its code).
 *
 * l2-reflected: L2's operation exits to L1 because L1 asked for it (or
 * because it always exits, SDM Vol. 3C, 26.1.2 "Instructions That Cause VM
 * Exits Unconditionally"). Under nestvisor the exit reaches L0 first, which
 * reflects it to L1; L1's handler runs (each of its VMREADs, VMWRITEs and its
 * VMRESUME is itself an exit to L0 unless a shadow VMCS serves it) and
 * VMRESUME goes back through L0 into L2. One sample is one full cycle as L1
 * sees it (l1_timed.asm: eb_round_*):
 *   realistic  handler + VMRESUME + L2's `jmp` and operation + the reflected exit
 *   minimal    VMRESUME + L2's operation + the reflected exit
 *
 *   cpuid, hypercall (leaf 0x40000002: L1's hypercall as L2 would call it),
 *   vmcall, vmread/vmwrite (GUEST_RIP), vmptrld: unconditional exits;
 *   rdmsr/wrmsr of IA32_SYSENTER_CS, which L1's MSR bitmap intercepts;
 *   io: IN AL, 0x80, which L1's I/O bitmap intercepts.
 * L1's handler does not emulate the operation: the measurement is the exit
 * path, and the operation never completes (L2 loops on it).
 *
 * l2-reflected vmlaunch (handler minimal only): the same round as vmcall
 * minimal, but entered by VMLAUNCH of a VMCS L0 has not seen instead of
 * VMRESUME of a known one (launch_measure).
 *
 * l2-absorbed: L2's operation exits to L0 only (L0 intercepts it, L1 does
 * not), and L0 resumes L2 without L1. L1 sees nothing to time, so L2 times
 * its own loop (eb_l2_absorbed_*) and VMCALLs when done.
 *   rdmsr     IA32_FEATURE_CONTROL: L0 owns it; L1's MSR bitmap lets it through
 *   io        IN AL, 0xF4: L0 owns the port; L1's I/O bitmaps let it through
 *   ept-fill  L2 on an EPT12 of L1's reads a page it has not touched yet: the
 *             CPU walks EPT02, which has no entry for it, and L0 fills one from
 *             EPT12 and EPT01 (nested EPT). EPT12 maps the first 3 GiB
 *             identically (1-GiB pages: L2 shares L1's page tables) and a window
 *             at 3 GiB page by page onto one page of L1's.
 */
#include "exitbench.h"

/* What L1 intercepts in its bitmaps, and what it leaves to L0. */
#define L1_MSR  MSR_IA32_SYSENTER_CS    /* reads and writes exit to L1 */
#define L1_PORT 0x80u                   /* IN/OUT exit to L1 (eb_l2_in_80) */
#define L0_MSR  MSR_IA32_FEATURE_CONTROL
#define L0_PORT 0xF4u                   /* (eb_l2_*_in_f4) */

enum l2_ctl { CTL_NONE, CTL_MSR_BITMAP, CTL_IO_BITMAPS, CTL_EPT };

struct l2_op {
	enum op op;
	const char *program;    /* where L2 starts */
	const char *done;       /* l2-absorbed: the VMCALL that ends the loop */
	const char *probe, *probe_done;  /* l2-absorbed: the operation once, untimed */
	uint32_t reason;        /* the exit of the operation */
	enum l2_ctl ctl;
	struct eb_regs regs;    /* L2's inputs (RSI: set at run time) */
};

/* What L2 times in kind l2-absorbed (l2_programs.asm reads it). */
struct eb_l2_loop eb_absorbed;

static const struct l2_op reflected_ops[] = {
	{ OP_CPUID, eb_l2_cpuid, NULL, NULL, NULL, EXIT_REASON_CPUID, CTL_NONE, { .rax = 0 } },
	{ OP_HYPERCALL, eb_l2_cpuid, NULL, NULL, NULL, EXIT_REASON_CPUID, CTL_NONE,
	  { .rax = NV_CPUID_HYPERCALL, .rcx = NV_HC_NOP } },
	{ OP_VMCALL, eb_l2_vmcall, NULL, NULL, NULL, EXIT_REASON_VMCALL, CTL_NONE, { 0 } },
	{ OP_RDMSR, eb_l2_rdmsr, NULL, NULL, NULL, EXIT_REASON_RDMSR, CTL_MSR_BITMAP,
	  { .rcx = L1_MSR } },
	{ OP_WRMSR, eb_l2_wrmsr, NULL, NULL, NULL, EXIT_REASON_WRMSR, CTL_MSR_BITMAP,
	  { .rcx = L1_MSR } },
	{ OP_IO, eb_l2_in_80, NULL, NULL, NULL, EXIT_REASON_IO, CTL_IO_BITMAPS, { 0 } },
	{ OP_VMREAD, eb_l2_vmread, NULL, NULL, NULL, EXIT_REASON_VMREAD, CTL_NONE,
	  { .rcx = VMCS_GUEST_RIP } },
	{ OP_VMWRITE, eb_l2_vmwrite, NULL, NULL, NULL, EXIT_REASON_VMWRITE, CTL_NONE,
	  { .rcx = VMCS_GUEST_RIP } },
	{ OP_VMPTRLD, eb_l2_vmptrld, NULL, NULL, NULL, EXIT_REASON_VMPTRLD, CTL_NONE, { 0 } },
	/* L1's VMLAUNCH of a fresh VMCS; L2 exits at once with VMCALL (launch_measure). */
	{ OP_VMLAUNCH, eb_l2_vmcall, NULL, NULL, NULL, EXIT_REASON_VMCALL, CTL_NONE, { 0 } },
};

static const struct l2_op absorbed_ops[] = {
	{ OP_RDMSR, eb_l2_absorbed_rdmsr, eb_l2_absorbed_rdmsr_done, eb_l2_probe_rdmsr,
	  eb_l2_probe_rdmsr_done, EXIT_REASON_RDMSR, CTL_MSR_BITMAP, { .rcx = L0_MSR } },
	{ OP_IO, eb_l2_absorbed_in_f4, eb_l2_absorbed_in_f4_done, eb_l2_probe_in_f4,
	  eb_l2_probe_in_f4_done, EXIT_REASON_IO, CTL_IO_BITMAPS, { 0 } },
	{ OP_EPT_FILL, eb_l2_absorbed_ept_fill, eb_l2_absorbed_ept_fill_done, NULL, NULL,
	  EXIT_REASON_EPT_VIOLATION, CTL_EPT, { 0 } },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct l2_op *find_op(const struct l2_op *ops, size_t count, enum op o)
{
	for (size_t i = 0; i < count; i++)
		if (ops[i].op == o)
			return &ops[i];
	return NULL;
}

bool l2_reflected_has_op(enum op o)
{
	return find_op(reflected_ops, COUNT(reflected_ops), o) != NULL;
}

bool l2_reflected_has_handler(enum op o, enum handler h)
{
	/* No exit handler of L1 runs before a first VMLAUNCH: one row, "minimal". */
	return o != OP_VMLAUNCH || h == HANDLER_MINIMAL;
}

bool l2_absorbed_has_op(enum op o)
{
	return find_op(absorbed_ops, COUNT(absorbed_ops), o) != NULL;
}

/* ---- L1's bitmaps ---------------------------------------------------------- */

static uint8_t msr_bitmap[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t io_bitmap_a[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t io_bitmap_b[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
/* The VMCS address L2's VMPTRLD names (never loaded: L1 does not emulate it). */
static struct vmx_region vmptrld_target;
static uint64_t vmptrld_target_pa;

static void set_bit(uint8_t *bitmap, uint32_t bit)
{
	bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static void bitmaps_init(void)
{
	/* SDM Vol. 3C, 25.6.9 "MSR-Bitmap Address": read bitmap for MSRs
	 * 0-0x1FFF at byte 0, write bitmap for them at byte 2048. */
	_Static_assert(L1_MSR < 0x2000 && L0_MSR < 0x2000, "low MSRs");
	memset(msr_bitmap, 0, sizeof(msr_bitmap));
	set_bit(msr_bitmap, L1_MSR);
	set_bit(msr_bitmap + 2048, L1_MSR);
	/* 25.6.4 "I/O-Bitmap Addresses": A covers ports 0-0x7FFF, B the rest. */
	memset(io_bitmap_a, 0, sizeof(io_bitmap_a));
	memset(io_bitmap_b, 0, sizeof(io_bitmap_b));
	set_bit(io_bitmap_a, L1_PORT);
	region_init(&vmptrld_target, caps.revision);
	vmptrld_target_pa = region_pa(&vmptrld_target);
}

/* ---- EPT12 for ept-fill ------------------------------------------------------- */

/* The window: L2-physical (and linear) 3 GiB on, a page per sample, twice. */
#define WINDOW_BASE      0xC0000000ull
#define WINDOW_MAX_PAGES (2u * EPT_FILL_MAX_SAMPLES)
#define WINDOW_PTS       (WINDOW_MAX_PAGES / EPT_ENTRIES)

static uint64_t ept_pml4[EPT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pdpt[EPT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pd[EPT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pt[WINDOW_PTS][EPT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t window_target[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* SDM Vol. 3C, 29.3.2 "EPT Translation Mechanism": a 4-level EPT12, write-back. */
static uint64_t ept12_build(void)
{
	memset(ept_pml4, 0, sizeof(ept_pml4));
	memset(ept_pdpt, 0, sizeof(ept_pdpt));
	memset(ept_pd, 0, sizeof(ept_pd));
	ept_pml4[0] = (uintptr_t)ept_pdpt | EPT_RWX;
	for (uint64_t g = 0; g < 3; g++)
		ept_pdpt[g] = g * EPT_PAGE_1G | EPT_LARGE | EPT_MEMTYPE(MT_WB) | EPT_RWX;
	ept_pdpt[3] = (uintptr_t)ept_pd | EPT_RWX;
	for (unsigned t = 0; t < WINDOW_PTS; t++) {
		ept_pd[t] = (uintptr_t)ept_pt[t] | EPT_RWX;
		for (unsigned i = 0; i < EPT_ENTRIES; i++)
			ept_pt[t][i] = (uintptr_t)window_target | EPT_MEMTYPE(MT_WB) | EPT_R | EPT_W;
	}
	return (uintptr_t)ept_pml4 | EPTP_MEMTYPE(MT_WB) | EPTP_WALK4;
}

/* ---- Setting L2 up ----------------------------------------------------------- */

/* A fresh L2 (vmxlib: only the must-be-1 controls) at `program`, with the
 * bitmaps the operation needs; false if it cannot run (line printed). */
static bool l2_prepare(const struct meas *m, struct l2 *g, const char *program, enum l2_ctl ctl)
{
	static bool bitmaps_ready;
	const char *why;

	if (!vmx_ready(&why)) {
		skip(m, "%s", why);
		return false;
	}
	if (!bitmaps_ready) {
		bitmaps_init();
		bitmaps_ready = true;
	}
	l2_init(g, program);
	if (ctl == CTL_MSR_BITMAP) {
		if (!l2_set_ctl(VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS)) {
			skip(m, "L1 may not set use-MSR-bitmaps (IA32_VMX_PROCBASED_CTLS)");
			return false;
		}
		vmw(VMCS_MSR_BITMAP, (uintptr_t)msr_bitmap);
	} else if (ctl == CTL_IO_BITMAPS) {
		if (!l2_set_ctl(VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS)) {
			skip(m, "L1 may not set use-I/O-bitmaps (IA32_VMX_PROCBASED_CTLS)");
			return false;
		}
		vmw(VMCS_IO_BITMAP_A, (uintptr_t)io_bitmap_a);
		vmw(VMCS_IO_BITMAP_B, (uintptr_t)io_bitmap_b);
	} else if (ctl == CTL_EPT) {
		if (!(caps.ept_vpid & EPT_CAP_1G) || !(caps.ept_vpid & EPT_CAP_WB) ||
		    !l2_set_ctl(VMCS_PROC_CONTROLS2, PROC2_ENABLE_EPT)) {
			skip(m, "L1 is not offered EPT with 1-GiB pages and write-back EPTPs");
			return false;
		}
		vmw(VMCS_EPT_POINTER, ept12_build());
	}
	return true;
}

static void set_l2_regs(struct l2 *g, const struct eb_regs *r)
{
	g->regs.rax = r->rax;
	g->regs.rcx = r->rcx;
	g->regs.rdx = r->rdx;
	g->regs.rbx = r->rbx;
	g->regs.rsi = r->rsi;
}

/* Runs L2 through vmxlib (VMLAUNCH the first time) and checks that it exits
 * with `reason` at `rip`: the functional premise of a measurement. */
static bool run_expect(const struct meas *m, const char *what, struct l2 *g, uint32_t reason,
		       const char *rip)
{
	bool exited = l2_run(g);

	return check(m, what, exited && g->exit.reason == reason && g->exit.rip == (uintptr_t)rip,
		     "entry %s exit %s (0x%x) at 0x%llx want %s at 0x%llx L2-events=%llu vector=%llu",
		     res_str(g->entry), exit_reason_name(g->exit.reason), g->exit.reason,
		     U64(g->exit.rip), exit_reason_name(reason), U64((uintptr_t)rip),
		     U64(l2_events.count), U64(l2_events.vector));
}

/* From now on VM exits of this VMCS land in eb_round_exit (l1_timed.asm);
 * vmxlib's l2_run must not run it again. */
static void host_to_rounds(void)
{
	vmw(VMCS_HOST_RIP, (uintptr_t)eb_round_exit);
	vmw(VMCS_HOST_RSP, (uintptr_t)eb_host_stack_top);
}

/* `count` rounds; false (with a failed check) if one did not come back as expected. */
static bool run_rounds(const struct meas *m, round_fn *round, struct eb_round *r, uint32_t count,
		       bool record)
{
	for (uint32_t i = 0; i < count; i++) {
		enum round_status s = round(r);

		if (s == ROUND_ENTRY_FAILED)
			return check(m, "round", false, "VMRESUME failed (VM-instruction error %llu)",
				     U64(vmr(VMCS_VM_INSTRUCTION_ERROR)));
		if (s == ROUND_UNEXPECTED)
			return check(m, "round", false, "exit %s (0x%llx) want %s at guest RIP 0x%llx",
				     exit_reason_name((uint32_t)r->got_reason), U64(r->got_reason),
				     exit_reason_name((uint32_t)r->reason), U64(vmr(VMCS_GUEST_RIP)));
		if (record)
			eb_samples[i] = r->delta;
	}
	return true;
}

/* The last exit L1 saw was `reason` at `rip` (read after the window). */
static bool check_last_exit(const struct meas *m, const char *what, uint32_t reason,
			    const char *rip)
{
	struct vmx_res got_reason = vmread(VMCS_EXIT_REASON), got_rip = vmread(VMCS_GUEST_RIP);

	return check(m, what, got_reason.value == reason && got_rip.value == (uintptr_t)rip,
		     "exit %s at 0x%llx want %s at 0x%llx",
		     exit_reason_name((uint32_t)got_reason.value), U64(got_rip.value),
		     exit_reason_name(reason), U64((uintptr_t)rip));
}

/* ---- l2-reflected ------------------------------------------------------------ */

/*
 * l2-reflected vmlaunch: the cost of starting an L2 on a VMCS L0 has not seen.
 * Each sample, untimed: vmxlib's l2_init (VMCLEAR of the region, the region
 * zeroed, VMCLEAR, VMPTRLD, every VMWRITE of its 64-bit L2, RIP at
 * eb_l2_vmcall), HOST_RIP/HOST_RSP of the rounds, and the reset of L0's
 * counters. Timed (eb_round_launch): VMLAUNCH; under nestvisor L0 takes the
 * VMCS12 that VMPTRLD read, checks it and builds VMCS02 anew (a VMPTRLD leaves
 * no VMCS02 for the new VMCS12); L2's VMCALL exits at once, L0 reflects it,
 * and L1's HOST_RIP takes the second timestamp. The window thus holds what a
 * round of `vmcall minimal` holds, with VMLAUNCH of a new VMCS in place of
 * VMRESUME of a known one: the difference of the two rows is what a first
 * VMLAUNCH costs L0 more.
 *
 * The set-up exits to L0 too (VMCLEAR, VMPTRLD, the VMWRITEs no shadow VMCS
 * serves, RDMSRs), so one window around the loop would hold it. L0's counters
 * are reset just before each VMLAUNCH and read just after its exit instead
 * (neither hypercall's own exit is counted, and a CPUID exit does not touch
 * VMCS12 or the shadow VMCS), and the result adds those windows up.
 */
static bool launch_samples(const struct meas *m, struct l2 *g, const char *program,
			   struct eb_round *r, uint32_t count, bool record)
{
	for (uint32_t i = 0; i < count; i++) {
		enum round_status s;
		uint64_t reason, rip;

		l2_init(g, program);
		host_to_rounds();
		if (record)
			acct_begin();
		s = eb_round_launch(r);
		if (record) {
			acct_end();
			acct_sum_add();
		}
		if (s != ROUND_OK)
			return check(m, "launch", false,
				     "%s sample %u: VMLAUNCH failed (VM-instruction error %llu)",
				     record ? "timed" : "warm-up", i,
				     U64(vmr(VMCS_VM_INSTRUCTION_ERROR)));
		reason = vmr(VMCS_EXIT_REASON);
		rip = vmr(VMCS_GUEST_RIP);
		if (reason != EXIT_REASON_VMCALL || rip != (uintptr_t)program)
			return check(m, "every-exit", false,
				     "%s sample %u: exit %s (0x%llx) at 0x%llx want VMCALL at 0x%llx",
				     record ? "timed" : "warm-up", i, exit_reason_name((uint32_t)reason),
				     U64(reason), U64(rip), U64((uintptr_t)program));
		if (record)
			eb_samples[i] = r->delta;
	}
	return true;
}

static void launch_measure(const struct meas *m, const struct l2_op *op)
{
	static struct l2 g;
	struct eb_round r = { .regs = op->regs, .reason = op->reason };
	bool ok;

	/* The premise, through vmxlib: this L2 exits at once with VMCALL at its first
	 * instruction. It also leaves L1 handling a reflected exit, as before
	 * every sample. */
	if (!l2_prepare(m, &g, op->program, op->ctl))
		return;
	if (!run_expect(m, "exit-to-l1", &g, op->reason, op->program))
		return;
	if (!launch_samples(m, &g, op->program, &r, opt.warmup, false))
		return;
	acct_sum_begin();
	ok = launch_samples(m, &g, op->program, &r, opt.n, true);
	acct_sum_end();
	if (!ok)
		return;

	result_print(m, opt.n);
	check(m, "every-exit", true,
	      "%u VMLAUNCHes, each of a VMCS just cleared and loaded, entered L2, which exited "
	      "with VMCALL at 0x%llx", opt.warmup + opt.n, U64((uintptr_t)op->program));
	acct_expect(m, NV_ACCT_L1_FOR_L2, EXIT_REASON_VMLAUNCH, 1, opt.n);
	acct_expect(m, NV_ACCT_L2_REFLECTED, op->reason, 1, opt.n);
	if (acct_valid())
		check(m, "exits.no-other", acct_total() == 2ull * opt.n,
		      "L0 exits=%llu want=%llu: one VMLAUNCH and one VMCALL per sample, nothing else",
		      U64(acct_total()), U64(2ull * opt.n));
}

void l2_reflected_measure(const struct meas *m)
{
	static struct l2 g;
	const struct l2_op *op = find_op(reflected_ops, COUNT(reflected_ops), m->op);
	struct eb_round r = { .regs = op->regs, .reason = op->reason };
	round_fn *round = m->handler == HANDLER_REALISTIC ? eb_round_realistic : eb_round_minimal;
	bool ok;

	if (m->op == OP_VMLAUNCH) {
		launch_measure(m, op);
		return;
	}
	if (!l2_prepare(m, &g, op->program, op->ctl))
		return;
	if (m->op == OP_VMPTRLD)
		r.regs.rsi = (uintptr_t)&vmptrld_target_pa;
	set_l2_regs(&g, &r.regs);
	/* The realistic handler's first round handles this exit. */
	if (!run_expect(m, "exit-to-l1", &g, op->reason, op->program))
		return;
	host_to_rounds();
	if (!run_rounds(m, round, &r, opt.warmup, false))
		return;
	acct_begin();
	ok = run_rounds(m, round, &r, opt.n, true);
	acct_end();
	if (!ok)
		return;

	result_print(m, opt.n);
	acct_expect(m, NV_ACCT_L2_REFLECTED, op->reason, 1, opt.n);
	acct_expect(m, NV_ACCT_L1_FOR_L2, EXIT_REASON_VMRESUME, 1, opt.n);
	check_last_exit(m, "last-exit", op->reason, op->program);
}

/* ---- l2-absorbed ------------------------------------------------------------- */

/* L2 reads the same value L1 reads: L0 answers L2 as it answers L1. */
static void probe_value(const struct meas *m, const struct l2_op *op)
{
	static struct l2 g;
	uint64_t l1_value, l2_value;

	if (!l2_prepare(m, &g, op->probe, op->ctl))
		return;
	set_l2_regs(&g, &op->regs);
	if (!run_expect(m, "probe-no-l1-exit", &g, EXIT_REASON_VMCALL, op->probe_done))
		return;
	if (op->op == OP_RDMSR) {
		l1_value = rdmsr(L0_MSR);
		l2_value = g.regs.rdx << 32 | (uint32_t)g.regs.rax;
	} else {
		l1_value = inb(L0_PORT);
		l2_value = g.regs.rax & 0xFF;
	}
	check(m, "same-value-as-l1", l2_value == l1_value, "L2 read 0x%llx L1 reads 0x%llx",
	      U64(l2_value), U64(l1_value));
}

/* The window also holds the exits around L2's loop: L1's VMRESUME into it and
 * L2's closing VMCALL. Drop them, one each, so that only the loop remains. */
static void drop_bracket(const struct meas *m)
{
	uint64_t resume = acct_count(NV_ACCT_L1_FOR_L2, EXIT_REASON_VMRESUME);
	uint64_t vmcall = acct_count(NV_ACCT_L2_REFLECTED, EXIT_REASON_VMCALL);

	if (!acct_valid())
		return;
	if (check(m, "bracket", resume == 1 && vmcall == 1,
		  "L1-for-L2.VMRESUME=%llu L2-reflected.VMCALL=%llu want 1 each", U64(resume),
		  U64(vmcall))) {
		acct_drop(NV_ACCT_L1_FOR_L2, EXIT_REASON_VMRESUME);
		acct_drop(NV_ACCT_L2_REFLECTED, EXIT_REASON_VMCALL);
	}
}

void l2_absorbed_measure(const struct meas *m)
{
	static struct l2 g;
	const struct l2_op *op = find_op(absorbed_ops, COUNT(absorbed_ops), m->op);
	struct eb_round r = { .reason = EXIT_REASON_VMCALL };
	bool fill = m->op == OP_EPT_FILL;
	enum round_status s;

	if (fill && opt.n > EPT_FILL_MAX_SAMPLES) {
		skip(m, "ept-fill measures at most %u samples (its EPT12 window)",
		     EPT_FILL_MAX_SAMPLES);
		return;
	}
	if (op->probe)
		probe_value(m, op);
	if (!l2_prepare(m, &g, op->program, op->ctl))
		return;
	/* Warm-up: L2 runs the loop `warmup` times, launched through vmxlib. For
	 * ept-fill it reads the window's first n pages and writes all n sample
	 * slots, so that the timed loop finds every page but its window's in
	 * EPT02 already; the timed loop reads the next n pages. */
	eb_absorbed = (struct eb_l2_loop){ .regs = op->regs, .count = fill ? opt.n : opt.warmup,
					   .samples = eb_samples };
	eb_absorbed.regs.rsi = WINDOW_BASE;
	if (!run_expect(m, "warmup-no-l1-exit", &g, EXIT_REASON_VMCALL, op->done))
		return;
	/* The timed loop: one VMRESUME (eb_round_minimal, so that L1 runs
	 * nothing else in the window) and L2's closing VMCALL around it. */
	eb_absorbed.count = opt.n;
	eb_absorbed.regs.rsi = WINDOW_BASE + (uint64_t)opt.n * PAGE_SIZE;
	vmw(VMCS_GUEST_RIP, (uintptr_t)op->program);
	host_to_rounds();
	acct_begin();
	s = eb_round_minimal(&r);
	acct_end();
	if (s != ROUND_OK) {
		check(m, "loop-entry", false, "VMRESUME failed (VM-instruction error %llu)",
		      U64(vmr(VMCS_VM_INSTRUCTION_ERROR)));
		return;
	}
	if (!check_last_exit(m, "loop-no-l1-exit", EXIT_REASON_VMCALL, op->done))
		return;
	drop_bracket(m);

	result_print(m, opt.n);
	acct_expect(m, NV_ACCT_L2_ABSORBED, op->reason, 1, opt.n);
}
