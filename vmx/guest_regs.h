/* SPDX-License-Identifier: MIT */
/* L1's registers and mode as an instruction emulator needs them. */
#ifndef NESTVISOR_VMX_GUEST_REGS_H
#define NESTVISOR_VMX_GUEST_REGS_H

#include "vmx/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"

#include <stdbool.h>
#include <stdint.h>

/* Inline: instruction emulation on the exit path calls these several times an exit. */

/* GPR n in hardware numbering; RSP lives in the VMCS. */
static inline uint64_t gpr_read(const struct vcpu *v, unsigned n)
{
	return n == GPR_RSP ? vmreadnat(VMCS_GUEST_RSP) : v->frame.regs.r[n & 15];
}

/* Write GPR n; a 32-bit result clears bits 63:32, as the CPU does in 64-bit mode. */
static inline void gpr_write(struct vcpu *v, unsigned n, uint64_t value)
{
	if (n == GPR_RSP) {
		vmwritenat(VMCS_GUEST_RSP, value);
	} else {
		v->frame.regs.r[n & 15] = value;
		if ((GPR_CALLEE_SAVED_MASK >> (n & 15)) & 1)
			v->frame.restore_all = 1;  /* vmx/entry.asm loads them only then */
	}
}

/* SS.DPL: the CPL in VMX guest state (SDM Vol. 3C, 26.3.1.2). */
static inline unsigned guest_cpl(void)
{
	return (vmread32(VMCS_GUEST_SS_AR_BYTES) >> AR_DPL_SHIFT) & 3;
}
/* 64-bit mode: IA-32e mode and CS.L. */
bool guest_64bit_mode(void);
/* Compatibility mode: IA-32e mode with CS.L = 0. */
bool guest_compat_mode(void);
/* CR0/CR4 as L1 reads them (read shadows for the bits L0 owns). */
uint64_t guest_visible_cr0(void);
uint64_t guest_visible_cr4(void);

/* RFLAGS arithmetic flags (SDM Vol. 3C, 31.2 "Conventions"). */
#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

#endif
