; SPDX-License-Identifier: MIT
; vmxept's L2 programs. Inputs come in the registers L1 puts in struct l2_regs;
; each labels the instruction L1 expects an exit at and ends in a VMCALL at a
; "..._done" label. The 64-bit ones run on L2's page tables (vmxept.h, "the
; world"); l2e_routine and l2e_real are not run where they are linked: L1
; copies their bytes into the pages under test.
bits 64

%macro LABEL 1
global %1
%1:
%endmacro

; The VMCALL that ends a program; resuming after it repeats the VMCALL.
%macro DONE 1
LABEL %1
	vmcall
	jmp %1
%endmacro

section .text

; Case "identity": code, a read and a write through EPT12.
LABEL l2e_sum
	mov rax, [rsi]
	add rax, rcx
	mov [rdi], rax
DONE l2e_sum_done

LABEL l2e_rw
LABEL l2e_rw_read
	mov rax, [rsi]                  ; 48 8B 06
LABEL l2e_rw_write
	mov [rdi], rdx                  ; 48 89 17
DONE l2e_rw_done

LABEL l2e_read
	mov rax, [rsi]
DONE l2e_read_done

LABEL l2e_write
	mov [rdi], rdx
DONE l2e_write_done

LABEL l2e_call
	call rsi
DONE l2e_call_done

; Reads again each time L1 resumes it after the VMCALL.
LABEL l2e_read_loop
	mov rax, [rsi]
LABEL l2e_read_loop_done
	vmcall
	jmp l2e_read_loop

LABEL l2e_read_write
	mov rax, [rsi]
LABEL l2e_read_write_mid
	vmcall
	mov [rsi], rdx
DONE l2e_read_write_done

; ---- VMX-preemption timer (timer.c) ----

; Its first instruction writes RDX to [RDI] (a timer value of 0 exits before it).
LABEL l2e_marker
	mov [rdi], rdx
DONE l2e_marker_done

; RCX += 1 until a VM exit stops it.
LABEL l2e_spin
	inc rcx
	jmp l2e_spin
LABEL l2e_spin_end

; Spins until RDTSC has advanced by RSI ticks since its first RDTSC (R9 = that
; first TSC, R10 = the last, R8 = iterations), then CPUID (which always exits).
; Resumed after it, it spins for good: R12 = the TSC of its first iteration
; there, R11 = the TSC of its latest, R8 += 1 each time.
LABEL l2e_timed_cpuid
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r9, rax
.work:
	inc r8
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r10, rax
	sub rax, r9
	cmp rax, rsi
	jb .work
	xor eax, eax
LABEL l2e_timed_cpuid_insn
	cpuid
	xor r12, r12
LABEL l2e_timed_spin
	rdtsc
	shl rdx, 32
	or rax, rdx
	test r12, r12
	jnz .seen
	mov r12, rax
.seen:
	mov r11, rax
	inc r8
	jmp l2e_timed_spin
LABEL l2e_timed_spin_end

; ---- mode=stress (stress.c): one pass of stress_l2_pass per VMCALL; resumed
; after the VMCALL, it runs the next pass (L1 changed the EPTP meanwhile).
extern stress_l2_pass
LABEL l2e_stress
	call stress_l2_pass
LABEL l2e_stress_done
	vmcall
	jmp l2e_stress

section .rodata

; Copied by L1 into a page that L2 executes from.
LABEL l2e_routine
	mov eax, 0x600DC0DE             ; L2E_ROUTINE_EAX (vmxept.h)
	ret
LABEL l2e_routine_end

; Real mode (unrestricted guest): CS = DS = SS = 0x800 (base 0x8000). Stores
; AX = 0x1234 + 0x0101 at 0x8100, the byte 0x5A at 0x8102, reads the word L1
; put at 0x8200 into BX and returns CR0 in ECX, then VMCALL.
bits 16
LABEL l2e_real
	mov ax, 0x1234
	add ax, 0x0101
	mov [0x100], ax
	mov byte [0x102], 0x5A
	mov bx, [0x200]
	mov ecx, cr0
LABEL l2e_real_vmcall
	vmcall
	jmp l2e_real_vmcall
LABEL l2e_real_end
bits 64
