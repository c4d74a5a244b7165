; SPDX-License-Identifier: MIT
; exitbench: everything L1 executes between two timestamps.
;
; Kind l1: eb_l1_<op>(const struct eb_regs *r) times one operation and
; returns t1 - t0.
;
; Kinds l2-*: eb_round_<handler>(struct eb_round *r) times one round trip
; L1 -> L2 -> L1. The first timestamp is taken in L1, then the handler runs
; (realistic: the work of KVM's exit handler; minimal: nothing), then
; VMRESUME (eb_round_launch: VMLAUNCH) enters L2, whose next instruction
; exits; L0 reflects that exit and L1 continues at HOST_RIP = eb_round_exit,
; which takes the second timestamp before anything else. HOST_RIP and HOST_RSP
; are written once per measurement (per sample for eb_round_launch) by l2.c,
; never inside the window.
bits 64
%include "guests/exitbench/stamp.inc"

; SDM Vol. 3D, Appendix B "Field Encoding in VMCS" (names as in vmcs_fields.def)
VMCS_EXIT_REASON        equ 0x4402
VMCS_EXIT_INSN_LEN      equ 0x440C
VMCS_EXIT_QUALIFICATION equ 0x6400
VMCS_GUEST_RIP          equ 0x681E

; struct eb_round (exitbench.h asserts the offsets); enum round_status.
EB_ROUND_REASON equ 40
EB_ROUND_DELTA  equ 48
EB_ROUND_GOT    equ 56
ROUND_OK           equ 0
ROUND_ENTRY_FAILED equ 1
ROUND_UNEXPECTED   equ 2

section .text

; ---- Kind l1 ---------------------------------------------------------------

; L1_TIMED name[, instruction]: int64_t eb_l1_<name>(const struct eb_regs *r).
%macro L1_TIMED 1-2+
global eb_l1_%1
eb_l1_%1:
	push rbx
	LOAD_OPERANDS rdi
	STAMP_T0
	ARG_SLOT rdi
	%2
	STAMP_T1
	pop rbx
	ret
%endmacro

L1_TIMED pair                           ; no operation: the window alone
L1_TIMED cpuid, cpuid                   ; leaf RAX, subleaf RCX (hypercall too)
L1_TIMED rdmsr, rdmsr                   ; MSR RCX
L1_TIMED wrmsr, wrmsr                   ; MSR RCX <- RDX:RAX
L1_TIMED in_f4, in al, 0xf4             ; nestvisor's test exit port
L1_TIMED vmread, vmread rbx, rcx        ; RBX <- field RCX of the current VMCS
L1_TIMED vmwrite, vmwrite rcx, rbx      ; field RCX <- RBX
L1_TIMED vmptrld, vmptrld [rsi]         ; current VMCS <- the address at [RSI]

; ---- Kinds l2-reflected and l2-absorbed: the round trip ----------------------

; Saves L1's callee-saved registers and RSP (L2 runs with L1's registers and
; changes them; a VM exit leaves L2's values and RSP = HOST_RSP), then loads
; L2's operand registers. Nothing here is timed.
%macro ROUND_ENTER 0
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov [rel l1_rsp], rsp
	mov [rel round_cur], rdi
	LOAD_OPERANDS rdi
%endmacro

; enum round_status eb_round_minimal(struct eb_round *r): L1 only resumes.
; L2's RIP stays on the exiting instruction, so L2 executes it again at once.
global eb_round_minimal
eb_round_minimal:
	ROUND_ENTER
	STAMP_T0
	ARG_SLOT rdi
	vmresume
	jmp round_entry_failed

; enum round_status eb_round_launch(struct eb_round *r): VMLAUNCH of the
; current VMCS, which l2.c has just cleared, loaded and filled (all of it
; before this function: the window holds the VMLAUNCH alone). Under nestvisor
; that VMCS12 is new to L0 since its VMPTRLD, so L0 checks it and builds VMCS02
; from scratch here. L2 starts at its VMCALL, which exits at once.
global eb_round_launch
eb_round_launch:
	ROUND_ENTER
	STAMP_T0
	ARG_SLOT rdi
	vmlaunch
	jmp round_entry_failed

; enum round_status eb_round_realistic(struct eb_round *r): L1 handles the
; previous exit as KVM's handler does (exit reason and dispatch on it, exit
; qualification, instruction length, guest RIP; RIP += length), then resumes.
; L2 continues after its exiting instruction, at `jmp` back to it.
; Registers: R8-R12 only, so L2's operands in RCX, RBX, RSI stay loaded.
global eb_round_realistic
eb_round_realistic:
	ROUND_ENTER
	STAMP_T0
	mov r9d, VMCS_EXIT_REASON
	vmread r8, r9
	cmp r8, [rdi + EB_ROUND_REASON]
	jne round_unexpected
	mov r9d, VMCS_EXIT_QUALIFICATION
	vmread r12, r9
	mov r9d, VMCS_EXIT_INSN_LEN
	vmread r10, r9
	mov r9d, VMCS_GUEST_RIP
	vmread r11, r9
	add r11, r10
	vmwrite r9, r11
	ARG_SLOT rdi
	vmresume
	jmp round_entry_failed

; The VM exit of both rounds lands here, RSP = HOST_RSP (SDM Vol. 3C, 28.5.3
; "Loading Host RIP, RSP, RFLAGS, and SSP"). The second timestamp comes first;
; nothing uses the stack before L1's RSP is back.
global eb_round_exit
eb_round_exit:
	STAMP_T1
	mov rsp, [rel l1_rsp]
	mov rdi, [rel round_cur]
	mov [rdi + EB_ROUND_DELTA], rax
	mov eax, ROUND_OK
	jmp round_out

; The handler found another exit reason than the one L2's loop causes.
round_unexpected:
	mov [rdi + EB_ROUND_GOT], r8
	mov eax, ROUND_UNEXPECTED
	jmp round_out

; VMRESUME/VMLAUNCH itself failed (VMfailInvalid or VMfailValid): no VM exit happened.
round_entry_failed:
	mov eax, ROUND_ENTRY_FAILED
round_out:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

section .bss
alignb 8
l1_rsp:    resq 1       ; L1's RSP during a round
round_cur: resq 1       ; the struct eb_round of the current round
alignb 16
	resb 256            ; HOST_RSP of the rounds: the exit path uses no stack,
global eb_host_stack_top
eb_host_stack_top:      ; but a valid one costs nothing
