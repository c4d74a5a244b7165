/* SPDX-License-Identifier: MIT */
/*
 * kvmtest's L2 memory layout and ports, shared by kvmtest.c (which sets the
 * guests up) and l2.S (the guest programs). Guest-physical addresses in the
 * L2's 2 MiB of RAM; the programs use them as absolute addresses.
 */
#ifndef KVMTEST_H
#define KVMTEST_H

#define GUEST_MEM      0x200000     /* RAM of each L2, at 0 */
#define CODE_ADDR      0x1000       /* the L2 program */
#define PARAM_ADDR     0x3000       /* +0: samples + warm-up of the L2 loop, +4: of the L3 loop */
#define PD_ADDR        0x4000       /* VMX L2: a 32-bit page directory, one 4-MiB page at 0 */
#define VMXON_ADDR     0x5000       /* VMX L2: its VMXON region */
#define VMCS_ADDR      0x6000       /* VMX L2: the VMCS of its L3 */
#define VMX_FLAGS      0x7000       /* VMX L2: 32-bit results, VF_* below */
#define VMX_PTRS       0x7100       /* +0: VMXON_ADDR, +8: VMCS_ADDR, as 64-bit operands */
#define GDT_ADDR       0x7200       /* null, code 0x08, data 0x10, TSS 0x18 */
#define VMX_FAULT      0x7300       /* an exception: vector, then the stack's top 4 words */
#define IDT_ADDR       0x7400       /* IDT_VECTORS interrupt gates to l2_vmx_stubs */
#define TSS_ADDR       0x7600
#define L2_STACK       0x8000
#define L3_STACK       0x9000
#define VMCS_TABLE     0xa000       /* L3's VMCS: {field, value, capability MSR or 0}, field -1 ends */
#define SAMPLES_ADDR   0x10000      /* the L2 loop's 32-bit deltas */
#define SAMPLES3_ADDR  0x100000     /* the L3 loop's */

#define IDT_VECTORS    22
#define SEL_CODE       0x08
#define SEL_DATA       0x10
#define SEL_TSS        0x18

/* Byte offsets in VMX_FLAGS: the revision, RFLAGS after each VMX instruction, ... */
#define VF_REVISION    0x00
#define VF_VMXON       0x04
#define VF_VMCLEAR     0x08
#define VF_VMPTRLD     0x0c
#define VF_VMWRITE     0x10
#define VF_VMREAD      0x14
#define VF_VALUE       0x18         /* what VMREAD read back */
#define VF_VMXOFF      0x1c
#define VF_LAUNCH      0x20         /* RFLAGS of a failed VMLAUNCH/VMRESUME, 0 if none */
#define VF_INSN_ERROR  0x24         /* its VM-instruction error */
#define VF_L3_EXIT     0x28         /* the exit reason that ended L3 (12: HLT) */
#define VF_L3_QUAL     0x2c         /* its qualification */
#define VF_SIZE        0x30

/* Ports the L2 programs use; none is a real device. */
#define PORT_OUT8      0x510
#define PORT_OUT16     0x512
#define PORT_IN8       0x514
#define PORT_ECHO      0x516
#define PORT_DONE      0x518
#define PORT_FAULT     0x51a

/* VMCS field encodings, SDM Vol. 3D, appendix B "Field Encoding in VMCS". */
#define VMCS_GUEST_RSP          0x681c
#define VMCS_GUEST_RIP          0x681e
#define VMCS_GUEST_CR0          0x6800
#define VMCS_GUEST_CR3          0x6802
#define VMCS_GUEST_CR4          0x6804
#define VMCS_HOST_CR0           0x6c00
#define VMCS_HOST_CR3           0x6c02
#define VMCS_HOST_CR4           0x6c04
#define VMCS_INSTRUCTION_ERROR  0x4400
#define VMCS_EXIT_REASON        0x4402
#define VMCS_EXIT_INSTR_LEN     0x440c
#define VMCS_EXIT_QUALIFICATION 0x6400

#define EXIT_REASON_CPUID       10
#define EXIT_REASON_HLT         12

#define MSR_FEATURE_CONTROL     0x3a
#define MSR_VMX_BASIC           0x480

#endif
