/* SPDX-License-Identifier: MIT */
/*
 * vmxept: L1's EPT and VPID as L1 sees them (issue 7). L1 builds EPT12 tables
 * in its own memory (ept.c), runs L2 on them and checks what the architecture
 * promises: translation, remapping, large pages, EPT violations and
 * misconfigurations with their exit information, INVEPT/INVVPID, accessed and
 * dirty flags, the VM-entry checks on the EPTP and VPID, an unrestricted
 * (real-mode) guest, and the VMX-preemption timer (timer.c). Every case that needs a capability the VMX MSRs do not
 * offer prints a SKIP with the reason.
 */
#ifndef VMXEPT_H
#define VMXEPT_H

#include "vmxlib.h"

/* ---- Pages (ept.c): a static pool, identity-mapped by L1's own paging ------- */

/* Forgets every page handed out (each case starts from an empty pool). */
void pool_reset(void);
/* From now until pool_reset, pages come from [base, base + pages * 4 KiB): L1
 * RAM outside the image (the stress mode's tables). */
void pool_use_region(uint64_t base, unsigned pages);
/* A zeroed, 4 KiB-aligned page of L1's memory; the run ends if none is left. */
void *pool_page(void);
static inline uint64_t pa_of(const void *p)
{
	return (uintptr_t)p;            /* identity map */
}

/* ---- EPT12 (ept.c): SDM Vol. 3C, 29.3.2 "EPT Translation Mechanism" --------- */

enum ept_level { EPT_PTE = 1, EPT_PDE = 2, EPT_PDPTE = 3, EPT_PML4E = 4 };

struct ept {
	uint64_t *pml4;
	bool ad;                /* EPTP bit 6: accessed and dirty flags */
};

/* The permissions and memory type of an ordinary leaf: RWX, write-back. */
#define EPT_LEAF_WB (EPT_RWX | EPT_MEMTYPE(MT_WB))

void ept_new(struct ept *e, bool ad);
/* The entry at `level` on the walk of gpa, making the tables above it (RWX) if
 * they are missing; NULL if a large page is in the way. */
uint64_t *ept_entry(struct ept *e, uint64_t gpa, enum ept_level level);
/* A leaf at `level` (PTE 4 KiB, PDE 2 MiB, PDPTE 1 GiB): gpa -> hpa with `bits`
 * (permissions, memory type); EPT_LARGE is added above the PTE level. */
uint64_t *ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, enum ept_level level, uint64_t bits);
/* 4 KiB identity leaves (EPT_LEAF_WB) over [start, end). */
void ept_map_identity(struct ept *e, uint64_t start, uint64_t end);
/* The EPTP of these tables: memory type WB (else UC), 4-level walk, A/D if asked. */
uint64_t ept_eptp(const struct ept *e);
/* INVEPT single-context for this EPTP if offered, else all-context; reports a
 * FAIL if the instruction does not succeed. */
bool ept_invalidate(const struct ept *e);
/* INVEPT single-context or all-context when offered, else false. */
bool invept_type_offered(uint64_t type);

/* ---- The world every EPT case starts from (ept.c) ---------------------------
 *
 * Guest-physical memory: [0, ident_end) identity-mapped with 4 KiB pages
 * (L1's image: L2's code, stack, IDT, GDT, TSS and page tables live there),
 * and a test window of TW_PAGES pages at TW_GPA that each case maps as it
 * wants. L2 has page tables of its own: L1's identity map of [0, 4 GiB)
 * (PML4 entry 0, shared) plus TW_LINEAR + i * 4 KiB -> TW_GPA + i * 4 KiB, so
 * that a test-window access has a linear address, a guest-physical address
 * and a host (L1) address that all differ.
 */
#define TW_GPA          0x40000000ull   /* 1 GiB: its own EPT PDPTE, PDE and PT */
#define TW_LINEAR       (1ull << 39)    /* PML4 entry 1 of L2's tables */
#define TW_PAGES        8u
#define TW_PAGE_GPA(i)  (TW_GPA + (uint64_t)(i) * PAGE_SIZE)
#define TW_PAGE_LIN(i)  (TW_LINEAR + (uint64_t)(i) * PAGE_SIZE)

struct world {
	struct ept ept;
	uint64_t ident_end;     /* end of the identity-mapped range */
	uint64_t cr3;           /* L2's CR3 (guest-physical = L1 address) */
	uint64_t *tw_pt;        /* L2's page table holding the window's PTEs */
};
extern struct world w;

/* Empties the pool, builds the identity EPT12 (A/D flags if `ad`) and L2's
 * page tables. */
void world_reset(bool ad);
/* L2's window page i -> the L1 page `host` with these leaf bits (EPT12). */
uint64_t *tw_map(unsigned i, const void *host, uint64_t bits);

/* ---- Running L2 (main.c) ------------------------------------------------- */

extern struct l2 g;

bool ept_offered(void);         /* "enable EPT" may be 1 */
bool vpid_offered(void);
bool ug_offered(void);          /* "unrestricted guest" may be 1 */
/* l2_init(entry) with "enable EPT" on w.ept (invalidated first) and L2's CR3
 * = w.cr3; false with a SKIP naming `what` if EPT is not offered. */
bool l2_start(const void *entry, const char *what);
/* Runs L2 to its next exit; reports that it is the VMCALL at `done`. */
bool run_to_vmcall(const void *done, const char *what);
/* Runs L2 to its next exit; reports that it is an EPT violation at guest RIP
 * `rip`, with the guest-physical and linear addresses and the qualification
 * given: bits 0-5, 7, 8 and 12 compared, except those in `ignore`; bits 9-11
 * too where the CPU reports them (a supervisor, writable, executable linear
 * address here). */
bool expect_violation(const void *rip, uint64_t gpa, uint64_t gla, uint64_t qual, uint64_t ignore,
		      const char *what);
/* The same for an EPT misconfiguration (only the guest-physical address is defined). */
bool expect_misconfig(const void *rip, uint64_t gpa, const char *what);
/* Resumes L2 after the VMCALL it exited with. */
void resume_after_vmcall(void);

/* ---- The case groups ----------------------------------------------------- */
void test_capabilities(void);   /* main.c */
void test_mapping(void);        /* mapping.c: identity, remapping, large pages */
void test_violations(void);     /* faults.c */
void test_misconfigs(void);     /* faults.c */
void test_invept(void);         /* mapping.c */
void test_accessed_dirty(void); /* faults.c */
void test_entry_checks(void);   /* entry.c */
void test_vpid(void);           /* entry.c */
void test_unrestricted(void);   /* realmode.c */
void test_preemption_timer(void); /* timer.c */
/* mode=stress (a run of its own): EPT12 beyond an L0's EPT02 pool. */
void test_ept02_stress(const struct multiboot_info *mbi); /* stress.c */

/* ---- L2 programs (l2_ept.asm) -------------------------------------------- */
/* l2e_sum: RAX = [RSI] + RCX; [RDI] = RAX. */
L2_SYM(l2e_sum); L2_SYM(l2e_sum_done);
/* l2e_rw: RAX = [RSI]; [RDI] = RDX. */
L2_SYM(l2e_rw); L2_SYM(l2e_rw_read); L2_SYM(l2e_rw_write); L2_SYM(l2e_rw_done);
/* l2e_read: RAX = [RSI]. */
L2_SYM(l2e_read); L2_SYM(l2e_read_done);
/* l2e_write: [RDI] = RDX. */
L2_SYM(l2e_write); L2_SYM(l2e_write_done);
/* l2e_call: CALL RSI (a routine L1 placed there), then VMCALL. */
L2_SYM(l2e_call); L2_SYM(l2e_call_done);
/* l2e_read_loop: RAX = [RSI], VMCALL, again after every resume. */
L2_SYM(l2e_read_loop); L2_SYM(l2e_read_loop_done);
/* l2e_read_write: RAX = [RSI], VMCALL; [RSI] = RDX, VMCALL. */
L2_SYM(l2e_read_write); L2_SYM(l2e_read_write_mid); L2_SYM(l2e_read_write_done);
/* l2e_routine: "mov eax, 0x600dc0de; ret", copied by L1 where l2e_call calls. */
L2_SYM(l2e_routine); L2_SYM(l2e_routine_end);
#define L2E_ROUTINE_EAX 0x600DC0DEu
/* l2e_marker: [RDI] = RDX as its first instruction. */
L2_SYM(l2e_marker); L2_SYM(l2e_marker_done);
/* l2e_spin: RCX += 1 forever. */
L2_SYM(l2e_spin); L2_SYM(l2e_spin_end);
/* l2e_timed_cpuid: spins until its RDTSCs are RSI ticks apart (R9 first, R10
 * last, R8 iterations), CPUID; resumed, spins for good (R12 = its first TSC
 * there, R11 = its latest, R8 += 1 each time). */
L2_SYM(l2e_timed_cpuid); L2_SYM(l2e_timed_cpuid_insn); L2_SYM(l2e_timed_spin);
L2_SYM(l2e_timed_spin_end);
/* l2e_stress: calls stress_l2_pass (stress.c), VMCALL; resumed, again. */
L2_SYM(l2e_stress); L2_SYM(l2e_stress_done);
/* l2e_real: 16-bit real-mode code (copied by L1, runs at CS:IP = 0x800:0). */
L2_SYM(l2e_real); L2_SYM(l2e_real_vmcall); L2_SYM(l2e_real_end);

#endif
