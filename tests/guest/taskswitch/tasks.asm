; SPDX-License-Identifier: MIT
; taskswitch: the tasks' code. Each task starts at its *_entry with the
; registers of its TSS, records them, then loops: call its C body, switch back
; (far JMP to the main task, or IRET along the back link), and on its next
; entry continue after that instruction (SDM Vol. 3A, 7.3: "execution starts
; with the instruction pointed to by the saved EIP value").
bits 32
%include "x86.inc"

SEL_MAIN equ 0x20        ; main.c: the main task's TSS

section .data
global t1_entry_regs, t1_return_mode, int_entry_esp, df_entry_esp
t1_entry_regs:  times 8 dd 0   ; EAX ECX EDX EBX ESP EBP ESI EDI at first entry
t1_return_mode: dd 0           ; 0: JMP to the main task, 1: IRET
int_entry_esp:  dd 0
df_entry_esp:   dd 0

section .text
extern task1_body, int_task_body, df_task_body
global task1_entry, task1_after_jmp, int_task_entry, df_task_entry, bad_task_entry
global trigger_df, df_fault, df_resume

task1_entry:
	mov [t1_entry_regs + 0], eax
	mov [t1_entry_regs + 4], ecx
	mov [t1_entry_regs + 8], edx
	mov [t1_entry_regs + 12], ebx
	mov [t1_entry_regs + 16], esp
	mov [t1_entry_regs + 20], ebp
	mov [t1_entry_regs + 24], esi
	mov [t1_entry_regs + 28], edi
t1_loop:
	call task1_body
	cmp dword [t1_return_mode], 1
	je t1_iret
	jmp SEL_MAIN:0
task1_after_jmp:
	jmp t1_loop
t1_iret:
	iretd
	jmp t1_loop

; The interrupt task (INT 0x80 through a task gate): no error code on its stack.
int_task_entry:
	mov [int_entry_esp], esp
.loop:
	call int_task_body
	iretd
	jmp .loop

; The double-fault task: the error code (0) was pushed onto its stack (6.12.2).
df_task_entry:
	mov [df_entry_esp], esp
.loop:
	call df_task_body
	iretd
	jmp .loop

; A task whose TSS holds a bad GS: the switch faults before this runs.
bad_task_entry:
	cli
	hlt
	jmp bad_task_entry

; void trigger_df(void): a #GP whose IDT gate is not present: #NP while
; delivering it, a double fault, delivered through the task gate at vector 8.
; The double-fault task resumes the main task at df_resume.
trigger_df:
	mov eax, 0xfff8
df_fault:
	mov ds, eax
df_resume:
	ret
