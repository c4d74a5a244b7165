; SPDX-License-Identifier: MIT
; VM entry and exit for the L1 vCPU. Frame offsets come from asm_offsets.inc
; (generated from struct vcpu_frame), never typed here.
; SDM Vol. 3C, 26 "VM Entries", 28 "VM Exits"; 31.2 "Conventions" for VMfail.
;
; The exit path is the product's hot path: every instruction here is paid by
; every VM exit L0 takes. A VM exit lands at one of four stubs, HOST_RIP of
; the VMCS that exited (vmx/vmcs01.c picks it): one for L1's exits (VMCS01)
; and one for L2's (VMCS02), each with and without exit accounting's
; timestamp. RSP = HOST_RSP = the top of frame->regs, and frame->regs is the
; top of L0's exit stack (struct vcpu): the guest's registers are pushed
; straight into the frame and the C handler runs on the stack below it, with
; no stack switch. frame->launch says how to enter the guest again
; (VMRESUME or VMLAUNCH of the current VMCS); the registers are then popped
; back from the frame, where RSP already points.
%include "asm_offsets.inc"

bits 64
section .text

extern vmx_l1_exit             ; void vmx_l1_exit(struct vcpu_frame *)
extern vmx_l1_exit_full        ; the same with exit accounting / trace logging
extern vmx_l2_exit             ; void vmx_l2_exit(struct vcpu_frame *)
extern vmx_l2_exit_full
extern vmx_entry_failed        ; void vmx_entry_failed(struct vcpu_frame *, int result)

%if FRAME_RAX != 0 || FRAME_R11 != 11 * 8 || FRAME_R15 != 15 * 8 || FRAME_EXIT_TSC != 16 * 8 || FRAME_RDI != 7 * 8
%error "the exit stubs' pushes do not match struct vcpu_frame"
%endif
%if FRAME_RESTORE_ALL != FRAME_LAUNCH + 4
%error "enter_guest tests launch and restore_all with one compare"
%endif

; void vmx_start(struct vcpu_frame *frame /* rdi */)
; Enter the guest for the first time, on the exit stack below the frame;
; never returns.
global vmx_start
vmx_start:
	mov rsp, rdi
	jmp enter_guest

; rsp = frame: enter the guest. The common entry loads only the registers C
; may have changed: RBP and R12-R15 are callee-saved in the C ABI, so they
; still hold the guest's values unless L0 wrote them into the frame
; (gpr_write sets restore_all then). RBX is callee-saved too but loaded
; always (CPUID). RSP may stay mid-frame: the next exit loads HOST_RSP.
; Everything else (VMLAUNCH, restore_all) goes to enter_rare.
; The frame's registers up to RBX, and from RSI to R11: what every entry loads.
%macro POP_RAX_TO_RBX 0
	pop rax
	pop rcx
	pop rdx
	pop rbx
%endmacro
%macro POP_RSI_TO_R11 0
	pop rsi
	pop rdi
	pop r8
	pop r9
	pop r10
	pop r11
%endmacro

%macro ENTER_GUEST 0
	cmp qword [rsp + FRAME_LAUNCH], 0 ; launch (bits 31:0) or restore_all (63:32)
	jnz enter_rare
	POP_RAX_TO_RBX
	add rsp, 16                       ; the RSP slot, RBP
	POP_RSI_TO_R11
	vmresume
	lea rsp, [rsp - 12 * 8]           ; VMRESUME failed: RSP = the frame again
	jmp entry_failed
%endmacro

; EXIT_STUB name, handler, timestamp: push the guest's registers straight
; into frame->regs, top (r15) first; with timestamp, the exit's TSC into
; frame->exit_tsc (exit accounting, probes); call the handler on the stack
; below the frame; enter the guest again.
%macro EXIT_STUB 3
global %1
%1:
	push r15
	push r14
	push r13
	push r12
	push r11
	push r10
	push r9
	push r8
	push rdi
	push rsi
	push rbp
	push -1                           ; the RSP slot: no VMCS field encoding (vmx_insn.c)
	push rbx
	push rdx
	push rcx
	push rax
%if %3
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov [rsp + FRAME_EXIT_TSC], rax
%endif
	mov rdi, rsp                      ; the frame
	call %2                           ; panic's backtrace ends at this call
	ENTER_GUEST
%endmacro

; The stubs' range: a backtrace that reaches a return address in it has
; reached the exit's first C frame, whose saved RBP is the guest's (core/panic.c).
global vmx_exit_stubs_start, vmx_exit_stubs_end
vmx_exit_stubs_start:
EXIT_STUB vmx_exit_stub_l1, vmx_l1_exit, 0
EXIT_STUB vmx_exit_stub_l2, vmx_l2_exit, 0
EXIT_STUB vmx_exit_stub_l1_full, vmx_l1_exit_full, 1
EXIT_STUB vmx_exit_stub_l2_full, vmx_l2_exit_full, 1
vmx_exit_stubs_end:

; The guest's registers from the frame (RSP), top (rax) first.
%macro POP_GUEST_REGS 0
	POP_RAX_TO_RBX
	lea rsp, [rsp + 8]                ; the RSP slot: the guest's RSP is in the VMCS
	pop rbp
	POP_RSI_TO_R11
	pop r12
	pop r13
	pop r14
	pop r15
%endmacro

; rsp = frame
enter_guest:
	ENTER_GUEST
enter_rare:
	mov dword [rsp + FRAME_RESTORE_ALL], 0
	cmp dword [rsp + FRAME_LAUNCH], 0
	jnz .launch
	POP_GUEST_REGS
	vmresume
	lea rsp, [rsp - FRAME_EXIT_TSC]
	jmp entry_failed
.launch:
	; A VMCS the CPU launches is launched from now on, and a VMLAUNCH that
	; fails leaves VMCS01 current, which is launched.
	mov dword [rsp + FRAME_LAUNCH], 0
	POP_GUEST_REGS
	vmlaunch
	lea rsp, [rsp - FRAME_EXIT_TSC]
entry_failed:
	; VMfailInvalid sets CF, VMfailValid sets ZF (the LEA and JMP keep them).
	; RSP = the frame; the C stack is below it.
	mov esi, VMX_FAIL_VALID_CODE
	mov edx, VMX_FAIL_INVALID_CODE
	cmovc esi, edx
	mov dword [rsp + FRAME_RESTORE_ALL], 1
	mov rdi, rsp
	xor ebp, ebp
	call vmx_entry_failed             ; or no return
	jmp enter_guest
