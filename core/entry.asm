; SPDX-License-Identifier: MIT
; The core's first instruction. The loader jumps here after ExitBootServices
; with interrupts off, its hand-over page tables in CR3 (identity + core at
; NV_CORE_VBASE) and RDI = physical address of struct nv_bootinfo.
bits 64
section .text.entry
extern core_main
global core_entry
core_entry:
	cli
	cld
	lea rsp, [rel boot_stack_top]
	xor ebp, ebp                ; ends panic backtraces
	call core_main              ; never returns
.hang:
	cli
	hlt
	jmp .hang

section .bss
align 16
boot_stack:
	resb 65536
boot_stack_top:
