; SPDX-License-Identifier: MIT
; Exception entry stubs: build a struct trap_frame (core/trap.h) and call
; trap_handler. The frame's size comes from C (asm_offsets.inc) and is checked.
%include "asm_offsets.inc"

bits 64
section .text

extern trap_handler

; Vectors that push an error code (SDM Vol. 3A, Table 6-1)
%define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

%macro ISR 1
isr_%1:
%if !HAS_ERRCODE(%1)
	push 0
%endif
	push %1
	jmp isr_common
%endmacro

%assign v 0
%rep 32
	ISR %[v]
%assign v v + 1
%endrep

isr_common:
	push rax
	push rcx
	push rdx
	push rbx
	push rbp
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
%if (15 + 2 + 5) * 8 != TRAP_FRAME_SIZE || TRAP_FRAME_RIP != 17 * 8
%error "isr_common's pushes do not match struct trap_frame"
%endif
	cld
	mov rdi, rsp
	call trap_handler
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rbp
	pop rbx
	pop rdx
	pop rcx
	pop rax
	add rsp, 16                 ; vector and error code
	iretq

section .rodata
global isr_table
isr_table:
%assign v 0
%rep 32
	dq isr_%[v]
%assign v v + 1
%endrep
