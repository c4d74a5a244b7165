/* SPDX-License-Identifier: MIT */
/*
 * Unrestricted guest (SDM Vol. 3C, 25.6.2, Table 25-7; 26.3.1.1 and 26.3.1.2
 * for the guest-state checks it relaxes): an L2 that starts in real mode
 * (CR0.PE = 0, PG = 0), so that its addresses go through EPT12 untranslated.
 * Its code and data page, guest-physical 0x8000, is an L1 page of the pool.
 */
#include "vmxept.h"

#define REAL_SEG        0x800u          /* CS = DS = SS = 0x800: base 0x8000 */
#define REAL_BASE       0x8000u
#define REAL_LIMIT      0xFFFFu
#define REAL_SP         0x1000u         /* top of the page */
#define REAL_IVT_LIMIT  0x3FFu
/* Table 25-2 access rights: accessed code (exec/read) and data (read/write),
 * and a busy 32-bit TSS for TR. */
#define AR_REAL_CODE    (AR_TYPE(AR_TYPE_CODE_RX_ACCESSED) | AR_S | AR_P)
#define AR_REAL_DATA    (AR_TYPE(AR_TYPE_DATA_RW_ACCESSED) | AR_S | AR_P)
#define AR_TSS32_BUSY   (AR_TYPE(11) | AR_P)

static void real_mode_state(void)
{
	static const uint32_t data_segs[] = {
		VMCS_GUEST_ES_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL, VMCS_GUEST_FS_SEL,
		VMCS_GUEST_GS_SEL,
	};
	/* 26.3.1.1: with unrestricted guest, CR0.PE and PG are not checked against
	 * IA32_VMX_CR0_FIXED0; the other fixed bits (NE) still are. */
	uint64_t cr0 = cr0_fixed(read_cr0()) & ~(uint64_t)(CR0_PG | CR0_PE);

	l2_clear_ctl(VMCS_ENTRY_CONTROLS, ENTRY_IA32E_GUEST);
	vmw(VMCS_GUEST_CR0, cr0);
	vmw(VMCS_CR0_READ_SHADOW, cr0);
	l2_write_segment(VMCS_GUEST_CS_SEL, REAL_SEG, AR_REAL_CODE, REAL_LIMIT, REAL_BASE);
	for (unsigned i = 0; i < sizeof(data_segs) / sizeof(data_segs[0]); i++)
		l2_write_segment(data_segs[i], REAL_SEG, AR_REAL_DATA, REAL_LIMIT, REAL_BASE);
	l2_write_segment(VMCS_GUEST_TR_SEL, 0, AR_TSS32_BUSY, REAL_LIMIT, 0);
	vmw(VMCS_GUEST_GDTR_BASE, 0);
	vmw(VMCS_GUEST_GDTR_LIMIT, REAL_LIMIT);
	vmw(VMCS_GUEST_IDTR_BASE, 0);
	vmw(VMCS_GUEST_IDTR_LIMIT, REAL_IVT_LIMIT);
	vmw(VMCS_GUEST_RIP, 0);
	vmw(VMCS_GUEST_RSP, REAL_SP);
	vmw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
}

void test_unrestricted(void)
{
	const char *what = "unrestricted guest: L2 in real mode";
	const uintptr_t vmcall_ip = (uintptr_t)(l2e_real_vmcall - l2e_real);
	const volatile uint8_t *l1_page = (const volatile uint8_t *)(uintptr_t)REAL_BASE;
	uint8_t before[0x210], after[0x210];
	uint8_t *page;
	uint64_t cr0;

	printf("vmxept: --- unrestricted guest (SDM 25.6.2, 26.3.1) ---\n");
	if (!ug_offered() || !ept_offered()) {
		report_skip("%s: %s", what, !ept_offered() ? "EPT is not offered"
			    : "\"unrestricted guest\" is not offered");
		return;
	}
	world_reset(false);
	page = pool_page();
	memcpy(page, l2e_real, (size_t)(l2e_real_end - l2e_real));
	page[0x200] = 0xEF;
	page[0x201] = 0xBE;
	ept_map(&w.ept, REAL_BASE, pa_of(page), EPT_PTE, EPT_LEAF_WB);
	for (unsigned i = 0; i < sizeof(before); i++)
		before[i] = l1_page[i];
	if (!l2_start(l2e_real, what))
		return;
	l2_set_ctl(VMCS_PROC_CONTROLS2, PROC2_UNRESTRICTED_GUEST);
	real_mode_state();
	g.regs.rcx = ~0ull;
	if (!run_to_vmcall((const void *)vmcall_ip, "unrestricted guest: L2 runs real-mode code "
			   "at 0x800:0 and VMCALLs"))
		return;
	cr0 = g.regs.rcx & 0xFFFFFFFFu;
	report(page[0x100] == 0x35 && page[0x101] == 0x13 && page[0x102] == 0x5A,
	       "... real mode: L2's stores landed in the page behind guest-physical 0x8100 "
	       "(35 13 5a, got %02x %02x %02x)", page[0x100], page[0x101], page[0x102]);
	report((g.regs.rbx & 0xFFFF) == 0xBEEF, "... real mode: L2 read L1's word at 0x8200 "
	       "(0xbeef, got 0x%llx)", U64(g.regs.rbx & 0xFFFF));
	report(!(cr0 & CR0_PE) && !(cr0 & CR0_PG), "... real mode: L2's CR0 has PE = PG = 0 "
	       "(got 0x%llx)", U64(cr0));
	report(vmr(VMCS_GUEST_CS_BASE) == REAL_BASE && g.exit.rip == vmcall_ip,
	       "... real mode: exit at CS base 0x8000, IP 0x%llx (got 0x%llx, 0x%llx)",
	       U64(vmcall_ip), U64(vmr(VMCS_GUEST_CS_BASE)), U64(g.exit.rip));
	for (unsigned i = 0; i < sizeof(after); i++)
		after[i] = l1_page[i];
	report(memcmp(before, after, sizeof(before)) == 0,
	       "... real mode: L1's own page at 0x8000 is untouched");
}
