/* SPDX-License-Identifier: MIT */
/*
 * kvmtest's L2 programs (and the VMX L2's L3). kvmtest copies each to
 * CODE_ADDR: they use relative jumps and the absolute addresses of kvmtest.h.
 */
#include "kvmtest.h"

	.section .rodata
	.code16
/* Real mode: OUT 'h', 'i' (8-bit), 0x1234 (16-bit), IN 8-bit, echo it + 1, HLT. */
	.globl l2_realmode, l2_realmode_end
l2_realmode:
	mov $'h', %al
	mov $PORT_OUT8, %dx
	out %al, %dx
	mov $'i', %al
	out %al, %dx
	mov $0x1234, %ax
	mov $PORT_OUT16, %dx
	out %ax, %dx
	mov $PORT_IN8, %dx
	in %dx, %al
	inc %al
	mov $PORT_ECHO, %dx
	out %al, %dx
	hlt
l2_realmode_end:

	.code32
/* EBP times: CPUID leaf 0 between two serialized timestamps, the difference to
 * [EDI], EDI += 4. L2 (l2_timed) and L3 (l3_code) time it alike. */
.macro TIMED_CPUID_LOOP
1:	lfence; rdtsc; lfence
	mov %eax, %esi
	xor %eax, %eax
	cpuid
	lfence; rdtsc; lfence
	sub %esi, %eax
	mov %eax, (%edi)
	add $4, %edi
	dec %ebp
	jnz 1b
.endm

/* Protected mode, paging off. EBX = 1: time CPUID leaf 0; 0: the empty timestamp pair. */
	.globl l2_timed, l2_timed_end
l2_timed:
	mov PARAM_ADDR, %ebp
	mov $SAMPLES_ADDR, %edi
	test %ebx, %ebx
	jz 2f
	TIMED_CPUID_LOOP
	jmp 3f
2:	lfence; rdtsc; lfence
	mov %eax, %esi
	xor %eax, %eax
	lfence; rdtsc; lfence
	sub %esi, %eax
	mov %eax, (%edi)
	add $4, %edi
	dec %ebp
	jnz 2b
3:	mov $PORT_DONE, %dx
	out %al, %dx
	hlt
l2_timed_end:

/*
 * An L2 that uses VMX itself (KVM's nested VMX): 32-bit paging with one
 * 4-MiB page, CR4.VMXE, IA32_FEATURE_CONTROL, VMXON, VMCLEAR, VMPTRLD,
 * VMWRITE and VMREAD of GUEST_RSP, timed VMREADs. RFLAGS after each VMX
 * instruction goes to VMX_FLAGS (CF or ZF set: VMfail).
 */
	.balign 16              /* the stubs' offsets from l2_vmx hold at CODE_ADDR too */
	.globl l2_vmx, l2_vmx_end, l2_vmx_stubs, l2_exit, l3_code
l2_vmx:
	mov $PD_ADDR, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x2010, %eax        /* CR4.VMXE | CR4.PSE */
	mov %eax, %cr4
	mov %cr0, %eax
	and $0x9fffffff, %eax   /* caches on: CR0.CD/NW (reset values) need not */
	or $0x80000020, %eax    /* be allowed in VMX operation; CR0.PG | CR0.NE */
	mov %eax, %cr0
	mov $MSR_FEATURE_CONTROL, %ecx
	rdmsr
	test $1, %al
	jnz 1f
	mov $5, %eax            /* lock | VMX outside SMX */
	xor %edx, %edx
	wrmsr
1:	mov $MSR_VMX_BASIC, %ecx
	rdmsr
	and $0x7fffffff, %eax   /* the VMCS revision */
	mov %eax, VMXON_ADDR
	mov %eax, VMCS_ADDR
	mov %eax, VMX_FLAGS + VF_REVISION
	vmxon VMX_PTRS
	pushf
	popl VMX_FLAGS + VF_VMXON
	vmclear VMX_PTRS + 8
	pushf
	popl VMX_FLAGS + VF_VMCLEAR
	vmptrld VMX_PTRS + 8
	pushf
	popl VMX_FLAGS + VF_VMPTRLD
	mov $VMCS_GUEST_RSP, %ebx
	mov $0x12345678, %eax
	vmwrite %eax, %ebx
	pushf
	popl VMX_FLAGS + VF_VMWRITE
	xor %ecx, %ecx
	vmread %ebx, %ecx
	pushf
	popl VMX_FLAGS + VF_VMREAD
	mov %ecx, VMX_FLAGS + VF_VALUE
	mov PARAM_ADDR, %ebp
	mov $SAMPLES_ADDR, %edi
2:	lfence; rdtsc; lfence
	mov %eax, %esi
	vmread %ebx, %ecx
	lfence; rdtsc; lfence
	sub %esi, %eax
	mov %eax, (%edi)
	add $4, %edi
	dec %ebp
	jnz 2b

/*
 * An L3: the VMCS from VMCS_TABLE (each value adjusted by the allowed 0- and
 * 1-settings of its capability MSR, if any), CR0/CR3/CR4 as L2 has them for host
 * and guest, then VMLAUNCH. L3 runs in L2's address space at l3_code; l2_exit
 * is L2's exit handler.
 */
	mov $SEL_TSS, %ax
	ltr %ax
	mov $VMCS_TABLE, %esi
4:	mov (%esi), %ebx
	cmp $-1, %ebx
	je 5f
	mov 4(%esi), %edi
	mov 8(%esi), %ecx
	test %ecx, %ecx
	jz 6f
	rdmsr
	or %eax, %edi           /* allowed 0-settings: the bits that must be 1 */
	and %edx, %edi          /* allowed 1-settings */
6:	vmwrite %edi, %ebx
	add $12, %esi
	jmp 4b
5:	mov %cr0, %eax
	mov $VMCS_GUEST_CR0, %ebx
	vmwrite %eax, %ebx
	mov $VMCS_HOST_CR0, %ebx
	vmwrite %eax, %ebx
	mov %cr3, %eax
	mov $VMCS_GUEST_CR3, %ebx
	vmwrite %eax, %ebx
	mov $VMCS_HOST_CR3, %ebx
	vmwrite %eax, %ebx
	mov %cr4, %eax
	mov $VMCS_GUEST_CR4, %ebx
	vmwrite %eax, %ebx
	mov $VMCS_HOST_CR4, %ebx
	vmwrite %eax, %ebx
	movl $0, VMX_FLAGS + VF_LAUNCH
	vmlaunch
	jmp 9f                  /* VMfail */

/*
 * L2's exit handler (HOST_RIP), as exitbench's realistic one: CPUID is skipped
 * (reason, instruction length, guest RIP read; RIP written; VMRESUME). Any other
 * exit ends L3. L3's ESI, EDI and EBP are kept (the exit does not switch them).
 */
l2_exit:
	mov $VMCS_EXIT_REASON, %ebx
	vmread %ebx, %eax
	cmp $EXIT_REASON_CPUID, %eax
	jne 8f
	mov $VMCS_EXIT_INSTR_LEN, %ebx
	vmread %ebx, %ecx
	mov $VMCS_GUEST_RIP, %ebx
	vmread %ebx, %eax
	add %ecx, %eax
	vmwrite %eax, %ebx
	vmresume
9:	pushf
	popl VMX_FLAGS + VF_LAUNCH
	mov $VMCS_INSTRUCTION_ERROR, %ebx
	vmread %ebx, %eax
	mov %eax, VMX_FLAGS + VF_INSN_ERROR
	jmp 7f
8:	mov %eax, VMX_FLAGS + VF_L3_EXIT
	mov $VMCS_EXIT_QUALIFICATION, %ebx
	vmread %ebx, %eax
	mov %eax, VMX_FLAGS + VF_L3_QUAL
7:	vmxoff
	pushf
	popl VMX_FLAGS + VF_VMXOFF
	mov $PORT_DONE, %dx
	out %al, %dx
	hlt

/* L3: CPUID timed as in l2_timed (PARAM_ADDR + 4: samples + warm-up), then HLT. */
l3_code:
	mov PARAM_ADDR + 4, %ebp
	mov $SAMPLES3_ADDR, %edi
	TIMED_CPUID_LOOP
	hlt

/* The VMX L2's exceptions (IDT at IDT_ADDR): vector and stack top to VMX_FAULT, then PORT_FAULT. */
	.balign 8
l2_vmx_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21
	.balign 8
	push $\v
	jmp 3f
	.endr
3:	pop %eax
	mov %eax, VMX_FAULT
	pop %eax
	mov %eax, VMX_FAULT + 4
	pop %eax
	mov %eax, VMX_FAULT + 8
	pop %eax
	mov %eax, VMX_FAULT + 12
	pop %eax
	mov %eax, VMX_FAULT + 16
	mov $PORT_FAULT, %dx
	out %al, %dx
	hlt
l2_vmx_end:

	.code64
	.section .note.GNU-stack, "", @progbits
