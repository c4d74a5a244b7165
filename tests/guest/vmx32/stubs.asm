; SPDX-License-Identifier: MIT
; vmx32: the VMX instructions under test, one per stub, each in one addressing
; form (vmx32.h: enum mem_mode); insn_exec, which runs a stub with the general
; registers, segment registers and flags of a struct insn_ctx (insn.c); the VM
; entry and exit path for L2 (vmx_enter); and the L2 programs.
bits 32
%include "x86.inc"

; struct insn_ctx (insn.c asserts these offsets)
CTX_STUB  equ 0
CTX_EAX   equ 4
CTX_ECX   equ 8
CTX_EDX   equ 12
CTX_EBX   equ 16
CTX_EBP   equ 20
CTX_ESI   equ 24
CTX_EDI   equ 28
CTX_FS    equ 32
CTX_GS    equ 36
CTX_SS    equ 40
CTX_FLAGS equ 44

; Every arithmetic flag set before the instruction (CF PF AF ZF SF OF, bit 1):
; VMsucceed must clear them all (SDM Vol. 3C, 31.2 "Conventions"). IF = DF = 0.
FLAGS_PRESET equ 0x8D7
SIB_DISP     equ 0x12345678
A16_DISP     equ 0x1010
VMCS_HOST_RSP equ 0x6C14

section .bss
cur_stub: resd 1

section .text

; void insn_exec(struct insn_ctx *c): loads FS, GS, SS if non-zero, the general
; registers and the preset flags, calls the stub, stores registers and flags
; back. An exception in the stub abandons this frame (catch_exception); the
; caller restores the segment registers.
global insn_exec
insn_exec:
	push ebp
	push ebx
	push esi
	push edi
	mov eax, [esp + 20]
	push eax                        ; the context, found again after the stub
	mov ecx, [eax + CTX_STUB]
	mov [cur_stub], ecx
	mov ecx, [eax + CTX_FS]
	test ecx, ecx
	jz .no_fs
	mov fs, cx
.no_fs:
	mov ecx, [eax + CTX_GS]
	test ecx, ecx
	jz .no_gs
	mov gs, cx
.no_gs:
	mov ecx, [eax + CTX_SS]
	test ecx, ecx
	jz .no_ss
	mov ss, cx                      ; base 0 and ESP within the limit: the stack stays
.no_ss:
	mov ecx, [eax + CTX_ECX]
	mov edx, [eax + CTX_EDX]
	mov ebx, [eax + CTX_EBX]
	mov ebp, [eax + CTX_EBP]
	mov esi, [eax + CTX_ESI]
	mov edi, [eax + CTX_EDI]
	push dword FLAGS_PRESET
	popfd
	mov eax, [eax + CTX_EAX]        ; MOV leaves the flags alone
	call [cur_stub]
	pushfd
	push eax
	mov eax, [esp + 8]              ; the context
	pop dword [eax + CTX_EAX]
	pop dword [eax + CTX_FLAGS]
	mov [eax + CTX_ECX], ecx
	mov [eax + CTX_EDX], edx
	mov [eax + CTX_EBX], ebx
	mov [eax + CTX_EBP], ebp
	mov [eax + CTX_ESI], esi
	mov [eax + CTX_EDI], edi
	add esp, 4
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; ---------------------------------------------------------------------------
; One stub per instruction and form. %1 = name, %2 = text before the memory
; operand, %3 = text after it. The forms, in enum mem_mode order.
extern abs_area
%macro FORMS 3
%1_base:  %2 [ecx] %3
	ret
%1_sib:   %2 [ebx + esi * 4 + SIB_DISP] %3
	ret
%1_abs:   %2 [abs_area + 8] %3
	ret
%1_a16:   %2 [gs:bx + si + A16_DISP] %3
	ret
%1_fs:    %2 [fs:ecx] %3
	ret
%1_gs:    %2 [gs:ecx] %3
	ret
%1_ss:    %2 [ss:ecx] %3
	ret
%1_ebp:   %2 [ebp] %3
	ret
%1_cs:    %2 [cs:ecx] %3
	ret
%endmacro

%macro TABLE 1
	dd %1_base, %1_sib, %1_abs, %1_a16, %1_fs, %1_gs, %1_ss, %1_ebp, %1_cs
%endmacro

FORMS s_vmxon, vmxon, {}
FORMS s_vmclear, vmclear, {}
FORMS s_vmptrld, vmptrld, {}
FORMS s_vmptrst, vmptrst, {}
FORMS s_vmread, vmread, {, eax}         ; VMREAD r/m32, r32: field encoding in EAX
FORMS s_vmwrite, {vmwrite eax,}, {}     ; VMWRITE r32, r/m32: field encoding in EAX

; Register forms (VMREAD dst, enc; VMWRITE enc, src).
s_vmread_r0:  vmread ebx, eax
	ret
s_vmread_r1:  vmread esi, ebp
	ret
s_vmread_r2:  vmread ecx, edi
	ret
s_vmread_r3:  vmread edx, edx
	ret
s_vmwrite_r0: vmwrite eax, ebx
	ret
s_vmwrite_r1: vmwrite ebp, esi
	ret
s_vmwrite_r2: vmwrite edi, ecx
	ret
s_vmxoff:     vmxoff
	ret

section .rodata
align 4
; const uint32_t mem_stubs[NUM_OPS][NUM_MODES] (enum vmx_op order)
global mem_stubs, vmread_reg_stubs, vmwrite_reg_stubs, vmxoff_stub
mem_stubs:
	TABLE s_vmxon
	TABLE s_vmclear
	TABLE s_vmptrld
	TABLE s_vmptrst
	TABLE s_vmread
	TABLE s_vmwrite
vmread_reg_stubs:
	dd s_vmread_r0, s_vmread_r1, s_vmread_r2, s_vmread_r3
vmwrite_reg_stubs:
	dd s_vmwrite_r0, s_vmwrite_r1, s_vmwrite_r2
vmxoff_stub:
	dd s_vmxoff

; ---------------------------------------------------------------------------
; uint32_t vmx_enter(struct regs32 *regs, uint32_t resume): VMLAUNCH (resume = 0)
; or VMRESUME with L2's general registers from *regs. HOST_RSP is this frame,
; whose top holds regs; HOST_RIP is vmx_exit_point (l2.c). Returns 0 after a VM
; exit (regs updated), else the EFLAGS the failed instruction left (bit 1 is
; always set, so never 0).
R_EAX equ 0
R_ECX equ 4
R_EDX equ 8
R_EBX equ 12
R_EBP equ 16
R_ESI equ 20
R_EDI equ 24

section .text
%macro LOAD_GUEST 0
	mov eax, [esp]
	mov ecx, [eax + R_ECX]
	mov edx, [eax + R_EDX]
	mov ebx, [eax + R_EBX]
	mov ebp, [eax + R_EBP]
	mov esi, [eax + R_ESI]
	mov edi, [eax + R_EDI]
	push dword FLAGS_PRESET
	popfd
	mov eax, [eax + R_EAX]
%endmacro

global vmx_enter, vmx_exit_point
vmx_enter:
	push ebp
	push ebx
	push esi
	push edi
	mov eax, [esp + 20]             ; regs
	mov edx, [esp + 24]             ; resume
	push eax
	mov ecx, VMCS_HOST_RSP
	vmwrite ecx, esp
	test edx, edx
	jnz .resume
	LOAD_GUEST
	vmlaunch
	jmp .failed
.resume:
	LOAD_GUEST
	vmresume
.failed:
	pushfd
	pop eax
	add esp, 4
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; A VM exit lands here with ESP = HOST_RSP and EFLAGS = 0x2 (SDM 28.5.3).
vmx_exit_point:
	push eax
	mov eax, [esp + 4]              ; regs
	mov [eax + R_ECX], ecx
	mov [eax + R_EDX], edx
	mov [eax + R_EBX], ebx
	mov [eax + R_EBP], ebp
	mov [eax + R_ESI], esi
	mov [eax + R_EDI], edi
	pop dword [eax + R_EAX]
	add esp, 4
	pop edi
	pop esi
	pop ebx
	pop ebp
	xor eax, eax
	ret

; ---------------------------------------------------------------------------
; L2 programs: 32-bit protected mode, L1's flat segments and page tables.
section .bss
global l2_marker
l2_marker: resd 1

section .text
global l2_main, l2_cpuid_insn, l2_vmcall_insn, l2_load, l2_load_insn, l2_load_vmcall

; Writes a marker (through L1's PAE paging), CPUID leaf 0 (exit 10), VMCALL (exit 18).
l2_main:
	mov dword [l2_marker], 0xC0FFEE32
	xor eax, eax
	xor ecx, ecx
l2_cpuid_insn:
	cpuid                           ; 0F A2
l2_vmcall_insn:
	vmcall                          ; 0F 01 C1
	jmp l2_vmcall_insn

; EBX = dword at linear ECX, then VMCALL.
l2_load:
l2_load_insn:
	mov ebx, [ecx]
l2_load_vmcall:
	vmcall
	jmp l2_load_vmcall
