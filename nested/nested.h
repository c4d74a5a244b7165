/* SPDX-License-Identifier: MIT */
/*
 * VMX for L1: the interface nested/ offers vmx/. L1 runs in VMX root
 * operation once it executes VMXON; its VMX instructions exit to L0, which
 * emulates them on a cached VMCS12, and runs its L2 through a VMCS02.
 */
#ifndef NESTVISOR_NESTED_NESTED_H
#define NESTVISOR_NESTED_NESTED_H

#include "nested/caps.h"
#include "nested/vmcs12.h"
#include "vmx/exit.h"

#include <stdbool.h>
#include <stdint.h>

#define VMPTR_INVALID 0xffffffffffffffffull

/* VM-instruction error numbers (SDM Vol. 3C, 31.4 "VM Instruction Error Numbers"). */
enum vm_insn_error {
	VMERR_VMCALL_IN_ROOT = 1,
	VMERR_VMCLEAR_INVALID_ADDR = 2,
	VMERR_VMCLEAR_VMXON_PTR = 3,
	VMERR_VMLAUNCH_NOT_CLEAR = 4,
	VMERR_VMRESUME_NOT_LAUNCHED = 5,
	VMERR_VMRESUME_AFTER_VMXOFF = 6,
	VMERR_ENTRY_INVALID_CONTROLS = 7,
	VMERR_ENTRY_INVALID_HOST_STATE = 8,
	VMERR_VMPTRLD_INVALID_ADDR = 9,
	VMERR_VMPTRLD_VMXON_PTR = 10,
	VMERR_VMPTRLD_BAD_REVISION = 11,
	VMERR_UNSUPPORTED_FIELD = 12,
	VMERR_VMWRITE_READ_ONLY = 13,
	VMERR_VMXON_IN_ROOT = 15,
	VMERR_ENTRY_BAD_EXECUTIVE_VMCS = 16,
	VMERR_ENTRY_NONLAUNCHED_EXECUTIVE = 17,
	VMERR_ENTRY_EXECUTIVE_NOT_VMXON = 18,
	VMERR_VMCALL_NONCLEAR_VMCS = 19,
	VMERR_VMCALL_INVALID_EXIT_CONTROLS = 20,
	VMERR_VMCALL_BAD_MSEG_REVISION = 22,
	VMERR_VMXOFF_DUAL_MONITOR = 23,
	VMERR_VMCALL_BAD_SMM_FEATURES = 24,
	VMERR_ENTRY_BAD_EXECUTIVE_CONTROLS = 25,
	VMERR_ENTRY_MOV_SS_BLOCKING = 26,
	VMERR_INVALID_INVEPT_INVVPID = 28,
};

struct nested_vmx {
	struct nested_caps caps;      /* what L1 sees */
	uint64_t feature_control;     /* L1's IA32_FEATURE_CONTROL */
	bool vmxon;                   /* L1 is in VMX operation */
	uint64_t vmxon_ptr;
	uint64_t current_ptr;         /* L1's current-VMCS pointer, VMPTR_INVALID if none;
				       * never valid outside VMX operation (VMXOFF clears it) */
	struct vmcs12 *vmcs12;        /* L0's cache of the current VMCS12 */
	struct vmcs12 *staging;       /* VMPTRLD reads here first, then checks */
	bool in_l2;                   /* L2 is the running guest (VMCS02 current) */
	bool launching;               /* VMLAUNCH: mark VMCS12 launched once L2 ran */
	bool vmcs02_launched;         /* VMCS02's own launch state (VMRESUME it) */
	uint64_t vmcs01, vmcs02;      /* physical addresses */
	/* nested/sync.c: the VMCS12 whose state VMCS02 holds (VMPTR_INVALID: build
	 * VMCS02 anew at the next entry), the fields L1 changed since (one bit per
	 * enum vmcs12_index), and whether VMCS12's cold guest state is behind VMCS02's. */
	uint64_t vmcs02_owner;
	/* nested/entry.c: the VMCS12 whose controls and host state passed the
	 * entry checks (VMPTR_INVALID: none), with L1's IA-32e mode then. */
	uint64_t checked;
	bool checked_long_mode;
	uint64_t dirty[4];
	uint8_t dirty_groups;         /* the union of the dirty fields' groups (internal.h) */
	bool cold_stale;
	/* nested/bitmaps.c: VMCS02's MSR bitmap, L1's as merged into it (exit
	 * decisions read these bits), the L1 page merged (MSR_ALL_EXIT: none),
	 * the page EPT01 write-protects to see changes, whether it changed; the
	 * I/O bitmaps that let one INS/OUTS of L2 through. */
	uint64_t msr_bitmap02, msr_bitmap12_copy, msr_merged, msr_watched;
	bool msr_dirty;
	uint64_t io_pass_a, io_pass_b;
	/* nested/shadow.c: the shadow VMCS (0: none) and its VMREAD/VMWRITE bitmaps. */
	uint64_t shadow, vmread_bitmap, vmwrite_bitmap;
	bool shadow_hot, shadow_wide; /* it holds vmcs_shadow_set = hot's fields; wide's */
	bool io_pass_active;
	uint32_t io_pass_port, io_pass_size;
	uint64_t l2_entries, l2_exits_reflected, l2_exits_l0;
	/* Trapped VMREADs and VMWRITEs per VMCS12 field (enum vmcs12_index): what a
	 * shadow VMCS did not cover, printed at the end of the run. */
	uint32_t trapped_reads[V12_FIELDS], trapped_writes[V12_FIELDS];
	/* The fields of L1's VMCS12 by VMCS12_SLOT, for VMREAD's and VMWRITE's
	 * hot paths (nested/vmx_insn.c). */
	struct vmcs12_fast_slot fast_slots[VMCS12_SLOTS];
};

extern struct nested_vmx nested;

/* VMCS01 current. shadowing, shadow_wide: nestvisor.cfg's vmcs_shadowing, vmcs_shadow_set = wide. */
void nested_init(uint64_t vmcs01, bool shadowing, bool shadow_wide, uint32_t ept02_pool_pages);

/* L1's VMREAD/VMWRITE run through a shadow VMCS (the CPU has it and nestvisor.cfg wants it). */
bool nested_shadowing_on(void);
bool nested_shadowing_wanted(void);
/* nestvisor.cfg's vmcs_shadow_set: "hot" or "wide". */
const char *nested_shadow_set_name(void);

/* The MSRs L0 owns for L1: IA32_FEATURE_CONTROL and the VMX capabilities. */
static inline bool nested_msr_is_l0s(uint32_t msr)
{
	return msr == MSR_IA32_FEATURE_CONTROL ||
	       (msr >= MSR_IA32_VMX_FIRST && msr <= MSR_IA32_VMX_LAST);
}

/* L1's view of the MSRs L0 owns. false = #GP. */
/* End of the run: the fields L1's trapped VMREADs/VMWRITEs hit most. */
void nested_print_trapped_fields(void);
bool nested_rdmsr(uint32_t msr, uint64_t *value);
bool nested_wrmsr(uint32_t msr, uint64_t value);
/* Put back L1's view of an MSR L0 owns as it was (an undone VM-entry MSR load). */
void nested_restore_msr(uint32_t msr, uint64_t value);

/*
 * A write to an L1 page L0 write-protects to see changes (L1's MSR bitmap):
 * the protection is gone and the change noted; the access may be retried.
 * False if gpa is no such page.
 */
bool nested_bitmap_write_fault(uint64_t gpa);

/*
 * A latched NMI while L2 runs next (VMCS02 current). L1 intercepting NMIs:
 * it gets the NMI in its own context when it runs next. Else L2 gets it
 * injected when it does not block NMIs, or at a later exit.
 */
void nested_deliver_nmi(struct vcpu *v);

/* VMX instruction exits from L1 (vmx/exit.c's table points here). */
void handle_vmxon(struct vcpu *v, const struct exit_ctx *x);
void handle_vmxoff(struct vcpu *v, const struct exit_ctx *x);
void handle_vmclear(struct vcpu *v, const struct exit_ctx *x);
void handle_vmptrld(struct vcpu *v, const struct exit_ctx *x);
void handle_vmptrst(struct vcpu *v, const struct exit_ctx *x);
void handle_vmread(struct vcpu *v, const struct exit_ctx *x);
void handle_vmwrite(struct vcpu *v, const struct exit_ctx *x);
void handle_vmlaunch(struct vcpu *v, const struct exit_ctx *x);
void handle_vmresume(struct vcpu *v, const struct exit_ctx *x);
void handle_invept_invvpid(struct vcpu *v, const struct exit_ctx *x);
void handle_vmcall(struct vcpu *v, const struct exit_ctx *x);

/*
 * The CPU refused VMCS02 (VMfailValid/VMfailInvalid on the VM entry): a check
 * L0 should have made in software. L1 gets VMfailValid with the CPU's error
 * number for its VMLAUNCH/VMRESUME; L0 logs it and goes on.
 */
void nested_vmcs02_refused(struct vcpu *v, bool fail_valid);

/*
 * An exit while L2 runs (the exit handler calls this instead of the L1
 * table). Returns its accounting level: NV_ACCT_L2_REFLECTED (L1 resumes at
 * its host RIP) or NV_ACCT_L2_ABSORBED (L0 handled it, L2 resumes).
 */
unsigned nested_l2_exit(struct vcpu *v, const struct exit_ctx *x);

/* VMsucceed / VMfailInvalid / VMfailValid / VMfail (SDM Vol. 3C, 31.2 "Conventions"). */
void vm_succeed(void);
void vm_fail_invalid(void);
void vm_fail_valid(enum vm_insn_error e);
void vm_fail(enum vm_insn_error e);

#endif
