/* SPDX-License-Identifier: MIT */
/*
 * Nested EPT and VPID for L2 (SDM Vol. 3C, 29.3 "The Extended Page Table
 * Mechanism (EPT)", 29.1 "Virtual Processor Identifiers (VPIDs)", as L1
 * sees them): when VMCS12 enables EPT, L2's memory is EPT12 (L1's tables, in
 * L1 memory) composed with EPT01 (L1 -> machine). The CPU walks EPT02, which
 * ept/ept02.c fills page by page from software walks of EPT12 (ept/ept12.c)
 * at L2's EPT violations: an access EPT12 allows is installed and L2 retries
 * it; one EPT12 forbids or cannot translate is L1's exit, with the exit
 * qualification EPT12's walk gives.
 *
 * Policy decided here:
 *   - EPT12 is read through EPT01, as L1 RAM: never L0 memory, never a
 *     device. An EPT12 table outside L1's RAM reads as all ones, as unbacked
 *     physical memory does on PC hardware: an entry with reserved bits set,
 *     so L1 gets an EPT misconfiguration.
 *   - An access EPT12 allows but EPT01 does not is L1's own fault: the page
 *     L0 write-protects to watch L1's MSR bitmap is handled as L1's write
 *     would be, anything else ends the run as L1 touching L0 memory would.
 *   - Stale translations: L1 changing EPT12 without INVEPT may keep seeing
 *     the old mapping (the SDM allows it); INVEPT drops exactly what it
 *     names. L0 changing EPT01 drops all of EPT02.
 *   - EPT02 tables come from a fixed pool: nothing L1 does makes L0 allocate
 *     (ept02.h says how it reclaims).
 *   - VPID: every VPID12 runs as one hardware VPID02, distinct from L1's;
 *     INVVPID of any VPID12 flushes VPID02 (more than asked, which the SDM
 *     allows), and so does a VM entry with a VPID12 other than the last one.
 */
#include "nested/internal.h"
#include "nested/checks.h"
#include "nested/ept.h"
#include "ept/ept02.h"
#include "ept/ept12.h"
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/exit_info.h"
#include "vmx/guest_mem.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/run.h"
#include "core/x86.h"

#include <nestvisor/hypercall.h>
#include <nestvisor/string.h>

/* The hardware VPID L2 runs with (L1's is 1, vmx/vmcs01.c). */
#define VPID02 2
/* An entry of a table outside L1's RAM: all ones, as unbacked memory reads. */
#define UNBACKED_ENTRY (~0ull)

static struct ept02 ept02;
static struct ept12_caps l1_ept_caps;
static uint64_t eptp02_written;   /* VMCS02's EPT pointer as last written; 0 = unknown */
static uint16_t last_vpid12;      /* the VPID12 VPID02 last ran as */
/* VMCS12's EPT and VPID controls as of VMCS02's controls (new_controls). */
static bool ept12_on, vpid12_on;
bool nested_ept_vpid12_on;

static uint64_t *pool_table(void *ctx, uint64_t phys)
{
	return phys_to_virt(phys);
}

void nested_ept_init(uint32_t pool_pages)
{
	static const struct ept02_ops ops = { pool_table, 0 };
	const struct vmx_caps *l1c = &nested.caps.l1;
	size_t list_pages = (pool_pages * sizeof(uint64_t) + 4095) / 4096;
	uint64_t *pages, list;

	if (!(l1c->proc2.may1 & PROC2_ENABLE_EPT))
		return;
	/* nestvisor.cfg's ept02_pool (the loader checked it against l0_memory). */
	list = pmm_alloc_pages(list_pages);
	if (!list)
		panic("EPT02 pool: no memory for its list of %u pages", pool_pages);
	pages = phys_to_virt(list);
	for (unsigned i = 0; i < pool_pages; i++)
		pages[i] = pmm_alloc_page_or_panic("EPT02 pool");
	log_line("ept02: pool of %u pages (nestvisor.cfg ept02_pool)", pool_pages);
	if (ept02_init(&ept02, &ops, pages, pool_pages,
		       vmx_caps.ept_vpid & EPT_CAP_2MB_PAGES, vmx_caps.ept_vpid & EPT_CAP_1GB_PAGES))
		panic("EPT02 pool refused");
	l1_ept_caps = nested_ept12_caps(l1c, l1_maxphyaddr());
}

const char *nested_ept_check_eptp(uint64_t eptp12)
{
	return ept12_eptp_check(eptp12, &l1_ept_caps);
}

bool nested_ept_on(const struct vmcs12 *v12)
{
	return vmcs12_proc2(v12) & PROC2_ENABLE_EPT;
}

/*
 * EPT12 entries, read and updated (A/D) in L1 memory through EPT01. A read
 * takes one EPT01 walk: what EPT01 maps readable and write-back is memory L1
 * may read (its RAM, ACPI tables, firmware code), never L0's (unmapped) nor a
 * device (uncacheable).
 */
/* The EPT12 table pages read lately, one slot a level: L1-physical page -> host page. */
static struct { uint64_t gpa_page, hpa_page; } table_cache[EPT_LEVELS];

static bool read_entry(void *ctx, uint64_t gpa, uint64_t *val)
{
	uint64_t page = gpa & ~0xfffull;
	unsigned slot = (unsigned)(page >> 12) % EPT_LEVELS;
	struct ept_walk w;

	if (table_cache[slot].gpa_page != page || !table_cache[slot].hpa_page) {
		ept_translate(&l1.ept01, page, &w);
		if (!w.present || !(w.leaf & EPT_R) ||
		    ((w.leaf & EPT_MT_MASK) >> EPT_MT_SHIFT) != EPT_MT_WB) {
			*val = UNBACKED_ENTRY;
			return true;
		}
		table_cache[slot].gpa_page = page;
		table_cache[slot].hpa_page = w.hpa;
	}
	*val = *(const uint64_t *)phys_to_virt(table_cache[slot].hpa_page + (gpa & 0xff8));
	return true;
}

static bool write_entry(void *ctx, uint64_t gpa, uint64_t old, uint64_t new)
{
	uint64_t now;

	if (!l1_is_ram(gpa, 8) || l1_read_phys(gpa, &now, 8) != GM_OK || now != old)
		return false;
	return l1_write_phys(gpa, &new, 8) == GM_OK;
}

static void flush_if_needed(void)
{
	if (ept02_take_invept(&ept02))
		vmx_invept_all();
}

/*
 * VMCS02 current: its EPT pointer and VPID for this entry. new_controls:
 * VMCS02's controls were just (re)written from VMCS12, EPT_POINTER and
 * VIRTUAL_PROCESSOR_ID among them; otherwise neither changed. Without
 * EPT12 or VPID12 an entry costs two tests here.
 */
void nested_ept_before_entry_slow(const struct vmcs12 *v12, bool new_controls)
{
	uint64_t eptp02;

	if (new_controls) {
		uint32_t proc2 = vmcs12_proc2(v12);

		ept12_on = proc2 & PROC2_ENABLE_EPT;
		vpid12_on = proc2 & PROC2_ENABLE_VPID;
		nested_ept_vpid12_on = ept12_on || vpid12_on;
		eptp02_written = 0;
		if (!ept12_on)
			vmwrite64(VMCS_EPT_POINTER, ept_eptp(&l1.ept01));
		if (vpid12_on)
			vmwrite16(VMCS_VIRTUAL_PROCESSOR_ID, VPID02);
	}
	if (ept12_on) {
		/* A root given out before may have been reclaimed since (ept02.h). */
		eptp02 = ept02_eptp(ept02_root_for(&ept02, v12->EPT_POINTER), v12->EPT_POINTER);
		if (eptp02 != eptp02_written) {
			vmwrite64(VMCS_EPT_POINTER, eptp02);
			eptp02_written = eptp02;
		}
		flush_if_needed();
	}
	if (vpid12_on && v12->VIRTUAL_PROCESSOR_ID != last_vpid12) {
		vmx_invvpid_single(VPID02);
		last_vpid12 = v12->VIRTUAL_PROCESSOR_ID;
	}
}

void nested_ept01_changed(void)
{
	memset(table_cache, 0, sizeof(table_cache));
	if (!ept02.npages)
		return;
	ept02_invalidate_all(&ept02);
	flush_if_needed();
}

void nested_invept(bool all, uint64_t eptp12)
{
	if (all)
		ept02_invalidate_all(&ept02);
	else
		ept02_invalidate(&ept02, eptp12);
	flush_if_needed();
}

void nested_invvpid(void)
{
	vmx_invvpid_single(VPID02);
}

/* The access of an EPT violation (SDM Vol. 3C, 28.2.1, Table 28-7). */
static unsigned violation_access(const struct ept_violation_info *e)
{
	return (e->read ? EPT12_ACC_READ : 0) | (e->write ? EPT12_ACC_WRITE : 0) |
	       (e->fetch ? EPT12_ACC_FETCH : 0) |
	       (e->linear_valid && !e->translation ? EPT12_ACC_PAGING : 0);
}

/* EPT12 allows it, EPT01 does not: L1's own access to memory it does not have. */
static unsigned l1_fault(struct vcpu *v, const struct ept12_walk *w, uint64_t l2_gpa)
{
	if ((w->need & EPT_W) && nested_bitmap_write_fault(w->l1_gpa))
		return NV_ACCT_L2_ABSORBED;  /* EPT01 changed (nested_ept01_changed): retried */
	vcpu_dump(v);
	run_end_failure("EPT violation: L2 (through L1's EPT, L2-physical 0x%lx) accessed "
			"L1-physical 0x%lx, which is not L1's memory", l2_gpa, w->l1_gpa);
}

unsigned nested_ept_l2_violation(struct vcpu *v, const struct exit_ctx *x)
{
	const struct vmcs12 *v12 = nested.vmcs12;
	struct ept_violation_info e = decode_ept_violation(x->qualification);
	struct ept12_mmu m = { v12->EPT_POINTER, l1_ept_caps, { read_entry, write_entry, 0 } };
	uint64_t l2_gpa = vmread64(VMCS_GUEST_PHYSICAL_ADDRESS), qual;
	struct ept12_walk w;
	struct ept_walk w01;

	ept12_walk(&m, l2_gpa, violation_access(&e), &w);
	switch (w.status) {
	case EPT12_OK:
		ept_translate(&l1.ept01, w.l1_gpa, &w01);
		if (ept02_install(&ept02, v12->EPT_POINTER, l2_gpa, &w, &w01) != EPT02_INSTALLED)
			return l1_fault(v, &w, l2_gpa);
		flush_if_needed();
		vcpu_reinject_idt_vectoring(x);
		nested.l2_exits_l0++;
		return NV_ACCT_L2_ABSORBED;
	case EPT12_AD_RACE:
		return NV_ACCT_L2_ABSORBED;  /* one vCPU: cannot happen; L2 retries */
	case EPT12_VIOLATION:
		/* Bit 12 (NMI unblocking) is the CPU's; no advanced information is offered. */
		qual = ept12_violation_qual(&w, e.linear_valid) |
		       (x->qualification & EPT_QUAL_NMI_UNBLOCKING);
		nested_reflect_to_l1_as(v, x, EXIT_REASON_EPT_VIOLATION, qual);
		return NV_ACCT_L2_REFLECTED;
	case EPT12_MISCONFIG:
	case EPT12_TABLE_UNREADABLE:
		break;
	}
	nested_reflect_to_l1_as(v, x, EXIT_REASON_EPT_MISCONFIG, 0);
	return NV_ACCT_L2_REFLECTED;
}

void nested_ept_print(void)
{
	const struct ept02_stats *s = &ept02.stats;

	if (!ept02.npages || !s->installs)
		return;
	log_line("ept02: pool=%u high_water=%u installs=%lu l1_faults=%lu reclaims=%lu "
		 "roots_reclaimed=%lu self_flushes=%lu evictions=%lu",
		 ept02.npages, s->high_water, s->installs, s->l1_faults, s->reclaims,
		 s->roots_reclaimed, s->self_flushes, s->evictions);
}
