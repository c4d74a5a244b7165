/* SPDX-License-Identifier: MIT */
#include "nested/checks.h"
#include "ept/ept12.h"
#include "vmx/vmx_bits.h"
#include "core/x86.h"

/* One named check: the condition that must hold. */
#define CHECK(cond, name)               \
	do {                            \
		if (!(cond))            \
			return (name);  \
	} while (0)

uint32_t vmcs12_proc2(const struct vmcs12 *v)
{
	return (v->CPU_BASED_VM_EXEC_CONTROL & PROC_ACTIVATE_SECONDARY)
		       ? v->SECONDARY_VM_EXEC_CONTROL : 0;
}

static bool ctl_ok(struct vmx_ctl_caps c, uint32_t value)
{
	return (value & c.must1) == c.must1 && !(value & ~c.may1);
}

static bool addr_ok(uint64_t a, uint64_t align, unsigned maxphyaddr)
{
	return !(a & (align - 1)) && !(a >> maxphyaddr);
}

/* An MSR list: 16-byte aligned, last byte within the physical-address width (26.2.1.2/3). */
static bool msr_list_ok(uint64_t addr, uint32_t count, unsigned maxphyaddr)
{
	return !count || (addr_ok(addr, 16, maxphyaddr) &&
			  !((addr + (uint64_t)count * 16 - 1) >> maxphyaddr));
}

/*
 * Exceptions that deliver an error code (26.2.1.3), as L1's IA32_VMX_BASIC[56]
 * = 0 says: #CP (21) gets one only on processors that report bit 56.
 */
static bool vector_has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

static const char *check_event_injection(const struct vmcs12 *v, const struct vmx_caps *c)
{
	uint32_t info = v->VM_ENTRY_INTR_INFO;
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	unsigned vector = info & INTR_INFO_VECTOR_MASK;

	if (!(info & INTR_INFO_VALID))
		return 0;
	CHECK(type != 1, "event injection: reserved interruption type 1");
	CHECK(type != INTR_TYPE_OTHER, "event injection: type 7 needs the monitor trap flag");
	CHECK(type != INTR_TYPE_NMI || vector == 2, "event injection: NMI with vector other than 2");
	CHECK(type != INTR_TYPE_HW_EXCEPTION || vector <= 31,
	      "event injection: hardware exception vector above 31");
	/* Deliver-error-code is 1 exactly when the event pushes one: a hardware
	 * exception with an error code, unless unrestricted guest runs it in real mode. */
	bool pushes = type == INTR_TYPE_HW_EXCEPTION && vector_has_error_code(vector) &&
		      (!(vmcs12_proc2(v) & PROC2_UNRESTRICTED_GUEST) || (v->GUEST_CR0 & CR0_PE));
	CHECK(!(info & INTR_INFO_DELIVER_CODE) || pushes,
	      "event injection: deliver-error-code for an event without an error code");
	CHECK((info & INTR_INFO_DELIVER_CODE) || !pushes,
	      "event injection: an exception that pushes an error code without deliver-error-code");
	CHECK(!(info & 0x7ffff000u), "event injection: reserved bits 30:12 set");
	CHECK(!(info & INTR_INFO_DELIVER_CODE) || !(v->VM_ENTRY_EXCEPTION_ERROR_CODE >> 16),
	      "event injection: error code bits 31:16 set");
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SW_EXCEPTION)
		CHECK(v->VM_ENTRY_INSTRUCTION_LEN >= 1 && v->VM_ENTRY_INSTRUCTION_LEN <= 15,
		      "event injection: instruction length not in 1..15");
	return 0;
}

/* 26.2.1.1: the EPTP (29.3.2's format, as L1's EPT capabilities allow), the VPID. */
static const char *check_ept_vpid(const struct vmcs12 *v, const struct vmx_caps *c, unsigned w)
{
	uint32_t proc2 = vmcs12_proc2(v);
	const struct ept12_caps ept = nested_ept12_caps(c, w);
	const char *why;

	if (proc2 & PROC2_ENABLE_EPT) {
		why = ept12_eptp_check(v->EPT_POINTER, &ept);
		if (why)
			return why;
	}
	CHECK(!(proc2 & PROC2_ENABLE_VPID) || v->VIRTUAL_PROCESSOR_ID,
	      "enable VPID with VPID 0");
	CHECK(!(proc2 & PROC2_UNRESTRICTED_GUEST) || (proc2 & PROC2_ENABLE_EPT),
	      "unrestricted guest without enable EPT");
	return 0;
}

const char *nested_check_controls(const struct vmcs12 *v, const struct entry_check_env *env)
{
	const struct vmx_caps *c = &env->caps->l1;
	unsigned w = env->maxphyaddr;
	uint32_t pin = v->PIN_BASED_VM_EXEC_CONTROL, proc = v->CPU_BASED_VM_EXEC_CONTROL;

	/* 26.2.1.1 "VM-Execution Control Fields" */
	CHECK(ctl_ok(c->pin, pin), "pin-based controls not allowed by IA32_VMX_TRUE_PINBASED_CTLS");
	CHECK(ctl_ok(c->proc, proc),
	      "processor-based controls not allowed by IA32_VMX_TRUE_PROCBASED_CTLS");
	CHECK(!(proc & PROC_ACTIVATE_SECONDARY) || ctl_ok(c->proc2, v->SECONDARY_VM_EXEC_CONTROL),
	      "secondary controls not allowed by IA32_VMX_PROCBASED_CTLS2");
	CHECK(v->CR3_TARGET_COUNT <= ((c->misc >> 16) & 0x1ff), "CR3-target count too large");
	CHECK(!(proc & PROC_USE_IO_BITMAPS) || (addr_ok(v->IO_BITMAP_A, 4096, w) &&
						addr_ok(v->IO_BITMAP_B, 4096, w)),
	      "I/O bitmap address unaligned or beyond the physical-address width");
	CHECK(!(proc & PROC_USE_MSR_BITMAPS) || addr_ok(v->MSR_BITMAP, 4096, w),
	      "MSR bitmap address unaligned or beyond the physical-address width");
	CHECK((pin & PIN_NMI_EXITING) || !(pin & PIN_VIRTUAL_NMIS),
	      "virtual NMIs without NMI exiting");
	CHECK((pin & PIN_VIRTUAL_NMIS) || !(proc & PROC_NMI_WINDOW_EXITING),
	      "NMI-window exiting without virtual NMIs");
	const char *e = check_ept_vpid(v, c, w);
	if (e)
		return e;

	/* 26.2.1.2 "VM-Exit Control Fields" */
	CHECK(ctl_ok(c->exit, v->VM_EXIT_CONTROLS), "VM-exit controls not allowed by IA32_VMX_TRUE_EXIT_CTLS");
	CHECK((pin & PIN_PREEMPTION_TIMER) || !(v->VM_EXIT_CONTROLS & EXIT_SAVE_PREEMPTION_TIMER),
	      "save VMX-preemption timer value without activate VMX-preemption timer");
	CHECK(msr_list_ok(v->VM_EXIT_MSR_STORE_ADDR, v->VM_EXIT_MSR_STORE_COUNT, w),
	      "VM-exit MSR-store address unaligned or beyond the physical-address width");
	CHECK(msr_list_ok(v->VM_EXIT_MSR_LOAD_ADDR, v->VM_EXIT_MSR_LOAD_COUNT, w),
	      "VM-exit MSR-load address unaligned or beyond the physical-address width");

	/* 26.2.1.3 "VM-Entry Control Fields" */
	CHECK(ctl_ok(c->entry, v->VM_ENTRY_CONTROLS),
	      "VM-entry controls not allowed by IA32_VMX_TRUE_ENTRY_CTLS");
	e = check_event_injection(v, c);
	if (e)
		return e;
	CHECK(msr_list_ok(v->VM_ENTRY_MSR_LOAD_ADDR, v->VM_ENTRY_MSR_LOAD_COUNT, w),
	      "VM-entry MSR-load address unaligned or beyond the physical-address width");
	return 0;
}

#define SEL_RPL_TI 7u

const char *nested_check_host_state(const struct vmcs12 *v, const struct entry_check_env *env)
{
	const struct vmx_caps *c = &env->caps->l1;
	bool host64 = v->VM_EXIT_CONTROLS & EXIT_HOST_ADDR_SPACE_SIZE;
	bool guest64 = v->VM_ENTRY_CONTROLS & ENTRY_IA32E_MODE_GUEST;

	/* 26.2.2 "Checks on Host Control Registers, MSRs, and SSP" */
	CHECK((v->HOST_CR0 & c->cr0_fixed0) == c->cr0_fixed0 && !(v->HOST_CR0 & ~c->cr0_fixed1),
	      "host CR0 violates IA32_VMX_CR0_FIXED0/1");
	CHECK((v->HOST_CR4 & c->cr4_fixed0) == c->cr4_fixed0 && !(v->HOST_CR4 & ~c->cr4_fixed1),
	      "host CR4 violates IA32_VMX_CR4_FIXED0/1");
	CHECK(!(v->HOST_CR3 >> env->maxphyaddr), "host CR3 beyond the physical-address width");
	CHECK(x86_canonical(v->HOST_IA32_SYSENTER_ESP) && x86_canonical(v->HOST_IA32_SYSENTER_EIP),
	      "host IA32_SYSENTER_ESP/EIP not canonical");
	CHECK(!(v->VM_EXIT_CONTROLS & EXIT_LOAD_PAT) || x86_pat_valid(v->HOST_IA32_PAT),
	      "host IA32_PAT has an invalid memory type");
	if (v->VM_EXIT_CONTROLS & EXIT_LOAD_EFER) {
		CHECK(!(v->HOST_IA32_EFER & ~(uint64_t)EFER_DEFINED), "host IA32_EFER reserved bits set");
		CHECK(!!(v->HOST_IA32_EFER & EFER_LMA) == host64 &&
			      !!(v->HOST_IA32_EFER & EFER_LME) == host64,
		      "host IA32_EFER.LMA/LME differ from host address-space size");
	}

	/* 26.2.3 "Checks on Host Segment and Descriptor-Table Registers" */
	CHECK(!((v->HOST_ES_SELECTOR | v->HOST_CS_SELECTOR | v->HOST_SS_SELECTOR |
		 v->HOST_DS_SELECTOR | v->HOST_FS_SELECTOR | v->HOST_GS_SELECTOR |
		 v->HOST_TR_SELECTOR) & SEL_RPL_TI),
	      "host selector with RPL or TI set");
	CHECK(v->HOST_CS_SELECTOR, "host CS selector is 0");
	CHECK(v->HOST_TR_SELECTOR, "host TR selector is 0");
	CHECK(host64 || v->HOST_SS_SELECTOR, "host SS selector is 0 without a 64-bit host");
	CHECK(x86_canonical(v->HOST_FS_BASE) && x86_canonical(v->HOST_GS_BASE) &&
		      x86_canonical(v->HOST_GDTR_BASE) && x86_canonical(v->HOST_IDTR_BASE) &&
		      x86_canonical(v->HOST_TR_BASE),
	      "host FS/GS/GDTR/IDTR/TR base not canonical");

	/* 26.2.4 "Checks Related to Address-Space Size" */
	if (env->l1_long_mode)
		CHECK(host64, "host address-space size is 0 while L1 is in IA-32e mode");
	else
		CHECK(!guest64 && !host64,
		      "IA-32e mode guest or host address-space size outside IA-32e mode");
	if (host64) {
		CHECK(v->HOST_CR4 & CR4_PAE, "64-bit host without CR4.PAE");
		CHECK(x86_canonical(v->HOST_RIP), "host RIP not canonical");
	} else {
		CHECK(!(v->HOST_CR4 & CR4_PCIDE), "host CR4.PCIDE without a 64-bit host");
		CHECK(!(v->HOST_RIP >> 32), "host RIP above 4 GiB without a 64-bit host");
	}
	return 0;
}

bool nested_guest_field_checked(unsigned index)
{
	/* What nested_check_guest_state reads besides RIP (and the controls);
	 * tests/unit/test_nested_checks.c holds the two together. */
	return index == V12_GUEST_ACTIVITY_STATE || index == V12_GUEST_CR0 ||
	       index == V12_GUEST_CR4 || index == V12_GUEST_IA32_PAT ||
	       index == V12_GUEST_IA32_EFER || index == V12_GUEST_CS_AR_BYTES ||
	       index == V12_VMCS_LINK_POINTER;
}

/*
 * 26.3.1.1: the paging mode "IA-32e mode guest" asks for, and the IA32_EFER
 * field that goes with it where "load IA32_EFER" loads it. Like every check
 * of 26.3.1 they come before any guest state is loaded (26.3.2), the PDPTEs
 * of a PAE guest included (26.3.2.4): nested/vmcs02.c loads those only after
 * they passed, so that a wrong EFER gives qualification 0, not 2.
 */
static const char *check_guest_paging_mode(const struct vmcs12 *v)
{
	bool ia32e = v->VM_ENTRY_CONTROLS & ENTRY_IA32E_MODE_GUEST;
	bool pg = v->GUEST_CR0 & CR0_PG;
	uint64_t efer = v->GUEST_IA32_EFER;

	CHECK(!ia32e || (pg && (v->GUEST_CR4 & CR4_PAE)),
	      "IA-32e mode guest without guest CR0.PG and CR4.PAE");
	CHECK(ia32e || !(v->GUEST_CR4 & CR4_PCIDE), "guest CR4.PCIDE without IA-32e mode guest");
	if (!(v->VM_ENTRY_CONTROLS & ENTRY_LOAD_EFER))
		return 0;
	CHECK(!(efer & ~(uint64_t)EFER_DEFINED), "guest IA32_EFER reserved bits set");
	CHECK(!!(efer & EFER_LMA) == ia32e, "guest IA32_EFER.LMA differs from IA-32e mode guest");
	CHECK(!pg || !!(efer & EFER_LMA) == !!(efer & EFER_LME),
	      "guest IA32_EFER.LME differs from LMA with guest CR0.PG = 1");
	return 0;
}

const char *nested_check_guest_state(const struct vmcs12 *v, const struct entry_check_env *env,
				     uint64_t *qualification)
{
	const struct vmx_caps *c = &env->caps->l1;
	unsigned activity = v->GUEST_ACTIVITY_STATE;
	uint64_t fixed0 = c->cr0_fixed0 & ((vmcs12_proc2(v) & PROC2_UNRESTRICTED_GUEST)
						   ? ~(CR0_PE | CR0_PG) : ~0ull);
	const char *why;
	uint32_t rev;

	*qualification = 0;
	/* 26.3.1.5: activity states L1 was told exist (IA32_VMX_MISC bits 8:6). */
	CHECK(activity == ACTIVITY_ACTIVE || (activity == ACTIVITY_HLT && (c->misc & VMX_MISC_ACTIVITY_HLT)),
	      "guest activity state not supported");
	/* 26.3.1.1: L1's CR0/CR4 fixed bits; unrestricted guest frees PE and PG. */
	CHECK((v->GUEST_CR0 & fixed0) == fixed0 && !(v->GUEST_CR0 & ~c->cr0_fixed1),
	      "guest CR0 violates IA32_VMX_CR0_FIXED0/1");
	CHECK(!(v->GUEST_CR0 & CR0_PG) || (v->GUEST_CR0 & CR0_PE), "guest CR0.PG without CR0.PE");
	CHECK((v->GUEST_CR4 & c->cr4_fixed0) == c->cr4_fixed0 && !(v->GUEST_CR4 & ~c->cr4_fixed1),
	      "guest CR4 violates IA32_VMX_CR4_FIXED0/1");
	CHECK(!(v->VM_ENTRY_CONTROLS & ENTRY_LOAD_PAT) || x86_pat_valid(v->GUEST_IA32_PAT),
	      "guest IA32_PAT has an invalid memory type");
	why = check_guest_paging_mode(v);
	if (why)
		return why;
	why = nested_check_guest_rip(v);
	if (why)
		return why;
	/* 26.3.1.5 "Checks on Guest Non-Register State": the VMCS link pointer. */
	if (v->VMCS_LINK_POINTER != ~0ull) {
		*qualification = 4;
		CHECK(!(v->VMCS_LINK_POINTER & 0xfff) && !(v->VMCS_LINK_POINTER >> env->maxphyaddr),
		      "VMCS link pointer unaligned or beyond the physical-address width");
		CHECK(env->read_l1 && env->read_l1(v->VMCS_LINK_POINTER, &rev, 4),
		      "VMCS link pointer is not L1 memory");
		CHECK(rev == NV_VMCS12_REVISION, "VMCS link pointer: wrong revision or shadow bit");
		*qualification = 0;
	}
	return 0;
}
