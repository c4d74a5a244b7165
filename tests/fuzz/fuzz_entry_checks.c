/* SPDX-License-Identifier: MIT */
/*
 * nested/checks.c on a fuzzed VMCS12 (nested_input.h: the fixture's valid one
 * with fields changed, on the fixture's CPU or a narrower one), L1 in or out
 * of IA-32e mode, a physical-address width of 36..52 and the VMCS link
 * pointer's target readable or not. Invariants: no crash; a qualification of
 * 0, or 4 for a link-pointer failure; and whenever a real check accepts, a
 * reference checker written here from the SDM accepts too (the real checks
 * may be stricter than the reference, never looser). The reference reads
 * L1's capabilities as L1 does, through the VMX capability MSRs
 * (nested_caps_rdmsr), and states a subset of:
 *  - 26.2.1.1 "VM-Execution Control Fields": allowed-0/1 settings, CR3-target
 *    count, I/O and MSR bitmap addresses, NMI controls, VPID, the EPTP
 *    (memory type, page-walk length, A/D, reserved bits, width), unrestricted
 *    guest needing EPT;
 *  - 26.2.1.2 / 26.2.1.3 "VM-Exit / VM-Entry Control Fields": allowed
 *    settings, the preemption-timer save, MSR-list addresses, event injection;
 *  - 26.2.2-26.2.4 "Checks on Host Control Registers, MSRs, and SSP", "... Host
 *    Segment and Descriptor-Table Registers", "... Related to Address-Space
 *    Size": CR0/CR4 fixed bits, CR3 width, canonical addresses, PAT and EFER,
 *    selectors' RPL/TI, CS/TR/SS not null, host address-space size;
 *  - of 26.3.1, the guest checks checks.h says L0 makes in software: activity
 *    state, CR0/CR4 fixed bits (unrestricted guest frees PE and PG), PG
 *    without PE, PAT, RIP, the VMCS link pointer.
 */
#include "nested_input.h"

#define REJECT(cond, why)       \
	do {                    \
		if (!(cond))    \
			return (why); \
	} while (0)

static struct nested_caps caps;
static unsigned maxphy;
static uint32_t link_revision;

static bool read_l1(uint64_t gpa, void *buf, unsigned len)
{
	if (gpa >> 32 || len != 4)
		return false;
	memcpy(buf, &link_revision, 4);
	return true;
}

/* ------------------------------------------------------------------------ */
/* The reference (see the top of the file). */

static uint64_t msr(uint32_t index)
{
	uint64_t v = 0;

	return nested_caps_rdmsr(&caps, index, &v) ? v : 0;   /* absent: nothing allowed */
}

/* A control value allowed by a capability MSR (A.3-A.5): bits 31:0 allowed-0, 63:32 allowed-1. */
static bool allowed(uint32_t index, uint32_t value)
{
	uint64_t m = msr(index);
	uint32_t must1 = (uint32_t)m, may1 = (uint32_t)(m >> 32);

	return (value & must1) == must1 && !(value & ~may1);
}

static bool beyond_width(uint64_t a)
{
	return maxphy < 64 && a >> maxphy;
}

static bool canonical48(uint64_t a)
{
	return a >> 47 == 0 || a >> 47 == 0x1ffff;
}

static bool pat_ok(uint64_t pat)
{
	for (int i = 0; i < 64; i += 8) {
		unsigned t = pat >> i & 0xff;

		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

static uint32_t ref_proc2(const struct vmcs12 *v)
{
	return (v->CPU_BASED_VM_EXEC_CONTROL >> 31) ? v->SECONDARY_VM_EXEC_CONTROL : 0;
}

static bool msr_list_ok(uint64_t addr, uint32_t count)
{
	return count == 0 || (!(addr & 15) && !beyond_width(addr) &&
			      !beyond_width(addr + (uint64_t)count * 16 - 1));
}

static const char *ref_eptp(uint64_t eptp)
{
	uint64_t cap = msr(0x48c);   /* IA32_VMX_EPT_VPID_CAP */
	unsigned mt = eptp & 7, pwl = eptp >> 3 & 7;

	REJECT((mt == 0 && (cap >> 8 & 1)) || (mt == 6 && (cap >> 14 & 1)), "EPTP memory type");
	REJECT((pwl == 3 && (cap >> 6 & 1)) || (pwl == 4 && (cap >> 7 & 1)), "EPTP page-walk length");
	REJECT(!(eptp >> 6 & 1) || (cap >> 21 & 1), "EPTP A/D without the capability");
	REJECT(!(eptp & 0xf80), "EPTP bits 11:7");
	REJECT(!beyond_width(eptp), "EPTP beyond the physical-address width");
	return NULL;
}

/* Vectors of the exceptions that deliver an error code (26.2.1.3), #CP aside. */
static bool error_code_vector(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

static const char *ref_event(const struct vmcs12 *v)
{
	uint32_t info = v->VM_ENTRY_INTR_INFO;
	unsigned vector = info & 0xff, type = info >> 8 & 7;
	bool deliver = info >> 11 & 1, pe = v->GUEST_CR0 & 1, ug = ref_proc2(v) >> 7 & 1;

	if (!(info >> 31))
		return NULL;
	REJECT(type != 1, "event type 1 is reserved");
	REJECT(type != 7 || ((msr(0x48e) >> 32 >> 27 & 1) && vector == 0),
	       "event type 7 without the monitor trap flag");
	REJECT(type != 2 || vector == 2, "NMI with a vector other than 2");
	REJECT(type != 3 || vector <= 31, "hardware exception vector above 31");
	/* With IA32_VMX_BASIC[56] = 0, deliver-error-code is 1 exactly for a protected-mode
	 * hardware exception with an error code. Where CR0.PE is 0 without unrestricted
	 * guest, SDM editions differ (and the guest-state checks fail it); #CP's rule
	 * depends on CET: neither is stated here. */
	if (pe || ug) {
		if (type != 3 || !pe)
			REJECT(!deliver, "deliver-error-code for an event without an error code");
		else if (!(msr(0x480) >> 56 & 1) && vector != 21)
			REJECT(deliver == error_code_vector(vector),
			       "deliver-error-code is 1 exactly for an exception with an error code");
	}
	REJECT(!(info & 0x7ffff000), "event injection bits 30:12");
	REJECT(!deliver || !(v->VM_ENTRY_EXCEPTION_ERROR_CODE >> 16), "error code bits 31:16");
	if (type == 4 || type == 5 || type == 6)
		REJECT((v->VM_ENTRY_INSTRUCTION_LEN >= 1 ||
			((msr(0x485) >> 30 & 1) && v->VM_ENTRY_INSTRUCTION_LEN == 0)) &&
			       v->VM_ENTRY_INSTRUCTION_LEN <= 15,
		       "software event with an instruction length outside 1..15");
	return NULL;
}

static const char *ref_controls(const struct vmcs12 *v)
{
	uint32_t pin = v->PIN_BASED_VM_EXEC_CONTROL, proc = v->CPU_BASED_VM_EXEC_CONTROL;
	uint32_t proc2 = ref_proc2(v), exit = v->VM_EXIT_CONTROLS;
	bool true_ctls = msr(0x480) >> 55 & 1;
	const char *why;

	REJECT(allowed(true_ctls ? 0x48d : 0x481, pin), "pin-based controls");
	REJECT(allowed(true_ctls ? 0x48e : 0x482, proc), "processor-based controls");
	REJECT(!(proc >> 31) || allowed(0x48b, proc2), "secondary controls");
	REJECT(v->CR3_TARGET_COUNT <= (msr(0x485) >> 16 & 0x1ff), "CR3-target count");
	REJECT(!(proc >> 25 & 1) || (!(v->IO_BITMAP_A & 0xfff) && !beyond_width(v->IO_BITMAP_A) &&
				     !(v->IO_BITMAP_B & 0xfff) && !beyond_width(v->IO_BITMAP_B)),
	       "I/O bitmap addresses");
	REJECT(!(proc >> 28 & 1) || (!(v->MSR_BITMAP & 0xfff) && !beyond_width(v->MSR_BITMAP)),
	       "MSR bitmap address");
	REJECT((pin >> 3 & 1) || !(pin >> 5 & 1), "virtual NMIs without NMI exiting");
	REJECT((pin >> 5 & 1) || !(proc >> 22 & 1), "NMI-window exiting without virtual NMIs");
	REJECT(!(proc2 >> 5 & 1) || v->VIRTUAL_PROCESSOR_ID != 0, "VPID 0");
	if (proc2 >> 1 & 1) {
		why = ref_eptp(v->EPT_POINTER);
		if (why)
			return why;
	}
	REJECT(!(proc2 >> 7 & 1) || (proc2 >> 1 & 1), "unrestricted guest without EPT");

	REJECT(allowed(true_ctls ? 0x48f : 0x483, exit), "VM-exit controls");
	REJECT((pin >> 6 & 1) || !(exit >> 22 & 1), "preemption-timer save without the timer");
	REJECT(msr_list_ok(v->VM_EXIT_MSR_STORE_ADDR, v->VM_EXIT_MSR_STORE_COUNT),
	       "VM-exit MSR-store list");
	REJECT(msr_list_ok(v->VM_EXIT_MSR_LOAD_ADDR, v->VM_EXIT_MSR_LOAD_COUNT),
	       "VM-exit MSR-load list");

	REJECT(allowed(true_ctls ? 0x490 : 0x484, v->VM_ENTRY_CONTROLS), "VM-entry controls");
	why = ref_event(v);
	if (why)
		return why;
	REJECT(msr_list_ok(v->VM_ENTRY_MSR_LOAD_ADDR, v->VM_ENTRY_MSR_LOAD_COUNT),
	       "VM-entry MSR-load list");
	return NULL;
}

static const char *ref_host(const struct vmcs12 *v, bool l1_long_mode)
{
	uint64_t cr0_0 = msr(0x486), cr0_1 = msr(0x487), cr4_0 = msr(0x488), cr4_1 = msr(0x489);
	bool host64 = v->VM_EXIT_CONTROLS >> 9 & 1, guest64 = v->VM_ENTRY_CONTROLS >> 9 & 1;
	uint64_t efer = v->HOST_IA32_EFER;
	uint16_t sels[] = { v->HOST_ES_SELECTOR, v->HOST_CS_SELECTOR, v->HOST_SS_SELECTOR,
			    v->HOST_DS_SELECTOR, v->HOST_FS_SELECTOR, v->HOST_GS_SELECTOR,
			    v->HOST_TR_SELECTOR };

	/* 26.2.2; bits 63:32 of the CR0 field are not part of this subset. */
	REJECT((v->HOST_CR0 & cr0_0 & 0xffffffff) == (cr0_0 & 0xffffffff) &&
		       !(v->HOST_CR0 & ~cr0_1 & 0xffffffff),
	       "host CR0 fixed bits");
	REJECT((v->HOST_CR4 & cr4_0) == cr4_0 && !(v->HOST_CR4 & ~cr4_1), "host CR4 fixed bits");
	REJECT(!beyond_width(v->HOST_CR3), "host CR3 beyond the width");
	REJECT(canonical48(v->HOST_IA32_SYSENTER_ESP) && canonical48(v->HOST_IA32_SYSENTER_EIP),
	       "host SYSENTER_ESP/EIP");
	REJECT(!(v->VM_EXIT_CONTROLS >> 19 & 1) || pat_ok(v->HOST_IA32_PAT), "host PAT");
	if (v->VM_EXIT_CONTROLS >> 21 & 1) {
		/* IA32_EFER: SCE (0), LME (8), LMA (10), NXE (11); the rest reserved. */
		REJECT(!(efer & ~0xd01ull), "host EFER reserved bits");
		REJECT((efer >> 10 & 1) == host64 && (efer >> 8 & 1) == host64,
		       "host EFER.LMA/LME and host address-space size");
	}
	/* 26.2.3 */
	for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++)
		REJECT(!(sels[i] & 7), "host selector RPL/TI");
	REJECT(v->HOST_CS_SELECTOR && v->HOST_TR_SELECTOR, "host CS or TR null");
	REJECT(host64 || v->HOST_SS_SELECTOR, "host SS null outside 64-bit");
	REJECT(canonical48(v->HOST_FS_BASE) && canonical48(v->HOST_GS_BASE) &&
		       canonical48(v->HOST_GDTR_BASE) && canonical48(v->HOST_IDTR_BASE) &&
		       canonical48(v->HOST_TR_BASE),
	       "host bases");
	/* 26.2.4 */
	if (l1_long_mode)
		REJECT(host64, "host address-space size 0 in IA-32e mode");
	else
		REJECT(!guest64 && !host64, "IA-32e guest or 64-bit host outside IA-32e mode");
	if (host64) {
		REJECT(v->HOST_CR4 >> 5 & 1, "64-bit host without CR4.PAE");
		REJECT(canonical48(v->HOST_RIP), "host RIP");
	} else {
		REJECT(!guest64, "IA-32e guest without a 64-bit host");
		REJECT(!(v->HOST_CR4 >> 17 & 1), "host CR4.PCIDE without a 64-bit host");
		REJECT(!(v->HOST_RIP >> 32), "host RIP above 4 GiB");
	}
	return NULL;
}

static const char *ref_guest(const struct vmcs12 *v, bool link_readable, bool *link)
{
	uint64_t misc = msr(0x485), cr0_0 = msr(0x486), cr0_1 = msr(0x487);
	uint64_t cr4_0 = msr(0x488), cr4_1 = msr(0x489);
	unsigned activity = v->GUEST_ACTIVITY_STATE;

	*link = false;
	if (ref_proc2(v) >> 7 & 1)
		cr0_0 &= ~0x80000001ull;    /* unrestricted guest: PE and PG free */
	REJECT(activity == 0 || (activity <= 3 && (misc >> (5 + activity) & 1)), "activity state");
	REJECT((v->GUEST_CR0 & cr0_0 & 0xffffffff) == (cr0_0 & 0xffffffff) &&
		       !(v->GUEST_CR0 & ~cr0_1 & 0xffffffff),
	       "guest CR0 fixed bits");
	REJECT(!(v->GUEST_CR0 >> 31 & 1) || (v->GUEST_CR0 & 1), "guest CR0.PG without PE");
	REJECT((v->GUEST_CR4 & cr4_0) == cr4_0 && !(v->GUEST_CR4 & ~cr4_1), "guest CR4 fixed bits");
	REJECT(!(v->VM_ENTRY_CONTROLS >> 14 & 1) || pat_ok(v->GUEST_IA32_PAT), "guest PAT");
	if ((v->VM_ENTRY_CONTROLS >> 9 & 1) && (v->GUEST_CS_AR_BYTES >> 13 & 1))
		REJECT(canonical48(v->GUEST_RIP), "guest RIP not canonical");
	else
		REJECT(!(v->GUEST_RIP >> 32), "guest RIP above 4 GiB");
	if (v->VMCS_LINK_POINTER != ~0ull) {
		*link = true;
		REJECT(!(v->VMCS_LINK_POINTER & 0xfff) && !beyond_width(v->VMCS_LINK_POINTER),
		       "link pointer alignment or width");
		REJECT(link_readable && link_revision == NV_VMCS12_REVISION, "link pointer's VMCS");
	}
	*link = false;
	return NULL;
}

/* ------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned flags = (unsigned)take(&in, 1);
	struct vmx_caps hw = nested_input_hw(&in, flags & 4, NULL);
	static struct vmcs12 v;
	struct entry_check_env env;
	const char *real, *ref;
	uint64_t qual = 99;
	bool link;

	nested_caps_init(&caps, &hw);
	fixture_vmcs12(&v, &caps);
	maxphy = flags & 8 ? 36 + (unsigned)take(&in, 1) % 17 : 39;
	link_revision = flags & 16 ? (uint32_t)take(&in, 4) : NV_VMCS12_REVISION;
	env = (struct entry_check_env){ &caps, maxphy, !(flags & 1), flags & 2 ? NULL : read_l1 };
	nested_input_mutate(&in, &v);

	real = nested_check_controls(&v, &env);
	ref = ref_controls(&v);
	INVARIANT(real || !ref, "controls: the real checks accept, the SDM says '%s'", ref);

	real = nested_check_host_state(&v, &env);
	ref = ref_host(&v, env.l1_long_mode);
	INVARIANT(real || !ref, "host state: the real checks accept, the SDM says '%s'", ref);

	real = nested_check_guest_state(&v, &env, &qual);
	ref = ref_guest(&v, env.read_l1 != NULL, &link);
	INVARIANT(qual == 0 || (real && qual == 4 && v.VMCS_LINK_POINTER != ~0ull),
		  "qualification %llu for '%s'", (unsigned long long)qual, real ? real : "success");
	INVARIANT(real || !ref, "guest state: the real checks accept, the SDM says '%s'", ref);
	/* Qualification 4 only once everything but the link pointer passed. */
	INVARIANT(qual != 4 || !ref || link, "guest state: qualification 4 for '%s', the SDM says '%s'",
		  real, ref);
	return 0;
}
