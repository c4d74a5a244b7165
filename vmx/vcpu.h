/* SPDX-License-Identifier: MIT */
/* The L1 vCPU: register frame shared with vmx/entry.asm, VMCS01, exit accounting. */
#ifndef NESTVISOR_VMX_VCPU_H
#define NESTVISOR_VMX_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General-purpose registers in hardware numbering (SDM Vol. 2A, Table 2-1):
 * index n is the register an instruction-information field calls n. */
enum gpr_index {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

struct gpr_regs {
	/* r[GPR_RSP] is unused: the guest's RSP lives in the VMCS. */
	uint64_t r[GPR_COUNT];
};

/*
 * HOST_RSP points at host_rsp. On a VM exit the stub pushes r15..rax below
 * it, which lands them exactly in regs, then reloads the C stack pointer that
 * vmx_run saved in host_rsp. asm_offsets.c hands these offsets to nasm.
 */
struct vcpu_frame {
	struct gpr_regs regs;
	uint64_t host_rsp;     /* L0's stack top for exit handlers */
	uint64_t exit_tsc;     /* TSC when the exit stub had saved the registers */
};
/* TSC ticks from the VM exit to the exit stub's RDTSC where the TSC counts
 * instructions (Bochs): the exit itself and the stub's 16 pushes. exit_tsc
 * minus this is the TSC as of the exit (bare Bochs stores the same value). */
#define EXIT_STUB_TSC_LAG 17
_Static_assert(offsetof(struct vcpu_frame, host_rsp) == GPR_COUNT * 8,
	       "exit stub pushes 16 registers directly below host_rsp");

#define EXIT_REASON_COUNT 70
#define EXIT_HISTORY 16

struct exit_record {
	uint32_t reason;
	uint64_t rip;
	uint64_t qualification;
};

struct vcpu {
	struct vcpu_frame frame;
	bool launched;
	uint64_t vmcs_phys;
	uint64_t exits_total;
	uint64_t exit_count[EXIT_REASON_COUNT];
	struct exit_record history[EXIT_HISTORY];  /* ring, newest at exits_total-1 */
};

/*
 * vmx/entry.asm. vmx_start enters the guest (VMLAUNCH if launch, else
 * VMRESUME) and never returns: every VM exit calls vmx_exit_handler(frame)
 * on the stack vmx_start was called on, and a failed VM entry calls
 * vmx_entry_failed(frame, result). Both return 1 to enter the guest of the
 * current VMCS with VMLAUNCH, 0 for VMRESUME.
 */
enum vmx_run_result { VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };
__attribute__((noreturn)) void vmx_start(struct vcpu_frame *frame, int launch);
int vmx_exit_handler(struct vcpu_frame *frame);
int vmx_entry_failed(struct vcpu_frame *frame, int result);
void vmx_exit_stub(void);

#endif
