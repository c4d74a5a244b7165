/* SPDX-License-Identifier: MIT */
/*
 * The controls VMCS01 must have (vmx/vmcs01.c refuses a CPU without them at
 * boot), in one place: tests/fuzz/fuzz_merge.c narrows CPUs down to them.
 */
#ifndef NESTVISOR_VMX_VMCS01_CONTROLS_H
#define NESTVISOR_VMX_VMCS01_CONTROLS_H

#include "vmx/vmx_bits.h"

/* NMIs are the guests' but must never reach L1 behind L0's back (vmx/nmi.c). */
#define VMCS01_PIN   (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS)
#define VMCS01_PROC  (PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | \
		      PROC_ACTIVATE_SECONDARY)
#define VMCS01_PROC2 (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST)
/* L1's DR7 and IA32_DEBUGCTL are saved at each exit and loaded at each
 * entry: a VM exit sets DR7 to 400H and clears DEBUGCTL (SDM Vol. 3C,
 * 28.5.1), which L1 must not see, and an L2 without "load debug
 * controls" starts with L1's current values (26.3.2.1, nested/entry.c). */
#define VMCS01_EXIT  (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | \
		      EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG_CONTROLS)
#define VMCS01_ENTRY (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CONTROLS)

#endif
