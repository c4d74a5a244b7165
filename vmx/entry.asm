; SPDX-License-Identifier: MIT
; VM entry and exit for the L1 vCPU. Frame offsets come from asm_offsets.inc
; (generated from struct vcpu_frame), never typed here.
; SDM Vol. 3C, 26 "VM Entries", 28 "VM Exits"; 31.2 "Conventions" for VMfail.
%include "asm_offsets.inc"

bits 64
section .text

; int vmx_run(struct vcpu_frame *frame /* rdi */, int launched /* esi */)
global vmx_run
vmx_run:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [rdi + FRAME_HOST_RSP], rsp   ; the exit stub returns through this

	test esi, esi
	; load the guest's registers; rdi last, it holds the frame
	mov rax, [rdi + FRAME_RAX]
	mov rcx, [rdi + FRAME_RCX]
	mov rdx, [rdi + FRAME_RDX]
	mov rbx, [rdi + FRAME_RBX]
	mov rbp, [rdi + FRAME_RBP]
	mov rsi, [rdi + FRAME_RSI]
	mov r8,  [rdi + FRAME_R8]
	mov r9,  [rdi + FRAME_R9]
	mov r10, [rdi + FRAME_R10]
	mov r11, [rdi + FRAME_R11]
	mov r12, [rdi + FRAME_R12]
	mov r13, [rdi + FRAME_R13]
	mov r14, [rdi + FRAME_R14]
	mov r15, [rdi + FRAME_R15]
	mov rdi, [rdi + FRAME_RDI]        ; mov does not touch the flags of "test"
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:
	; VMfailInvalid sets CF, VMfailValid sets ZF. Guest values are in the
	; registers now; the callee-saved host ones are on our stack.
	mov eax, VMX_FAIL_VALID_CODE
	mov edx, VMX_FAIL_INVALID_CODE
	cmovc eax, edx
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

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
%if FRAME_RAX != 0 || FRAME_R15 != 15 * 8 || FRAME_HOST_RSP != 16 * 8 || FRAME_RDI != 7 * 8
%error "vmx_exit_stub's pushes do not match struct vcpu_frame"
%endif
	mov rsp, [rsp + FRAME_HOST_RSP]   ; back on vmx_run's stack
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	xor eax, eax                      ; VMX_EXITED
	ret
