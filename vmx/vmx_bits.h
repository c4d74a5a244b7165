/* SPDX-License-Identifier: MIT */
/* Named bits of the VMX controls and information fields. */
#ifndef NESTVISOR_VMX_BITS_H
#define NESTVISOR_VMX_BITS_H

#define BIT32(n) (1u << (n))
#define BIT64(n) (1ull << (n))

/* SDM Vol. 3C, 25.6.1 "Pin-Based VM-Execution Controls" */
#define PIN_EXTINT_EXITING          BIT32(0)
#define PIN_NMI_EXITING             BIT32(3)
#define PIN_VIRTUAL_NMIS            BIT32(5)
#define PIN_PREEMPTION_TIMER        BIT32(6)
#define PIN_POSTED_INTERRUPTS       BIT32(7)

/* SDM Vol. 3C, 25.6.2 "Processor-Based VM-Execution Controls", Table 25-6 */
#define PROC_INTR_WINDOW_EXITING    BIT32(2)
#define PROC_USE_TSC_OFFSETTING     BIT32(3)
#define PROC_HLT_EXITING            BIT32(7)
#define PROC_INVLPG_EXITING         BIT32(9)
#define PROC_MWAIT_EXITING          BIT32(10)
#define PROC_RDPMC_EXITING          BIT32(11)
#define PROC_RDTSC_EXITING          BIT32(12)
#define PROC_CR3_LOAD_EXITING       BIT32(15)
#define PROC_CR3_STORE_EXITING      BIT32(16)
#define PROC_ACTIVATE_TERTIARY      BIT32(17)
#define PROC_CR8_LOAD_EXITING       BIT32(19)
#define PROC_CR8_STORE_EXITING      BIT32(20)
#define PROC_USE_TPR_SHADOW         BIT32(21)
#define PROC_NMI_WINDOW_EXITING     BIT32(22)
#define PROC_MOV_DR_EXITING         BIT32(23)
#define PROC_UNCOND_IO_EXITING      BIT32(24)
#define PROC_USE_IO_BITMAPS         BIT32(25)
#define PROC_MONITOR_TRAP_FLAG      BIT32(27)
#define PROC_USE_MSR_BITMAPS        BIT32(28)
#define PROC_MONITOR_EXITING        BIT32(29)
#define PROC_PAUSE_EXITING          BIT32(30)
#define PROC_ACTIVATE_SECONDARY     BIT32(31)

/* Table 25-7 "Definitions of Secondary Processor-Based VM-Execution Controls" */
#define PROC2_VIRT_APIC_ACCESSES    BIT32(0)
#define PROC2_ENABLE_EPT            BIT32(1)
#define PROC2_DESC_TABLE_EXITING    BIT32(2)
#define PROC2_ENABLE_RDTSCP         BIT32(3)
#define PROC2_VIRT_X2APIC_MODE      BIT32(4)
#define PROC2_ENABLE_VPID           BIT32(5)
#define PROC2_WBINVD_EXITING        BIT32(6)
#define PROC2_UNRESTRICTED_GUEST    BIT32(7)
#define PROC2_APIC_REGISTER_VIRT    BIT32(8)
#define PROC2_VIRT_INTR_DELIVERY    BIT32(9)
#define PROC2_PAUSE_LOOP_EXITING    BIT32(10)
#define PROC2_RDRAND_EXITING        BIT32(11)
#define PROC2_ENABLE_INVPCID        BIT32(12)
#define PROC2_ENABLE_VMFUNC         BIT32(13)
#define PROC2_VMCS_SHADOWING        BIT32(14)
#define PROC2_ENCLS_EXITING         BIT32(15)
#define PROC2_RDSEED_EXITING        BIT32(16)
#define PROC2_ENABLE_PML            BIT32(17)
#define PROC2_EPT_VE                BIT32(18)
#define PROC2_CONCEAL_VMX_FROM_PT   BIT32(19)
#define PROC2_ENABLE_XSAVES         BIT32(20)
#define PROC2_MODE_BASED_EPT_EXEC   BIT32(22)
#define PROC2_SUBPAGE_WRITE_PERM    BIT32(23)
#define PROC2_PT_USES_GUEST_PHYS    BIT32(24)
#define PROC2_USE_TSC_SCALING       BIT32(25)
#define PROC2_ENABLE_USER_WAIT      BIT32(26)
#define PROC2_ENABLE_ENCLV          BIT32(28)

/* SDM Vol. 3C, 25.7.1 "VM-Exit Controls", Table 25-13 */
#define EXIT_SAVE_DEBUG_CONTROLS    BIT32(2)
#define EXIT_HOST_ADDR_SPACE_SIZE   BIT32(9)
#define EXIT_LOAD_PERF_GLOBAL_CTRL  BIT32(12)
#define EXIT_ACK_INTR_ON_EXIT       BIT32(15)
#define EXIT_SAVE_PAT               BIT32(18)
#define EXIT_LOAD_PAT               BIT32(19)
#define EXIT_SAVE_EFER              BIT32(20)
#define EXIT_LOAD_EFER              BIT32(21)
#define EXIT_SAVE_PREEMPTION_TIMER  BIT32(22)
#define EXIT_CLEAR_BNDCFGS          BIT32(23)

/* SDM Vol. 3C, 25.8.1 "VM-Entry Controls", Table 25-15 */
#define ENTRY_LOAD_DEBUG_CONTROLS   BIT32(2)
#define ENTRY_IA32E_MODE_GUEST      BIT32(9)
#define ENTRY_SMM                   BIT32(10)
#define ENTRY_DEACT_DUAL_MONITOR    BIT32(11)
#define ENTRY_LOAD_PERF_GLOBAL_CTRL BIT32(13)
#define ENTRY_LOAD_PAT              BIT32(14)
#define ENTRY_LOAD_EFER             BIT32(15)
#define ENTRY_LOAD_BNDCFGS          BIT32(16)

/* SDM Vol. 3C, 25.8.3 "VM-Entry Controls for Event Injection", and the
 * VM-exit interruption / IDT-vectoring information (25.9.2, 25.9.3). */
#define INTR_INFO_VECTOR_MASK       0xffu
#define INTR_INFO_TYPE_SHIFT        8
#define INTR_INFO_TYPE_MASK         (7u << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_DELIVER_CODE      BIT32(11)
#define INTR_INFO_NMI_UNBLOCK_IRET  BIT32(12)
#define INTR_INFO_VALID             BIT32(31)
enum intr_type {
	INTR_TYPE_EXT_INTR = 0,
	INTR_TYPE_NMI = 2,
	INTR_TYPE_HW_EXCEPTION = 3,
	INTR_TYPE_SW_INTR = 4,
	INTR_TYPE_PRIV_SW_EXCEPTION = 5,
	INTR_TYPE_SW_EXCEPTION = 6,
	INTR_TYPE_OTHER = 7,
};

/* SDM Vol. 3C, 25.4.2 "Guest Non-Register State", Table 25-3 */
#define INTERRUPTIBILITY_STI        BIT32(0)
#define INTERRUPTIBILITY_MOV_SS     BIT32(1)
#define INTERRUPTIBILITY_SMI        BIT32(2)
#define INTERRUPTIBILITY_NMI        BIT32(3)
enum activity_state { ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2,
		      ACTIVITY_WAIT_SIPI = 3 };

/* SDM Vol. 3C, 25.4.1 "Guest Register State": segment access rights. */
#define AR_TYPE_MASK                0xfu
#define AR_S                        BIT32(4)
#define AR_DPL_SHIFT                5
#define AR_P                        BIT32(7)
#define AR_AVL                      BIT32(12)
#define AR_L                        BIT32(13)
#define AR_DB                       BIT32(14)
#define AR_G                        BIT32(15)
#define AR_UNUSABLE                 BIT32(16)

/* Exit reason field. SDM Vol. 3C, 25.9.1 "Basic VM-Exit Information" */
#define EXIT_REASON_BASIC_MASK      0xffffu
#define EXIT_REASON_ENTRY_FAILURE   BIT32(31)

/* SDM Vol. 3D, A.1 "Basic VMX Information" */
#define VMX_BASIC_REVISION_MASK     0x7fffffffull
#define VMX_BASIC_TRUE_CTLS         BIT64(55)
/* A.6 "Miscellaneous Data" */
#define VMX_MISC_ACTIVITY_HLT       BIT64(6)
#define VMX_MISC_UNRESTRICTED_LMA   BIT64(5)  /* stores EFER.LMA into "IA-32e mode guest" */

/* A.10 "VPID and EPT Capabilities" */
#define EPT_CAP_EXEC_ONLY           BIT64(0)
#define EPT_CAP_PWL4                BIT64(6)
#define EPT_CAP_MEMTYPE_UC          BIT64(8)
#define EPT_CAP_MEMTYPE_WB          BIT64(14)
#define EPT_CAP_2MB_PAGES           BIT64(16)
#define EPT_CAP_1GB_PAGES           BIT64(17)
#define EPT_CAP_INVEPT              BIT64(20)
#define EPT_CAP_AD_FLAGS            BIT64(21)
#define EPT_CAP_INVEPT_SINGLE       BIT64(25)
#define EPT_CAP_INVEPT_ALL          BIT64(26)
#define EPT_CAP_ADVANCED_EXIT_INFO  BIT64(22)
#define VPID_CAP_INVVPID            BIT64(32)
#define VPID_CAP_INVVPID_ADDR       BIT64(40)
#define VPID_CAP_INVVPID_SINGLE     BIT64(41)
#define VPID_CAP_INVVPID_ALL        BIT64(42)
#define VPID_CAP_INVVPID_SINGLE_GLOBALS BIT64(43)

#endif
