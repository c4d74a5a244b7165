; SPDX-License-Identifier: MIT
; vmxhostile's own L2 program: IN AL, DX from port 0x80 (the POST port, a
; port nobody else intercepts), then the VMCALL that ends it.
bits 64

section .text
global l2_in80, l2_in80_insn, l2_in80_done
l2_in80:
	mov edx, 0x80
l2_in80_insn:
	in al, dx                       ; EC
l2_in80_done:
	vmcall
	jmp l2_in80_done

; L2 halts with interrupts disabled: nothing L1 intercepts can wake it.
global l2_cli_hlt
l2_cli_hlt:
	cli
	hlt
	vmcall
	jmp l2_cli_hlt

; L2 writes CL into the byte of L1's I/O bitmap A that holds port 0x80's bit
; (RBX = its address: L2 shares L1's memory), then reads port 0x80.
global l2_flip_in80, l2_flip_in80_insn, l2_flip_in80_done
l2_flip_in80:
	mov byte [rbx], cl
	mov edx, 0x80
l2_flip_in80_insn:
	in al, dx
l2_flip_in80_done:
	vmcall
	jmp l2_flip_in80_done
