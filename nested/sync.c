/* SPDX-License-Identifier: MIT */
/*
 * Keeping VMCS12 and VMCS02 coherent without copying what did not change.
 *
 * L1 -> L2: VMCS02 persists across entries. Every field L1 writes (a trapped
 * VMWRITE, or a shadow-VMCS field found changed at entry) gets a dirty bit,
 * and the next entry rewrites only those fields in VMCS02. A new VMCS12
 * (VMPTRLD, VMCLEAR) makes VMCS02 be built anew.
 *
 * L2 -> L1: a reflected exit copies the exit information (NC_EXIT) and the
 * guest state L1 handlers read on every exit (NC_HOT) into VMCS12. The rest
 * of the guest state (NC_COLD) stays in VMCS02 until L1 reads or writes one
 * of those fields, or VMCS12 goes back to L1's memory: then it is copied
 * once ("cold_stale"). VMCS02 keeps the same values meanwhile, so the next
 * entry needs none of them.
 *
 * With vmcs_shadow_set = wide the NC_WIDE guest fields are copied at every
 * reflected exit as well (nested/shadow.c puts them into the shadow VMCS),
 * so they are never cold; with hot they are NC_COLD fields like the others.
 *
 * Field classes are the nested column of vmx/vmcs_fields.def.
 */
#include "nested/internal.h"
#include "nested/checks.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"

/* Dirty-bit masks of field groups, from the table (nested_sync_init). */
struct field_masks nested_masks;

static void mask_set(uint64_t *m, unsigned i)
{
	m[i / 64] |= 1ull << (i % 64);
}

static bool exists_for_l1(const struct vmcs12_field *f)
{
	return nested.caps.feature[f->feature];
}

static bool guest_special(unsigned i)
{
	return GUEST_SPECIAL(vmcs12_fields[i].encoding);
}

static bool plain_hot(unsigned i)
{
	const struct vmcs12_field *f = &vmcs12_fields[i];

	return PLAIN_HOT(f->encoding, f->group, f->nested);
}

void nested_sync_init(bool wide)
{
	struct field_masks *m = &nested_masks;

	for (unsigned i = 0; i < V12_FIELDS; i++) {
		const struct vmcs12_field *f = &vmcs12_fields[i];

		if (!exists_for_l1(f))
			continue;
		switch (f->group) {
		case GUEST:
			m->group[i] = (plain_hot(i) ? DG_GUEST_HOT : DG_GUEST) |
				      (i == V12_GUEST_RIP ? DG_RIP : 0) |
				      (nested_guest_field_checked(i) ? DG_GUEST_CHECKED : 0);
			if (!guest_special(i) && !plain_hot(i))
				mask_set(m->guest_plain, i);
			if (!guest_special(i) && f->nested != NC_HOT && !(wide && f->nested == NC_WIDE))
				m->cold[m->ncold++] = (uint8_t)i;
			break;
		case HOST:
			m->group[i] = DG_HOST;
			break;
		case CTRL:
			m->group[i] = i == V12_VM_ENTRY_INTR_INFO ||
						      i == V12_VM_ENTRY_EXCEPTION_ERROR_CODE ||
						      i == V12_VM_ENTRY_INSTRUCTION_LEN
					      ? DG_EVENT : DG_CONTROLS;
			break;
		default:  /* exit information: L1 cannot write it */
			break;
		}
	}
}

static void *slot(struct vmcs12 *v12, const struct vmcs12_field *f)
{
	return (char *)v12 + f->offset;
}

/* VMCS12 field <- the current VMCS's. */
static void pull(struct vmcs12 *v12, unsigned i)
{
	const struct vmcs12_field *f = &vmcs12_fields[i];
	nested_v12_set(v12, i, vmcs_read_raw(f->encoding));
}


void nested_v12_set(struct vmcs12 *v12, unsigned i, uint64_t x)
{
	const struct vmcs12_field *f = &vmcs12_fields[i];

	switch (f->width) {
	case W16: *(uint16_t *)slot(v12, f) = (uint16_t)x; break;
	case W32: *(uint32_t *)slot(v12, f) = (uint32_t)x; break;
	default: *(uint64_t *)slot(v12, f) = x; break;
	}
}

/* What read_exit (vmx/exit.c) already read of this exit: not read again. */
#define FROM_EXIT_CTX(enc) ((enc) == VMCS_VM_EXIT_REASON || (enc) == VMCS_EXIT_QUALIFICATION || \
			    (enc) == VMCS_VM_EXIT_INSTRUCTION_LEN || (enc) == VMCS_GUEST_RIP ||   \
			    (enc) == VMCS_IDT_VECTORING_INFO)

void nested_sync_exit(struct vmcs12 *v12, const struct exit_ctx *x)
{
	uint32_t exit12 = v12->VM_EXIT_CONTROLS;
	/* CR bits only L0 owns are not L2's to change: they keep L1's value. */
	uint64_t mask0 = vmreadnat(VMCS_CR0_GUEST_HOST_MASK) & ~v12->CR0_GUEST_HOST_MASK;
	uint64_t mask4 = vmreadnat(VMCS_CR4_GUEST_HOST_MASK) & ~v12->CR4_GUEST_HOST_MASK;

	/* Straight-line, from the table: a VMREAD and a store a field. */
#define VMCS_FIELD(name, enc, width, group, feat, nclass)                              \
	if ((EXIT_INFO_ALWAYS(enc, nclass) || PLAIN_HOT(enc, group, nclass)) &&              \
	    FIELD_EXISTS(feat) && !FROM_EXIT_CTX(enc))                                      \
		v12->name = (vmcs12_##width)vmcs_read_field(enc, feat, group);
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
	v12->VM_EXIT_REASON = x->raw_reason;
	v12->EXIT_QUALIFICATION = x->qualification;
	v12->VM_EXIT_INSTRUCTION_LEN = x->insn_len;
	v12->GUEST_RIP = x->rip;
	/* Zero where the exit cannot have interrupted event delivery (vmx/exit.c). */
	v12->IDT_VECTORING_INFO = x->idt_vectoring;
	if (exit_has_gpa(v12->VM_EXIT_REASON))
		v12->GUEST_PHYSICAL_ADDRESS = vmread64(VMCS_GUEST_PHYSICAL_ADDRESS);
	v12->GUEST_CR0 = (vmreadnat(VMCS_GUEST_CR0) & ~mask0) | (v12->GUEST_CR0 & mask0);
	v12->GUEST_CR4 = (vmreadnat(VMCS_GUEST_CR4) & ~mask4) | (v12->GUEST_CR4 & mask4);
	/* SDM Vol. 3C, 28.3.1 "Saving Control Registers, Debug Registers, and MSRs". */
	if (exit12 & EXIT_SAVE_EFER)
		v12->GUEST_IA32_EFER = vmread64(VMCS_GUEST_IA32_EFER);
	if (exit12 & EXIT_SAVE_PAT)
		v12->GUEST_IA32_PAT = vmread64(VMCS_GUEST_IA32_PAT);
	if (exit12 & EXIT_SAVE_PREEMPTION_TIMER)
		v12->VMX_PREEMPTION_TIMER_VALUE = vmread32(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	if (exit12 & EXIT_SAVE_DEBUG_CONTROLS) {
		v12->GUEST_DR7 = vmreadnat(VMCS_GUEST_DR7);
		v12->GUEST_IA32_DEBUGCTL = vmread64(VMCS_GUEST_IA32_DEBUGCTL);
	}
	/* 28.2.? : every VM exit clears the valid bit of VM-entry interruption information. */
	v12->VM_ENTRY_INTR_INFO &= ~INTR_INFO_VALID;
	nested.cold_stale = true;
}

void nested_sync_cold(void)
{
	const struct field_masks *m = &nested_masks;

	if (!nested.cold_stale)
		return;
	vmx_load_vmcs(nested.vmcs02);
	for (unsigned k = 0; k < m->ncold; k++) {
		unsigned i = m->cold[k];

		/* A field L1 wrote since keeps L1's value (it goes to VMCS02 at entry). */
		if (!(nested.dirty[i / 64] >> (i % 64) & 1))
			pull(nested.vmcs12, i);
	}
	vmx_load_vmcs(nested.vmcs01);
	nested.cold_stale = false;
}

static bool dirty(unsigned i)
{
	return nested.dirty[i / 64] >> (i % 64) & 1;
}

/* The plain hot guest fields L1 wrote (all: every one), straight-line from the table. */
void nested_write_guest_hot(const struct vmcs12 *v12, bool all)
{
#define VMCS_FIELD(name, enc, width, group, feat, nclass)                    \
	if (PLAIN_HOT(enc, group, nclass) && FIELD_EXISTS(feat) &&            \
	    (all || dirty(V12_##name)))                                        \
		vmcs_write_field(enc, feat, group, v12->name);
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
}

void nested_write_guest(const struct vmcs12 *v12, bool all)
{
	for (unsigned w = 0; w < DIRTY_WORDS; w++) {
		uint64_t bits = nested_masks.guest_plain[w] & (all ? ~0ull : nested.dirty[w]);

		while (bits) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);

			bits &= bits - 1;
			vmcs_write_raw(vmcs12_fields[i].encoding, nested_v12_value(v12, i));
		}
	}
}

void nested_vmcs02_invalidate(void)
{
	nested_sync_cold();
	nested.vmcs02_owner = VMPTR_INVALID;
}
