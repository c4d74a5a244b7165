/* SPDX-License-Identifier: MIT */
/*
 * nestvisor's interface for L1: CPUID leaves in the range the SDM leaves to
 * hypervisors (0x40000000-0x400000ff return nothing on hardware), so every VMX
 * instruction keeps its SDM meaning for L1 (VMCALL in VMX root operation is
 * VMfail, as the SDM says; nestvisor never takes it as a hypercall).
 *
 *   CPUID 0x40000000  EAX = highest nestvisor leaf (NV_CPUID_MAX_LEAF),
 *                     EBX:ECX:EDX = "nestvisor\0\0\0"
 *   CPUID 0x40000001  EAX = interface version (NV_INTERFACE_VERSION),
 *                     EBX = NV_INFO_* flags (the configuration L0 runs with),
 *                     ECX = accounting cost per exit in TSC ticks (see below),
 *                     EDX = 0
 *   CPUID 0x40000002  a hypercall: ECX = function (enum nv_hypercall), further
 *                     arguments in RBX, RDX, RSI (CPUID ignores them on
 *                     hardware; here they are inputs). Returns EAX = enum
 *                     nv_hc_status, results in EBX/ECX/EDX as each function says.
 *                     Hypercalls are for CPL 0: at CPL > 0 every function
 *                     returns NV_HC_EPERM and does nothing.
 *
 * Guests include this header too: plain C, fixed-width types only.
 */
#ifndef NESTVISOR_HYPERCALL_H
#define NESTVISOR_HYPERCALL_H

#include <stdint.h>

#define NV_CPUID_BASE        0x40000000u
#define NV_CPUID_INFO        0x40000001u
#define NV_CPUID_HYPERCALL   0x40000002u
#define NV_CPUID_MAX_LEAF    NV_CPUID_HYPERCALL
#define NV_INTERFACE_VERSION 2u

/* CPUID 0x40000001 EBX */
#define NV_INFO_ACCOUNTING    (1u << 0)   /* exit accounting is on (nestvisor.cfg) */
#define NV_INFO_VMCS_SHADOW   (1u << 1)   /* L1's VMREAD/VMWRITE go through a shadow VMCS */

enum nv_hypercall {
	/* Does nothing: the cost of a hypercall round trip. EAX = NV_HC_OK. */
	NV_HC_NOP = 0,
	/*
	 * Copy the exit counters into L1 memory: RBX = guest-physical address of
	 * the buffer (L1 RAM), RDX = its size in bytes (at least
	 * sizeof(struct nv_acct_snapshot)). EBX = bytes written. The hypercall's
	 * own exit is not in the snapshot. NV_HC_EFAULT if the buffer is not L1
	 * RAM, NV_HC_EINVAL if it is too small, NV_HC_EOFF with accounting off.
	 */
	NV_HC_ACCT_READ = 1,
	/* Zero every counter. The hypercall's own exit is not counted either. */
	NV_HC_ACCT_RESET = 2,
};

enum nv_hc_status {
	NV_HC_OK = 0,
	NV_HC_ENOSYS = 1,   /* no such function */
	NV_HC_EPERM = 2,    /* CPL > 0 */
	NV_HC_EFAULT = 3,   /* a buffer outside L1 RAM */
	NV_HC_EINVAL = 4,   /* a bad size or argument */
	NV_HC_EOFF = 5,     /* exit accounting is switched off */
};

/*
 * Exit accounting. Every VM exit L0 takes is charged to one cell
 * [level][basic exit reason]: count += 1, ticks += TSC ticks from the
 * timestamp L0's exit stub takes (after saving the guest's registers) to the
 * one L0 takes before it loads them again for the next VM entry (under Bochs
 * with clock sync=none one tick is one retired instruction). The few stub
 * instructions outside that window, and the VM exit and entry themselves, are
 * the same for every exit: a round trip measured by the guest minus its
 * timestamp pair minus the ticks charged here gives them.
 */
enum nv_acct_level {
	NV_ACCT_L1 = 0,            /* an exit of L1, handled by L0 */
	NV_ACCT_L1_FOR_L2 = 1,     /* an exit of L1 while it handles a reflected L2 exit:
				    * from the reflection up to and including the
				    * VMLAUNCH/VMRESUME that enters L2 again */
	NV_ACCT_L2_ABSORBED = 2,   /* an exit of L2 that L0 handled without L1 */
	NV_ACCT_L2_REFLECTED = 3,  /* an exit of L2 reflected to L1 */
	NV_ACCT_LEVELS
};

#define NV_ACCT_REASONS 80         /* basic exit reasons 0..79 */
#define NV_ACCT_VERSION 1u

struct nv_acct_cell {
	uint64_t count;
	uint64_t ticks;
};

struct nv_acct_snapshot {
	uint32_t version;          /* NV_ACCT_VERSION */
	uint32_t size;             /* sizeof(struct nv_acct_snapshot) */
	uint32_t levels;           /* NV_ACCT_LEVELS */
	uint32_t reasons;          /* NV_ACCT_REASONS */
	uint64_t overhead_ticks;   /* accounting's own cost per exit, inside the window */
	uint64_t reserved;
	struct nv_acct_cell cell[NV_ACCT_LEVELS][NV_ACCT_REASONS];
	/*
	 * for_l2[r]: the L1 exits (count, and L0 ticks spent on them) that L1
	 * caused while handling reflected L2 exits of reason r, the VMRESUME or
	 * VMLAUNCH back into L2 included. L0 exits per reflected L2 exit of
	 * reason r = (cell[NV_ACCT_L2_REFLECTED][r].count + for_l2[r].count)
	 *            / cell[NV_ACCT_L2_REFLECTED][r].count.
	 */
	struct nv_acct_cell for_l2[NV_ACCT_REASONS];
};

_Static_assert(sizeof(struct nv_acct_cell) == 16, "nv_acct_cell is guest ABI");
_Static_assert(sizeof(struct nv_acct_snapshot) ==
		       32 + 16 * NV_ACCT_REASONS * (NV_ACCT_LEVELS + 1),
	       "nv_acct_snapshot is guest ABI");

#endif
