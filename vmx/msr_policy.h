/* SPDX-License-Identifier: MIT */
/*
 * What L0 lets a guest write to MSRs it passes through otherwise: the checks
 * of L1's and L2's WRMSR exits and of VMCS12's MSR-load lists alike.
 */
#ifndef NESTVISOR_VMX_MSR_POLICY_H
#define NESTVISOR_VMX_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * false: L0 refuses the write (#GP for WRMSR, a failed entry for a list).
 * IA32_APIC_BASE: the local APIC's 4-KiB page overlays whatever memory is at
 * its base for every access of this CPU, L0's included, so the base must be
 * a page L1 may write anyway (EPT01 maps it writable): never L0's memory or
 * firmware code L0 calls.
 */
bool msr_write_allowed(uint32_t msr, uint64_t value);

#endif
