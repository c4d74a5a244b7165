/* SPDX-License-Identifier: MIT */
/*
 * EPT violations and misconfigurations (SDM Vol. 3C, 29.3.3.1 "EPT
 * Misconfigurations", 29.3.3.2 "EPT Violations") with their exit information
 * (28.2.1, Table 28-7 "Exit Qualification for EPT Violations"; the
 * guest-physical and guest-linear address fields), and the accessed and dirty
 * flags (29.3.5 "Accessed and Dirty Flags for EPT"). The accesses go through
 * L2's test window (vmxept.h): linear TW_LINEAR..., guest-physical TW_GPA...,
 * and an L1 page behind it. After each exit L1 repairs the entry, invalidates,
 * resumes L2 at the faulting instruction and checks that the access completes.
 */
#include "vmxept.h"

#define PT_INDEX(lin)   (((lin) >> 12) & 511u)

/* The offsets in the window page the cases use (any, but not 0: the address
 * fields must carry the page offset). */
#define OFF_READ        0x238u
#define OFF_WRITE       0x5F0u
#define OFF_CODE        0x7C0u

static const uint64_t translated = EPT_QUAL_GLA_VALID | EPT_QUAL_TRANSLATED;

static volatile uint64_t *q(void *page, unsigned offset)
{
	return (volatile uint64_t *)((uint8_t *)page + offset);
}

/* After the repair: INVEPT, resume at the same instruction, reach `done`. */
static bool repaired(const void *done, const char *what)
{
	ept_invalidate(&w.ept);
	return run_to_vmcall(done, what);
}

static void not_present_read(void)
{
	const char *what = "EPT violation: read of a not-present page";
	void *y;
	uint64_t *leaf;

	world_reset(false);
	y = pool_page();
	*q(y, OFF_READ) = 0x7265616421212121ull;
	leaf = tw_map(0, y, 0);                 /* bits 2:0 = 000: not present */
	if (!l2_start(l2e_read, what))
		return;
	g.regs.rsi = TW_PAGE_LIN(0) + OFF_READ;
	if (!expect_violation(l2e_read, TW_PAGE_GPA(0) + OFF_READ, TW_PAGE_LIN(0) + OFF_READ,
			      EPT_QUAL_READ | translated, 0, what))
		return;
	*leaf |= EPT_LEAF_WB;
	if (repaired(l2e_read_done, "... not present: after L1 maps the page, L2's read completes"))
		report(g.regs.rax == 0x7265616421212121ull,
		       "... not present: L2 read the value behind it (got 0x%llx)", U64(g.regs.rax));
}

static void read_only_write(void)
{
	const char *what = "EPT violation: write to a read-only page";
	void *y;
	uint64_t *leaf;

	world_reset(false);
	y = pool_page();
	*q(y, OFF_WRITE) = 0x1111111111111111ull;
	leaf = tw_map(0, y, EPT_R | EPT_MEMTYPE(MT_WB));
	if (!l2_start(l2e_write, what))
		return;
	g.regs.rdi = TW_PAGE_LIN(0) + OFF_WRITE;
	g.regs.rdx = 0x7772697465212121ull;
	if (!expect_violation(l2e_write, TW_PAGE_GPA(0) + OFF_WRITE, TW_PAGE_LIN(0) + OFF_WRITE,
			      EPT_QUAL_WRITE | EPT_QUAL_READABLE | translated, 0, what))
		return;
	report(*q(y, OFF_WRITE) == 0x1111111111111111ull,
	       "... read-only: the write did not happen (got 0x%llx)", U64(*q(y, OFF_WRITE)));
	*leaf |= EPT_W;
	if (repaired(l2e_write_done, "... read-only: after L1 allows writes, L2's write completes"))
		report(*q(y, OFF_WRITE) == 0x7772697465212121ull,
		       "... read-only: L1 sees L2's value (got 0x%llx)", U64(*q(y, OFF_WRITE)));
}

static void fetch_not_executable(void)
{
	const char *what = "EPT violation: instruction fetch from a non-executable (RW) page";
	const void *target = (const void *)(uintptr_t)(TW_PAGE_LIN(0) + OFF_CODE);
	void *y;
	uint64_t *leaf;

	world_reset(false);
	y = pool_page();
	memcpy((uint8_t *)y + OFF_CODE, l2e_routine, (size_t)(l2e_routine_end - l2e_routine));
	leaf = tw_map(0, y, EPT_R | EPT_W | EPT_MEMTYPE(MT_WB));
	if (!l2_start(l2e_call, what))
		return;
	g.regs.rsi = TW_PAGE_LIN(0) + OFF_CODE;
	g.regs.rax = 0;
	if (!expect_violation(target, TW_PAGE_GPA(0) + OFF_CODE, TW_PAGE_LIN(0) + OFF_CODE,
			      EPT_QUAL_FETCH | EPT_QUAL_READABLE | EPT_QUAL_WRITABLE | translated, 0,
			      what))
		return;
	*leaf |= EPT_X;
	if (repaired(l2e_call_done, "... not executable: after L1 allows execution, L2 runs the code"))
		report((uint32_t)g.regs.rax == L2E_ROUTINE_EAX,
		       "... not executable: the routine ran (EAX 0x%x, got 0x%llx)", L2E_ROUTINE_EAX,
		       U64(g.regs.rax));
}

static void execute_only_read(void)
{
	const char *what = "EPT violation: read of an execute-only page";
	void *y;
	uint64_t *leaf;

	if (!(caps.ept_vpid & EPT_CAP_EXEC_ONLY)) {
		report_skip("%s: execute-only translations are not offered (EPT_VPID_CAP bit 0)", what);
		return;
	}
	world_reset(false);
	y = pool_page();
	*q(y, OFF_READ) = 0x786f6e6c79212121ull;
	leaf = tw_map(0, y, EPT_X | EPT_MEMTYPE(MT_WB));
	if (!l2_start(l2e_read, what))
		return;
	g.regs.rsi = TW_PAGE_LIN(0) + OFF_READ;
	if (!expect_violation(l2e_read, TW_PAGE_GPA(0) + OFF_READ, TW_PAGE_LIN(0) + OFF_READ,
			      EPT_QUAL_READ | EPT_QUAL_EXECUTABLE | translated, 0, what))
		return;
	*leaf |= EPT_R;
	if (repaired(l2e_read_done, "... execute-only: after L1 allows reads, L2's read completes"))
		report(g.regs.rax == 0x786f6e6c79212121ull,
		       "... execute-only: L2 read the value (got 0x%llx)", U64(g.regs.rax));
}

/* Bits 3-5 are the AND over every EPT entry of the walk: a read-only PDE
 * above an RWX PTE makes the page read-only. */
static void read_only_pde(void)
{
	const char *what = "EPT violation: write under a read-only EPT PDE (RWX PTE)";
	uint64_t *pde;
	void *y;

	world_reset(false);
	y = pool_page();
	tw_map(0, y, EPT_LEAF_WB);
	pde = ept_entry(&w.ept, TW_GPA, EPT_PDE);
	*pde &= ~(EPT_W | EPT_X);
	if (!l2_start(l2e_write, what))
		return;
	g.regs.rdi = TW_PAGE_LIN(0) + OFF_WRITE;
	g.regs.rdx = 0x7064652121212121ull;
	if (!expect_violation(l2e_write, TW_PAGE_GPA(0) + OFF_WRITE, TW_PAGE_LIN(0) + OFF_WRITE,
			      EPT_QUAL_WRITE | EPT_QUAL_READABLE | translated, 0, what))
		return;
	*pde |= EPT_W | EPT_X;
	if (repaired(l2e_write_done, "... read-only PDE: after L1 repairs the PDE, the write completes"))
		report(*q(y, OFF_WRITE) == 0x7064652121212121ull,
		       "... read-only PDE: L1 sees L2's value (got 0x%llx)", U64(*q(y, OFF_WRITE)));
}

/* An access to one of L2's own paging structures: bit 8 is 0, and the
 * guest-physical address is the paging-structure entry's. */
static void paging_structure_read(void)
{
	const char *what = "EPT violation: L2's page walk reads a not-present page (its page table)";
	uint64_t pte_gpa, *leaf;
	void *y;

	world_reset(false);
	y = pool_page();
	*q(y, OFF_READ) = 0x7761616c6b212121ull;
	tw_map(0, y, EPT_LEAF_WB);
	pte_gpa = pa_of(w.tw_pt) + 8 * PT_INDEX(TW_PAGE_LIN(0));
	leaf = ept_entry(&w.ept, pa_of(w.tw_pt), EPT_PTE);
	*leaf &= ~EPT_RWX;
	if (!l2_start(l2e_read, what))
		return;
	g.regs.rsi = TW_PAGE_LIN(0) + OFF_READ;
	if (!expect_violation(l2e_read, pte_gpa, TW_PAGE_LIN(0) + OFF_READ,
			      EPT_QUAL_READ | EPT_QUAL_GLA_VALID, 0, what))
		return;
	*leaf |= EPT_RWX;
	if (repaired(l2e_read_done, "... page walk: after L1 maps L2's page table, the read completes"))
		report(g.regs.rax == 0x7761616c6b212121ull,
		       "... page walk: L2 read the value (got 0x%llx)", U64(g.regs.rax));
}

void test_violations(void)
{
	printf("vmxept: --- EPT violations (SDM 29.3.3.2, Table 28-7) ---\n");
	if (!ept_offered()) {
		report_skip("EPT violation cases: EPT is not offered");
		return;
	}
	not_present_read();
	read_only_write();
	fetch_not_executable();
	execute_only_read();
	read_only_pde();
	paging_structure_read();
}

/* ---- Misconfigurations ------------------------------------------------------ */

/* `entry` of the test window page's walk gets `bad`; L2 reads; exit 49. */
static void misconfig(enum ept_level level, uint64_t perms_and_type, const char *what)
{
	uint64_t *entry, good;
	void *y;

	world_reset(false);
	y = pool_page();
	*q(y, OFF_READ) = 0x6d6973636f6e6621ull;
	tw_map(0, y, EPT_LEAF_WB);
	entry = ept_entry(&w.ept, TW_GPA, level);
	good = *entry;
	*entry = (good & EPT_ADDR_MASK) | perms_and_type;
	if (!l2_start(l2e_read, what))
		return;
	g.regs.rsi = TW_PAGE_LIN(0) + OFF_READ;
	if (!expect_misconfig(l2e_read, TW_PAGE_GPA(0) + OFF_READ, what))
		return;
	*entry = good;
	if (repaired(l2e_read_done,
		     "... misconfiguration: after L1 repairs the entry, the read completes"))
		report(g.regs.rax == 0x6d6973636f6e6621ull,
		       "... misconfiguration: L2 read the value (got 0x%llx)", U64(g.regs.rax));
}

void test_misconfigs(void)
{
	printf("vmxept: --- EPT misconfigurations (SDM 29.3.3.1) ---\n");
	if (!ept_offered()) {
		report_skip("EPT misconfiguration cases: EPT is not offered");
		return;
	}
	misconfig(EPT_PTE, EPT_W | EPT_MEMTYPE(MT_WB),
		  "EPT misconfiguration: a PTE with W=1, R=0");
	misconfig(EPT_PDE, EPT_W, "EPT misconfiguration: a PDE (non-leaf) with W=1, R=0");
	misconfig(EPT_PTE, EPT_RWX | EPT_MEMTYPE(2), "EPT misconfiguration: a PTE with memory type 2");
	misconfig(EPT_PTE, EPT_RWX | EPT_MEMTYPE(3), "EPT misconfiguration: a PTE with memory type 3");
	misconfig(EPT_PTE, EPT_RWX | EPT_MEMTYPE(7), "EPT misconfiguration: a PTE with memory type 7");
	if (caps.ept_vpid & EPT_CAP_EXEC_ONLY)
		report_skip("EPT misconfiguration: an execute-only PTE: execute-only translations "
			    "are offered (EPT_VPID_CAP bit 0)");
	else
		misconfig(EPT_PTE, EPT_X | EPT_MEMTYPE(MT_WB),
			  "EPT misconfiguration: an execute-only PTE where EPT_VPID_CAP bit 0 is 0");
}

/* ---- Accessed and dirty flags ----------------------------------------------- */

static void ad_write_protected_walk(void)
{
	/* 29.3.3.2: with EPTP bit 6 set, accesses to guest paging structures are
	 * writes for EPT: a read-only page table makes L2's read exit. Whether a
	 * write of this kind also sets bit 0 (read) is not fixed: not compared. */
	const char *what = "EPT violation with A/D flags on: L2's page table is read-only in EPT12";
	uint64_t pte_gpa, *leaf;
	void *y;

	world_reset(true);
	y = pool_page();
	*q(y, OFF_READ) = 0x616477616c6b2121ull;
	tw_map(0, y, EPT_LEAF_WB);
	pte_gpa = pa_of(w.tw_pt) + 8 * PT_INDEX(TW_PAGE_LIN(0));
	leaf = ept_entry(&w.ept, pa_of(w.tw_pt), EPT_PTE);
	*leaf &= ~EPT_W;
	if (!l2_start(l2e_read, what))
		return;
	g.regs.rsi = TW_PAGE_LIN(0) + OFF_READ;
	if (!expect_violation(l2e_read, pte_gpa, TW_PAGE_LIN(0) + OFF_READ,
			      EPT_QUAL_WRITE | EPT_QUAL_READABLE | EPT_QUAL_EXECUTABLE |
			      EPT_QUAL_GLA_VALID, EPT_QUAL_READ, what))
		return;
	*leaf |= EPT_W;
	if (repaired(l2e_read_done,
		     "... A/D walk: after L1 allows writes to the page table, the read completes"))
		report(g.regs.rax == 0x616477616c6b2121ull,
		       "... A/D walk: L2 read the value (got 0x%llx)", U64(g.regs.rax));
}

void test_accessed_dirty(void)
{
	const char *what = "EPT accessed and dirty flags";
	uint64_t *leaf, *pde, *pdpte, *walk_leaf;
	void *y;

	printf("vmxept: --- accessed and dirty flags for EPT (SDM 29.3.5) ---\n");
	if (!ept_offered() || !(caps.ept_vpid & EPT_CAP_AD)) {
		report_skip("%s: %s", what, !ept_offered() ? "EPT is not offered"
			    : "not offered (EPT_VPID_CAP bit 21 is 0)");
		return;
	}
	world_reset(true);
	y = pool_page();
	leaf = tw_map(0, y, EPT_LEAF_WB);
	pde = ept_entry(&w.ept, TW_GPA, EPT_PDE);
	pdpte = ept_entry(&w.ept, TW_GPA, EPT_PDPTE);
	walk_leaf = ept_entry(&w.ept, pa_of(w.tw_pt), EPT_PTE);
	if (!l2_start(l2e_read_write, what))
		return;
	report(ept_eptp(&w.ept) & EPTP_AD, "A/D: EPTP 0x%llx has bit 6 set", U64(ept_eptp(&w.ept)));
	g.regs.rsi = TW_PAGE_LIN(0) + 0x80;
	g.regs.rdx = 0x6469727479212121ull;
	if (!run_to_vmcall(l2e_read_write_mid, "A/D: L2 reads the window page"))
		return;
	report((*leaf & (EPT_ACCESSED | EPT_DIRTY)) == EPT_ACCESSED,
	       "... A/D: after the read, the leaf has accessed (bit 8) and not dirty (bit 9) "
	       "(entry 0x%llx)", U64(*leaf));
	report((*pde & EPT_ACCESSED) && (*pdpte & EPT_ACCESSED),
	       "... A/D: the PDE and PDPTE of the walk are accessed (0x%llx, 0x%llx)", U64(*pde),
	       U64(*pdpte));
	/* 29.3.5: with EPTP bit 6, accesses to guest paging structures count as
	 * writes: L2's page table (read by the walk) becomes dirty in EPT12. */
	report((*walk_leaf & (EPT_ACCESSED | EPT_DIRTY)) == (EPT_ACCESSED | EPT_DIRTY),
	       "... A/D: the leaf of L2's page table is accessed and dirty (walks are writes; "
	       "entry 0x%llx)", U64(*walk_leaf));
	resume_after_vmcall();
	if (!run_to_vmcall(l2e_read_write_done, "A/D: L2 writes the window page"))
		return;
	report((*leaf & (EPT_ACCESSED | EPT_DIRTY)) == (EPT_ACCESSED | EPT_DIRTY),
	       "... A/D: after the write, the leaf is accessed and dirty (entry 0x%llx)", U64(*leaf));
	report(*q(y, 0x80) == 0x6469727479212121ull, "... A/D: L1 sees L2's write (got 0x%llx)",
	       U64(*q(y, 0x80)));
	ad_write_protected_walk();
}
