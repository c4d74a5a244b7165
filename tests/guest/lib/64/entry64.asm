; SPDX-License-Identifier: MIT
; 64-bit guest kernels (BITS64): Multiboot entry in 32-bit protected mode, the
; switch to IA-32e mode (SDM Vol. 3A, 10.8.5 "Initializing IA-32e Mode"), the
; 64-bit exception stubs and catch_exception. exception64.c is the C side.
%include "x86.inc"

; Multiboot 0.6.96, 3.1.1 "The layout of Multiboot header".
MB_MAGIC      equ 0x1BADB002
MB_PAGE_ALIGN equ 1 << 0        ; modules on 4 KiB boundaries
MB_MEMINFO    equ 1 << 1        ; mem_* and the memory map, please
MB_FLAGS      equ MB_PAGE_ALIGN | MB_MEMINFO

STACK_SIZE    equ 64 * 1024

; SDM Vol. 3A, 2.5 "Control Registers", 2.2.1 "Extended Feature Enable Register".
CR0_PG        equ 1 << 31
CR4_PAE       equ 1 << 5
MSR_EFER      equ 0xC0000080
EFER_LME      equ 1 << 8
CPUID_EXT_LM  equ 1 << 29       ; CPUID.80000001H:EDX

; SDM Vol. 3A, 4.5 "4-Level Paging": entry bits; 2 MiB pages in the PDs.
PTE_P         equ 1 << 0
PTE_W         equ 1 << 1
PTE_PS        equ 1 << 7
PAGE_2M       equ 0x200000
IDENTITY_GIB  equ 4             ; identity map of [0, 4 GiB)

COM1          equ 0x3F8
COM1_LSR      equ COM1 + 5
LSR_THRE      equ 1 << 5
EXIT_PORT     equ 0xF4
BOCHS_SHUTDOWN_PORT equ 0x8900
EXIT_FAIL     equ 1             ; GUEST_EXIT_FAIL (guest.h)

TSS64_SIZE    equ 104           ; SDM Vol. 3A, 8.7 "Task Management in 64-bit Mode"

section .multiboot progbits alloc noexec nowrite align=4
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)

section .data
global boot_magic, boot_mbi
boot_magic: dd 0
boot_mbi:   dd 0

; Same selectors as the 32-bit kernels (guest.h), plus the TSS. SDM Vol. 3A,
; 3.4.5 "Segment Descriptors"; 8.2.3 "TSS Descriptor in 64-bit mode" (16 bytes,
; filled in by tss_init: its base is only known at link time).
align 16
global gdt64
gdt64:
	dq 0
	dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code (compatibility mode)
	dq 0x00CF92000000FFFF           ; 0x10: data
	dq 0x00AF9A000000FFFF           ; 0x18: 64-bit code
	dq 0, 0                         ; 0x20: 64-bit TSS
gdt64_end:
align 4
	dw 0
gdt64_desc:
	dw gdt64_end - gdt64 - 1
	dq gdt64                        ; lgdt in 32-bit mode reads 6 bytes of it

section .bss
alignb 4096
pml4:   resb 4096
pdpt:   resb 4096
pds:    resb 4096 * IDENTITY_GIB
PT_BYTES equ $ - pml4
alignb 16
global tss64
tss64:  resb TSS64_SIZE
alignb 16
stack_bottom:
	resb STACK_SIZE
global stack_top
stack_top:

section .text.entry exec
bits 32
global _start
extern guest_start
_start:
	; Multiboot 0.6.96, 3.2 "Machine state": EAX = magic, EBX = MBI,
	; protected mode, paging off; ESP, GDTR and IDTR are not ours yet.
	cli
	cld
	mov [boot_magic], eax
	mov [boot_mbi], ebx
	mov esp, stack_top
	lgdt [gdt64_desc]
	jmp SEL_CODE32:.reload_cs
.reload_cs:
	mov ecx, SEL_DATA32
	mov ds, ecx
	mov es, ecx
	mov fs, ecx
	mov gs, ecx
	mov ss, ecx

	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, CPUID_EXT_LM
	jz no_long_mode

	; Page tables: zero them, then PML4[0] -> PDPT, PDPT[i] -> PD i, and
	; every PD entry a 2 MiB page, so that virtual = physical below 4 GiB.
	mov edi, pml4
	mov ecx, PT_BYTES / 4
	xor eax, eax
	rep stosd
	mov dword [pml4], pdpt + PTE_W + PTE_P
	xor ecx, ecx
.pdpte:
	mov eax, ecx
	shl eax, 12
	add eax, pds + PTE_W + PTE_P
	mov [pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, IDENTITY_GIB
	jb .pdpte
	xor ecx, ecx                    ; PDE index over all the PDs
.pde:
	mov eax, ecx
	shl eax, 21                     ; * 2 MiB (wraps to 0 only past 4 GiB)
	or eax, PTE_PS + PTE_W + PTE_P
	mov [pds + ecx * 8], eax
	inc ecx
	cmp ecx, IDENTITY_GIB * 512
	jb .pde

	mov eax, pml4
	mov cr3, eax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG                  ; IA-32e mode active, compatibility mode
	mov cr0, eax
	jmp SEL_CODE64:long_entry       ; now 64-bit mode

; No long mode: say so on COM1 and stop the way guest_exit does.
no_long_mode:
	mov esi, msg_no_lm
.next:
	lodsb
	test al, al
	jz .exit
	mov ah, al
	mov dx, COM1_LSR
	mov ecx, 1000000
.wait:
	in al, dx
	test al, LSR_THRE
	loopz .wait
	mov al, ah
	mov dx, COM1
	out dx, al
	jmp .next
.exit:
	mov eax, EXIT_FAIL
	out EXIT_PORT, eax
	mov esi, msg_shutdown
	mov dx, BOCHS_SHUTDOWN_PORT
.shutdown:
	lodsb
	test al, al
	jz .hang
	out dx, al
	jmp .shutdown
.hang:
	cli
	hlt
	jmp .hang

bits 64
long_entry:
	mov ecx, SEL_DATA32
	mov ds, ecx
	mov es, ecx
	mov fs, ecx
	mov gs, ecx
	mov ss, ecx
	mov rsp, stack_top
	lgdt [rel gdt64_desc]           ; again, now with the 64-bit base
	call tss_init
	xor ebp, ebp                    ; ends frame-pointer walks
	mov edi, [rel boot_magic]
	mov esi, [rel boot_mbi]
	call guest_start                ; noreturn
.hang:
	cli
	hlt
	jmp .hang

; The TSS descriptor (SDM Vol. 3A, Figure 8-4 "Format of TSS and LDT Descriptors
; in 64-bit Mode"): limit 103, type 9 (available 64-bit TSS), P=1; then LTR.
; Nothing uses its stacks (no IST, no ring 3); VM exits need a usable TR.
tss_init:
	lea rdi, [rel gdt64 + SEL_TSS64]
	lea rax, [rel tss64]
	mov word [rdi + 0], TSS64_SIZE - 1
	mov [rdi + 2], ax               ; base 15:0
	shr rax, 16
	mov [rdi + 4], al               ; base 23:16
	mov byte [rdi + 5], 0x89        ; P, DPL 0, type 9
	mov byte [rdi + 6], 0           ; limit 19:16, G = 0
	mov [rdi + 7], ah               ; base 31:24
	shr rax, 16
	mov [rdi + 8], eax              ; base 63:32
	mov dword [rdi + 12], 0
	mov word [rel tss64 + 102], TSS64_SIZE ; I/O map base: no I/O bitmap
	mov eax, SEL_TSS64
	ltr ax
	ret

; ---------------------------------------------------------------------------
; Exception stubs: each pushes a dummy error code if the CPU pushes none, then
; its vector; exc64_common saves the general registers (struct exc_frame64 in
; exception64.c mirrors this order) and calls exception_handler64(frame).
; In 64-bit mode the CPU aligns RSP to 16 before pushing SS, RSP, RFLAGS, CS,
; RIP (SDM Vol. 3A, 6.14.2 "64-Bit Mode Stack Frame"): with the error code,
; vector and 15 registers the C call below is 16-byte aligned.
section .text

%assign v 0
%rep 32
exc64_stub_ %+ v:
%if HAS_ERRCODE(v) == 0
	push 0
%endif
	push v
	jmp exc64_common
%assign v v + 1
%endrep

extern exception_handler64
exc64_common:
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
	cld
	mov rdi, rsp                    ; struct exc_frame64 *
	call exception_handler64
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
	add rsp, 16                     ; vector, error code
	iretq

section .rodata
global exc64_stubs
align 8
exc64_stubs:
%assign v 0
%rep 32
	dq exc64_stub_ %+ v
%assign v v + 1
%endrep
msg_no_lm:    db "guest64: CPUID.80000001H:EDX.LM[29] is clear: no long mode", 13, 10, 0
msg_shutdown: db "Shutdown", 0

; ---------------------------------------------------------------------------
; int catch_exception(void (*fn)(void *), void *arg)
; Saves the callee-saved registers and the outer catch's RSP, then records RSP
; in catch_rsp: exception_handler64, seeing catch_rsp != 0, records the
; exception and iretqs to catch_resume, which unwinds to this frame.
section .text
extern catch_rsp, catch_vector
global catch_exception, catch_resume
catch_exception:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push qword [rel catch_rsp]      ; the enclosing catch, restored on the way out
	mov [rel catch_rsp], rsp        ; 7 pushes + return address: 16-byte aligned
	mov rax, rdi
	mov rdi, rsi
	call rax
	mov eax, -1                     ; NO_EXCEPTION
	jmp catch_return
catch_resume:
	mov rsp, [rel catch_rsp]
	mov eax, [rel catch_vector]
catch_return:
	pop qword [rel catch_rsp]
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
