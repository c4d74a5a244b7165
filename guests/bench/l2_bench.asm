; SPDX-License-Identifier: MIT
; bench: the timed L1 -> L2 -> L1 round trip and the L2 loops it resumes.
; bench_l2_round takes a timestamp, does VMRESUME into L2 (whose next
; instruction exits at once), and takes the second timestamp at HOST_RIP
; (bench_exit_point), with nothing else in between: no register loading, no
; VMWRITE of HOST_RSP (done before the first timestamp, only when RSP changed).
bits 64

VMCS_HOST_RSP equ 0x6C14

section .text

; uint64_t bench_l2_round(uint64_t *t0): *t0 = TSC before VMRESUME; returns the
; TSC after the exit returned to L1, or 0 if VMRESUME failed (no VM exit).
global bench_l2_round
bench_l2_round:
	push rbx                        ; L2 runs with L1's registers and may change
	push rbp                        ; them (CPUID: RAX, RBX, RCX, RDX); a VM exit
	push r12                        ; leaves L2's values, so keep L1's here
	push r13
	push r14
	push r15
	push rdi                        ; t0 pointer, the top of the host stack
	cmp rsp, [rel bench_host_rsp]
	je .stack_ok
	mov [rel bench_host_rsp], rsp
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
.stack_ok:
	lfence
	rdtsc
	lfence
	shl rdx, 32
	or rax, rdx
	mov [rdi], rax
	vmresume
	; VMfailInvalid / VMfailValid: no exit happened.
	xor eax, eax
	jmp round_out

; A VM exit lands here with RSP = HOST_RSP (SDM 28.5.3).
global bench_exit_point
bench_exit_point:
	lfence
	rdtsc
	lfence
	shl rdx, 32
	or rax, rdx
round_out:
	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

; L2 loops. L1 never advances L2's RIP, so every VMRESUME re-executes the
; exiting instruction at once.
global bench_l2_cpuid
bench_l2_cpuid:
	cpuid                           ; exits unconditionally
	jmp bench_l2_cpuid

global bench_l2_vmcall
bench_l2_vmcall:
	vmcall                          ; exits unconditionally
	jmp bench_l2_vmcall

section .bss
global bench_host_rsp
bench_host_rsp: resq 1      ; the HOST_RSP last written; 0 = unknown (set-up wrote another)
