/* SPDX-License-Identifier: MIT */
/*
 * The VMX capabilities L1 sees: the hardware's, restricted to what L0
 * emulates. A control is advertised only when its semantics for L2 are
 * implemented (merge in vmcs02.c, reflection in reflect.c).
 * SDM Vol. 3D, Appendix A "VMX Capability Reporting Facility".
 */
#ifndef NESTVISOR_NESTED_CAPS_H
#define NESTVISOR_NESTED_CAPS_H

#include "core/x86.h"
#include "ept/ept12.h"
#include "vmx/caps.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"

#include <stdbool.h>
#include <stdint.h>

/* What nestvisor emulates for L2 (allowed-1 bits it may pass on to L1). */
#define NESTED_PIN_SUPPORTED   (PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | \
				PIN_PREEMPTION_TIMER)
#define NESTED_PROC_SUPPORTED                                                            \
	(PROC_INTR_WINDOW_EXITING | PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING |          \
	 PROC_INVLPG_EXITING | PROC_MWAIT_EXITING | PROC_RDPMC_EXITING |                  \
	 PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING |            \
	 PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING | PROC_NMI_WINDOW_EXITING |       \
	 PROC_MOV_DR_EXITING | PROC_UNCOND_IO_EXITING | PROC_USE_IO_BITMAPS |             \
	 PROC_USE_MSR_BITMAPS | PROC_MONITOR_EXITING | PROC_PAUSE_EXITING |               \
	 PROC_ACTIVATE_SECONDARY)
#define NESTED_PROC2_SUPPORTED                                                           \
	(PROC2_ENABLE_EPT | PROC2_DESC_TABLE_EXITING | PROC2_ENABLE_RDTSCP |              \
	 PROC2_ENABLE_VPID | PROC2_WBINVD_EXITING | PROC2_UNRESTRICTED_GUEST |            \
	 PROC2_RDRAND_EXITING |                                                           \
	 PROC2_ENABLE_INVPCID | PROC2_RDSEED_EXITING)

/*
 * IA32_VMX_EPT_VPID_CAP for L1 (A.10): what nested EPT implements. 4-level
 * walks, UC and WB paging-structure memory types, 2-MByte and 1-GByte EPT12
 * pages (EPT02 splits them where the CPU or EPT01 is finer), INVEPT both
 * types, every INVVPID type. Execute-only pages and accessed/dirty flags only
 * if the CPU has them (EPT02 passes both through). No advanced exit
 * information for EPT violations.
 */
#define NESTED_EPT_CAPS  (EPT_CAP_PWL4 | EPT_CAP_MEMTYPE_UC | EPT_CAP_MEMTYPE_WB |          \
			  EPT_CAP_2MB_PAGES | EPT_CAP_1GB_PAGES | EPT_CAP_INVEPT |            \
			  EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)
#define NESTED_EPT_HW_CAPS (EPT_CAP_EXEC_ONLY | EPT_CAP_AD_FLAGS)
#define NESTED_VPID_CAPS (VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDR | VPID_CAP_INVVPID_SINGLE | \
			  VPID_CAP_INVVPID_ALL | VPID_CAP_INVVPID_SINGLE_GLOBALS)
#define NESTED_EXIT_SUPPORTED                                                            \
	(EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT |   \
	 EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER |                \
	 EXIT_SAVE_PREEMPTION_TIMER)
#define NESTED_ENTRY_SUPPORTED                                                           \
	(ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)

/*
 * MISC bits passed on: the preemption timer's rate (bits 4:0: L2's timer
 * counts in hardware), LMA store, HLT activity state, CR3-target count,
 * MSR-list size.
 */
#define NESTED_MISC_SUPPORTED  (0x1full | VMX_MISC_UNRESTRICTED_LMA | VMX_MISC_ACTIVITY_HLT | \
				(0x1ffull << 16) | (7ull << 25))

/* IA32_VMX_BASIC fields (A.1) */
#define VMX_BASIC_REGION_SIZE_SHIFT 32
#define VMX_BASIC_MEMTYPE_SHIFT     50
#define VMX_BASIC_MEMTYPE_WB        6ull
#define VMX_BASIC_INOUT_INFO        BIT64(54)

struct nested_caps {
	struct vmx_caps l1;           /* the same shape as L0's view of the hardware */
	uint64_t msr[MSR_IA32_VMX_LAST - MSR_IA32_VMX_FIRST + 1];
	bool msr_exists[MSR_IA32_VMX_LAST - MSR_IA32_VMX_FIRST + 1];
	bool feature[F_COUNT];        /* which VMCS12 fields exist for L1 */
};

/* Derive L1's capabilities from the hardware's (pure: host unit tests use it). */
void nested_caps_init(struct nested_caps *n, const struct vmx_caps *hw);

/* The EPT12 walker's view of what L1 was offered (IA32_VMX_EPT_VPID_CAP). */
struct ept12_caps nested_ept12_caps(const struct vmx_caps *l1, unsigned maxphyaddr);

/* RDMSR of a VMX capability MSR by L1: false if that MSR does not exist for it (#GP). */
bool nested_caps_rdmsr(const struct nested_caps *n, uint32_t msr, uint64_t *value);

#endif
