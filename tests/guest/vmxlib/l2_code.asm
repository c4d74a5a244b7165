; SPDX-License-Identifier: MIT
; L2 programs: small 64-bit code sequences the L2 guest runs (l2.c makes the
; VMCS point at them). Each labels the instruction under test, so that L1 can
; check the guest RIP and instruction length of the exit it gets, and ends in
; a VMCALL at a "..._done" label: an exit anywhere else is one L1 did not ask
; for. Inputs come in the registers L1 puts in struct l2_regs.
; Also L2's IDT stubs, which log the event in l2_events (vmxlib.h).
bits 64
%include "x86.inc"

; The VMCALL that ends a program (L1 sees EXIT_REASON_VMCALL at the label).
%macro DONE 1
global %1
%1:
	vmcall
	jmp %1
%endmacro

%macro LABEL 1
global %1
%1:
%endmacro

section .text

LABEL l2_vmcall_only
	vmcall
	jmp l2_vmcall_only

; CPUID leaf 0 (unconditional exit).
LABEL l2_cpuid
	xor eax, eax
	xor ecx, ecx
LABEL l2_cpuid_insn
	cpuid                           ; 0F A2
DONE l2_cpuid_done

LABEL l2_hlt
LABEL l2_hlt_insn
	hlt                             ; F4
DONE l2_hlt_done

; Three I/O instructions: IN AL,DX (port 0x3FF), OUT 0x80,AX (immediate),
; OUT DX,EAX (port 0x80).
LABEL l2_io
	mov edx, 0x3FF
LABEL l2_io_in_dx
	in al, dx                       ; EC
	mov eax, 0x1234
LABEL l2_io_out_imm
	out 0x80, ax                    ; 66 E7 80
	mov edx, 0x80
LABEL l2_io_out_dx32
	out dx, eax                     ; EF
DONE l2_io_done

LABEL l2_in3ff
	mov edx, 0x3FF                  ; COM1 scratch register
	xor eax, eax
LABEL l2_in3ff_insn
	in al, dx
DONE l2_in3ff_done

LABEL l2_inw_7fff
	mov edx, 0x7FFF                 ; bytes 0x7FFF (bitmap A) and 0x8000 (bitmap B)
LABEL l2_inw_7fff_insn
	in ax, dx                       ; 66 ED
DONE l2_inw_7fff_done

LABEL l2_in9000
	mov edx, 0x9000                 ; in bitmap B
LABEL l2_in9000_insn
	in al, dx
DONE l2_in9000_done

; RDMSR/WRMSR of the MSR in RCX (RDX:RAX for WRMSR), from L1.
LABEL l2_rdmsr
LABEL l2_rdmsr_insn
	rdmsr                           ; 0F 32
DONE l2_rdmsr_done

LABEL l2_wrmsr
LABEL l2_wrmsr_insn
	wrmsr                           ; 0F 30
DONE l2_wrmsr_done

; CR0: read it (into RBX too), set the bits in RSI, write it back.
LABEL l2_cr0_set
LABEL l2_cr0_set_read
	mov rax, cr0                    ; 0F 20 C0
	mov rbx, rax
	or rax, rsi
LABEL l2_cr0_set_write
	mov cr0, rax                    ; 0F 22 C0
DONE l2_cr0_set_done

; CR4 through RBX: toggle the bits in RSI.
LABEL l2_cr4_rbx
	mov rbx, cr4
	xor rbx, rsi
LABEL l2_cr4_rbx_write
	mov cr4, rbx                    ; 0F 22 E3
DONE l2_cr4_rbx_done

LABEL l2_cr3_read
LABEL l2_cr3_read_insn
	mov rdx, cr3                    ; 0F 20 DA
DONE l2_cr3_read_done

LABEL l2_cr3_write
LABEL l2_cr3_write_insn
	mov cr3, rcx                    ; 0F 22 D9 (RCX from L1: its own CR3)
DONE l2_cr3_write_done

LABEL l2_clts
LABEL l2_clts_insn
	clts                            ; 0F 06
DONE l2_clts_done

LABEL l2_lmsw
LABEL l2_lmsw_insn
	lmsw ax                         ; 0F 01 F0 (AX from L1)
DONE l2_lmsw_done

LABEL l2_ud2
LABEL l2_ud2_insn
	ud2                             ; 0F 0B
DONE l2_ud2_done

LABEL l2_int3
LABEL l2_int3_insn
	int3                            ; CC
DONE l2_int3_done

; A read of the address in RBX (L1 passes one that is not mapped).
LABEL l2_pf
LABEL l2_pf_insn
	mov rax, [rbx]                  ; 48 8B 03
DONE l2_pf_done

LABEL l2_rdtsc
LABEL l2_rdtsc_insn
	rdtsc                           ; 0F 31
	shl rdx, 32
	or rax, rdx
DONE l2_rdtsc_done

LABEL l2_invlpg
LABEL l2_invlpg_insn
	invlpg [rbx]                    ; 0F 01 3B
DONE l2_invlpg_done

LABEL l2_movdr
LABEL l2_movdr_read
	mov rax, dr7                    ; 0F 21 F8
LABEL l2_movdr_write
	mov dr0, rcx                    ; 0F 23 C1
DONE l2_movdr_done

; DR7 as L2 finds it after VM entry (L1's or the VMCS field's, by "load debug controls").
LABEL l2_dr7
LABEL l2_dr7_insn
	mov rax, dr7                    ; 0F 21 F8
DONE l2_dr7_done

LABEL l2_invd
LABEL l2_invd_insn
	invd                            ; 0F 08
DONE l2_invd_done

LABEL l2_pause
LABEL l2_pause_insn
	pause                           ; F3 90
DONE l2_pause_done

; VMX instructions in L2 always exit to L1 (without VMCS shadowing).
LABEL l2_vmread
LABEL l2_vmread_insn
	vmread rbx, rax                 ; 0F 78 C3: r/m = RBX (destination), reg = RAX
DONE l2_vmread_done

LABEL l2_vmptrld
LABEL l2_vmptrld_insn
	vmptrld [rbx + rcx * 8 + 0x10]  ; 0F C7 74 CB 10
DONE l2_vmptrld_done

; Where L1 injects a software interrupt: the INT is never executed itself,
; the handler returns past it (guest RIP + VM-entry instruction length).
LABEL l2_int_site
	int 0x50                        ; CD 50
DONE l2_int_site_done

; STI, then one instruction in its shadow, then the interrupt window opens.
LABEL l2_sti_window
	sti
LABEL l2_sti_window_nop
	nop
LABEL l2_sti_window_open
	nop
	cli
DONE l2_sti_window_done

; ---------------------------------------------------------------------------
; L2's IDT stubs: push a dummy error code where the CPU pushes none (vectors
; below 32; an INT n never pushes one), then the vector. l2_idt_common logs
; vector, error code, RIP, CS, RFLAGS and counts the event, then, by
; l2_events.fixup_rip: 0 = VMCALL right here (l2_handler_vmcall, which L1 sees
; as an unexpected exit), 1 = return where the CPU said, else return there.
EV_COUNT  equ 0 * 8
EV_VECTOR equ 1 * 8
EV_ERROR  equ 2 * 8
EV_RIP    equ 3 * 8
EV_CS     equ 4 * 8
EV_RFLAGS equ 5 * 8
EV_FIXUP  equ 6 * 8

%assign v 0
%rep 256
l2_stub_ %+ v:
%if v >= 32 || HAS_ERRCODE(v) == 0
	push 0
%endif
	push v
	jmp l2_idt_common
%assign v v + 1
%endrep

extern l2_events
l2_idt_common:
	push rax
	mov rax, [rsp + 8]
	mov [rel l2_events + EV_VECTOR], rax
	mov rax, [rsp + 16]
	mov [rel l2_events + EV_ERROR], rax
	mov rax, [rsp + 24]
	mov [rel l2_events + EV_RIP], rax
	mov rax, [rsp + 32]
	mov [rel l2_events + EV_CS], rax
	mov rax, [rsp + 40]
	mov [rel l2_events + EV_RFLAGS], rax
	inc qword [rel l2_events + EV_COUNT]
	mov rax, [rel l2_events + EV_FIXUP]
	test rax, rax
	jz l2_handler_vmcall
	cmp rax, 1
	je .return
	mov [rsp + 24], rax
.return:
	pop rax
	add rsp, 16                     ; vector, error code
	iretq

LABEL l2_handler_vmcall
	vmcall
	jmp l2_handler_vmcall

section .rodata
global l2_idt_stubs
align 8
l2_idt_stubs:
%assign v 0
%rep 256
	dq l2_stub_ %+ v
%assign v v + 1
%endrep
