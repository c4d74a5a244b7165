; SPDX-License-Identifier: MIT
; Guest entry from a Multiboot v1 loader, exception stubs and catch_exception.
bits 32
%include "x86.inc"

; Multiboot 0.6.96, 3.1.1 "The layout of Multiboot header".
MB_MAGIC      equ 0x1BADB002
MB_PAGE_ALIGN equ 1 << 0        ; modules on 4 KiB boundaries
MB_MEMINFO    equ 1 << 1        ; mem_* and the memory map, please
MB_FLAGS      equ MB_PAGE_ALIGN | MB_MEMINFO

STACK_SIZE    equ 32 * 1024

section .multiboot progbits alloc noexec nowrite align=4
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)

section .data
global boot_magic, boot_mbi
boot_magic: dd 0
boot_mbi:   dd 0

; Flat segments. SDM Vol. 3A, 3.4.5 "Segment Descriptors": base 0, limit 0xFFFFF
; with G=1 (4 GiB); access 0x9A = present, DPL 0, code, execute/read;
; 0x92 = present, DPL 0, data, read/write; flags 0xC = G + D (32-bit),
; 0xA = G + L (64-bit code, for kernels that enter long mode).
align 8
gdt:
	dq 0
	dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code
	dq 0x00CF92000000FFFF           ; 0x10: data
	dq 0x00AF9A000000FFFF           ; 0x18: 64-bit code
gdt_end:
align 4
	dw 0
gdt_desc:
	dw gdt_end - gdt - 1
	dd gdt

section .bss
align 16
stack_bottom:
	resb STACK_SIZE
global stack_top
stack_top:

section .text.entry exec
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
	lgdt [gdt_desc]
	jmp SEL_CODE32:.reload_cs
.reload_cs:
	mov ecx, SEL_DATA32
	mov ds, ecx
	mov es, ecx
	mov fs, ecx
	mov gs, ecx
	mov ss, ecx
	xor ebp, ebp                    ; ends frame-pointer walks
	push ebx
	push eax
	call guest_start                ; noreturn
.hang:
	cli
	hlt
	jmp .hang

; ---------------------------------------------------------------------------
; Exception stubs: each pushes a dummy error code if the CPU pushes none, then
; its vector; exc_common saves the registers (struct exc_frame in exception.c
; mirrors this order) and calls exception_handler(frame).
section .text

%assign v 0
%rep 32
exc_stub_ %+ v:
%if HAS_ERRCODE(v) == 0
	push 0
%endif
	push v
	jmp exc_common
%assign v v + 1
%endrep

extern exception_handler
exc_common:
	pushad
	cld
	push esp                        ; struct exc_frame *
	call exception_handler
	add esp, 4
	popad
	add esp, 8                      ; vector, error code
	iretd

section .rodata
global exc_stubs
align 4
exc_stubs:
%assign v 0
%rep 32
	dd exc_stub_ %+ v
%assign v v + 1
%endrep

; ---------------------------------------------------------------------------
; int catch_exception(void (*fn)(void *), void *arg)
; Saves the callee-saved registers and the outer catch's ESP, then records ESP
; in catch_esp: exception_handler, seeing catch_esp != 0, stores the vector in
; catch_vector and irets to catch_resume, which unwinds to this frame.
section .text
extern catch_esp, catch_vector
global catch_exception, catch_resume
catch_exception:
	push ebp
	push ebx
	push esi
	push edi
	push dword [catch_esp]          ; the enclosing catch, restored on the way out
	mov [catch_esp], esp
	mov eax, [esp + 24]             ; fn  (5 pushes + return address)
	push dword [esp + 28]           ; arg
	call eax
	add esp, 4
	mov eax, -1                     ; NO_EXCEPTION
	jmp catch_return
catch_resume:
	mov esp, [catch_esp]
	mov eax, [catch_vector]
catch_return:
	pop dword [catch_esp]
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret
