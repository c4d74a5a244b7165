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
