; SPDX-License-Identifier: MIT
; VM entry and exit for the L2 guest, C-callable (SDM Vol. 3C, 31.3: VMLAUNCH,
; VMRESUME). The guest's general registers come from and go back to a struct
; l2_regs (vmxlib.h; l2.c asserts these offsets). HOST_RSP points at this
; function's frame, whose top holds the struct's address; HOST_RIP is
; vmx_exit_point (written by l2.c). Returns 0 after a VM exit, else the RFLAGS
; the failed VMLAUNCH/VMRESUME left.
bits 64
%include "x86.inc"

R_RAX equ 0 * 8
R_RCX equ 1 * 8
R_RDX equ 2 * 8
R_RBX equ 3 * 8
R_RBP equ 4 * 8
R_RSI equ 5 * 8
R_RDI equ 6 * 8
R_R8  equ 7 * 8
R_R9  equ 8 * 8
R_R10 equ 9 * 8
R_R11 equ 10 * 8
R_R12 equ 11 * 8
R_R13 equ 12 * 8
R_R14 equ 13 * 8
R_R15 equ 14 * 8

; Every arithmetic flag set before the instruction: a VMfail must clear the
; ones the SDM says it clears (31.2 "Conventions"). IF = 0, DF = 0.
FLAGS_PRESET equ 0x8D7

section .text
extern vmx_write_host_rsp

; Saves L1's callee-saved registers, leaves the struct l2_regs pointer on top
; of the stack, makes that the host RSP, loads the guest's registers and flags.
%macro ENTER_GUEST 0
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                        ; struct l2_regs *, found again at the exit
	mov rdi, rsp
	call vmx_write_host_rsp         ; 7 pushes + return address: aligned call
	mov rax, [rsp]
	mov rcx, [rax + R_RCX]
	mov rdx, [rax + R_RDX]
	mov rbx, [rax + R_RBX]
	mov rbp, [rax + R_RBP]
	mov rsi, [rax + R_RSI]
	mov rdi, [rax + R_RDI]
	mov r8, [rax + R_R8]
	mov r9, [rax + R_R9]
	mov r10, [rax + R_R10]
	mov r11, [rax + R_R11]
	mov r12, [rax + R_R12]
	mov r13, [rax + R_R13]
	mov r14, [rax + R_R14]
	mov r15, [rax + R_R15]
	push qword FLAGS_PRESET
	popfq
	mov rax, [rax + R_RAX]          ; MOV leaves the flags alone
%endmacro

; uint64_t vmx_launch(struct l2_regs *regs)
global vmx_launch
vmx_launch:
	ENTER_GUEST
	vmlaunch
	jmp entry_failed

; uint64_t vmx_resume(struct l2_regs *regs)
global vmx_resume
vmx_resume:
	ENTER_GUEST
	vmresume
	jmp entry_failed

; uint64_t vmx_launch_movss(struct l2_regs *regs): VMLAUNCH in the shadow of
; MOV SS (blocking by MOV SS; SDM 31.3 VMLAUNCH: VMfailValid 26).
global vmx_launch_movss
vmx_launch_movss:
	ENTER_GUEST
	mov ss, [rel ss_selector]
	vmlaunch
	jmp entry_failed

entry_failed:
	pushfq
	pop rax
	add rsp, 8                      ; the struct l2_regs pointer
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; A VM exit lands here with RSP = HOST_RSP and RFLAGS = 0x2 (SDM 28.5.3
; "Loading Host RIP, RSP, RFLAGS, and SSP").
global vmx_exit_point
vmx_exit_point:
	push rax
	mov rax, [rsp + 8]              ; struct l2_regs *
	mov [rax + R_RCX], rcx
	mov [rax + R_RDX], rdx
	mov [rax + R_RBX], rbx
	mov [rax + R_RBP], rbp
	mov [rax + R_RSI], rsi
	mov [rax + R_RDI], rdi
	mov [rax + R_R8], r8
	mov [rax + R_R9], r9
	mov [rax + R_R10], r10
	mov [rax + R_R11], r11
	mov [rax + R_R12], r12
	mov [rax + R_R13], r13
	mov [rax + R_R14], r14
	mov [rax + R_R15], r15
	pop qword [rax + R_RAX]
	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	xor eax, eax
	ret

section .rodata
ss_selector: dw SEL_DATA32
