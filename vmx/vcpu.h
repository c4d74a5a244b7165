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
	/* r[GPR_RSP] is ~0 (vmx/entry.asm): the guest's RSP lives in the VMCS. */
	uint64_t r[GPR_COUNT];
};

/*
 * The top of L0's exit stack (struct vcpu). HOST_RSP points just past regs:
 * on a VM exit the stub pushes r15..rax below it, which lands them exactly
 * in regs, and the handler runs on the stack below (vmx/entry.asm).
 * asm_offsets.c hands these offsets to nasm.
 */
struct vcpu_frame {
	struct gpr_regs regs;
	uint64_t exit_tsc;     /* TSC when the exit stub had saved the registers */
	uint32_t launch;       /* 1: enter the current VMCS with VMLAUNCH (it is clear), 0:
				* VMRESUME. Set only by the handler that makes a clear VMCS
				* current (vmcs01_setup, nested/entry.c); vmx/entry.asm clears
				* it at the VMLAUNCH, so every exit finds it 0 */
	uint32_t restore_all;  /* 1: L0 wrote RBP or R12-R15 (gpr_write): the entry loads
				* them from the frame too; vmx/entry.asm clears it */
};
/* The registers the C ABI preserves: at the entry they still hold the guest's
 * values unless L0 wrote them into the frame (RBX is always loaded: CPUID). */
#define GPR_CALLEE_SAVED_MASK ((1u << GPR_RBP) | (1u << GPR_R12) | (1u << GPR_R13) | \
			       (1u << GPR_R14) | (1u << GPR_R15))
/* TSC ticks from the VM exit to the exit stub's RDTSC where the TSC counts
 * instructions (Bochs): the exit itself and the stub's 16 pushes. exit_tsc
 * minus this is the TSC as of the exit (bare Bochs stores the same value). */
#define EXIT_STUB_TSC_LAG 17
_Static_assert(offsetof(struct vcpu_frame, exit_tsc) == GPR_COUNT * 8,
	       "exit stub pushes 16 registers directly below HOST_RSP");

/* L0's stack for exit handlers (the boot stack's size). */
#define VCPU_EXIT_STACK_SIZE 65536

#define EXIT_REASON_COUNT 70
#define EXIT_HISTORY 16

/*
 * What every handler gets, read once per exit (vmx/exit.c) straight into
 * its slot of the vCPU's exit history, which panic dumps print. The 64-bit
 * members are VMREAD's memory destinations.
 */
struct exit_ctx {
	union {
		uint64_t raw_reason;  /* the whole field, bit 31 = VM-entry failure */
		uint16_t reason;      /* basic exit reason (bits 15:0): its low half */
	};
	uint64_t qualification;
	uint64_t insn_len;
	uint64_t rip;
	uint32_t idt_vectoring;   /* IDT-vectoring information of this exit: read only
				   * where it can be valid (exit_in_delivery) */
} __attribute__((aligned(64)));   /* a history slot is one shift away */

struct vcpu {
	uint8_t exit_stack[VCPU_EXIT_STACK_SIZE] __attribute__((aligned(16)));
	struct vcpu_frame frame;   /* the exit stack's top: ABI-aligned for the handler's call */
	uint64_t vmcs_phys;
	uint64_t history_bytes;   /* exits so far times sizeof(struct exit_ctx): the next
				   * history slot's offset, modulo the ring's size */
	uint64_t exit_count[EXIT_REASON_COUNT];
	struct exit_ctx history[EXIT_HISTORY];  /* ring, newest at vcpu_exits(v) - 1 */
};

/* VM exits so far. */
static inline uint64_t vcpu_exits(const struct vcpu *v)
{
	return v->history_bytes / sizeof(struct exit_ctx);
}

/*
 * vmx/entry.asm. vmx_start enters the guest (VMLAUNCH if frame->launch,
 * else VMRESUME) and never returns: every VM exit calls the handler of its
 * stub (vmx/exit.c) on the exit stack, and a failed VM entry calls
 * vmx_entry_failed(frame, result). After each the guest of the current VMCS
 * is entered, with VMLAUNCH if frame->launch.
 */
enum vmx_run_result { VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };
__attribute__((noreturn)) void vmx_start(struct vcpu_frame *frame);
void vmx_l1_exit(struct vcpu_frame *frame);
void vmx_l1_exit_full(struct vcpu_frame *frame);
void vmx_l2_exit(struct vcpu_frame *frame);
void vmx_l2_exit_full(struct vcpu_frame *frame);
void vmx_entry_failed(struct vcpu_frame *frame, int result);
/* HOST_RIP: L1's exits (VMCS01) and L2's (VMCS02); _full with exit
 * accounting's timestamp, for accounting or trace logging (vmx/exit.c). */
void vmx_exit_stub_l1(void);
void vmx_exit_stub_l2(void);
void vmx_exit_stub_l1_full(void);
void vmx_exit_stub_l2_full(void);

#endif
