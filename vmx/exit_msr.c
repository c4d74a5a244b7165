/* SPDX-License-Identifier: MIT */
/*
 * RDMSR/WRMSR exits. Only the MSRs L0 owns or guards are intercepted in the
 * MSR bitmap (vmcs01.c); the rest pass straight through, and MSRs outside
 * the bitmap's ranges arrive here and are executed on L1's behalf, within
 * msr_write_allowed's policy.
 */
#include "nested/nested.h"
#include "vmx/exit.h"
#include "vmx/msr_policy.h"
#include "vmx/vmcs.h"
#include "core/log.h"
#include "core/x86.h"

void handle_rdmsr(struct vcpu *v, const struct exit_ctx *x)
{
	uint64_t *r = v->frame.regs.r;
	uint32_t msr = (uint32_t)r[GPR_RCX];
	uint64_t value;

	if (nested_msr_is_l0s(msr)) {
		if (!nested_rdmsr(msr, &value)) {
			vcpu_inject_gp0();
			return;
		}
	} else if (rdmsr_safe(msr, &value) >= 0) {
		pr_debug("L1 rdmsr 0x%x faulted: #GP to L1", msr);
		vcpu_inject_gp0();
		return;
	}
	r[GPR_RAX] = (uint32_t)value;
	r[GPR_RDX] = value >> 32;
	vcpu_skip_instruction(x);
}

void handle_wrmsr(struct vcpu *v, const struct exit_ctx *x)
{
	uint64_t *r = v->frame.regs.r;
	uint32_t msr = (uint32_t)r[GPR_RCX];
	uint64_t value = ((r[GPR_RDX] & 0xffffffffu) << 32) | (r[GPR_RAX] & 0xffffffffu);

	if (nested_msr_is_l0s(msr)) {
		if (!nested_wrmsr(msr, value))
			vcpu_inject_gp0();
		else
			vcpu_skip_instruction(x);
		return;
	}
	if (!msr_write_allowed(msr, value) || wrmsr_safe(msr, value) >= 0) {
		pr_debug("L1 wrmsr 0x%x <- 0x%lx faulted: #GP to L1", msr, value);
		vcpu_inject_gp0();
		return;
	}
	vcpu_skip_instruction(x);
}
