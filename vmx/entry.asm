; SPDX-License-Identifier: MIT
; VM entry and exit for the L1 vCPU. Frame offsets come from asm_offsets.inc
; (generated from struct vcpu_frame), never typed here.
; SDM Vol. 3C, 26 "VM Entries", 28 "VM Exits"; 31.2 "Conventions" for VMfail.
;
; The exit path is the product's hot path: every instruction here is paid by
; every VM exit L0 takes. A VM exit lands at vmx_exit_stub with RSP = HOST_RSP
; = &frame->host_rsp; the guest's registers are pushed straight into the frame,
; the exit is timestamped, and vmx_exit_handler (C) handles it on L0's stack.
; Its return value says how to enter the guest again (VMRESUME or VMLAUNCH of
; the current VMCS), and the registers are popped back from the frame.
%include "asm_offsets.inc"

bits 64
section .text

extern vmx_exit_handler        ; int vmx_exit_handler(struct vcpu_frame *)
extern vmx_entry_failed        ; int vmx_entry_failed(struct vcpu_frame *, int result)

%if FRAME_RAX != 0 || FRAME_R15 != 15 * 8 || FRAME_HOST_RSP != 16 * 8 || FRAME_RDI != 7 * 8
%error "vmx_exit_stub's pushes do not match struct vcpu_frame"
%endif

; void vmx_start(struct vcpu_frame *frame /* rdi */, int launch /* esi */)
; Enter the guest for the first time; never returns. The stack it is called on
; becomes L0's stack for every exit handler from now on.
global vmx_start
vmx_start:
	mov rax, rsp
	and rax, -16                      ; handlers are called with the ABI's alignment
	mov [rdi + FRAME_HOST_RSP], rax
	mov eax, esi
	jmp enter_guest

; HOST_RIP. RSP = HOST_RSP = &frame->host_rsp: push the guest's registers
; straight into frame->regs, top (r15) first.
global vmx_exit_stub
vmx_exit_stub:
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
	push rbp                          ; the unused RSP slot
	push rbx
	push rdx
	push rcx
	push rax
	rdtsc                             ; the exit's timestamp (exit accounting)
	shl rdx, 32
	or rax, rdx
	mov rbx, rsp                      ; the frame, kept in a callee-saved register
	mov [rbx + FRAME_EXIT_TSC], rax
	mov rsp, [rbx + FRAME_HOST_RSP]   ; L0's stack
	mov rdi, rbx
	xor ebp, ebp                      ; ends panic's frame-pointer walk here
	call vmx_exit_handler             ; eax = 1: VMLAUNCH, 0: VMRESUME
	mov rdi, rbx

; eax = launch?, rdi = frame
enter_guest:
	mov rsp, rdi
	test eax, eax
	pop rax                           ; pop and lea leave the flags of "test"
	pop rcx
	pop rdx
	pop rbx
	lea rsp, [rsp + 8]                ; the RSP slot: the guest's RSP is in the VMCS
	pop rbp
	pop rsi
	pop rdi
	pop r8
	pop r9
	pop r10
	pop r11
	pop r12
	pop r13
	pop r14
	pop r15
	jnz .launch
	vmresume
	jmp .failed
.launch:
	vmlaunch
.failed:
	; VMfailInvalid sets CF, VMfailValid sets ZF. RSP = &frame->host_rsp.
	mov esi, VMX_FAIL_VALID_CODE
	mov edx, VMX_FAIL_INVALID_CODE
	cmovc esi, edx
	lea rbx, [rsp - FRAME_HOST_RSP]   ; the frame
	mov rsp, [rsp]                    ; L0's stack
	mov rdi, rbx
	xor ebp, ebp
	call vmx_entry_failed             ; eax = 1: VMLAUNCH, 0: VMRESUME (or no return)
	mov rdi, rbx
	jmp enter_guest
