/* SPDX-License-Identifier: MIT */
/*
 * VMCS shadowing for L1 (SDM Vol. 3C, 25.10 "VMCS Types: Ordinary and
 * Shadow", 25.6.15 "VMCS Shadowing Bitmap Addresses", 31.3 VMREAD/VMWRITE).
 *
 * While L1 is in VMX operation with a current VMCS12, VMCS01's link pointer
 * names a shadow VMCS that holds the fields L1 uses on its hot path (the
 * NC_HOT, NC_SHADOW and NC_EXIT classes of vmx/vmcs_fields.def): L1's
 * VMREAD/VMWRITE of those run in hardware without a VM exit. Every other
 * field, and every VMWRITE to exit information (L1 is not told it may write
 * those: IA32_VMX_MISC bit 29 is 0), still exits to L0's emulation.
 *
 * Coherence with L0's VMCS12 cache (nested/vmcs12.h):
 *   - VMPTRLD: every shadowed field goes into the shadow VMCS;
 *   - VM entry, VMCLEAR, VMPTRLD of another VMCS, VMXOFF, a VMX abort: the
 *     fields L1 may write come back into VMCS12 first, and the changed ones
 *     get dirty bits (nested/sync.c), as a trapped VMWRITE would set;
 *   - a reflected exit or a VM-entry failure: the exit information and hot
 *     guest state L0 just wrote into VMCS12 go into the shadow VMCS.
 *
 * vmcs_shadow_set = wide adds the NC_WIDE fields, read and write: the guest
 * state, controls and MSR values KVM as L1 reads and writes on its nested
 * transitions (segments, descriptor tables, DR7, DEBUGCTL, PAT, EFER, EPTP,
 * TSC offset, the execution, exit and entry controls...). Their copies are
 * generated from the table like hot's, in functions of their own that run
 * only with wide, so hot's straight lines stay as they are:
 *   - VMPTRLD: all of them into the shadow VMCS;
 *   - a reflected exit: the wide guest state, VMCS02 -> VMCS12 (it is not
 *     cold then: nested/sync.c) -> shadow VMCS. Controls do not change at
 *     exits; after a VM-entry failure VMCS12 keeps what L1 wrote, which the
 *     shadow VMCS already holds;
 *   - VM entry, VMCLEAR, VMPTRLD of another VMCS, VMXOFF, a VMX abort: all of
 *     them back into VMCS12, the changed ones dirty, with the others.
 * nested.shadow_hot and shadow_wide say which set is in use; the hot set's
 * test replaces the "is there a shadow VMCS" test of its paths, so hot costs
 * no instruction more than before the switch existed.
 */
#include "nested/internal.h"
#include "vmx/caps.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/pmm.h"

#include <nestvisor/string.h>

#define SHADOW_VMCS_INDICATOR (1u << 31)  /* revision identifier bit 31 (25.2) */

/* Exit information is shadowed (read-only for L1) only if L0 may write it (MISC bit 29). */
static bool shadow_exit_info;

/* Shadowed fields L1 may write. */
#define SHADOW_RW(nclass) ((nclass) == NC_HOT || (nclass) == NC_SHADOW)

static bool wanted;    /* nestvisor.cfg: vmcs_shadowing = on */
static bool wanted_wide;  /* nestvisor.cfg: vmcs_shadow_set = wide */

bool nested_shadowing_on(void)
{
	return nested.shadow != 0;
}

bool nested_shadowing_wanted(void)
{
	return wanted;
}

const char *nested_shadow_set_name(void)
{
	return wanted_wide ? "wide" : "hot";
}

static void allow_encoding(uint64_t bitmap, uint32_t encoding)
{
	uint8_t *b = phys_to_virt(bitmap);

	/* Bit n for encoding n (bits 14:0). */
	b[(encoding & 0x7fff) / 8] &= (uint8_t)~(1u << (encoding % 8));
}

/* The field; a 64-bit field's high half too (only those have one: 25.11.2). */
static void allow(uint64_t bitmap, const struct vmcs12_field *f)
{
	allow_encoding(bitmap, f->encoding);
	if (f->width == W64)
		allow_encoding(bitmap, f->encoding | VMCS_ENC_HIGH);
}

void nested_shadow_init(bool want, bool want_wide)
{
	wanted = want;
	wanted_wide = want_wide;
	if (!want || !(vmx_caps.proc2.may1 & PROC2_VMCS_SHADOWING))
		return;
	nested.shadow_wide = want_wide;
	nested.shadow_hot = !want_wide;
	nested.vmread_bitmap = pmm_alloc_page_or_panic("shadow VMCS");
	nested.vmwrite_bitmap = pmm_alloc_page_or_panic("shadow VMCS");
	memset(phys_to_virt(nested.vmread_bitmap), 0xff, 4096);
	memset(phys_to_virt(nested.vmwrite_bitmap), 0xff, 4096);
	shadow_exit_info = vmx_caps.misc & BIT64(29);
	for (unsigned i = 0; i < V12_FIELDS; i++) {
		const struct vmcs12_field *f = &vmcs12_fields[i];

		if (!nested.caps.feature[f->feature] || f->nested == NC_COLD ||
		    (f->nested == NC_WIDE && !want_wide) ||
		    (f->nested == NC_EXIT && !shadow_exit_info))
			continue;
		if (SHADOW_RW(f->nested) || f->nested == NC_WIDE)
			allow(nested.vmwrite_bitmap, f);
		allow(nested.vmread_bitmap, f);
	}
	nested.shadow = vmx_new_vmcs_of(vmx_caps.revision | SHADOW_VMCS_INDICATOR);
	vmx_load_vmcs(nested.vmcs01);
}

/* VMCS01 current: L1 entered or left VMX operation. */
void nested_shadow_vmx_operation(bool on)
{
	uint32_t proc2;

	if (!nested.shadow)
		return;
	proc2 = vmread32(VMCS_SECONDARY_VM_EXEC_CONTROL);
	vmwrite32(VMCS_SECONDARY_VM_EXEC_CONTROL,
		  on ? proc2 | PROC2_VMCS_SHADOWING : proc2 & ~PROC2_VMCS_SHADOWING);
	vmwrite64(VMCS_VMREAD_BITMAP, nested.vmread_bitmap);
	vmwrite64(VMCS_VMWRITE_BITMAP, nested.vmwrite_bitmap);
	vmwrite64(VMCS_VMCS_LINK_POINTER, ~0ull);  /* no current VMCS: VMfailInvalid */
}

/*
 * The copies between VMCS12 and the shadow VMCS (current), straight-line
 * from the field table: each field costs a VMWRITE or VMREAD and a move.
 */
/* all: every field (a new VMCS12); else what this exit defines. */
static void push_exit_info(bool all)
{
	const struct vmcs12 *v12 = nested.vmcs12;

	if (!shadow_exit_info)
		return;
	/* The CPU lets VMWRITE write exit information (MISC bit 29, checked just
	 * above): for base fields these cannot fail, like any other (vmcs.h). */
#define VMCS_FIELD(name, enc, width, group, feat, nclass) \
	if (EXIT_INFO_ALWAYS(enc, nclass) && FIELD_EXISTS(feat)) \
		vmcs_write_field(enc, feat, CTRL, v12->name);
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
	if (FIELD_EXISTS(F_EPT) && (all || exit_has_gpa(v12->VM_EXIT_REASON)))
		vmwrite64(VMCS_GUEST_PHYSICAL_ADDRESS, v12->GUEST_PHYSICAL_ADDRESS);
}

/* What L1 may write; exit_only: just what an exit to L1 changes. */
static void push_rw(bool exit_only)
{
	const struct vmcs12 *v12 = nested.vmcs12;

#define VMCS_FIELD(name, enc, width, group, feat, nclass)                              \
	if (SHADOW_RW(nclass) && FIELD_EXISTS(feat) &&                                    \
	    (!exit_only || (nclass) == NC_HOT || (enc) == VMCS_VM_ENTRY_INTR_INFO))      \
		vmcs_write_field(enc, feat, group, v12->name);
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
}

/* Shadow VMCS current: the wide fields (guest_only: the guest state) from VMCS12. */
static void push_wide(bool guest_only)
{
	const struct vmcs12 *v12 = nested.vmcs12;

#define VMCS_FIELD(name, enc, width, group, feat, nclass)                       \
	if ((nclass) == NC_WIDE && (!guest_only || (group) == GUEST) && FIELD_EXISTS(feat)) \
		vmcs_write_field(enc, feat, group, v12->name);
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
}

/* One shadowed field L1 may write: into VMCS12 if it changed, and dirty then. */
#define PULL_FIELD(name, enc, width, group, feat)                                   \
	{                                                                             \
		vmcs12_##width now = (vmcs12_##width)vmcs_read_field(enc, feat, group); \
		if (now != v12->name) {                                               \
			v12->name = now;                                              \
			nested_mark_dirty(V12_##name);                                \
		}                                                                     \
	}

/*
 * Shadow VMCS current: what L1 changed of the wide fields into VMCS12, dirty.
 * Straight-line from the table like the hot set's copies: a loop over a list
 * of the fields made a round trip about 3,100 instructions dearer, these
 * copies about 500. Not inlined, so that hot's straight lines keep their
 * registers.
 */
static __attribute__((noinline)) void pull_wide(void)
{
	struct vmcs12 *v12 = nested.vmcs12;

#define VMCS_FIELD(name, enc, width, group, feat, nclass) \
	if ((nclass) == NC_WIDE && FIELD_EXISTS(feat))      \
		PULL_FIELD(name, enc, width, group, feat)
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
}

/* Shadow VMCS current: all of VMCS12's shadowed fields into it. */
static void push_all(void)
{
	push_rw(false);
	push_exit_info(true);
}

static __attribute__((noinline)) void push_all_wide(void)
{
	vmx_load_vmcs(nested.shadow);
	push_all();
	push_wide(false);
}

/* VMCS01 current: a new current VMCS12; the shadow VMCS takes it over. */
void nested_shadow_attach(void)
{
	if (nested.shadow_hot) {
		vmx_load_vmcs(nested.shadow);
		push_all();
	} else if (nested.shadow_wide) {
		push_all_wide();
	} else {
		return;
	}
	vmx_load_vmcs(nested.vmcs01);
	vmwrite64(VMCS_VMCS_LINK_POINTER, nested.shadow);
}

/* Shadow VMCS current: what L1 may write of the hot set into VMCS12, the changed fields dirty. */
static inline __attribute__((always_inline)) void pull_rw(void)
{
	struct vmcs12 *v12 = nested.vmcs12;

#define VMCS_FIELD(name, enc, width, group, feat, nclass) \
	if (SHADOW_RW(nclass) && FIELD_EXISTS(feat))        \
		PULL_FIELD(name, enc, width, group, feat)
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
}

/* nested_shadow_pull without a hot shadow VMCS: none, or the wide set. */
static __attribute__((noinline)) void pull_not_hot(void)
{
	if (!nested.shadow_wide || nested.current_ptr == VMPTR_INVALID)
		return;
	vmx_load_vmcs(nested.shadow);
	pull_rw();
	pull_wide();
	vmx_load_vmcs(nested.vmcs01);
}

/* The hot set's test is the one today's "is there a shadow VMCS" was: wide costs hot nothing. */
__attribute__((noipa)) void nested_shadow_pull(void)
{
	if (nested.shadow_hot && nested.current_ptr != VMPTR_INVALID) {
		vmx_load_vmcs(nested.shadow);
		pull_rw();
		vmx_load_vmcs(nested.vmcs01);
	} else {
		pull_not_hot();
	}
}

/* VMCS01 current: VMCS12 goes (VMCLEAR, VMXOFF, another VMPTRLD). */
void nested_shadow_detach(void)
{
	if (!nested.shadow)
		return;
	nested_shadow_pull();
	vmwrite64(VMCS_VMCS_LINK_POINTER, ~0ull);
}

/* VMCS02 current: the wide guest state as L2 left it into VMCS12, then all into the shadow VMCS. */
static __attribute__((noinline)) void push_exit_wide(void)
{
	struct vmcs12 *v12 = nested.vmcs12;

#define VMCS_FIELD(name, enc, width, group, feat, nclass)         \
	if (WIDE_PLAIN(enc, group, nclass) && FIELD_EXISTS(feat)) \
		v12->name = (vmcs12_##width)vmcs_read_field(enc, feat, group);
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
	vmx_load_vmcs(nested.shadow);
	push_exit_info(false);
	push_rw(true);
	push_wide(true);
}

void nested_shadow_push_exit(void)
{
	if (nested.shadow_hot) {
		vmx_load_vmcs(nested.shadow);
		push_exit_info(false);
		push_rw(true);
	} else if (nested.shadow_wide) {
		push_exit_wide();
	}
	vmx_load_vmcs(nested.vmcs01);
}

void nested_shadow_push_entry_failure(void)
{
	/* VMCS12's guest state and controls are what L1 wrote: the shadow VMCS has them. */
	if (nested.shadow) {
		vmx_load_vmcs(nested.shadow);
		push_exit_info(false);
		push_rw(true);
	}
	vmx_load_vmcs(nested.vmcs01);
}
