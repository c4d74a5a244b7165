/* SPDX-License-Identifier: MIT */
/* nestvisor's CPUID leaves 0x40000000.. for L1 (include/nestvisor/hypercall.h). */
#ifndef NESTVISOR_VMX_HYPERCALL_H
#define NESTVISOR_VMX_HYPERCALL_H

#include "vmx/vcpu.h"
#include "core/x86.h"

#include <nestvisor/hypercall.h>

/* A leaf in 0x40000000..0x4fffffff: its answer (hypercalls act on v). */
void nv_cpuid_leaf(struct vcpu *v, uint32_t leaf, struct cpuid_regs *c);

#endif
