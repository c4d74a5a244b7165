/* SPDX-License-Identifier: MIT */
/* Shared between the files of nested/ only. */
#ifndef NESTVISOR_NESTED_INTERNAL_H
#define NESTVISOR_NESTED_INTERNAL_H

#include "nested/nested.h"

/* nested.fast_slots from vmcs12_fields and L1's capabilities (nested/vmx_insn.c). */
void nested_fast_slots_init(void);

/* #UD/#GP(0) checks of every VMX instruction but VMXON; false if a fault was injected. */
bool nested_check_vmx_root(void);
/* The same, and whether L1 is in IA-32e mode. */
bool nested_check_vmx_root_mode(bool *long_mode);

/* VMREAD, VMWRITE, VMLAUNCH, VMRESUME with no current VMCS: VMfailInvalid,
 * the instruction completes. False then. */
void nested_no_current_vmcs(const struct exit_ctx *x);
static inline bool nested_require_current_vmcs(const struct exit_ctx *x)
{
	if (nested.current_ptr != VMPTR_INVALID)
		return true;
	nested_no_current_vmcs(x);
	return false;
}

/* L1 state VMCS02 inherits when VMCS12 does not load it (read from VMCS01). */
struct l1_inherited {
	uint64_t efer, pat, dr7, debugctl;  /* each read only when VMCS12 does not load it */
};

/*
 * Bring VMCS02 up to the current VMCS12 (built anew for a new VMCS12, else
 * only what L1 changed) and make it current. Returns 0, or an entry-failure
 * exit qualification + 1 when L2's guest state cannot be loaded (PDPTEs):
 * VMCS01 is current again then.
 */
int nested_prepare_vmcs02(struct vcpu *v, const struct l1_inherited *inh);

/*
 * SDM 26.4 "Loading MSRs": 0, or the 1-based index of the failing entry.
 * SDM 27.4 "Saving MSRs": false on a bad entry (a VMX abort). Empty lists,
 * the common case on every entry and exit, cost a test: the list code's
 * prologue alone is dozens of instructions.
 */
uint32_t nested_load_msr_list_slow(uint64_t addr, uint32_t count, bool entry);
bool nested_store_msr_list_slow(uint64_t addr, uint32_t count);
/* entry: the VM-entry list (its writes are journalled, below); else the VM-exit list. */
static inline uint32_t nested_load_msr_list(uint64_t addr, uint32_t count, bool entry)
{
	return count ? nested_load_msr_list_slow(addr, count, entry) : 0;
}
/*
 * The VM-entry list's writes to MSRs outside VMCS02, journalled until the CPU
 * has accepted VMCS02, and undone if it refuses it. The journal belongs to
 * one entry (nested.l2_entries as it counts that entry): an entry without a
 * list costs nothing here and finds an older journal not its own.
 */
void nested_msr_load_undo(void);
void nested_msr_lists_init(void);
static inline bool nested_store_msr_list(uint64_t addr, uint32_t count)
{
	return !count || nested_store_msr_list_slow(addr, count);
}

/* An exit of L2 given to L1 as another exit (nested EPT: EPT12's violation). */
void nested_reflect_to_l1_as(struct vcpu *v, const struct exit_ctx *x, uint32_t reason,
			     uint64_t qualification);

/* L1's host state from VMCS12 into VMCS01's guest area (SDM 27.5), VMCS01 current. */
void nested_load_l1_host_state(struct vcpu *v, uint64_t prev_cr0, uint64_t prev_efer);

/* A VM-entry failure reported to L1 as an exit (SDM 26.8), VMCS01 current. */
void nested_entry_failure_to_l1(struct vcpu *v, uint32_t reason, uint64_t qualification,
				uint64_t prev_cr0, uint64_t prev_efer);

/* An L2 exit L1 asked for: VMCS12 updated, L1 resumes at its host RIP (VMCS01 current). */
void nested_reflect_to_l1(struct vcpu *v, const struct exit_ctx *x);

/*
 * For copies generated from vmx/vmcs_fields.def: does the field exist for L1?
 * Constant for F_BASE fields, so straight-line code keeps no test for them.
 */
#define FIELD_EXISTS(feat) ((feat) == F_BASE || nested.caps.feature[feat])
/*
 * Exit information copied at every reflected exit: all but the guest-physical
 * address, which is defined only for EPT violations and misconfigurations
 * (SDM Vol. 3C, 28.2.1 "Basic VM-Exit Information") and copied for those.
 */
#define EXIT_INFO_ALWAYS(enc, nclass) ((nclass) == NC_EXIT && (enc) != VMCS_GUEST_PHYSICAL_ADDRESS)
static inline bool exit_has_gpa(uint32_t reason)
{
	reason &= 0xffff;
	return reason == EXIT_REASON_EPT_VIOLATION || reason == EXIT_REASON_EPT_MISCONFIG;
}
/* Guest-state fields whose VMCS02 value is not VMCS12's (vmcs02.c sets them every entry). */
#define GUEST_SPECIAL(enc)                                                                   \
	((enc) == VMCS_GUEST_CR0 || (enc) == VMCS_GUEST_CR4 || (enc) == VMCS_GUEST_IA32_EFER ||  \
	 (enc) == VMCS_GUEST_IA32_PAT || (enc) == VMCS_GUEST_IA32_DEBUGCTL ||                   \
	 (enc) == VMCS_GUEST_DR7 || (enc) == VMCS_VMCS_LINK_POINTER ||                          \
	 ((enc) >= VMCS_GUEST_PDPTE0 && (enc) <= VMCS_GUEST_PDPTE3) ||                          \
	 (enc) == VMCS_VMX_PREEMPTION_TIMER_VALUE)
/* vmcs_shadow_set = wide: guest fields copied VMCS02 -> VMCS12 at every reflected exit. */
#define WIDE_PLAIN(enc, group, nclass) \
	((nclass) == NC_WIDE && (group) == GUEST && !GUEST_SPECIAL(enc))
/* Guest fields copied at every reflected exit as they are (CR0/CR4 are merged). */
#define PLAIN_HOT(enc, group, nclass) \
	((group) == GUEST && (nclass) == NC_HOT && (enc) != VMCS_GUEST_CR0 && (enc) != VMCS_GUEST_CR4)

/* nested/sync.c: VMCS12 <-> VMCS02 without copying what did not change. */
#define DIRTY_WORDS 4
_Static_assert(V12_FIELDS <= DIRTY_WORDS * 64, "a dirty bit per VMCS field");

/* What a dirty field asks of the next entry (nested.dirty_groups). */
enum dirty_group {
	DG_GUEST = 1 << 0,     /* guest state but the plain hot fields: into VMCS02 */
	DG_GUEST_HOT = 1 << 6, /* plain hot guest state (PLAIN_HOT): into VMCS02 */
	DG_GUEST_CHECKED = 1 << 4,  /* ... read by the software guest-state checks */
	DG_RIP = 1 << 5,       /* ... guest RIP: its own check */
	DG_EVENT = 1 << 1,     /* VM-entry event injection: into VMCS02 as it is */
	DG_CONTROLS = 1 << 2,  /* other controls: VMCS02's controls are merged anew */
	DG_HOST = 1 << 3,      /* host state */
	DG_CHECKED = DG_EVENT | DG_CONTROLS | DG_HOST,  /* the control and host-state checks */
};

struct field_masks {
	uint64_t guest_plain[DIRTY_WORDS];  /* other guest fields whose VMCS02 value is VMCS12's */
	uint8_t group[V12_FIELDS];          /* enum dirty_group of each field */
	uint8_t cold[V12_FIELDS];           /* plain NC_COLD guest fields, copied on demand */
	unsigned ncold;
};
extern struct field_masks nested_masks;

/* wide: vmcs_shadow_set = wide with a shadow VMCS (wide fields are not cold then). */
void nested_sync_init(bool wide);
/* Field `index` changed in VMCS12; `group` is nested_masks.group[index]. */
static inline void nested_mark_dirty_as(unsigned index, uint8_t group)
{
	if (__builtin_constant_p(index))
		nested.dirty[index / 64] |= 1ull << (index % 64);
	else  /* one instruction: BTS with a register offset addresses the whole
	       * bit string (SDM Vol. 2A, BTS) */
		__asm__("btsl %1, %0" : "+m"(*(uint64_t(*)[DIRTY_WORDS])nested.dirty)
			: "r"(index) : "cc");
	__asm__("orb %1, %0" : "+m"(nested.dirty_groups) : "q"(group) : "cc");
}
static inline void nested_mark_dirty(unsigned index)
{
	nested_mark_dirty_as(index, nested_masks.group[index]);
}
static inline void nested_clear_dirty(void)
{
	for (unsigned w = 0; w < DIRTY_WORDS; w++)
		nested.dirty[w] = 0;
	nested.dirty_groups = 0;
}
static inline uint64_t nested_v12_value(const struct vmcs12 *v12, unsigned index)
{
	const struct vmcs12_field *f = &vmcs12_fields[index];
	const void *p = (const char *)v12 + f->offset;

	return f->width == W16 ? *(const uint16_t *)p
	       : f->width == W32 ? *(const uint32_t *)p : *(const uint64_t *)p;
}
/* VMCS02 current: exit information, hot guest state and saved MSRs into VMCS12. */
void nested_sync_exit(struct vmcs12 *v12, const struct exit_ctx *x);
/* VMCS01 current: the cold guest state into VMCS12, if it is behind. */
void nested_sync_cold(void);
/* VMCS02 current: the plain guest fields L1 changed (all: every one) into it. */
void nested_write_guest_hot(const struct vmcs12 *v12, bool all);
void nested_write_guest(const struct vmcs12 *v12, bool all);
/* VMCS01 current: VMCS02's state no longer counts; the next entry builds it anew. */
void nested_vmcs02_invalidate(void);

/* nested/shadow.c: the shadow VMCS for L1 (all no-ops when there is none). */
void nested_shadow_init(bool want, bool want_wide);
void nested_shadow_vmx_operation(bool on);
void nested_shadow_attach(void);
void nested_shadow_pull(void);
void nested_shadow_detach(void);
/* After a reflected exit changed VMCS12 (VMCS02 current): exit information and
 * hot state into the shadow VMCS; with the wide set, the wide guest state goes
 * VMCS02 -> VMCS12 -> shadow VMCS too. VMCS01 current after. */
void nested_shadow_push_exit(void);
/* The same after a VM-entry failure (any VMCS current before; VMCS02 may not
 * hold L2's state): VMCS12's exit information and hot fields. */
void nested_shadow_push_entry_failure(void);
void nested_v12_set(struct vmcs12 *v12, unsigned index, uint64_t value);

/* nested/bitmaps.c */
void nested_bitmaps_init(void);
/* VMCS02 current: merge L1's MSR bitmap if its pointer or page changed. */
void nested_setup_bitmaps_slow(const struct vmcs12 *v12);
#define MSR_ALL_EXIT 1ull   /* msr_merged: VMCS02's bitmap is all ones (no L1 bitmap) */
/* Inline: nothing to do (same pointer, page unwritten) is every entry's case. */
static inline void nested_setup_bitmaps(const struct vmcs12 *v12)
{
	uint64_t want = (v12->CPU_BASED_VM_EXEC_CONTROL & PROC_USE_MSR_BITMAPS) ? v12->MSR_BITMAP
										: MSR_ALL_EXIT;

	if (want != nested.msr_merged || nested.msr_dirty)
		nested_setup_bitmaps_slow(v12);
}
void nested_write_bitmap_addresses(void);
/* L1's bitmaps for exit decisions: MSR bits as merged at entry, I/O bits as they are now. */
bool nested_read_l1_bitmap(uint64_t gpa, void *buf, unsigned len);
/* An I/O of L2 that neither L1 nor L0 wants: done for L2 (VMCS02 current). */
void nested_l2_io_for_l1(struct vcpu *v, const struct exit_ctx *x);
/* Any exit of L2: INS/OUTS passthrough ends (VMCS02 current). */
void nested_io_passthrough_end_slow(void);
static inline void nested_io_passthrough_end(void)
{
	if (nested.io_pass_active)
		nested_io_passthrough_end_slow();
}

/* Reads of L1 memory for bitmaps and pointers (false if not L1's). */
bool nested_read_l1(uint64_t gpa, void *buf, unsigned len);

#endif
