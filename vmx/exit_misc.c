/* SPDX-License-Identifier: MIT */
/* Exits with simple answers: HLT, INVD, XSETBV, and the instructions L1 may not use. */
#include "vmx/exit.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/run.h"
#include "core/x86.h"

void handle_hlt(struct vcpu *v, const struct exit_ctx *x)
{
	if (!(vmreadnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF)) {
		/* Nothing can wake it (L0 gives L1 no NMIs): the run is over. */
		vcpu_dump(v);
		run_end_failure("L1 halted with interrupts disabled at rip 0x%lx", x->rip);
	}
	vcpu_halt(x);
}

void vcpu_halt(const struct exit_ctx *x)
{
	/* Let the CPU wait in the guest: an interrupt for it wakes it there.
	 * SDM Vol. 3C, 26.7.4 "Activity State". */
	vcpu_skip_instruction(x);
	vmwrite32(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
}

void handle_invd(struct vcpu *v, const struct exit_ctx *x)
{
	/* Discarding caches would discard L0's dirty lines too: write back instead. */
	__asm__ volatile("wbinvd" ::: "memory");
	vcpu_skip_instruction(x);
}

void handle_xsetbv(struct vcpu *v, const struct exit_ctx *x)
{
	const uint64_t *r = v->frame.regs.r;
	uint64_t value = ((r[GPR_RDX] & 0xffffffffu) << 32) | (r[GPR_RAX] & 0xffffffffu);

	/* XCR0 is not switched by VM entry/exit and L0 uses no extended state:
	 * set it for L1 and let the CPU's own checks decide (#GP on a bad value). */
	if (!(vmreadnat(VMCS_GUEST_CR4) & CR4_OSXSAVE)) {
		vcpu_inject_ud();
		return;
	}
	if (xsetbv_safe((uint32_t)r[GPR_RCX], value) >= 0) {
		vcpu_inject_gp0();
		return;
	}
	vcpu_skip_instruction(x);
}

void handle_inject_ud(struct vcpu *v, const struct exit_ctx *x)
{
	pr_debug("L1 executed %s at rip 0x%lx: #UD (no VMX for L1)", exit_reason_name(x->reason),
		 x->rip);
	vcpu_inject_ud();
}
