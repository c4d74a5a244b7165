; SPDX-License-Identifier: MIT
; exitbench: the code L2 runs (vmxlib's L2: 64-bit, L1's page tables).
bits 64
%include "guests/exitbench/stamp.inc"

; struct eb_l2_loop (exitbench.h asserts the offsets)
EB_LOOP_COUNT   equ 40
EB_LOOP_SAMPLES equ 48

section .text

; ---- Kind l2-reflected --------------------------------------------------------
; eb_l2_<name>: the operation, then a jump back to it. Each exits to L1 (which
; arranged that), so L2 never completes one: its inputs are whatever L1's
; registers hold at VMRESUME (eb_round_*: struct eb_round). With the minimal
; handler L2 resumes at the operation itself; with the realistic one at the
; `jmp`, one instruction more per round.
%macro L2_LOOP 2+
global eb_l2_%1
eb_l2_%1:
	%2
	jmp eb_l2_%1
%endmacro

; Unconditional exits: SDM Vol. 3C, 26.1.2 "Instructions That Cause VM Exits
; Unconditionally" (CPUID; every VMX instruction but VMREAD/VMWRITE, which
; exit without VMCS shadowing).
L2_LOOP cpuid, cpuid                    ; leaf RAX (also the hypercall leaf)
L2_LOOP vmcall, vmcall
L2_LOOP vmread, vmread rbx, rcx
L2_LOOP vmwrite, vmwrite rcx, rbx
L2_LOOP vmptrld, vmptrld [rsi]
; Conditional exits, 26.1.3 "Instructions That Cause VM Exits Conditionally":
; RDMSR/WRMSR by L1's MSR bitmap, IN by L1's I/O bitmaps.
L2_LOOP rdmsr, rdmsr
L2_LOOP wrmsr, wrmsr
L2_LOOP in_80, in al, 0x80

; ---- Kind l2-absorbed -----------------------------------------------------------
; eb_l2_absorbed_<name>: L2 times eb_absorbed.count operations itself (L1 sees
; no exit to time) and stores each delta in eb_absorbed.samples, then VMCALLs
; at eb_l2_absorbed_<name>_done. The loop's bookkeeping is outside the window.
extern eb_absorbed

%macro L2_TIMED_LOOP 2+
global eb_l2_absorbed_%1
global eb_l2_absorbed_%1_done
eb_l2_absorbed_%1:
	lea rdi, [rel eb_absorbed]
	mov r12, [rdi + EB_LOOP_COUNT]
	mov r13, [rdi + EB_LOOP_SAMPLES]
	LOAD_OPERANDS rdi
	test r12, r12
	jz eb_l2_absorbed_%1_done
%%next:
	STAMP_T0
	ARG_SLOT rdi
	%2
	STAMP_T1
	mov [r13], rax
	add r13, 8
	dec r12
	jnz %%next
eb_l2_absorbed_%1_done:
	vmcall
	jmp eb_l2_absorbed_%1
%endmacro

L2_TIMED_LOOP rdmsr, rdmsr              ; MSR RCX: IA32_FEATURE_CONTROL, L0's
L2_TIMED_LOOP in_f4, in al, 0xf4        ; nestvisor's test exit port, L0's

; eb_l2_absorbed_ept_fill: L2 reads one byte of each of `count` consecutive
; pages from RSI on, each the first access to its page since L1 set up its
; EPT12: under nestvisor an EPT violation that L0 answers by filling EPT02
; from EPT12 (the next page is taken outside the window).
global eb_l2_absorbed_ept_fill
global eb_l2_absorbed_ept_fill_done
eb_l2_absorbed_ept_fill:
	lea rdi, [rel eb_absorbed]
	mov r12, [rdi + EB_LOOP_COUNT]
	mov r13, [rdi + EB_LOOP_SAMPLES]
	LOAD_OPERANDS rdi
	test r12, r12
	jz eb_l2_absorbed_ept_fill_done
.next:
	STAMP_T0
	ARG_SLOT rdi
	mov al, [rsi]
	STAMP_T1
	mov [r13], rax
	add r13, 8
	add rsi, 4096
	dec r12
	jnz .next
eb_l2_absorbed_ept_fill_done:
	vmcall
	jmp eb_l2_absorbed_ept_fill

; eb_l2_probe_<name>: the operation once, untimed, then VMCALL: L1 reads the
; result from L2's registers (vmxlib's struct l2_regs).
%macro L2_PROBE 2+
global eb_l2_probe_%1
global eb_l2_probe_%1_done
eb_l2_probe_%1:
	%2
eb_l2_probe_%1_done:
	vmcall
	jmp eb_l2_probe_%1_done
%endmacro

L2_PROBE rdmsr, rdmsr
L2_PROBE in_f4, in al, 0xf4
