/* SPDX-License-Identifier: MIT */
/*
 * Translation through EPT12 (SDM Vol. 3C, 29.3.2 "EPT Translation Mechanism"):
 * an identity map, a remapped page, 2 MiB and 1 GiB pages; and INVEPT (31.3)
 * after a mapping changes, with its failure cases.
 */
#include "vmxept.h"

#define GPA_2M_REGION   0x80000000ull   /* 2 GiB: an EPT PDE mapping a 2 MiB page */
#define GPA_1G_REGION   0xC0000000ull   /* 3 GiB: an EPT PDPTE mapping a 1 GiB page */

static volatile uint64_t *q(void *page, unsigned offset)
{
	return (volatile uint64_t *)((uint8_t *)page + offset);
}

/* Case 2: L2 runs code, reads and writes data on an identity EPT12. */
static void identity(void)
{
	const char *what = "identity EPT12 (4 KiB pages, WB, RWX)";
	void *src, *dst;

	world_reset(false);
	src = pool_page();
	dst = pool_page();
	*q(src, 0x10) = 0x1111222233334444ull;
	if (!l2_start(l2e_sum, what))
		return;
	g.regs.rsi = pa_of(src) + 0x10;
	g.regs.rcx = 0x0101010101010101ull;
	g.regs.rdi = pa_of(dst) + 0x20;
	if (!run_to_vmcall(l2e_sum_done, "L2 on an identity EPT12 runs code, reads and writes data"))
		return;
	report(g.regs.rax == 0x1212232334344545ull,
	       "... identity: L2 read the quadword L1 wrote (sum 0x1212232334344545, got 0x%llx)",
	       U64(g.regs.rax));
	report(*q(dst, 0x20) == 0x1212232334344545ull,
	       "... identity: L1 sees what L2 wrote at 0x%llx (got 0x%llx)", U64(pa_of(dst) + 0x20),
	       U64(*q(dst, 0x20)));
}

/* Case 3: guest-physical page X (an L1 page) mapped to another L1 page Y. */
static void remap(void)
{
	const char *what = "remapped page";
	void *x, *y;

	world_reset(false);
	x = pool_page();
	y = pool_page();
	*q(x, 0x40) = 0x5858585858585858ull;    /* 'X' */
	*q(x, 0x48) = 0x5858585858585858ull;
	*q(y, 0x40) = 0x5959595959595959ull;    /* 'Y' */
	*q(y, 0x48) = 0;
	ept_map(&w.ept, pa_of(x), pa_of(y), EPT_PTE, EPT_LEAF_WB);
	if (!l2_start(l2e_rw, what))
		return;
	g.regs.rsi = pa_of(x) + 0x40;
	g.regs.rdi = pa_of(x) + 0x48;
	g.regs.rdx = 0xA5A5A5A55A5A5A5Aull;
	if (!run_to_vmcall(l2e_rw_done, "L2 reads and writes guest-physical page X mapped to L1 page Y"))
		return;
	printf("vmxept: remap: X = 0x%llx, Y = 0x%llx\n", U64(pa_of(x)), U64(pa_of(y)));
	report(g.regs.rax == 0x5959595959595959ull,
	       "... remap: L2 read Y's pattern at X + 0x40 (0x5959595959595959, got 0x%llx)",
	       U64(g.regs.rax));
	report(*q(y, 0x48) == 0xA5A5A5A55A5A5A5Aull,
	       "... remap: L2's write to X + 0x48 landed in Y (got 0x%llx)", U64(*q(y, 0x48)));
	report(*q(x, 0x40) == 0x5858585858585858ull && *q(x, 0x48) == 0x5858585858585858ull,
	       "... remap: L1's own page X is untouched (got 0x%llx 0x%llx)", U64(*q(x, 0x40)),
	       U64(*q(x, 0x48)));
}

/* Case 6: a large EPT12 page mapping L2 addresses onto L1 memory at an offset. */
static void large_page(enum ept_level level, uint64_t region, uint64_t cap, const char *what)
{
	uint64_t size = level == EPT_PDE ? EPT_PAGE_2M : EPT_PAGE_1G;
	uint64_t host, gpa;
	void *p;

	if (!ept_offered()) {
		report_skip("%s: \"enable EPT\" is not offered", what);
		return;
	}
	if (!(caps.ept_vpid & cap)) {
		report_skip("%s: IA32_VMX_EPT_VPID_CAP bit %u is 0", what, level == EPT_PDE ? 16 : 17);
		return;
	}
	world_reset(false);
	p = pool_page();
	host = pa_of(p) & ~(size - 1);
	gpa = region + (pa_of(p) - host);       /* L2's address of p: offset region - host */
	*q(p, 0x10) = 0x4C4C4C4C00000000ull | level;
	*q(p, 0x18) = 0;
	if (!ept_map(&w.ept, region, host, level, EPT_LEAF_WB) || !l2_start(l2e_rw, what))
		return;
	/* L2's linear addresses below 4 GiB are L1's identity map: linear = gpa. */
	g.regs.rsi = gpa + 0x10;
	g.regs.rdi = gpa + 0x18;
	g.regs.rdx = 0x5757575757575757ull | level;
	printf("vmxept: %s: guest-physical 0x%llx -> L1 0x%llx (page 0x%llx -> 0x%llx)\n", what,
	       U64(gpa), U64(pa_of(p)), U64(region), U64(host));
	if (!run_to_vmcall(l2e_rw_done, what))
		return;
	report(g.regs.rax == (0x4C4C4C4C00000000ull | level),
	       "... %s: L2 read L1's pattern through it (0x%llx, got 0x%llx)", what,
	       U64(0x4C4C4C4C00000000ull | level), U64(g.regs.rax));
	report(*q(p, 0x18) == (0x5757575757575757ull | level),
	       "... %s: L1 sees L2's write at 0x%llx (got 0x%llx)", what, U64(pa_of(p) + 0x18),
	       U64(*q(p, 0x18)));
}

void test_mapping(void)
{
	printf("vmxept: --- translation through EPT12 (SDM 29.3.2) ---\n");
	identity();
	remap();
	large_page(EPT_PDE, GPA_2M_REGION, EPT_CAP_2M, "2 MiB EPT12 page");
	large_page(EPT_PDPTE, GPA_1G_REGION, EPT_CAP_1G, "1 GiB EPT12 page");
}

/* ---- INVEPT ---------------------------------------------------------------- */

static void invept_remap(void)
{
	const char *what = "INVEPT after a mapping change";
	uint64_t type = invept_type_offered(INVEPT_SINGLE) ? INVEPT_SINGLE : INVEPT_ALL;
	struct invept_desc d;
	uint64_t *leaf;
	void *x, *y1, *y2;

	world_reset(false);
	x = pool_page();
	y1 = pool_page();
	y2 = pool_page();
	*q(y1, 0x80) = 0x3131313131313131ull;
	*q(y2, 0x80) = 0x3232323232323232ull;
	leaf = ept_map(&w.ept, pa_of(x), pa_of(y1), EPT_PTE, EPT_LEAF_WB);
	if (!l2_start(l2e_read_loop, what))
		return;
	g.regs.rsi = pa_of(x) + 0x80;
	if (!run_to_vmcall(l2e_read_loop_done, "INVEPT: L2 reads X mapped to Y1"))
		return;
	report(g.regs.rax == 0x3131313131313131ull, "... INVEPT: L2 saw Y1's pattern (got 0x%llx)",
	       U64(g.regs.rax));
	*leaf = pa_of(y2) | EPT_LEAF_WB;
	d = (struct invept_desc){ .eptp = ept_eptp(&w.ept), .reserved = 0 };
	check_res(invept(type, &d), WANT_OK, "INVEPT %s-context (EPTP 0x%llx) after remapping X to Y2",
		  type == INVEPT_SINGLE ? "single" : "all", U64(d.eptp));
	resume_after_vmcall();
	if (run_to_vmcall(l2e_read_loop_done, "INVEPT: L2 reads X again"))
		report(g.regs.rax == 0x3232323232323232ull,
		       "... INVEPT: L2 sees Y2's pattern after the INVEPT (got 0x%llx)", U64(g.regs.rax));
}

static void invept_single_bad_eptp(uint64_t eptp, const char *why)
{
	struct invept_desc d = { .eptp = eptp, .reserved = 0 };

	check_res(invept(INVEPT_SINGLE, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
		  "INVEPT single-context with EPTP 0x%llx (%s)", U64(eptp), why);
}

static void invept_failures(void)
{
	struct invept_desc d = { .eptp = ept_eptp(&w.ept), .reserved = 0 };
	uint64_t good = ept_eptp(&w.ept);

	/* 31.3 INVEPT: a type IA32_VMX_EPT_VPID_CAP does not offer fails first. */
	check_res(invept(0, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
		  "INVEPT type 0 (never a type)");
	check_res(invept(3, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
		  "INVEPT type 3 (never a type)");
	if (!invept_type_offered(INVEPT_SINGLE))
		check_res(invept(INVEPT_SINGLE, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVEPT single-context where EPT_VPID_CAP bit 25 is 0");
	if (!invept_type_offered(INVEPT_ALL))
		check_res(invept(INVEPT_ALL, &d), WANT_VALID(VMXERR_INVEPT_INVVPID_BAD_OPERAND),
			  "INVEPT all-context where EPT_VPID_CAP bit 26 is 0");
	else
		check_res(invept(INVEPT_ALL, &d), WANT_OK, "INVEPT all-context");
	if (!invept_type_offered(INVEPT_SINGLE))
		return;
	check_res(invept(INVEPT_SINGLE, &d), WANT_OK, "INVEPT single-context with the EPTP in use");
	/* 31.3 INVEPT, type 1: "IF VM entry with the 'enable EPT' VM execution
	 * control set to 1 would fail due to the EPTP value THEN VMfail(Invalid
	 * operand to INVEPT/INVVPID)": the EPTP checks of 26.2.1.1 apply. */
	invept_single_bad_eptp((good & ~7ull) | MT_WC, "memory type WC, never an EPTP type");
	invept_single_bad_eptp((good & ~EPTP_WALK_MASK) | EPTP_WALK(2), "a 2-level walk");
	invept_single_bad_eptp(good | (1ull << 11), "reserved bit 11");
	if (!(caps.ept_vpid & EPT_CAP_AD))
		invept_single_bad_eptp(good | EPTP_AD, "A/D flags without EPT_VPID_CAP bit 21");
}

void test_invept(void)
{
	printf("vmxept: --- INVEPT (SDM 31.3) ---\n");
	if (!ept_offered() || !(caps.ept_vpid & EPT_CAP_INVEPT)) {
		report_skip("INVEPT cases: %s", !ept_offered() ? "EPT is not offered"
			    : "INVEPT is not offered (EPT_VPID_CAP bit 20 is 0)");
		return;
	}
	invept_remap();
	invept_failures();
}
