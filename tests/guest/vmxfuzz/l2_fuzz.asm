; SPDX-License-Identifier: MIT
; vmxfuzz's L2 program, copied into L2's sandbox code page (it is position
; independent). With the baseline controls none of these instructions exits and
; L2 reaches the VMCALL at l2fuzz_vmcall; each exits if a corruption turned on
; the control named beside it (SDM Vol. 3C, 26.1 "Instructions That Cause VM
; Exits Conditionally"). Nothing here writes memory, waits, or loops.
bits 64

section .rodata
global l2fuzz_start, l2fuzz_vmcall, l2fuzz_end
l2fuzz_start:
	rdtsc                           ; RDTSC exiting
	pause                           ; PAUSE exiting
	mov rax, cr3                    ; CR3-store exiting
	mov cr3, rax                    ; CR3-load exiting
	mov rax, cr8                    ; CR8-store exiting
	invlpg [rel l2fuzz_start]       ; INVLPG exiting
	mov rax, dr7                    ; MOV-DR exiting
	wbinvd                          ; WBINVD exiting
	in al, 0x80                     ; unconditional I/O exiting, I/O bitmaps
	sti
	nop                             ; (blocking by STI)
	nop                             ; interrupt-window exiting
	cli
l2fuzz_vmcall:
	vmcall
	jmp l2fuzz_vmcall
l2fuzz_end:
