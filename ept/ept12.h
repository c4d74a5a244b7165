/* SPDX-License-Identifier: MIT */
/*
 * EPT12: L1's EPT, walked in software for one L2 guest-physical address and
 * one access, as the processor would walk it (SDM Vol. 3C, 29.3.2 "EPT
 * Translation Mechanism", 29.3.3 "EPT-Induced VM Exits", 29.3.5 "Accessed
 * and Dirty Flags for EPT"). Pure: L1 memory comes through the ops, so the
 * caller decides what an EPT12 table outside L1's RAM means; nothing here
 * knows the VMCS or nested policy.
 */
#ifndef NESTVISOR_EPT_EPT12_H
#define NESTVISOR_EPT_EPT12_H

#include "ept/ept.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * The access being translated. Bits 2:0 are those of the exit qualification
 * (SDM Vol. 3C, 28.2.1, Table 28-7 "Exit Qualification for EPT Violations");
 * more than one may be set (a read-modify-write). EPT12_ACC_PAGING marks an
 * access to a guest paging-structure entry (a page-walk read or an A/D
 * update) rather than to the final translation of a linear address. Loads
 * of the PAE PDPTEs by MOV to CR are not such accesses here: they stay reads
 * even with A/D on (29.3.3.2 "EPT Violations").
 */
#define EPT12_ACC_READ   EPT_R
#define EPT12_ACC_WRITE  EPT_W
#define EPT12_ACC_FETCH  EPT_X
#define EPT12_ACC_PAGING (1u << 3)

/* What L0 offers L1 in IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D, A.10 "VPID and EPT Capabilities"). */
struct ept12_caps {
	unsigned maxphyaddr;    /* L1's physical-address width, 36..52 */
	bool exec_only;         /* bits 2:0 = 100b allowed (cap bit 0) */
	bool use_2m;            /* bit 7 allowed in a PDE (cap bit 16) */
	bool use_1g;            /* bit 7 allowed in a PDPTE (cap bit 17) */
	bool ad;                /* EPTP bit 6 may be set (cap bit 21) */
	bool mt_uc, mt_wb;      /* EPTP memory types allowed (cap bits 8, 14) */
};

struct ept12_ops {
	/*
	 * Read the 8-byte entry at this L1-physical address; false when that
	 * address is not RAM L1 may read (the walk then ends as
	 * EPT12_TABLE_UNREADABLE and the caller decides).
	 */
	bool (*read_entry)(void *ctx, uint64_t gpa, uint64_t *val);
	/*
	 * Replace old by new at this L1-physical address (A/D updates only);
	 * false if the entry no longer holds old: the walk starts over.
	 * A plain store that returns true is fine for a single vCPU.
	 */
	bool (*write_entry)(void *ctx, uint64_t gpa, uint64_t old, uint64_t new);
	void *ctx;
};

struct ept12_mmu {
	uint64_t eptp;          /* EPTP12 as L1 wrote it; checked with ept12_eptp_check */
	struct ept12_caps caps;
	struct ept12_ops ops;
};

enum ept12_status {
	EPT12_OK,               /* translated: l1_gpa, page_size, perms, memtype, leaf */
	EPT12_VIOLATION,        /* 29.3.3.2: an EPT violation for L1 (ept12_violation_qual) */
	EPT12_MISCONFIG,        /* 29.3.3.1: an EPT misconfiguration for L1 (why) */
	EPT12_TABLE_UNREADABLE, /* read_entry failed at entry_gpa */
	EPT12_AD_RACE,          /* write_entry kept failing: entries changed under the walk */
};

/* SDM Vol. 3C, 29.3.3.1 "EPT Misconfigurations", one cause each. */
enum ept12_misconfig {
	EPT12_MC_NONE,
	EPT12_MC_WRITE_NO_READ,   /* bits 2:0 = 010b or 110b */
	EPT12_MC_EXEC_ONLY,       /* bits 2:0 = 100b without the execute-only capability */
	EPT12_MC_RESERVED,        /* a reserved bit (Tables 29-1..29-6), address bits included */
	EPT12_MC_MEMTYPE,         /* the last entry's memory type is 2, 3 or 7 */
};

struct ept12_walk {
	enum ept12_status status;
	enum ept12_misconfig why;   /* EPT12_MISCONFIG only */
	unsigned level;             /* entry the walk ended at: 4 = PML4E .. 1 = PTE */
	uint64_t entry_gpa;         /* its L1-physical address */
	uint64_t entry;             /* its value (0 when unreadable) */
	unsigned access;            /* as asked, EPT12_ACC_* */
	uint64_t need;              /* bits 2:0 the access needs (paging with A/D: R and W) */
	uint64_t perms;             /* AND of bits 2:0 of the entries used, that one included */
	/* EPT12_OK only: */
	uint64_t l1_gpa;            /* the translation */
	uint64_t page_size;         /* EPT_PAGE_4K, _2M or _1G */
	unsigned memtype;           /* leaf bits 5:3 */
	bool ignore_pat;            /* leaf bit 6 */
	uint64_t leaf;              /* the leaf entry, A/D as the walk left them */
};

/*
 * Translate gpa for access through the EPT12 that m->eptp points to. With
 * A/D on (EPTP bit 6) a translation that succeeds sets the accessed flag of
 * every entry used and, for a write, the dirty flag of the leaf; walks that
 * fault set no flag. The EPTP itself is assumed valid (ept12_eptp_check).
 */
void ept12_walk(const struct ept12_mmu *m, uint64_t gpa, unsigned access, struct ept12_walk *w);

/*
 * The exit qualification of the EPT violation in w, for L1 (Table 28-7):
 * bits 2:0 what the access needed, 5:3 the permissions found, 7 from
 * gla_valid, 8 when gla_valid and the access was to the final translation.
 * Bit 12 (NMI unblocking) and bit 16 (asynchronous) are the caller's to OR in;
 * bit 6 and bits 11:9 stay 0 (no mode-based execute control, no advanced
 * EPT-violation information is offered).
 */
uint64_t ept12_violation_qual(const struct ept12_walk *w, bool gla_valid);

/* Exit-qualification bits (Table 28-7). */
#define EPT12_QUAL_ACCESS_MASK  0x7ull
#define EPT12_QUAL_PERMS_SHIFT  3
#define EPT12_QUAL_GLA_VALID    (1ull << 7)
#define EPT12_QUAL_GLA_FINAL    (1ull << 8)

/*
 * The EPTP checks of SDM Vol. 3C, 26.2.1.1 "VM-Execution Control Fields":
 * the name of the first failing one, or NULL.
 */
const char *ept12_eptp_check(uint64_t eptp, const struct ept12_caps *caps);
bool ept12_eptp_valid(uint64_t eptp, const struct ept12_caps *caps);

/* A name for logs. */
const char *ept12_misconfig_name(enum ept12_misconfig why);

#endif
