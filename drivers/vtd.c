/* SPDX-License-Identifier: MIT */
/*
 * Programming the VT-d units. Intel VT-d Specification (rev. 4.1):
 * 10.4 "Register Descriptions" (CAP, ECAP, GCMD, GSTS, RTADDR, CCMD, IOTLB,
 * FSTS, FECTL, PMEN, fault recording), 6.5.1 "Register-based Invalidation
 * Interface", 6.1 "Caching Mode" / 6.6 "Set Root Table Pointer Operation",
 * 3.16 "Handling Requests to Protected Memory Regions".
 */
#include "drivers/vtd.h"
#include "drivers/acpi.h"
#include "drivers/vtd_pt.h"
#include "vmx/pci_guard.h"
#include "core/log.h"
#include "core/paging.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/x86.h"

#include <nestvisor/memmap.h>

/* Register offsets (10.4, Table 45) */
#define REG_VER     0x000
#define REG_CAP     0x008
#define REG_ECAP    0x010
#define REG_GCMD    0x018
#define REG_GSTS    0x01c
#define REG_RTADDR  0x020
#define REG_CCMD    0x028
#define REG_FSTS    0x034
#define REG_FECTL   0x038
#define REG_PMEN    0x064
#define REG_IOTLB   0x008     /* from ECAP.IRO * 16; IVA is at +0 */

/* CAP (10.4.2) */
#define CAP_ND(c)       ((unsigned)(c) & 7)
#define CAP_RWBF        (1ull << 4)
#define CAP_PLMR        (1ull << 5)
#define CAP_PHMR        (1ull << 6)
#define CAP_CM          (1ull << 7)
#define CAP_SAGAW(c)    ((unsigned)((c) >> 8) & 0x1f)
#define CAP_MGAW(c)     ((unsigned)((c) >> 16) & 0x3f)   /* width - 1 */
#define CAP_FRO(c)      ((unsigned)((c) >> 24) & 0x3ff)  /* in 16-byte units */
#define CAP_SLLPS(c)    ((unsigned)((c) >> 34) & 0xf)    /* bit 0: 2 MiB, bit 1: 1 GiB */
#define CAP_NFR(c)      ((unsigned)((c) >> 40) & 0xff)   /* fault recording registers - 1 */
#define CAP_DWD         (1ull << 54)
#define CAP_DRD         (1ull << 55)
/* ECAP (10.4.3) */
#define ECAP_C          (1ull << 0)    /* page walks snoop the CPU caches */
#define ECAP_IRO(e)     ((unsigned)((e) >> 8) & 0x3ff)   /* in 16-byte units */
#define ECAP_SMTS       (1ull << 43)
/* GCMD / GSTS (10.4.4, 10.4.5): same bit positions */
#define GCMD_TE         (1u << 31)
#define GCMD_SRTP       (1u << 30)
#define GCMD_WBF        (1u << 27)
#define GCMD_QIE        (1u << 26)
#define GCMD_IRE        (1u << 25)
/* The bits of GSTS that stay when written back into GCMD: not the one-shot
 * commands SRTP, SFL, WBF, SIRTP (10.4.4). */
#define GCMD_PERSISTENT 0x96ffffffu
/* CCMD (10.4.7) */
#define CCMD_ICC        (1ull << 63)
#define CCMD_GLOBAL     (1ull << 61)
/* IOTLB_REG (10.4.8.1) */
#define IOTLB_IVT       (1ull << 63)
#define IOTLB_GLOBAL    (1ull << 60)
#define IOTLB_DR        (1ull << 49)
#define IOTLB_DW        (1ull << 48)
/* FSTS (10.4.9) */
#define FSTS_PFO        (1u << 0)
#define FSTS_PPF        (1u << 1)
#define FSTS_CLEAR      0x7du     /* the write-1-to-clear bits: PFO, AFO, APF, IQE, ICE, ITE */
/* FECTL (10.4.10) */
#define FECTL_IM        (1u << 31)
/* PMEN (10.4.16) */
#define PMEN_EPM        (1u << 31)
#define PMEN_PRS        (1u << 0)
/* Fault recording register (10.4.14): 128 bits; in the upper quadword */
#define FRCD_F          (1ull << 63)
#define FRCD_T          (1ull << 62)   /* 1: a read, 0: a write */
#define FRCD_FR(h)      ((unsigned)((h) >> 32) & 0xff)
#define FRCD_SID(h)     ((unsigned)(h) & 0xffff)

#define DOMAIN_ID       1      /* domain 0 is reserved when CAP.CM = 1 (6.1) */
/* About a second of MMIO reads on hardware; emulators complete at once. */
#define WAIT_LOOPS      2000000u
#define PAGE_4K         0x1000ul

struct unit {
	volatile uint8_t *regs;
	const struct dmar_unit *d;
	uint64_t cap, ecap;
	unsigned levels;     /* of the tables this unit walks: 3, 4 or 5 */
	uint64_t root;
};

struct vtd_state vtd;
static struct dmar_info dmar;
static struct unit units[DMAR_MAX_UNITS];

static uint32_t rd32(const struct unit *u, unsigned reg)
{
	return *(volatile uint32_t *)(u->regs + reg);
}

static uint64_t rd64(const struct unit *u, unsigned reg)
{
	return *(volatile uint64_t *)(u->regs + reg);
}

static void wr32(const struct unit *u, unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(u->regs + reg) = v;
}

static void wr64(const struct unit *u, unsigned reg, uint64_t v)
{
	*(volatile uint64_t *)(u->regs + reg) = v;
}

static unsigned unit_index(const struct unit *u)
{
	return (unsigned)(u - units);
}

/* Wait until (reg & mask) == want (a 32- or 64-bit register); panic after WAIT_LOOPS reads. */
static void wait_reg(const struct unit *u, unsigned reg, bool wide, uint64_t mask, uint64_t want,
		     const char *what)
{
	for (unsigned i = 0; i < WAIT_LOOPS; i++) {
		if (((wide ? rd64(u, reg) : rd32(u, reg)) & mask) == want)
			return;
		cpu_relax();
	}
	panic("VT-d unit %u at 0x%lx: %s did not complete (register 0x%x reads 0x%lx, GSTS 0x%x)",
	      unit_index(u), u->d->base, what, reg, wide ? rd64(u, reg) : rd32(u, reg),
	      rd32(u, REG_GSTS));
}

/* Issue a GCMD command keeping what is enabled (10.4.4), then wait for its status bit. */
static void gcmd(const struct unit *u, uint32_t set, uint32_t clear, uint32_t sts_bit,
		 bool sts_want, const char *what)
{
	uint32_t v = rd32(u, REG_GSTS) & GCMD_PERSISTENT;

	wr32(u, REG_GCMD, (v | set) & ~clear);
	wait_reg(u, REG_GSTS, false, sts_bit, sts_want ? sts_bit : 0, what);
}

static unsigned iotlb_reg(const struct unit *u)
{
	return ECAP_IRO(u->ecap) * 16 + REG_IOTLB;
}

/* The first level count of 3, 4, 5 that the unit walks (SAGAW bit n: n + 2 levels). */
static unsigned pick_levels(const struct unit *u, uint64_t top)
{
	static const unsigned order[] = { 4, 3, 5 };

	for (unsigned i = 0; i < 3; i++) {
		unsigned l = order[i], width = 12 + 9 * l;

		if (!(CAP_SAGAW(u->cap) & (1u << (l - 2))))
			continue;
		if (top > 1ull << (width < 52 ? width : 52) || top > 1ull << (CAP_MGAW(u->cap) + 1))
			continue;
		return l;
	}
	return 0;
}

/* Memory L0 or L1 uses as RAM: no unit's registers may lie there. */
#define RAM_TYPES (NV_MEM_L0_MASK | NV_MEM_L1_RAM_MASK | NV_MEM_BIT(NV_MEM_ACPI_RECLAIM) | \
		   NV_MEM_BIT(NV_MEM_ACPI_NVS) | NV_MEM_BIT(NV_MEM_FW_RUNTIME) | \
		   NV_MEM_BIT(NV_MEM_BAD))
/* What no device may write, whatever an RMRR says. */
#define NO_DMA_TYPES (NV_MEM_L0_MASK | NV_MEM_BIT(NV_MEM_FW_RUNTIME))

/* Check the table against the boot map and read every unit's capabilities. NULL or why not. */
static const char *check_units(const struct nv_bootinfo *bi)
{
	for (unsigned i = 0; i < dmar.nrmrrs; i++) {
		const struct dmar_rmrr *r = &dmar.rmrr[i];

		if (nv_mmap_touches(bi->mmap, bi->mmap_count, r->base, r->end - r->base, NO_DMA_TYPES))
			return "an RMRR overlaps L0's or the firmware's runtime memory";
		for (unsigned j = 0; j < dmar.nunits; j++)
			if (r->base < dmar.unit[j].base + dmar.unit[j].pages * PAGE_4K &&
			    dmar.unit[j].base < r->end)
				return "an RMRR overlaps a unit's registers";
	}
	for (unsigned i = 0; i < dmar.nunits; i++) {
		const struct dmar_unit *d = &dmar.unit[i];
		struct unit *u = &units[i];
		uint64_t size = d->pages * PAGE_4K;

		if (nv_mmap_touches(bi->mmap, bi->mmap_count, d->base, size, RAM_TYPES))
			return "a unit's registers overlap RAM";
		paging_map_device(d->base, size);
		*u = (struct unit){ (volatile uint8_t *)(uintptr_t)d->base, d, 0, 0, 0, 0 };
		u->cap = rd64(u, REG_CAP);
		u->ecap = rd64(u, REG_ECAP);
		pr_debug("dma: VT-d unit %u at 0x%lx: version 0x%x, CAP 0x%lx, ECAP 0x%lx, GSTS 0x%x",
			 i, d->base, rd32(u, REG_VER), u->cap, u->ecap, rd32(u, REG_GSTS));
		for (unsigned k = 0; k < d->nscopes; k++)
			pr_debug("dma: VT-d unit %u: device scope type %u, start bus %02x, first hop "
				 "%02x.%u, %u hops", i, d->scope[k].type, d->scope[k].start_bus,
				 d->scope[k].path[0].dev, d->scope[k].path[0].fn, d->scope[k].path_len);
		if (!u->cap || u->cap == ~0ull)
			return "a unit's registers do not answer";
		if (!(CAP_SAGAW(u->cap) & 0xe))
			return "a unit supports no 3-, 4- or 5-level tables";
		if (ECAP_IRO(u->ecap) * 16 + 16 > size ||
		    CAP_FRO(u->cap) * 16 + (CAP_NFR(u->cap) + 1) * 16 > size)
			return "a unit's IOTLB or fault registers lie outside its register set";
	}
	return 0;
}

static void clear_faults(const struct unit *u)
{
	unsigned fro = CAP_FRO(u->cap) * 16;

	for (unsigned i = 0; i <= CAP_NFR(u->cap); i++)
		if (rd64(u, fro + 16 * i + 8) & FRCD_F)
			wr32(u, fro + 16 * i + 12, (uint32_t)(FRCD_F >> 32));  /* write 1 to clear F */
	wr32(u, REG_FSTS, FSTS_CLEAR);
}

static void program(struct unit *u)
{
	uint32_t gsts = rd32(u, REG_GSTS), fsts = rd32(u, REG_FSTS);
	uint64_t iotlb = IOTLB_IVT | IOTLB_GLOBAL;

	if (gsts & GCMD_TE)
		log_line("dma: VT-d unit %u: translation was on at hand-over; L0 replaces the tables",
			 unit_index(u));
	if (fsts & (FSTS_PFO | FSTS_PPF))
		log_line("dma: VT-d unit %u: faults recorded before L0 (FSTS 0x%x), cleared",
			 unit_index(u), fsts);
	/* Fault events stay masked: L0 takes no interrupts; it reads FSTS instead. */
	wr32(u, REG_FECTL, FECTL_IM);
	clear_faults(u);
	/* Register-based invalidation must not be used while queued invalidation is on (6.5.2). */
	if (gsts & GCMD_QIE)
		gcmd(u, 0, GCMD_QIE, GCMD_QIE, false, "disabling queued invalidation");
	if (u->cap & CAP_RWBF)
		gcmd(u, GCMD_WBF, 0, GCMD_WBF, false, "write-buffer flush");
	wr64(u, REG_RTADDR, u->root);   /* TTM (bits 11:10) = 00: legacy mode */
	gcmd(u, GCMD_SRTP, 0, GCMD_SRTP, true, "set root table pointer");
	wr64(u, REG_CCMD, CCMD_ICC | CCMD_GLOBAL);
	wait_reg(u, REG_CCMD, true, CCMD_ICC, 0, "global context-cache invalidation");
	if (u->cap & CAP_DRD)
		iotlb |= IOTLB_DR;
	if (u->cap & CAP_DWD)
		iotlb |= IOTLB_DW;
	wr64(u, iotlb_reg(u), iotlb);
	wait_reg(u, iotlb_reg(u), true, IOTLB_IVT, 0, "global IOTLB invalidation");
	gcmd(u, GCMD_TE, 0, GCMD_TE, true, "enable translation");
	/* PMRs off only now that translation is on (3.16, 10.4.16). */
	if ((u->cap & (CAP_PLMR | CAP_PHMR)) && (rd32(u, REG_PMEN) & PMEN_EPM)) {
		wr32(u, REG_PMEN, 0);
		wait_reg(u, REG_PMEN, false, PMEN_PRS, 0, "disabling the protected memory regions");
		log_line("dma: VT-d unit %u: protected memory regions disabled (translation is on)",
			 unit_index(u));
	}
	gsts = rd32(u, REG_GSTS);
	fsts = rd32(u, REG_FSTS);
	log_line("dma: VT-d unit %u at 0x%lx (segment %04x, %s): %u-level tables, domain %u, "
		 "translation %s (GSTS 0x%x), %s (FSTS 0x%x)", unit_index(u), u->d->base,
		 u->d->segment, u->d->flags & DMAR_DRHD_INCLUDE_PCI_ALL ? "all PCI devices"
									 : "listed devices",
		 u->levels, DOMAIN_ID, gsts & GCMD_TE ? "enabled" : "NOT enabled", gsts,
		 fsts & (FSTS_PFO | FSTS_PPF) ? "faults recorded" : "no fault recorded", fsts);
	if (!(gsts & GCMD_TE))
		panic("VT-d unit %u: GSTS.TES reads 0 after translation was enabled", unit_index(u));
	if (gsts & GCMD_IRE)
		log_line("dma: VT-d unit %u: interrupt remapping left on as the firmware set it",
			 unit_index(u));
}

static uint64_t pool_alloc(void *ctx)
{
	return pmm_alloc_page();
}

static uint64_t *pool_table(void *ctx, uint64_t phys)
{
	return phys_to_virt(phys);
}

/* Build the domain and each level count's context tables; NULL or why not. */
static const char *build_tables(const struct nv_bootinfo *bi, struct vtd_domain *dom)
{
	static const struct vtd_pt_ops ops = { pool_alloc, pool_table, 0 };
	struct vtd_range rmrr[DMAR_MAX_RMRRS];
	uint64_t ram_end = nv_l1_ram_end(bi->mmap, bi->mmap_count, bi->l1.mem_limit);
	uint64_t roots[6] = { 0 };
	unsigned sllps = 3;

	for (unsigned i = 0; i < dmar.nunits; i++)
		sllps &= CAP_SLLPS(units[i].cap);
	for (unsigned i = 0; i < dmar.nrmrrs; i++)
		rmrr[i] = (struct vtd_range){ dmar.rmrr[i].base, dmar.rmrr[i].end };
	if (vtd_domain_init(dom, &ops, sllps & 1, sllps & 2) ||
	    vtd_domain_build(dom, bi->mmap, bi->mmap_count, ram_end, rmrr, dmar.nrmrrs))
		return "L0 pool exhausted by the DMA domain";
	if (dom->top > 1ull << dmar.haw)
		return "L1's memory lies beyond the DMAR's host address width";
	for (unsigned i = 0; i < dmar.nunits; i++) {
		struct unit *u = &units[i];

		u->levels = pick_levels(u, dom->top);
		if (!u->levels)
			return "a unit's address widths do not reach all of L1's memory";
		if (!roots[u->levels]) {
			uint64_t slpt = vtd_domain_root(dom, u->levels);

			roots[u->levels] = slpt ? vtd_context_build(&ops, slpt, u->levels - 2,
								    DOMAIN_ID) : 0;
			if (!roots[u->levels])
				return "L0 pool exhausted by the context tables";
		}
		u->root = roots[u->levels];
	}
	return 0;
}

void vtd_init(const struct nv_bootinfo *bi)
{
	struct vtd_domain dom;
	const char *why;
	int found = acpi_dmar(bi->rsdp, &dmar);
	bool flush = false;

	if (found <= 0) {
		log_line("dma: %s: bus mastering will be refused",
			 found < 0 ? "no IOMMU (no ACPI DMAR table)"
				   : "the ACPI DMAR table is malformed, L0 does not use VT-d");
		return;
	}
	pr_info("dma: ACPI DMAR: %u VT-d units, %u RMRRs, host address width %u, flags 0x%x",
		dmar.nunits, dmar.nrmrrs, dmar.haw, dmar.flags);
	for (unsigned i = 0; i < dmar.nrmrrs; i++)
		pr_info("dma: RMRR 0x%lx-0x%lx (segment %04x, %u devices): identity-mapped for DMA",
			dmar.rmrr[i].base, dmar.rmrr[i].end - 1, dmar.rmrr[i].segment,
			dmar.rmrr[i].nscopes);
	why = check_units(bi);
	if (!why)
		why = build_tables(bi, &dom);
	if (why) {
		log_line("dma: VT-d not used: %s; bus mastering will be refused", why);
		return;
	}
	pr_info("dma: VT-d domain: %u paging structures, L1's writable RAM up to 0x%lx",
		dom.tables, dom.top);
	for (unsigned i = 0; i < dmar.nunits; i++)
		flush |= !(units[i].ecap & ECAP_C);
	if (flush)  /* some unit's page walks do not snoop: the tables must be in memory */
		__asm__ volatile("wbinvd" ::: "memory");
	for (unsigned i = 0; i < dmar.nunits; i++) {
		program(&units[i]);
		vtd.regs[i].base = dmar.unit[i].base;
		vtd.regs[i].end = dmar.unit[i].base + dmar.unit[i].pages * PAGE_4K;
	}
	vtd.nunits = dmar.nunits;
	vtd.on = true;
	pci_guard_bus_master_ok = true;
	/* L1 must not find the units: its writes to their registers would end the run. */
	acpi_rename_table(bi->rsdp, "DMAR", "XMAR");
	log_line("dma: VT-d: %u units programmed, L0 memory not reachable by DMA; bus mastering "
		 "allowed (ACPI DMAR renamed XMAR for L1; MSIs are not remapped)", vtd.nunits);
}

bool vtd_owns(uint64_t pa)
{
	for (unsigned i = 0; vtd.on && i < vtd.nunits; i++)
		if (pa >= vtd.regs[i].base && pa < vtd.regs[i].end)
			return true;
	return false;
}

void vtd_print_faults(void)
{
	for (unsigned i = 0; vtd.on && i < vtd.nunits; i++) {
		const struct unit *u = &units[i];
		uint32_t fsts = rd32(u, REG_FSTS);
		unsigned fro = CAP_FRO(u->cap) * 16;

		if (!(fsts & (FSTS_PFO | FSTS_PPF))) {
			log_line("dma: VT-d unit %u: no DMA fault recorded (FSTS 0x%x)", i, fsts);
			continue;
		}
		log_line("dma: VT-d unit %u: DMA faults recorded (FSTS 0x%x%s)", i, fsts,
			 fsts & FSTS_PFO ? ", overflowed" : "");
		for (unsigned r = 0; r <= CAP_NFR(u->cap); r++) {
			uint64_t hi = rd64(u, fro + 16 * r + 8), lo = rd64(u, fro + 16 * r);

			if (!(hi & FRCD_F))
				continue;
			log_line("dma: VT-d unit %u: %s of 0x%lx by %02x:%02x.%u refused (reason 0x%x)",
				 i, hi & FRCD_T ? "read" : "write", lo & ~(uint64_t)(PAGE_4K - 1),
				 FRCD_SID(hi) >> 8, (FRCD_SID(hi) >> 3) & 31, FRCD_SID(hi) & 7,
				 FRCD_FR(hi));
		}
	}
}
