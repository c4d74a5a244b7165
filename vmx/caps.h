/* SPDX-License-Identifier: MIT */
/* The CPU's VMX capabilities, read once. SDM Vol. 3D, Appendix A "VMX Capability Reporting Facility". */
#ifndef NESTVISOR_VMX_CAPS_H
#define NESTVISOR_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* A control's allowed settings: bits in must1 have to be 1, bits outside may1 have to be 0. */
struct vmx_ctl_caps {
	uint32_t must1;
	uint32_t may1;
};

struct vmx_caps {
	uint64_t basic;
	uint32_t revision;
	struct vmx_ctl_caps pin, proc, proc2, exit, entry;
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid;
	uint64_t vmfunc;
};

extern struct vmx_caps vmx_caps;

void vmx_caps_read(struct vmx_caps *c);
static inline struct vmx_ctl_caps vmx_ctl_caps_from_msr(uint64_t msr)
{
	return (struct vmx_ctl_caps){ (uint32_t)msr, (uint32_t)(msr >> 32) };
}
static inline bool vmx_ctl_allowed(struct vmx_ctl_caps c, uint32_t bits)
{
	return (c.may1 & bits) == bits;
}
/*
 * Settle a control field: want | must1, limited to may1. Bits in required
 * that the CPU cannot set make it return false (the caller names them).
 */
bool vmx_ctl_adjust(struct vmx_ctl_caps c, uint32_t want, uint32_t required, uint32_t *out);

#endif
