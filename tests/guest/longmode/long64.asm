; SPDX-License-Identifier: MIT
; longmode: the switch to IA-32e mode and the checks made in 64-bit mode.
; SDM Vol. 3A, 10.8.5 "Initializing IA-32e Mode".
%include "x86.inc"

CR0_PG        equ 1 << 31
CR4_PAE       equ 1 << 5
MSR_EFER      equ 0xC0000080
EFER_LME      equ 1 << 8
EFER_LMA      equ 1 << 10
COM1          equ 0x3F8
COM1_LSR      equ COM1 + 5
LSR_THRE      equ 1 << 5
EXIT_PORT     equ 0xF4
BOCHS_SHUTDOWN_PORT equ 0x8900
EXIT_EXCEPTION equ 2            ; GUEST_EXIT_EXCEPTION (guest.h)

bits 32
section .text
; void enter_long_mode(uint32_t pml4_phys)  -- noreturn
global enter_long_mode
enter_long_mode:
	cli
	mov eax, [esp + 4]
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

bits 64
long_entry:
	mov ax, SEL_DATA32
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov esp, stack64_top            ; zero-extends into RSP
	call idt64_init
	lea rsi, [rel msg_hello]
	call puts64
	call newline64

	; EFER.LMA: the CPU says IA-32e mode is active.
	mov ecx, MSR_EFER
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov rbx, rax
	lea rsi, [rel msg_efer]
	call puts64
	mov rax, rbx
	call puthex64
	call newline64
	test ebx, EFER_LMA
	setnz al
	lea rsi, [rel t_lma]
	call report64

	; CS is the L=1 code segment.
	mov ax, cs
	cmp ax, SEL_CODE64
	sete al
	lea rsi, [rel t_cs]
	call report64

	; 64-bit operand size (REX.W) really is 64 bits wide.
	mov rax, 0x123456789ABCDEF0
	shr rax, 36
	cmp rax, 0x1234567
	sete al
	lea rsi, [rel t_rexw]
	call report64

	; RIP-relative addressing and a store/load through the new page tables.
	mov rax, 0x5A5A5A5AA5A5A5A5
	mov [rel scratch64], rax
	mov edx, scratch64              ; absolute address (zero-extended), same bytes
	cmp rax, [rdx]
	sete al
	lea rsi, [rel t_mem]
	call report64

	; CPUID from 64-bit mode: vendor and the long-mode bit.
	xor eax, eax
	cpuid
	mov [rel vendor64 + 0], ebx
	mov [rel vendor64 + 4], edx
	mov [rel vendor64 + 8], ecx
	lea rsi, [rel msg_vendor]
	call puts64
	lea rsi, [rel vendor64]
	call puts64
	call newline64
	mov eax, 0x80000001
	cpuid
	bt edx, 29
	setc al
	lea rsi, [rel t_cpuid]
	call report64

	; SUMMARY: N tests, N failures; exit 0 only if nothing failed.
	lea rsi, [rel msg_sum1]
	call puts64
	mov eax, [rel tests64]
	call putdec64
	lea rsi, [rel msg_sum2]
	call puts64
	mov eax, [rel failures64]
	call putdec64
	lea rsi, [rel msg_sum3]
	call puts64
	mov eax, [rel failures64]
	test eax, eax
	setnz al
	movzx eax, al                   ; 0 = pass, 1 = fail
exit64:
	mov dx, EXIT_PORT
	out dx, eax
	; No exit device (bare Bochs): its shutdown port, like guest_exit (serial.c).
	lea rsi, [rel msg_shutdown]
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

; report64: al = condition, rsi = test name. Prints "PASS: name" / "FAIL: name".
report64:
	inc dword [rel tests64]
	test al, al
	jnz .pass
	inc dword [rel failures64]
	push rsi
	lea rsi, [rel msg_fail]
	jmp .tag
.pass:
	push rsi
	lea rsi, [rel msg_pass]
.tag:
	call puts64
	pop rsi
	call puts64
	jmp newline64

; putc64: al = byte. Waits for the transmitter like serial.c does.
putc64:
	push rdx
	push rcx
	push rax
	mov ecx, 1000000
	mov dx, COM1_LSR
.wait:
	in al, dx
	test al, LSR_THRE
	jnz .ready
	dec ecx
	jnz .wait
.ready:
	pop rax
	mov dx, COM1
	out dx, al
	pop rcx
	pop rdx
	ret

newline64:
	push rax
	mov al, 13
	call putc64
	mov al, 10
	call putc64
	pop rax
	ret

; puts64: rsi = NUL-terminated string ('\n' must not appear: use newline64).
puts64:
	push rax
	push rsi
.next:
	lodsb
	test al, al
	jz .done
	call putc64
	jmp .next
.done:
	pop rsi
	pop rax
	ret

; puthex64: rax, as 16 hex digits.
puthex64:
	push rax
	push rbx
	push rcx
	mov rbx, rax
	mov ecx, 16
.digit:
	rol rbx, 4
	mov eax, ebx
	and eax, 0xF
	lea rax, [rax + '0']
	cmp al, '9'
	jbe .out
	add al, 'a' - '0' - 10
.out:
	call putc64
	dec ecx
	jnz .digit
	pop rcx
	pop rbx
	pop rax
	ret

; putdec64: eax, unsigned decimal.
putdec64:
	push rax
	push rcx
	push rdx
	push rbx
	mov ebx, 10
	xor ecx, ecx
.divide:
	xor edx, edx
	div ebx
	push rdx
	inc ecx
	test eax, eax
	jnz .divide
.emit:
	pop rax
	add al, '0'
	call putc64
	dec ecx
	jnz .emit
	pop rbx
	pop rdx
	pop rcx
	pop rax
	ret

; ---------------------------------------------------------------------------
; A 64-bit IDT so that an exception in 64-bit mode is reported, not a triple
; fault. SDM Vol. 3A, 6.14.1 "64-Bit Mode IDT": 16-byte interrupt gates.
GATE64_INT_PRESENT equ 0x8E

idt64_init:
	lea rdi, [rel idt64]
	lea rsi, [rel stubs64]
	xor ecx, ecx
.gate:
	mov eax, [rsi + rcx * 4]        ; stub address (below 4 GiB)
	mov word [rdi], ax              ; offset 15:0
	mov word [rdi + 2], SEL_CODE64
	mov byte [rdi + 4], 0           ; IST 0
	mov byte [rdi + 5], GATE64_INT_PRESENT
	shr eax, 16
	mov word [rdi + 6], ax          ; offset 31:16
	mov qword [rdi + 8], 0          ; offset 63:32, reserved
	add rdi, 16
	inc ecx
	cmp ecx, 32
	jb .gate
	lidt [rel idtr64]
	ret

%assign v 0
%rep 32
exc64_ %+ v:
%if HAS_ERRCODE(v) == 0
	push 0
%endif
	push v
	jmp exc64_common
%assign v v + 1
%endrep

; Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS.
exc64_common:
	lea rsi, [rel msg_exc1]
	call puts64
	mov rax, [rsp]
	call putdec64
	lea rsi, [rel msg_exc2]
	call puts64
	mov rax, [rsp + 8]
	call puthex64
	lea rsi, [rel msg_exc3]
	call puts64
	mov rax, [rsp + 16]
	call puthex64
	lea rsi, [rel msg_exc4]
	call puts64
	mov rax, cr2
	call puthex64
	call newline64
	mov eax, EXIT_EXCEPTION
	jmp exit64

section .rodata
align 4
stubs64:
%assign v 0
%rep 32
	dd exc64_ %+ v
%assign v v + 1
%endrep
msg_hello:  db "longmode: now in 64-bit mode", 0
msg_shutdown: db "Shutdown", 0
msg_efer:   db "longmode: EFER 0x", 0
msg_vendor: db "longmode: CPUID vendor from 64-bit mode: ", 0
msg_pass:   db "PASS: ", 0
msg_fail:   db "FAIL: ", 0
msg_sum1:   db "SUMMARY: ", 0
msg_sum2:   db " tests, ", 0
msg_sum3:   db " failures", 13, 10, 0
msg_exc1:   db "EXCEPTION: in 64-bit mode: vector ", 0
msg_exc2:   db " error 0x", 0
msg_exc3:   db " rip 0x", 0
msg_exc4:   db " cr2 0x", 0
t_lma:      db "EFER.LMA set in 64-bit mode", 0
t_cs:       db "CS is the 64-bit code segment", 0
t_rexw:     db "64-bit operand size works", 0
t_mem:      db "memory access through the identity map", 0
t_cpuid:    db "CPUID.80000001H:EDX.LM[29] from 64-bit mode", 0

section .data
align 8
	dw 0, 0, 0
idtr64:
	dw 32 * 16 - 1
	dd idt64, 0                     ; base 63:0 (the image is below 4 GiB)
tests64:    dd 0
failures64: dd 0

section .bss
align 16
idt64:      resb 32 * 16
scratch64:  resq 1
vendor64:   resb 16                 ; 12 bytes + NUL (bss is zero)
alignb 16
	resb 8192
stack64_top:
