/* SPDX-License-Identifier: MIT */
/*
 * vmxlib: what the 64-bit L1 VMX test kernels (vmx, vmxhostile, vmxfuzz,
 * vmxept) share: VMCS field encodings (vmcs_fields.def), control and
 * exit-information bit names (SDM Vol. 3C, chapters 25 and 28), the EPT
 * formats and INVEPT/INVVPID operands (29.3, 31.3), the capabilities read
 * from the VMX MSRs (caps.c), the instruction wrappers (vmx_insn.c), VMXON
 * set-up (region.c), L1's environment (env.c), and the L2 guest kept by l2.c. All
 * addresses are physical = virtual (identity map). A kernel links it by
 * naming it in its LIBS file (guest.mk).
 */
#ifndef VMXLIB_H
#define VMXLIB_H

#include <guest.h>
#include <stddef.h>

#define PAGE_SIZE 4096u
#define U64(v) ((unsigned long long)(v))

/* ---- VMCS fields: SDM Vol. 3C, Appendix B "Field Encoding in VMCS" ---------- */

enum vmcs_field {
#define VMCS_FIELD(name, enc, gate, access) VMCS_##name = (enc),
#include "vmcs_fields.def"
#undef VMCS_FIELD
};

/* SDM Vol. 3C, 25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields",
 * Table 25-21 "Structure of VMCS Component Encoding". */
#define VMCS_ENC_HIGH          (1u << 0)        /* access type: high 32 bits of a 64-bit field */
#define VMCS_ENC_INDEX(e)      (((e) >> 1) & 0x1FFu)
#define VMCS_ENC_TYPE(e)       (((e) >> 10) & 3u)
#define VMCS_ENC_WIDTH(e)      (((e) >> 13) & 3u)
#define VMCS_ENC_RESERVED_BIT12 (1u << 12)
enum { VMCS_TYPE_CONTROL, VMCS_TYPE_RO_DATA, VMCS_TYPE_GUEST, VMCS_TYPE_HOST };
enum { VMCS_WIDTH_16, VMCS_WIDTH_64, VMCS_WIDTH_32, VMCS_WIDTH_NATURAL };

/* Which capability makes a field exist (caps.c: field_exists). */
enum field_gate {
	GATE_ALWAYS, GATE_VPID, GATE_POSTED_INTR, GATE_EPT_VE, GATE_HLAT, GATE_IPI_VIRT,
	GATE_VINTR_DELIVERY, GATE_PML, GATE_MSR_BITMAPS, GATE_DUAL_MONITOR, GATE_TPR_SHADOW,
	GATE_APIC_ACCESS, GATE_VMFUNC, GATE_EPT, GATE_EPTP_SWITCHING, GATE_SHADOW_VMCS,
	GATE_XSAVES, GATE_ENCLS, GATE_SPP, GATE_TSC_SCALING, GATE_TERTIARY, GATE_ENCLV,
	GATE_PCONFIG, GATE_EXIT_SECONDARY, GATE_GUEST_PAT, GATE_GUEST_EFER, GATE_GUEST_PERF,
	GATE_GUEST_BNDCFGS, GATE_GUEST_RTIT, GATE_GUEST_LBR, GATE_GUEST_PKRS, GATE_HOST_PAT,
	GATE_HOST_EFER, GATE_HOST_PERF, GATE_HOST_PKRS, GATE_SECONDARY, GATE_PLE,
	GATE_PREEMPT_TIMER, GATE_GUEST_CET, GATE_HOST_CET, GATE_CR3_TARGET0, GATE_CR3_TARGET1,
	GATE_CR3_TARGET2, GATE_CR3_TARGET3,
};
enum field_access { RW, RO };

/* ---- Controls: SDM Vol. 3C, 25.6 "VM-Execution Control Fields" etc. ------- */

/* Table 25-5 "Definitions of Pin-Based VM-Execution Controls" */
#define PIN_EXTINT_EXITING      (1u << 0)
#define PIN_NMI_EXITING         (1u << 3)
#define PIN_VIRTUAL_NMIS        (1u << 5)
#define PIN_PREEMPTION_TIMER    (1u << 6)
#define PIN_POSTED_INTR         (1u << 7)
/* Table 25-6 "Definitions of Primary Processor-Based VM-Execution Controls" */
#define PROC_INTR_WINDOW        (1u << 2)
#define PROC_TSC_OFFSETTING     (1u << 3)
#define PROC_HLT_EXITING        (1u << 7)
#define PROC_INVLPG_EXITING     (1u << 9)
#define PROC_MWAIT_EXITING      (1u << 10)
#define PROC_RDPMC_EXITING      (1u << 11)
#define PROC_RDTSC_EXITING      (1u << 12)
#define PROC_CR3_LOAD_EXITING   (1u << 15)
#define PROC_CR3_STORE_EXITING  (1u << 16)
#define PROC_TERTIARY_CONTROLS  (1u << 17)
#define PROC_CR8_LOAD_EXITING   (1u << 19)
#define PROC_CR8_STORE_EXITING  (1u << 20)
#define PROC_TPR_SHADOW         (1u << 21)
#define PROC_NMI_WINDOW         (1u << 22)
#define PROC_MOV_DR_EXITING     (1u << 23)
#define PROC_UNCOND_IO_EXITING  (1u << 24)
#define PROC_USE_IO_BITMAPS     (1u << 25)
#define PROC_MONITOR_TRAP_FLAG  (1u << 27)
#define PROC_USE_MSR_BITMAPS    (1u << 28)
#define PROC_MONITOR_EXITING    (1u << 29)
#define PROC_PAUSE_EXITING      (1u << 30)
#define PROC_SECONDARY_CONTROLS (1u << 31)
/* Table 25-7 "Definitions of Secondary Processor-Based VM-Execution Controls" */
#define PROC2_VIRT_APIC_ACCESS  (1u << 0)
#define PROC2_ENABLE_EPT        (1u << 1)
#define PROC2_DESC_TABLE_EXITING (1u << 2)
#define PROC2_ENABLE_RDTSCP     (1u << 3)
#define PROC2_VIRT_X2APIC       (1u << 4)
#define PROC2_ENABLE_VPID       (1u << 5)
#define PROC2_WBINVD_EXITING    (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_APIC_REG_VIRT     (1u << 8)
#define PROC2_VINTR_DELIVERY    (1u << 9)
#define PROC2_PAUSE_LOOP_EXITING (1u << 10)
#define PROC2_RDRAND_EXITING    (1u << 11)
#define PROC2_ENABLE_INVPCID    (1u << 12)
#define PROC2_ENABLE_VMFUNC     (1u << 13)
#define PROC2_SHADOW_VMCS       (1u << 14)
#define PROC2_ENCLS_EXITING     (1u << 15)
#define PROC2_RDSEED_EXITING    (1u << 16)
#define PROC2_ENABLE_PML        (1u << 17)
#define PROC2_EPT_VE            (1u << 18)
#define PROC2_ENABLE_XSAVES     (1u << 20)
#define PROC2_SPP               (1u << 23)
#define PROC2_TSC_SCALING       (1u << 25)
#define PROC2_ENABLE_PCONFIG    (1u << 27)
#define PROC2_ENCLV_EXITING     (1u << 28)
/* Table 25-8 "Definitions of Tertiary Processor-Based VM-Execution Controls" */
#define PROC3_ENABLE_HLAT       (1ull << 1)
#define PROC3_IPI_VIRT          (1ull << 4)
/* Table 25-13 "Definitions of Primary VM-Exit Controls" */
#define EXIT_SAVE_DEBUG         (1u << 2)
#define EXIT_HOST_ADDR_SPACE    (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL   (1u << 12)
#define EXIT_ACK_INTR           (1u << 15)
#define EXIT_SAVE_PAT           (1u << 18)
#define EXIT_LOAD_PAT           (1u << 19)
#define EXIT_SAVE_EFER          (1u << 20)
#define EXIT_LOAD_EFER          (1u << 21)
#define EXIT_SAVE_PREEMPT_TIMER (1u << 22)
#define EXIT_CLEAR_BNDCFGS      (1u << 23)
#define EXIT_CLEAR_RTIT_CTL     (1u << 25)
#define EXIT_CLEAR_LBR_CTL      (1u << 26)
#define EXIT_LOAD_CET           (1u << 28)
#define EXIT_LOAD_PKRS          (1u << 29)
#define EXIT_SAVE_PERF_GLOBAL   (1u << 30)
#define EXIT_SECONDARY_CONTROLS (1u << 31)
/* Table 25-15 "Definitions of VM-Entry Controls" */
#define ENTRY_LOAD_DEBUG        (1u << 2)
#define ENTRY_IA32E_GUEST       (1u << 9)
#define ENTRY_SMM               (1u << 10)
#define ENTRY_DEACT_DUAL_MONITOR (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL  (1u << 13)
#define ENTRY_LOAD_PAT          (1u << 14)
#define ENTRY_LOAD_EFER         (1u << 15)
#define ENTRY_LOAD_BNDCFGS      (1u << 16)
#define ENTRY_LOAD_RTIT_CTL     (1u << 18)
#define ENTRY_LOAD_CET          (1u << 20)
#define ENTRY_LOAD_LBR_CTL      (1u << 21)
#define ENTRY_LOAD_PKRS         (1u << 22)

/* ---- Capability MSRs: SDM Vol. 3C, Appendix A "VMX Capability Reporting Facility" */

#define MSR_IA32_VMX_PINBASED_CTLS      0x481u
#define MSR_IA32_VMX_PROCBASED_CTLS     0x482u
#define MSR_IA32_VMX_EXIT_CTLS          0x483u
#define MSR_IA32_VMX_ENTRY_CTLS         0x484u
#define MSR_IA32_VMX_MISC               0x485u
#define MSR_IA32_VMX_CR0_FIXED0         0x486u
#define MSR_IA32_VMX_CR0_FIXED1         0x487u
#define MSR_IA32_VMX_CR4_FIXED0         0x488u
#define MSR_IA32_VMX_CR4_FIXED1         0x489u
#define MSR_IA32_VMX_VMCS_ENUM          0x48Au
#define MSR_IA32_VMX_PROCBASED_CTLS2    0x48Bu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48Du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48Eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS     0x48Fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS    0x490u
#define MSR_IA32_VMX_VMFUNC             0x491u
#define MSR_IA32_VMX_PROCBASED_CTLS3    0x492u

/* A.1 "Basic VMX Information" */
#define BASIC_REVISION_MASK     0x7FFFFFFFull
#define BASIC_REGION_SIZE(b)    (((b) >> 32) & 0x1FFFu)
#define BASIC_ADDR_WIDTH_32     (1ull << 48)
#define BASIC_DUAL_MONITOR      (1ull << 49)
#define BASIC_INS_OUTS_INFO     (1ull << 54)
#define BASIC_TRUE_CTLS         (1ull << 55)
#define BASIC_NO_ERRCODE_CHECK  (1ull << 56)
/* A.6 "Miscellaneous Data" */
#define MISC_PREEMPT_RATE(m)    ((unsigned)((m) & 0x1F))
#define MISC_STORE_LMA          (1ull << 5)
#define MISC_ACTIVITY_HLT       (1ull << 6)
#define MISC_ACTIVITY_SHUTDOWN  (1ull << 7)
#define MISC_ACTIVITY_SIPI      (1ull << 8)
#define MISC_CR3_TARGETS(m)     ((unsigned)(((m) >> 16) & 0x1FF))
#define MISC_MSR_LIST_MAX(m)    (512u * ((unsigned)(((m) >> 25) & 7) + 1))
#define MISC_VMWRITE_ANY        (1ull << 29)
#define MISC_INJECT_ZERO_LEN    (1ull << 30)
/* A.10 "VPID and EPT Capabilities" */
#define EPT_CAP_EXEC_ONLY       (1ull << 0)     /* EPT entries with bits 2:0 = 100b */
#define EPT_CAP_WALK4           (1ull << 6)
#define EPT_CAP_WALK5           (1ull << 7)
#define EPT_CAP_UC              (1ull << 8)     /* EPTP memory type UC allowed */
#define EPT_CAP_WB              (1ull << 14)    /* EPTP memory type WB allowed */
#define EPT_CAP_2M              (1ull << 16)    /* EPT PDE may map a 2 MiB page */
#define EPT_CAP_1G              (1ull << 17)    /* EPT PDPTE may map a 1 GiB page */
#define EPT_CAP_INVEPT          (1ull << 20)
#define EPT_CAP_AD              (1ull << 21)    /* accessed and dirty flags (EPTP bit 6) */
#define EPT_CAP_ADV_EXIT_INFO   (1ull << 22)    /* EPT-violation qualification bits 9-11 */
#define EPT_CAP_SSS             (1ull << 23)    /* EPTP bit 7, supervisor shadow stack */
#define EPT_CAP_INVEPT_SINGLE   (1ull << 25)
#define EPT_CAP_INVEPT_ALL      (1ull << 26)
#define VPID_CAP_INVVPID        (1ull << 32)
#define VPID_CAP_INVVPID_ADDR   (1ull << 40)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define VPID_CAP_INVVPID_ALL    (1ull << 42)
#define VPID_CAP_INVVPID_SINGLE_GLOBALS (1ull << 43)
/* A.11 "VM Functions" */
#define VMFUNC_EPTP_SWITCHING   (1ull << 0)

/* SDM Vol. 4, 2.1 "Architectural MSRs" */
#define MSR_IA32_SYSENTER_CS    0x174u
#define MSR_IA32_SYSENTER_ESP   0x175u
#define MSR_IA32_SYSENTER_EIP   0x176u
#define MSR_IA32_PAT            0x277u
#define MSR_IA32_SMBASE         0x9Eu
#define MSR_STAR                0xC0000081u
#define MSR_FS_BASE             0xC0000100u
#define MSR_GS_BASE             0xC0000101u
#define MSR_KERNEL_GS_BASE      0xC0000102u
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)
#define CR0_MP (1u << 1)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)

/* One control field's capability: bit set in allowed0 = must be 1; bit clear in
 * allowed1 = must be 0 (A.3 "VM-Execution Controls"). */
struct ctl_cap {
	uint32_t allowed0, allowed1;
};

struct vmx_caps {
	uint64_t basic, misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, vmcs_enum;
	uint64_t ept_vpid, vmfunc, proc3_allowed1;
	struct ctl_cap pin, proc, proc2, exit, entry;   /* TRUE_* where BASIC[55] says so */
	struct ctl_cap pin_default1, proc_default1, exit_default1, entry_default1; /* non-TRUE */
	uint32_t revision;
	unsigned maxphyaddr;
};
extern struct vmx_caps caps;

/* caps.c */
bool caps_read(void);           /* false (and reported) if the MSRs cannot be read */
void caps_print(void);
bool field_exists(enum field_gate gate);
/* The control value with `want`'s bits plus every must-be-1 bit; NOT checked
 * against allowed1 (callers that need a bit test can_set first). */
uint32_t ctl_adjust(const struct ctl_cap *c, uint32_t want);
bool can_set(const struct ctl_cap *c, uint32_t bits);
bool can_set_proc2(uint32_t bits);     /* also needs "activate secondary controls" */
ureg_t cr0_fixed(ureg_t cr0);          /* cr0 with the FIXED0 bits set, FIXED1-clear bits clear */
ureg_t cr4_fixed(ureg_t cr4);
/* Did the CPU (Bochs without nestvisor) lack the hypervisor's CPUID leaf? */
extern bool bare_metal_bochs;

/* ---- VM-exit information: SDM Vol. 3C, chapter 28 "VM Exits" -------------- */

/* Appendix C "VMX Basic Exit Reasons" */
enum exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0, EXIT_REASON_EXTINT = 1, EXIT_REASON_TRIPLE_FAULT = 2,
	EXIT_REASON_INTR_WINDOW = 7, EXIT_REASON_NMI_WINDOW = 8, EXIT_REASON_CPUID = 10,
	EXIT_REASON_HLT = 12, EXIT_REASON_INVD = 13, EXIT_REASON_INVLPG = 14,
	EXIT_REASON_RDPMC = 15, EXIT_REASON_RDTSC = 16, EXIT_REASON_VMCALL = 18,
	EXIT_REASON_VMCLEAR = 19, EXIT_REASON_VMLAUNCH = 20, EXIT_REASON_VMPTRLD = 21,
	EXIT_REASON_VMPTRST = 22, EXIT_REASON_VMREAD = 23, EXIT_REASON_VMRESUME = 24,
	EXIT_REASON_VMWRITE = 25, EXIT_REASON_VMXOFF = 26, EXIT_REASON_VMXON = 27,
	EXIT_REASON_CR_ACCESS = 28, EXIT_REASON_DR_ACCESS = 29, EXIT_REASON_IO = 30,
	EXIT_REASON_RDMSR = 31, EXIT_REASON_WRMSR = 32, EXIT_REASON_INVALID_GUEST = 33,
	EXIT_REASON_MSR_LOADING = 34, EXIT_REASON_MWAIT = 36, EXIT_REASON_MTF = 37,
	EXIT_REASON_MONITOR = 39, EXIT_REASON_PAUSE = 40, EXIT_REASON_MCE_DURING_ENTRY = 41,
	EXIT_REASON_TPR_BELOW = 43, EXIT_REASON_APIC_ACCESS = 44, EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49, EXIT_REASON_INVEPT = 50, EXIT_REASON_RDTSCP = 51,
	EXIT_REASON_PREEMPT_TIMER = 52, EXIT_REASON_INVVPID = 53, EXIT_REASON_WBINVD = 54,
	EXIT_REASON_XSETBV = 55, EXIT_REASON_RDRAND = 57, EXIT_REASON_INVPCID = 58,
	EXIT_REASON_VMFUNC = 59,
};
#define EXIT_REASON_BASIC(r)      ((r) & 0xFFFFu)
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)

/* 28.8 "VM-Entry Failures During or After Loading Guest State": exit qualification */
#define ENTRY_FAIL_QUAL_NONE      0
#define ENTRY_FAIL_QUAL_PDPTE     2
#define ENTRY_FAIL_QUAL_NMI_BLOCK 3
#define ENTRY_FAIL_QUAL_LINK_PTR  4

/* 25.8.3 "VM-Entry Controls for Event Injection", 25.9.2 "Information for VM Exits
 * Due to Vectored Events" (Table 25-19): interruption information, all three fields. */
#define INTR_INFO_VECTOR(i)       ((i) & 0xFFu)
#define INTR_INFO_TYPE(i)         (((i) >> 8) & 7u)
#define INTR_INFO_TYPE_SHIFT      8
#define INTR_INFO_ERROR_CODE      (1u << 11)
#define INTR_INFO_NMI_UNBLOCK_IRET (1u << 12)
#define INTR_INFO_VALID           (1u << 31)
enum intr_type {
	INTR_TYPE_EXTERNAL = 0, INTR_TYPE_RESERVED = 1, INTR_TYPE_NMI = 2, INTR_TYPE_HW_EXCEPTION = 3,
	INTR_TYPE_SW_INTERRUPT = 4, INTR_TYPE_PRIV_SW_EXCEPTION = 5, INTR_TYPE_SW_EXCEPTION = 6,
	INTR_TYPE_OTHER = 7,
};
#define INTR_INFO(vector, type)   (INTR_INFO_VALID | ((uint32_t)(type) << INTR_INFO_TYPE_SHIFT) | (vector))

/* Table 28-3 "Exit Qualification for Control-Register Accesses" */
#define CR_QUAL_CR(q)             ((unsigned)((q) & 0xF))
#define CR_QUAL_ACCESS(q)         ((unsigned)(((q) >> 4) & 3))
#define CR_QUAL_LMSW_MEM          (1u << 6)
#define CR_QUAL_GPR(q)            ((unsigned)(((q) >> 8) & 0xF))
#define CR_QUAL_LMSW_DATA(q)      ((unsigned)(((q) >> 16) & 0xFFFF))
enum { CR_ACCESS_MOV_TO = 0, CR_ACCESS_MOV_FROM = 1, CR_ACCESS_CLTS = 2, CR_ACCESS_LMSW = 3 };
/* Table 28-4 "Exit Qualification for MOV DR" */
#define DR_QUAL_DR(q)             ((unsigned)((q) & 7))
#define DR_QUAL_FROM_DR           (1u << 4)
#define DR_QUAL_GPR(q)            ((unsigned)(((q) >> 8) & 0xF))
/* Table 28-5 "Exit Qualification for I/O Instructions" */
#define IO_QUAL_SIZE(q)           ((unsigned)((q) & 7) + 1)
#define IO_QUAL_IN                (1u << 3)
#define IO_QUAL_STRING            (1u << 4)
#define IO_QUAL_REP               (1u << 5)
#define IO_QUAL_IMM               (1u << 6)
#define IO_QUAL_PORT(q)           ((unsigned)(((q) >> 16) & 0xFFFF))
/* General-purpose register numbers in exit qualifications and instruction info. */
enum { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
       GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15 };

/* Table 28-13/28-14 "Format of the VM-Exit Instruction-Information Field" for
 * VMCLEAR, VMPTRLD, VMPTRST, VMXON (memory operand) and VMREAD/VMWRITE. */
#define INSN_INFO_SCALE(i)        ((i) & 3u)
#define INSN_INFO_REG1(i)         (((i) >> 3) & 0xFu)
#define INSN_INFO_ADDR_SIZE(i)    (((i) >> 7) & 7u)     /* 0: 16, 1: 32, 2: 64 bits */
#define INSN_INFO_REG_OPERAND     (1u << 10)
#define INSN_INFO_SEG(i)          (((i) >> 15) & 7u)    /* 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS */
#define INSN_INFO_INDEX(i)        (((i) >> 18) & 0xFu)
#define INSN_INFO_INDEX_INVALID   (1u << 22)
#define INSN_INFO_BASE(i)         (((i) >> 23) & 0xFu)
#define INSN_INFO_BASE_INVALID    (1u << 27)
#define INSN_INFO_REG2(i)         (((i) >> 28) & 0xFu)
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

/* 25.4.1 "Guest Register State": access rights (Table 25-2), interruptibility
 * (Table 25-3), activity states. */
#define AR_TYPE(t)                ((uint32_t)(t))
#define AR_S                      (1u << 4)     /* code or data (not system) */
#define AR_DPL(d)                 ((uint32_t)(d) << 5)
#define AR_P                      (1u << 7)
#define AR_L                      (1u << 13)    /* 64-bit code */
#define AR_DB                     (1u << 14)
#define AR_G                      (1u << 15)
#define AR_UNUSABLE               (1u << 16)
#define AR_TYPE_DATA_RW_ACCESSED  3u            /* also: 16-bit busy TSS (system) */
#define AR_TYPE_CODE_RX_ACCESSED  11u           /* also: busy 64-bit TSS (system) */
#define AR_CODE64 (AR_TYPE(AR_TYPE_CODE_RX_ACCESSED) | AR_S | AR_P | AR_L | AR_G)
#define AR_DATA   (AR_TYPE(AR_TYPE_DATA_RW_ACCESSED) | AR_S | AR_P | AR_DB | AR_G)
#define AR_TSS64_BUSY (AR_TYPE(11) | AR_P)
#define AR_TSS16_BUSY (AR_TYPE(3) | AR_P)
/* SDM Vol. 3A, 3.4.5.1 and 3.5: LDT type 2; RFLAGS and DR7 reserved-1 bits. */
#define RFLAGS_FIXED1             0x2ull        /* bit 1 is always 1 */
#define RFLAGS_IF                 (1ull << 9)
#define RFLAGS_RESERVED15         (1ull << 15)
#define RFLAGS_VM                 (1ull << 17)
#define DR7_FIXED1                0x400ull      /* bit 10 reads as 1 (Vol. 3B, 18.2.4) */
#define DR7_L0                    (1ull << 0)   /* local enable, breakpoint 0 */
#define DR7_G0                    (1ull << 1)   /* global enable, breakpoint 0 */
#define DR7_L1                    (1ull << 2)
#define DR7_G1                    (1ull << 3)
#define INTERRUPTIBILITY_STI      (1u << 0)
#define INTERRUPTIBILITY_MOV_SS   (1u << 1)
#define INTERRUPTIBILITY_NMI      (1u << 3)
enum { ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2, ACTIVITY_WAIT_SIPI = 3 };

/* ---- EPT: SDM Vol. 3C, 25.6.11 "Extended-Page-Table Pointer (EPTP)" and 29.3
 * "The Extended Page Table Mechanism (EPT)" ---------------------------------- */

/* Memory types (29.3.7 "EPT and Memory Typing"; Vol. 3A, 13.3 "Methods of
 * Caching Available"). 2, 3 and 7 are reserved. */
enum ept_memtype { MT_UC = 0, MT_WC = 1, MT_WT = 4, MT_WP = 5, MT_WB = 6 };
/* Table 25-9 "Format of Extended-Page-Table Pointer" */
#define EPTP_MEMTYPE(t)         ((uint64_t)(t))                 /* bits 2:0 */
#define EPTP_WALK(levels)       ((uint64_t)((levels) - 1) << 3) /* bits 5:3 */
#define EPTP_WALK4              EPTP_WALK(4)
#define EPTP_WALK_MASK          (7ull << 3)
#define EPTP_AD                 (1ull << 6)     /* accessed and dirty flags */
#define EPTP_SSS                (1ull << 7)     /* supervisor shadow-stack control */
#define EPTP_ADDR_MASK          0x000FFFFFFFFFF000ull
/* 29.3.2 "EPT Translation Mechanism", Tables 29-1 to 29-6: the bits of EPT
 * paging-structure entries. A leaf is a PTE, or a PDE/PDPTE with EPT_LARGE. */
#define EPT_R                   (1ull << 0)
#define EPT_W                   (1ull << 1)
#define EPT_X                   (1ull << 2)
#define EPT_RWX                 (EPT_R | EPT_W | EPT_X)
#define EPT_PERM_MASK           EPT_RWX
#define EPT_MEMTYPE(t)          ((uint64_t)(t) << 3)            /* leaf bits 5:3 */
#define EPT_MEMTYPE_MASK        (7ull << 3)
#define EPT_IGNORE_PAT          (1ull << 6)
#define EPT_LARGE               (1ull << 7)     /* PDE: 2 MiB page; PDPTE: 1 GiB page */
#define EPT_ACCESSED            (1ull << 8)     /* 29.3.5 "Accessed and Dirty Flags for EPT" */
#define EPT_DIRTY               (1ull << 9)     /* leaves only */
#define EPT_ADDR_MASK           0x000FFFFFFFFFF000ull
#define EPT_ENTRIES             512u
#define EPT_PAGE_4K             0x1000ull
#define EPT_PAGE_2M             0x200000ull
#define EPT_PAGE_1G             0x40000000ull
/* Table 28-7 "Exit Qualification for EPT Violations" */
#define EPT_QUAL_READ           (1ull << 0)     /* the access was a data read */
#define EPT_QUAL_WRITE          (1ull << 1)     /* a data write */
#define EPT_QUAL_FETCH          (1ull << 2)     /* an instruction fetch */
#define EPT_QUAL_READABLE       (1ull << 3)     /* AND of bit 0 over the entries used */
#define EPT_QUAL_WRITABLE       (1ull << 4)     /* AND of bit 1 */
#define EPT_QUAL_EXECUTABLE     (1ull << 5)     /* AND of bit 2 */
#define EPT_QUAL_PERM_SHIFT     3
#define EPT_QUAL_GLA_VALID      (1ull << 7)     /* guest-linear address field valid */
#define EPT_QUAL_TRANSLATED     (1ull << 8)     /* access to the translation, not a walk */
#define EPT_QUAL_USER_LINEAR    (1ull << 9)     /* bits 9-11: with EPT_CAP_ADV_EXIT_INFO */
#define EPT_QUAL_RW_LINEAR      (1ull << 10)
#define EPT_QUAL_XD_LINEAR      (1ull << 11)
#define EPT_QUAL_NMI_UNBLOCK    (1ull << 12)

/* SDM Vol. 3C, 31.3 "VMX Instructions": INVEPT and INVVPID types and descriptors. */
enum invept_type { INVEPT_SINGLE = 1, INVEPT_ALL = 2 };
enum invvpid_type { INVVPID_ADDR = 0, INVVPID_SINGLE = 1, INVVPID_ALL = 2, INVVPID_SINGLE_GLOBALS = 3 };
struct invept_desc {
	uint64_t eptp, reserved;
};
struct invvpid_desc {
	uint64_t vpid;          /* bits 15:0; 63:16 reserved */
	uint64_t linear;
};

/* 31.4 "VM Instruction Error Numbers" (Table 31-1) */
enum vm_insn_error {
	VMXERR_VMCALL_IN_ROOT = 1, VMXERR_VMCLEAR_BAD_ADDR = 2, VMXERR_VMCLEAR_VMXON_PTR = 3,
	VMXERR_VMLAUNCH_NOT_CLEAR = 4, VMXERR_VMRESUME_NOT_LAUNCHED = 5,
	VMXERR_VMRESUME_AFTER_VMXOFF = 6, VMXERR_ENTRY_BAD_CONTROLS = 7,
	VMXERR_ENTRY_BAD_HOST_STATE = 8, VMXERR_VMPTRLD_BAD_ADDR = 9,
	VMXERR_VMPTRLD_VMXON_PTR = 10, VMXERR_VMPTRLD_BAD_REVISION = 11,
	VMXERR_UNSUPPORTED_FIELD = 12, VMXERR_VMWRITE_READ_ONLY = 13,
	VMXERR_VMXON_IN_ROOT = 15, VMXERR_ENTRY_BAD_EXEC_VMCS_PTR = 16,
	VMXERR_ENTRY_NONLAUNCHED_EXEC_VMCS = 17, VMXERR_ENTRY_EXEC_VMCS_NOT_VMXON = 18,
	VMXERR_VMCALL_NONCLEAR_VMCS = 19, VMXERR_VMCALL_BAD_EXIT_CONTROLS = 20,
	VMXERR_VMCALL_BAD_MSEG_REV = 22, VMXERR_VMXOFF_DUAL_MONITOR = 23,
	VMXERR_VMCALL_BAD_SMM_FEATURES = 24, VMXERR_ENTRY_BAD_EXEC_CONTROLS = 25,
	VMXERR_ENTRY_MOV_SS_BLOCKING = 26, VMXERR_INVEPT_INVVPID_BAD_OPERAND = 28,
};

/* ---- Instruction wrappers (vmx_insn.c) ------------------------------------- */

/* How a VMX instruction ended: SDM Vol. 3C, 31.2 "Conventions" (VMsucceed,
 * VMfailInvalid, VMfailValid), or an exception, or RFLAGS matching none of them. */
enum vmx_outcome { VMX_OK, VMX_FAIL_INVALID, VMX_FAIL_VALID, VMX_EXCEPTION, VMX_BAD_FLAGS };

struct vmx_res {
	enum vmx_outcome outcome;
	uint32_t error;         /* VMX_FAIL_VALID: VM-instruction error (VMREAD 0x4400) */
	int vector;             /* VMX_EXCEPTION */
	uint32_t error_code;    /* VMX_EXCEPTION */
	uint64_t rflags;        /* after the instruction (not for exceptions) */
	uint64_t value;         /* VMREAD, VMPTRST: what was stored */
};

/* The outcome of a VMX instruction from the vector it raised (or NO_EXCEPTION)
 * and the RFLAGS it left; reads the VM-instruction error after VMfailValid. */
struct vmx_res res_from(int vector, uint64_t rflags);

/* Expected outcomes for check_res. */
#define WANT_OK           ((struct vmx_res){ .outcome = VMX_OK })
#define WANT_INVALID      ((struct vmx_res){ .outcome = VMX_FAIL_INVALID })
#define WANT_VALID(err)   ((struct vmx_res){ .outcome = VMX_FAIL_VALID, .error = (err) })
#define WANT_EXC(vec)     ((struct vmx_res){ .outcome = VMX_EXCEPTION, .vector = (vec) })

/* Operand forms. Register: both operands in registers (the _HIGH variant uses
 * R9/R12, REX-extended). Memory: [base], [base + index*4 + disp8],
 * [rip + disp32], [ecx] with the 0x67 address-size prefix (RCX's bits 63:32
 * hold garbage that 64-bit addressing would use), and GS:[base] with a GS base. */
enum vmx_form {
	FORM_REG, FORM_REG_HIGH, FORM_MEM_BASE, FORM_MEM_SIB, FORM_MEM_RIP, FORM_MEM_ADDR32,
	FORM_MEM_GS, NUM_FORMS
};
const char *form_name(enum vmx_form f);
#define FORM_FIRST_MEM FORM_MEM_BASE

struct vmx_res vmxon(uint64_t pa);
struct vmx_res vmxon_form(uint64_t pa, enum vmx_form form);
struct vmx_res vmxon_at(const void *operand);   /* the m64 operand at any address */
struct vmx_res vmxoff(void);
struct vmx_res vmclear(uint64_t pa);
struct vmx_res vmclear_form(uint64_t pa, enum vmx_form form);
struct vmx_res vmclear_at(const void *operand);
struct vmx_res vmptrld(uint64_t pa);
struct vmx_res vmptrld_form(uint64_t pa, enum vmx_form form);
struct vmx_res vmptrld_at(const void *operand);
struct vmx_res vmptrst(void);                   /* .value = the stored pointer */
struct vmx_res vmptrst_form(enum vmx_form form);
struct vmx_res vmptrst_at(void *operand);
struct vmx_res vmread(uint64_t enc);            /* .value = the field */
struct vmx_res vmread_form(uint64_t enc, enum vmx_form form);
/* VMREAD into memory at dst, or a register holding `prefill` before (FORM_REG*). */
struct vmx_res vmread_to(uint64_t enc, void *dst);
struct vmx_res vmread_reg_prefilled(uint64_t enc, uint64_t prefill);
struct vmx_res vmwrite(uint64_t enc, uint64_t val);
struct vmx_res vmwrite_form(uint64_t enc, uint64_t val, enum vmx_form form);
struct vmx_res vmwrite_from(uint64_t enc, const void *src);
struct vmx_res vmcall_root(void);               /* VMCALL in L1 */
struct vmx_res invept(uint64_t type, const void *descriptor);
struct vmx_res invvpid(uint64_t type, const void *descriptor);
/* VMXON/VMREAD in compatibility mode (CS.L = 0 with EFER.LMA = 1). */
struct vmx_res vmxon_compat(uint64_t pa);
/* Another VMX instruction in compatibility mode: register operands EBX (value)
 * and ECX (encoding), memory operands at [EBX] holding `operand`. */
enum compat_insn {
	COMPAT_VMREAD, COMPAT_VMWRITE, COMPAT_VMPTRLD, COMPAT_VMPTRST, COMPAT_VMCLEAR,
	COMPAT_VMLAUNCH, COMPAT_VMRESUME, COMPAT_VMXOFF,
};
struct vmx_res vmx_insn_compat(enum compat_insn insn, uint64_t operand, uint32_t enc);

/* Unchecked accessors for set-up code, where failure is a bug in the test:
 * they report a FAIL naming the field and go on. */
uint64_t vmr(uint64_t enc);
void vmw(uint64_t enc, uint64_t val);

/* The text of a result: "VMsucceed", "VMfailInvalid", "VMfailValid(12)", "#GP(0)". */
const char *res_str(struct vmx_res r);
bool res_is(struct vmx_res got, struct vmx_res want);
/* report() "<name> -> <want> (got <got>)"; returns whether got matched. */
bool check_res(struct vmx_res got, struct vmx_res want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- The VMXON region and VMCS regions (region.c) ------------------------------ */

/* A 4 KiB region: the revision identifier goes in its first 4 bytes. */
struct vmx_region {
	uint8_t bytes[PAGE_SIZE];
} __attribute__((aligned(PAGE_SIZE)));

extern struct vmx_region vmxon_region;
uint64_t region_pa(struct vmx_region *r);
/* Fill with zeros and write the revision identifier (| bit 31 if shadow). */
void region_init(struct vmx_region *r, uint32_t revision);
/* Enter VMX operation if not yet (IA32_FEATURE_CONTROL, CR0, CR4, VMXON); false,
 * with a FAIL, if it cannot. */
bool vmx_ensure_on(void);
extern bool vmx_is_on;

/* ---- The L2 guest (l2.c, l2_entry.asm, l2_code.asm) ------------------------- */

/* The guest's general registers around VM entry and exit; l2_entry.asm uses the
 * same order (offsets asserted in l2.c). RSP lives in the VMCS. */
struct l2_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* What one VM exit left in the exit-information fields. */
struct exit_info {
	uint32_t reason, insn_len, insn_info, intr_info, intr_error, idt_info, idt_error;
	uint64_t qual, guest_linear, rip, rsp, rflags;
	uint32_t interruptibility, activity;
};

struct l2 {
	struct vmx_region *vmcs;
	struct l2_regs regs;
	struct exit_info exit;
	struct vmx_res entry;   /* how the last VMLAUNCH/VMRESUME itself ended */
	bool launched;
};

/*
 * A fresh VMCS (VMCLEAR, VMPTRLD, every field written) for a 64-bit L2 that
 * shares L1's page tables and GDT: IA-32e mode guest, CR0/CR3/CR4 as L1's,
 * flat segments, its own stack and IDT (l2_idt), RIP = entry. Controls: only
 * the must-be-1 bits, no bitmaps. Host state: L1's own, landing in l2.c.
 */
void l2_init(struct l2 *g, const void *entry);
/* VMLAUNCH (first time) or VMRESUME; true if a VM exit happened (g->exit
 * filled), false if the instruction failed (g->entry says how). */
bool l2_run(struct l2 *g);
/* One entry attempt by an explicit instruction; g->entry is the result. */
enum l2_how { L2_LAUNCH, L2_RESUME, L2_LAUNCH_MOVSS };
bool l2_enter(struct l2 *g, enum l2_how how);
/* Guest RIP += exit instruction length. */
void l2_skip(struct l2 *g);
/* Sets bits in a control field (checked against the capabilities: reports a
 * SKIP and returns false if not allowed). */
bool l2_set_ctl(uint32_t field, uint32_t bits);
void l2_clear_ctl(uint32_t field, uint32_t bits);
/* report() that the last l2_run ended in an exit with this basic reason at
 * this guest RIP; prints everything observed when not. */
bool check_exit(struct l2 *g, uint32_t reason, const void *rip, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *exit_reason_name(uint32_t reason);

/* The host-state fields l2_init wrote (entry_checks.c breaks them one by one). */
void write_host_state(void);
/* Selector, limit, access rights and base of one guest segment register, named
 * by its selector field (VMCS_GUEST_ES_SEL ... VMCS_GUEST_TR_SEL). */
void l2_write_segment(uint32_t sel_field, uint16_t sel, uint32_t ar, uint32_t limit, uint64_t base);

/* L2's exception/interrupt log, written by its IDT stubs (l2_code.asm). */
struct l2_event_log {
	uint64_t count, vector, error, rip, cs, rflags;
	uint64_t fixup_rip;     /* in: 0 = VMCALL from the handler; 1 = iretq; else iretq there */
};
extern volatile struct l2_event_log l2_events;
#define L2_EVENT_STOP   0
#define L2_EVENT_RETURN 1
void l2_idt_init(void);
void l2_idt_set_present(unsigned vector, bool present);

/* L2 programs (l2_code.asm). Each ends at an "l2_*_done" VMCALL. */
#define L2_SYM(name) extern char name[]
L2_SYM(l2_vmcall_only);
L2_SYM(l2_cpuid); L2_SYM(l2_cpuid_insn); L2_SYM(l2_cpuid_done);
L2_SYM(l2_hlt); L2_SYM(l2_hlt_insn); L2_SYM(l2_hlt_done);
L2_SYM(l2_io); L2_SYM(l2_io_in_dx); L2_SYM(l2_io_out_imm); L2_SYM(l2_io_out_dx32);
L2_SYM(l2_io_done);
L2_SYM(l2_in3ff); L2_SYM(l2_in3ff_insn); L2_SYM(l2_in3ff_done);
L2_SYM(l2_inw_7fff); L2_SYM(l2_inw_7fff_insn); L2_SYM(l2_inw_7fff_done);
L2_SYM(l2_in9000); L2_SYM(l2_in9000_insn); L2_SYM(l2_in9000_done);
L2_SYM(l2_rdmsr); L2_SYM(l2_rdmsr_insn); L2_SYM(l2_rdmsr_done);
L2_SYM(l2_wrmsr); L2_SYM(l2_wrmsr_insn); L2_SYM(l2_wrmsr_done);
L2_SYM(l2_cr0_set); L2_SYM(l2_cr0_set_read); L2_SYM(l2_cr0_set_write); L2_SYM(l2_cr0_set_done);
L2_SYM(l2_cr4_rbx); L2_SYM(l2_cr4_rbx_write); L2_SYM(l2_cr4_rbx_done);
L2_SYM(l2_cr3_read); L2_SYM(l2_cr3_read_insn); L2_SYM(l2_cr3_read_done);
L2_SYM(l2_cr3_write); L2_SYM(l2_cr3_write_insn); L2_SYM(l2_cr3_write_done);
L2_SYM(l2_clts); L2_SYM(l2_clts_insn); L2_SYM(l2_clts_done);
L2_SYM(l2_lmsw); L2_SYM(l2_lmsw_insn); L2_SYM(l2_lmsw_done);
L2_SYM(l2_ud2); L2_SYM(l2_ud2_insn); L2_SYM(l2_ud2_done);
L2_SYM(l2_int3); L2_SYM(l2_int3_insn); L2_SYM(l2_int3_done);
L2_SYM(l2_pf); L2_SYM(l2_pf_insn); L2_SYM(l2_pf_done);
L2_SYM(l2_rdtsc); L2_SYM(l2_rdtsc_insn); L2_SYM(l2_rdtsc_done);
L2_SYM(l2_invlpg); L2_SYM(l2_invlpg_insn); L2_SYM(l2_invlpg_done);
L2_SYM(l2_movdr); L2_SYM(l2_movdr_read); L2_SYM(l2_movdr_write); L2_SYM(l2_movdr_done);
L2_SYM(l2_dr7); L2_SYM(l2_dr7_insn); L2_SYM(l2_dr7_done);
L2_SYM(l2_invd); L2_SYM(l2_invd_insn); L2_SYM(l2_invd_done);
L2_SYM(l2_pause); L2_SYM(l2_pause_insn); L2_SYM(l2_pause_done);
L2_SYM(l2_vmread); L2_SYM(l2_vmread_insn); L2_SYM(l2_vmread_done);
L2_SYM(l2_vmptrld); L2_SYM(l2_vmptrld_insn); L2_SYM(l2_vmptrld_done);
L2_SYM(l2_int_site); L2_SYM(l2_int_site_done);
L2_SYM(l2_sti_window); L2_SYM(l2_sti_window_nop); L2_SYM(l2_sti_window_open);
L2_SYM(l2_sti_window_done);
L2_SYM(l2_handler_vmcall);

/* l2_entry.asm: VMLAUNCH/VMRESUME with the guest's registers. Returns 0 after a
 * VM exit (regs updated), else the RFLAGS the failed instruction left. */
uint64_t vmx_launch(struct l2_regs *regs);
uint64_t vmx_resume(struct l2_regs *regs);
/* The same VMLAUNCH right after MOV SS (blocking by MOV SS). */
uint64_t vmx_launch_movss(struct l2_regs *regs);
extern char vmx_exit_point[];
void vmx_write_host_rsp(uint64_t rsp);  /* called by l2_entry.asm */

/* ---- L1's environment (env.c) ------------------------------------------- */

/* SGDT/SIDT of L1's own tables (l2.c's host and guest state use them). */
extern uint64_t l1_idt_base, l1_gdt_base;
extern uint16_t l1_idt_limit, l1_gdt_limit;
void read_descriptor_tables(void);
/* Masks the 8259A and the local APIC timer and LINT0: nothing interrupts L2
 * but what a case injects. L1 itself always runs with IF = 0. */
void quiesce_interrupts(void);
/* Reads the CPUID 0x40000000 signature, sets bare_metal_bochs, prints one
 * "<prefix>: CPU ... signature ..." line; true under nestvisor. */
bool detect_environment(const char *prefix);
/* The legacy BIOS leaves caches disabled (CD, NW); VMX does not care, but
 * enable them as any OS would. */
void enable_caches(void);

/* ---- VMX operation (region.c) --------------------------------------------- */

/* IA32_FEATURE_CONTROL with the lock and "VMX outside SMX" bits (SDM 24.7),
 * written if not locked yet; false if VMXON stays impossible. */
bool feature_control_enable(void);
/* CR0 and CR4 as VMX operation needs them (A.7, A.8), CR4.VMXE included. */
void fix_control_registers(void);

#endif
