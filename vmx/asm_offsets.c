/* SPDX-License-Identifier: MIT */
/*
 * Compiled to assembly only (never linked): each OFFSET() leaves a marker
 * line that the Makefile turns into a nasm %define in asm_offsets.inc, so the
 * assembly uses the compiler's layout instead of hand-kept numbers.
 */
#include "core/trap.h"
#include "vmx/vcpu.h"

#include <stddef.h>

#define OFFSET(sym, value) \
	__asm__ volatile("\n.ascii \"@@OFFSET@@ " #sym " %c0\"" ::"i"(value))

void asm_offsets(void);
void asm_offsets(void)
{
	OFFSET(FRAME_RAX, offsetof(struct vcpu_frame, regs.r[GPR_RAX]));
	OFFSET(FRAME_RCX, offsetof(struct vcpu_frame, regs.r[GPR_RCX]));
	OFFSET(FRAME_RDX, offsetof(struct vcpu_frame, regs.r[GPR_RDX]));
	OFFSET(FRAME_RBX, offsetof(struct vcpu_frame, regs.r[GPR_RBX]));
	OFFSET(FRAME_RBP, offsetof(struct vcpu_frame, regs.r[GPR_RBP]));
	OFFSET(FRAME_RSI, offsetof(struct vcpu_frame, regs.r[GPR_RSI]));
	OFFSET(FRAME_RDI, offsetof(struct vcpu_frame, regs.r[GPR_RDI]));
	OFFSET(FRAME_R8, offsetof(struct vcpu_frame, regs.r[GPR_R8]));
	OFFSET(FRAME_R9, offsetof(struct vcpu_frame, regs.r[GPR_R9]));
	OFFSET(FRAME_R10, offsetof(struct vcpu_frame, regs.r[GPR_R10]));
	OFFSET(FRAME_R11, offsetof(struct vcpu_frame, regs.r[GPR_R11]));
	OFFSET(FRAME_R12, offsetof(struct vcpu_frame, regs.r[GPR_R12]));
	OFFSET(FRAME_R13, offsetof(struct vcpu_frame, regs.r[GPR_R13]));
	OFFSET(FRAME_R14, offsetof(struct vcpu_frame, regs.r[GPR_R14]));
	OFFSET(FRAME_R15, offsetof(struct vcpu_frame, regs.r[GPR_R15]));
	OFFSET(FRAME_EXIT_TSC, offsetof(struct vcpu_frame, exit_tsc));
	OFFSET(FRAME_LAUNCH, offsetof(struct vcpu_frame, launch));
	OFFSET(FRAME_RESTORE_ALL, offsetof(struct vcpu_frame, restore_all));
	OFFSET(VMX_FAIL_INVALID_CODE, VMX_FAIL_INVALID);
	OFFSET(VMX_FAIL_VALID_CODE, VMX_FAIL_VALID);
	OFFSET(TRAP_FRAME_SIZE, sizeof(struct trap_frame));
	OFFSET(TRAP_FRAME_RIP, offsetof(struct trap_frame, rip));
}
