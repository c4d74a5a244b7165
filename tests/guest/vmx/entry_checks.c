/* SPDX-License-Identifier: MIT */
/*
 * VM-entry checks, SDM Vol. 3C, chapter 26 "VM Entries", in its order:
 * 26.1 basic checks (VMfailInvalid, VMfailValid 26, 4, 5), 26.2 controls
 * (VMfailValid 7) and host state (VMfailValid 8), 26.3 guest state and 26.4
 * MSR loading (a VM exit with reason 33 or 34 and bit 31 set, 28.8 "VM-Entry
 * Failures During or After Loading Guest State", loading L1's host state).
 * Each case starts from a VMCS that enters fine (checked first) and breaks one
 * thing.
 */
#include "vmx.h"

#define NONCANONICAL 0x8000000000000000ull
#define CR0_BIT32    (1ull << 32)
#define EFER_BIT9    (1ull << 9)        /* reserved (SDM Vol. 3A, 2.2.1, Table 2-1) */
#define SEL_TI       4u         /* selector bit 2: LDT */
#define SEL_RPL3     3u

static struct l2 g;

static void fresh(void)
{
	l2_init(&g, l2_vmcall_only);
}

static bool vmfail(uint32_t err, const char *what)
{
	l2_enter(&g, L2_LAUNCH);
	return check_res(g.entry, WANT_VALID(err), "VMLAUNCH with %s", what);
}

/* 28.8: the failure is a VM exit to HOST_RIP with reason | bit 31. */
static bool entry_fails(uint32_t reason, uint64_t qual, const char *what)
{
	bool ok;

	l2_enter(&g, L2_LAUNCH);
	ok = check_exit(&g, reason | EXIT_REASON_ENTRY_FAILURE, NULL, "VMLAUNCH with %s", what);
	if (ok)
		report(g.exit.qual == qual, "... %s: exit qualification %llu (got 0x%llx)", what,
		       U64(qual), U64(g.exit.qual));
	return ok;
}

static unsigned lowest_bit(uint32_t v)
{
	return (unsigned)__builtin_ctz(v);
}

static void basic_checks(void)
{
	struct vmx_res cur;
	uint64_t rip;

	fresh();
	vmclear(region_pa(g.vmcs));             /* no current VMCS now */
	cur = vmptrst();
	l2_enter(&g, L2_LAUNCH);
	check_res(g.entry, WANT_INVALID, "VMLAUNCH with no current VMCS (VMPTRST 0x%llx)",
		  U64(cur.value));
	l2_enter(&g, L2_RESUME);
	check_res(g.entry, WANT_INVALID, "VMRESUME with no current VMCS");

	fresh();
	l2_enter(&g, L2_LAUNCH);
	check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_only,
		   "baseline: VMLAUNCH of the unmodified L2 VMCS, L2 runs VMCALL");
	check_res(g.entry, WANT_OK, "baseline: L1 is back at HOST_RIP after the exit");
	l2_enter(&g, L2_LAUNCH);
	check_res(g.entry, WANT_VALID(VMXERR_VMLAUNCH_NOT_CLEAR), "VMLAUNCH of a launched VMCS");
	l2_enter(&g, L2_RESUME);
	check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_only, "VMRESUME of the launched VMCS");

	fresh();
	l2_enter(&g, L2_RESUME);
	check_res(g.entry, WANT_VALID(VMXERR_VMRESUME_NOT_LAUNCHED), "VMRESUME of a clear VMCS");
	l2_enter(&g, L2_LAUNCH_MOVSS);
	check_res(g.entry, WANT_VALID(VMXERR_ENTRY_MOV_SS_BLOCKING),
		  "VMLAUNCH right after MOV SS (blocking by MOV SS)");

	/* VMCLEAR makes a launched VMCS clear again (31.3 VMCLEAR). */
	fresh();
	l2_run(&g);
	vmclear(region_pa(g.vmcs));
	vmptrld(region_pa(g.vmcs));
	l2_enter(&g, L2_RESUME);
	check_res(g.entry, WANT_VALID(VMXERR_VMRESUME_NOT_LAUNCHED),
		  "VMRESUME after VMCLEAR + VMPTRLD of a launched VMCS");
	rip = vmr(VMCS_GUEST_RIP);
	l2_enter(&g, L2_LAUNCH);
	check_exit(&g, EXIT_REASON_VMCALL, (void *)rip, "VMLAUNCH after VMCLEAR keeps the fields");
}

/* ---- 26.2.1 "Checks on VMX Controls": VMfailValid(7) ---------------------- */

static void ctl_must_be_one(uint32_t field, const struct ctl_cap *c, const char *name)
{
	uint32_t need = c->allowed0 & ~(field == VMCS_EXIT_CONTROLS ? EXIT_HOST_ADDR_SPACE : 0) &
			~(field == VMCS_ENTRY_CONTROLS ? ENTRY_IA32E_GUEST : 0);
	char what[96];
	unsigned b;

	if (!need) {
		report_skip("%s: no bit must be 1 (allowed0 0x%08x)", name, c->allowed0);
		return;
	}
	b = lowest_bit(need);
	fresh();
	vmw(field, vmr(field) & ~(1ull << b));
	nv_snprintf(what, sizeof(what), "%s bit %u (must be 1) cleared", name, b);
	vmfail(VMXERR_ENTRY_BAD_CONTROLS, what);
}

static void ctl_must_be_zero(uint32_t field, const struct ctl_cap *c, const char *name)
{
	char what[96];
	unsigned b;

	if (c->allowed1 == 0xFFFFFFFF) {
		report_skip("%s: every bit may be 1", name);
		return;
	}
	b = lowest_bit(~c->allowed1);
	fresh();
	if (field == VMCS_PROC_CONTROLS2)
		vmw(VMCS_PROC_CONTROLS, vmr(VMCS_PROC_CONTROLS) | PROC_SECONDARY_CONTROLS);
	vmw(field, vmr(field) | (1ull << b));
	nv_snprintf(what, sizeof(what), "%s bit %u (must be 0) set", name, b);
	vmfail(VMXERR_ENTRY_BAD_CONTROLS, what);
}

/* One control case: set `bits` of a control field (skipped if not allowed),
 * then write `value` to `field`. */
static void ctl_case(uint32_t ctl, uint32_t bits, uint32_t field, uint64_t value, const char *what)
{
	fresh();
	if (ctl && !l2_set_ctl(ctl, bits)) {
		report_skip("VMLAUNCH with %s: control 0x%x of 0x%x not allowed", what, bits, ctl);
		return;
	}
	if (field)
		vmw(field, value);
	vmfail(VMXERR_ENTRY_BAD_CONTROLS, what);
}

static void control_checks(void)
{
	uint64_t page = region_pa(&scratch_page), beyond = 1ull << caps.maxphyaddr;

	ctl_must_be_one(VMCS_PIN_CONTROLS, &caps.pin, "pin-based controls");
	ctl_must_be_one(VMCS_PROC_CONTROLS, &caps.proc, "primary processor-based controls");
	ctl_must_be_one(VMCS_EXIT_CONTROLS, &caps.exit, "VM-exit controls");
	ctl_must_be_one(VMCS_ENTRY_CONTROLS, &caps.entry, "VM-entry controls");
	ctl_must_be_zero(VMCS_PIN_CONTROLS, &caps.pin, "pin-based controls");
	ctl_must_be_zero(VMCS_PROC_CONTROLS, &caps.proc, "primary processor-based controls");
	ctl_must_be_zero(VMCS_EXIT_CONTROLS, &caps.exit, "VM-exit controls");
	ctl_must_be_zero(VMCS_ENTRY_CONTROLS, &caps.entry, "VM-entry controls");
	if (can_set(&caps.proc, PROC_SECONDARY_CONTROLS))
		ctl_must_be_zero(VMCS_PROC_CONTROLS2, &caps.proc2, "secondary processor-based controls");

	ctl_case(VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS, VMCS_IO_BITMAP_A, page | 0x800,
		 "I/O bitmap A not 4 KiB aligned (use I/O bitmaps)");
	ctl_case(VMCS_PROC_CONTROLS, PROC_USE_IO_BITMAPS, VMCS_IO_BITMAP_B, beyond,
		 "I/O bitmap B at 1 << MAXPHYADDR (use I/O bitmaps)");
	ctl_case(VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS, VMCS_MSR_BITMAP, page | 8,
		 "MSR bitmap not 4 KiB aligned (use MSR bitmaps)");
	ctl_case(0, 0, VMCS_CR3_TARGET_COUNT, MISC_CR3_TARGETS(caps.misc) + 1,
		 "CR3-target count one above IA32_VMX_MISC[24:16]");
	ctl_case(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW, VMCS_VIRTUAL_APIC_ADDR, page | 0x10,
		 "virtual-APIC address not 4 KiB aligned (use TPR shadow)");
	ctl_case(VMCS_PROC_CONTROLS, PROC_NMI_WINDOW, 0, 0,
		 "NMI-window exiting without virtual NMIs");
	ctl_case(VMCS_PIN_CONTROLS, PIN_VIRTUAL_NMIS, 0, 0, "virtual NMIs without NMI exiting");
	ctl_case(VMCS_PROC_CONTROLS2, PROC2_ENABLE_VPID, VMCS_VPID, 0, "enable VPID and VPID 0");
	ctl_case(VMCS_PROC_CONTROLS2, PROC2_ENABLE_EPT, VMCS_EPT_POINTER, page | 2 | (3 << 3),
		 "enable EPT and EPTP memory type 2 (reserved)");
	ctl_case(VMCS_PROC_CONTROLS2, PROC2_UNRESTRICTED_GUEST, 0, 0,
		 "unrestricted guest without enable EPT");
	ctl_case(VMCS_EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER, 0, 0,
		 "save VMX-preemption timer value without activating the timer");
	/* Bochs 2.7 deviation: it does not check "entry to SMM" (the guest runs). */
	if (bare_metal_bochs)
		report_skip("VMLAUNCH with entry to SMM outside SMM -> VMfailValid(7): Bochs 2.7 "
			    "does not check it");
	else
		ctl_case(VMCS_ENTRY_CONTROLS, ENTRY_SMM, 0, 0, "entry to SMM outside SMM");
	ctl_case(VMCS_ENTRY_CONTROLS, ENTRY_DEACT_DUAL_MONITOR, 0, 0,
		 "deactivate dual-monitor treatment outside SMM");
}

/* The MSR-list address checks apply only with a non-zero count (26.2.1.2/3). */
static void msr_list_address_checks(void)
{
	uint64_t page = region_pa(&scratch_page);

	fresh();
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, page | 8);
	vmw(VMCS_EXIT_MSR_STORE_ADDR, page | 4);
	vmw(VMCS_EXIT_MSR_LOAD_ADDR, 1ull << caps.maxphyaddr);
	l2_enter(&g, L2_LAUNCH);
	check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_only,
		   "VMLAUNCH with bad MSR-list addresses but all counts 0 (not checked)");

	fresh();
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, page | 8);
	vmfail(VMXERR_ENTRY_BAD_CONTROLS, "VM-entry MSR-load count 1, address bits 3:0 != 0");
	fresh();
	vmw(VMCS_EXIT_MSR_STORE_COUNT, 1);
	vmw(VMCS_EXIT_MSR_STORE_ADDR, page | 4);
	vmfail(VMXERR_ENTRY_BAD_CONTROLS, "VM-exit MSR-store count 1, address bits 3:0 != 0");
	fresh();
	vmw(VMCS_EXIT_MSR_LOAD_COUNT, 1);
	vmw(VMCS_EXIT_MSR_LOAD_ADDR, 1ull << caps.maxphyaddr);
	vmfail(VMXERR_ENTRY_BAD_CONTROLS, "VM-exit MSR-load count 1, address at 1 << MAXPHYADDR");
}

/* 26.2.1.3 "VM-Entry Control Fields": the event-injection field. */
static void injection_checks(void)
{
	struct { uint32_t info, error, len; const char *what; bool run; } c[] = {
		{ INTR_INFO(6, INTR_TYPE_RESERVED), 0, 0, "injection type 1 (reserved)", true },
		{ INTR_INFO(3, INTR_TYPE_NMI), 0, 0, "NMI injection with vector 3", true },
		{ INTR_INFO(32, INTR_TYPE_HW_EXCEPTION), 0, 0, "hardware exception vector 32", true },
		{ INTR_INFO(6, INTR_TYPE_HW_EXCEPTION) | (1u << 12), 0, 0,
		  "injection info bit 12 set (bits 30:12 reserved)", true },
		{ INTR_INFO(13, INTR_TYPE_HW_EXCEPTION) | INTR_INFO_ERROR_CODE, 0x10000, 0,
		  "#GP injection with error code bits 31:16 set", true },
		{ INTR_INFO(0x50, INTR_TYPE_SW_INTERRUPT), 0, 16,
		  "software interrupt injection with instruction length 16", true },
		{ INTR_INFO(0x50, INTR_TYPE_SW_INTERRUPT), 0, 0,
		  "software interrupt injection with instruction length 0 (IA32_VMX_MISC[30] = 0)",
		  !(caps.misc & MISC_INJECT_ZERO_LEN) },
		{ INTR_INFO(6, INTR_TYPE_HW_EXCEPTION) | INTR_INFO_ERROR_CODE, 0, 0,
		  "#UD injection with an error code (IA32_VMX_BASIC[56] = 0)",
		  !(caps.basic & BASIC_NO_ERRCODE_CHECK) },
		{ INTR_INFO(13, INTR_TYPE_HW_EXCEPTION), 0, 0,
		  "#GP injection without an error code (IA32_VMX_BASIC[56] = 0)",
		  !(caps.basic & BASIC_NO_ERRCODE_CHECK) },
		/* Bochs 2.7 deviation: stops with "VMENTER: unsupported event
		 * injection type 7" instead of failing the entry. */
		{ INTR_INFO(0, INTR_TYPE_OTHER), 0, 0,
		  "injection type 7 (other event) without monitor trap flag support",
		  !can_set(&caps.proc, PROC_MONITOR_TRAP_FLAG) && !bare_metal_bochs },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (!c[i].run) {
			report_skip("VMLAUNCH with %s: not applicable here%s", c[i].what,
				    c[i].info == INTR_INFO(0, INTR_TYPE_OTHER) && bare_metal_bochs ?
				    " (Bochs 2.7 panics: \"unsupported event injection type 7\")" : "");
			continue;
		}
		fresh();
		vmw(VMCS_ENTRY_INTR_INFO, c[i].info);
		vmw(VMCS_ENTRY_EXCEPTION_ERROR, c[i].error);
		vmw(VMCS_ENTRY_INSN_LEN, c[i].len);
		vmfail(VMXERR_ENTRY_BAD_CONTROLS, c[i].what);
	}
}

/*
 * 26.2.1.3 with "unrestricted guest" and guest CR0.PE = 0: an exception
 * delivered in real mode pushes no error code, so deliver-error-code must be 0
 * for #GP too. L2 is a real-mode guest on an EPT whose PML4 is empty: an
 * injection the checks accept faults on its first access (a push on its stack
 * or the read of its IVT), and L1 gets an EPT violation with the injected
 * event as IDT-vectoring info.
 */
static struct vmx_region empty_pml4;

#define REAL_AR_CODE  (AR_TYPE(AR_TYPE_CODE_RX_ACCESSED) | AR_S | AR_P)
#define REAL_AR_DATA  (AR_TYPE(AR_TYPE_DATA_RW_ACCESSED) | AR_S | AR_P)
#define REAL_LIMIT    0xFFFFu
#define REAL_IVT_LIMIT 0x3FFu

static bool fresh_real_mode(void)
{
	static const uint32_t segs[] = {
		VMCS_GUEST_ES_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL, VMCS_GUEST_FS_SEL,
		VMCS_GUEST_GS_SEL,
	};
	uint64_t cr0 = cr0_fixed(read_cr0()) & ~(uint64_t)(CR0_PG | CR0_PE);
	uint64_t mt = (caps.ept_vpid & EPT_CAP_WB) ? MT_WB : MT_UC;

	fresh();
	if (!l2_set_ctl(VMCS_PROC_CONTROLS2, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST) ||
	    !(caps.ept_vpid & EPT_CAP_WALK4) || !(caps.ept_vpid & (EPT_CAP_WB | EPT_CAP_UC)))
		return false;
	memset(&empty_pml4, 0, sizeof(empty_pml4));
	vmw(VMCS_EPT_POINTER, region_pa(&empty_pml4) | EPTP_MEMTYPE(mt) | EPTP_WALK4);
	l2_clear_ctl(VMCS_ENTRY_CONTROLS, ENTRY_IA32E_GUEST);
	vmw(VMCS_GUEST_CR0, cr0);
	vmw(VMCS_CR0_READ_SHADOW, cr0);
	l2_write_segment(VMCS_GUEST_CS_SEL, 0, REAL_AR_CODE, REAL_LIMIT, 0);
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		l2_write_segment(segs[i], 0, REAL_AR_DATA, REAL_LIMIT, 0);
	l2_write_segment(VMCS_GUEST_TR_SEL, 0, AR_TYPE(11) | AR_P, REAL_LIMIT, 0);
	vmw(VMCS_GUEST_GDTR_BASE, 0);
	vmw(VMCS_GUEST_GDTR_LIMIT, REAL_LIMIT);
	vmw(VMCS_GUEST_IDTR_BASE, 0);
	vmw(VMCS_GUEST_IDTR_LIMIT, REAL_IVT_LIMIT);
	vmw(VMCS_GUEST_RIP, 0x1000);
	vmw(VMCS_GUEST_RSP, 0x2000);
	vmw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	return true;
}

static void injection_real_mode(void)
{
	const uint32_t gp = INTR_INFO(VEC_GP, INTR_TYPE_HW_EXCEPTION);
	const char *what = "unrestricted guest, guest CR0.PE = 0: #GP injection";

	if (caps.basic & BASIC_NO_ERRCODE_CHECK) {
		report_skip("%s: IA32_VMX_BASIC[56] = 1, deliver-error-code is not checked", what);
		return;
	}
	if (!fresh_real_mode()) {
		report_skip("%s: EPT (4-level, WB or UC) with unrestricted guest is not offered", what);
		return;
	}
	vmw(VMCS_ENTRY_INTR_INFO, gp | INTR_INFO_ERROR_CODE);
	vmw(VMCS_ENTRY_EXCEPTION_ERROR, 0);
	vmfail(VMXERR_ENTRY_BAD_CONTROLS, "unrestricted guest, guest CR0.PE = 0 (real mode): #GP "
	       "injection with deliver-error-code (real mode pushes none)");

	fresh_real_mode();
	vmw(VMCS_ENTRY_INTR_INFO, gp);
	l2_enter(&g, L2_LAUNCH);
	if (check_exit(&g, EXIT_REASON_EPT_VIOLATION, (void *)0x1000,
		       "VMLAUNCH with %s without deliver-error-code: accepted, its delivery "
		       "faults on an empty EPT", what))
		report(g.exit.idt_info == gp,
		       "... real-mode #GP: IDT-vectoring info 0x%08x, no error code (got 0x%08x; "
		       "the access was to guest-physical 0x%llx)", gp, g.exit.idt_info,
		       U64(vmr(VMCS_GUEST_PHYSICAL_ADDR)));
}

/* ---- 26.2.2-26.2.4: host state, VMfailValid(8) ----------------------------- */

static void host_case(uint32_t field, uint64_t value, const char *what)
{
	fresh();
	vmw(field, value);
	vmfail(VMXERR_ENTRY_BAD_HOST_STATE, what);
}

static void host_checks(void)
{
	ureg_t cr0 = read_cr0(), cr4 = read_cr4();

	host_case(VMCS_HOST_CR0, cr0 & ~(ureg_t)CR0_NE, "host CR0.NE = 0 (CR0_FIXED0 bit 5)");
	/* 26.2.2: bits 63:32 of CR0 are reserved, 0 in IA32_VMX_CR0_FIXED1. */
	if (caps.cr0_fixed1 & CR0_BIT32)
		report_skip("VMLAUNCH with host CR0 bit 32 set: IA32_VMX_CR0_FIXED1 allows it");
	else
		host_case(VMCS_HOST_CR0, cr0 | CR0_BIT32, "host CR0 bit 32 set (0 in CR0_FIXED1)");
	host_case(VMCS_HOST_CR4, cr4 & ~(ureg_t)CR4_VMXE, "host CR4.VMXE = 0 (CR4_FIXED0 bit 13)");
	host_case(VMCS_HOST_CR4, cr4 & ~(ureg_t)CR4_PAE, "host CR4.PAE = 0 with a 64-bit host");
	host_case(VMCS_HOST_CR3, read_cr3() | (1ull << caps.maxphyaddr),
		  "host CR3 with a bit at MAXPHYADDR");
	host_case(VMCS_HOST_RIP, NONCANONICAL, "host RIP non-canonical (0x8000000000000000)");
	host_case(VMCS_HOST_SS_SEL, SEL_DATA32 | SEL_TI, "host SS selector with TI = 1");
	host_case(VMCS_HOST_DS_SEL, SEL_DATA32 | SEL_RPL3, "host DS selector with RPL 3");
	host_case(VMCS_HOST_CS_SEL, 0, "host CS selector 0");
	host_case(VMCS_HOST_TR_SEL, 0, "host TR selector 0");
	host_case(VMCS_HOST_FS_BASE, NONCANONICAL, "host FS base non-canonical");
	host_case(VMCS_HOST_GDTR_BASE, NONCANONICAL, "host GDTR base non-canonical");
	host_case(VMCS_HOST_TR_BASE, NONCANONICAL, "host TR base non-canonical");
	host_case(VMCS_HOST_SYSENTER_EIP, NONCANONICAL, "host IA32_SYSENTER_EIP non-canonical");
	fresh();
	vmw(VMCS_EXIT_CONTROLS, vmr(VMCS_EXIT_CONTROLS) & ~(uint64_t)EXIT_HOST_ADDR_SPACE);
	vmw(VMCS_ENTRY_CONTROLS, vmr(VMCS_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_GUEST);
	vmfail(VMXERR_ENTRY_BAD_HOST_STATE,
	       "host address-space size = 0 while L1 is in IA-32e mode (32-bit guest)");
	fresh();
	if (l2_set_ctl(VMCS_EXIT_CONTROLS, EXIT_LOAD_EFER)) {
		vmw(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER) & ~(uint64_t)(EFER_LMA | EFER_LME));
		vmfail(VMXERR_ENTRY_BAD_HOST_STATE,
		       "load IA32_EFER on exit, host EFER.LMA/LME = 0 with host address-space size 1");
	} else {
		report_skip("host EFER checks: \"load IA32_EFER\" exit control not allowed");
	}
	fresh();
	if (l2_set_ctl(VMCS_EXIT_CONTROLS, EXIT_LOAD_PAT)) {
		vmw(VMCS_HOST_PAT, 0x0000000000000002ull);     /* PA0 type 2: reserved */
		vmfail(VMXERR_ENTRY_BAD_HOST_STATE, "load IA32_PAT on exit, host PAT entry 0 type 2");
	} else {
		report_skip("host PAT checks: \"load IA32_PAT\" exit control not allowed");
	}
}

/* ---- 26.3: guest state, exit reason 33 ------------------------------------- */

static void guest_case(uint32_t field, uint64_t value, const char *what)
{
	fresh();
	vmw(field, value);
	if (entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_NONE, what)) {
		/* 26.7/28.8: the VMCS stays clear. */
		l2_enter(&g, L2_RESUME);
		check_res(g.entry, WANT_VALID(VMXERR_VMRESUME_NOT_LAUNCHED),
			  "... %s: VMRESUME after the failure (VMCS still clear)", what);
	}
}

static void guest_checks(void)
{
	ureg_t cr0 = read_cr0(), cr4 = read_cr4();

	guest_case(VMCS_GUEST_CR0, cr0 & ~(ureg_t)CR0_NE, "guest CR0.NE = 0");
	/* 26.3.1.1: the same fixed bits, bits 63:32 included. */
	if (caps.cr0_fixed1 & CR0_BIT32)
		report_skip("VMLAUNCH with guest CR0 bit 32 set: IA32_VMX_CR0_FIXED1 allows it");
	else
		guest_case(VMCS_GUEST_CR0, cr0 | CR0_BIT32, "guest CR0 bit 32 set (0 in CR0_FIXED1)");
	guest_case(VMCS_GUEST_CR4, cr4 & ~(ureg_t)CR4_VMXE, "guest CR4.VMXE = 0");
	guest_case(VMCS_GUEST_CR4, cr4 & ~(ureg_t)CR4_PAE, "guest CR4.PAE = 0 in an IA-32e mode guest");
	guest_case(VMCS_GUEST_CR3, read_cr3() | (1ull << caps.maxphyaddr),
		   "guest CR3 with a bit at MAXPHYADDR");
	guest_case(VMCS_GUEST_RFLAGS, 0, "guest RFLAGS bit 1 = 0");
	guest_case(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_RESERVED15, "guest RFLAGS bit 15 (reserved) = 1");
	guest_case(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_VM, "guest RFLAGS.VM = 1 in an IA-32e mode guest");
	/* 26.3.1.4. Bochs 2.7 deviation: not checked; L2 starts and takes #GP. */
	if (bare_metal_bochs)
		report_skip("VMLAUNCH with guest RIP non-canonical with CS.L = 1 -> exit 33: "
			    "Bochs 2.7 does not check it");
	else
		guest_case(VMCS_GUEST_RIP, NONCANONICAL, "guest RIP non-canonical with CS.L = 1");
	guest_case(VMCS_GUEST_CS_AR, (AR_CODE64 & ~0xFu) | AR_TYPE_DATA_RW_ACCESSED, "guest CS type 3 (data)");
	guest_case(VMCS_GUEST_SS_AR, AR_DATA | AR_DPL(3), "guest SS.DPL 3 with CS.DPL 0");
	guest_case(VMCS_GUEST_TR_AR, AR_TSS64_BUSY | AR_UNUSABLE, "guest TR unusable");
	guest_case(VMCS_GUEST_TR_AR, AR_TSS16_BUSY, "guest TR type 3 (16-bit busy TSS) in an IA-32e mode guest");
	guest_case(VMCS_GUEST_LDTR_AR, AR_TSS16_BUSY, "guest LDTR usable with type 3 (not an LDT, type 2)");
	guest_case(VMCS_GUEST_GDTR_BASE, NONCANONICAL, "guest GDTR base non-canonical");
	guest_case(VMCS_GUEST_IDTR_LIMIT, 0x10000, "guest IDTR limit bit 16 set");
	guest_case(VMCS_GUEST_SYSENTER_ESP, NONCANONICAL, "guest IA32_SYSENTER_ESP non-canonical");
	guest_case(VMCS_GUEST_ACTIVITY_STATE, 4, "guest activity state 4 (undefined)");
	guest_case(VMCS_GUEST_INTERRUPTIBILITY, 1u << 5, "guest interruptibility bit 5 (reserved)");
	guest_case(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS,
		   "guest blocking by STI and by MOV SS both");
	guest_case(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI,
		   "guest blocking by STI with RFLAGS.IF = 0");
	guest_case(VMCS_GUEST_PENDING_DBG, 1u << 4, "guest pending debug exceptions bit 4 (reserved)");
	guest_case(VMCS_ENTRY_INTR_INFO, INTR_INFO(0x30, INTR_TYPE_EXTERNAL),
		   "external-interrupt injection with guest RFLAGS.IF = 0");

	fresh();
	if (l2_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG)) {
		vmw(VMCS_GUEST_DR7, DR7_FIXED1 | (1ull << 32));
		entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_NONE,
			    "load debug controls and guest DR7 bit 32 set");
	}
	fresh();
	if (l2_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_EFER)) {
		vmw(VMCS_GUEST_EFER, rdmsr(MSR_IA32_EFER) & ~(uint64_t)EFER_LMA);
		entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_NONE,
			    "load IA32_EFER and guest EFER.LMA = 0 in an IA-32e mode guest");
	} else {
		report_skip("guest EFER checks: \"load IA32_EFER\" entry control not allowed");
	}

	/* 26.3.1.5: VMCS link pointer; 28.8: exit qualification 4. */
	fresh();
	region_init(&bad_region, caps.revision ^ 1);
	vmw(VMCS_VMCS_LINK_POINTER, region_pa(&bad_region));
	entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_LINK_PTR,
		    "VMCS link pointer to a region with a wrong revision identifier");
	fresh();
	vmw(VMCS_VMCS_LINK_POINTER, region_pa(&bad_region) | 0x100);
	entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_LINK_PTR,
		    "VMCS link pointer not 4 KiB aligned");

	/* After a failure, L1's host state is back: a usable GDT/IDT, our stack. */
	fresh();
	vmw(VMCS_GUEST_RFLAGS, 0);
	l2_enter(&g, L2_LAUNCH);
	report(g.entry.outcome == VMX_OK && g.exit.rip == (uintptr_t)l2_vmcall_only &&
	       read_cr3() == vmr(VMCS_HOST_CR3),
	       "after the failed entry the guest RIP field is unchanged and CR3 is the host's "
	       "(rip 0x%llx, cr3 0x%llx)", U64(g.exit.rip), U64(read_cr3()));
}

/*
 * 26.3.1.1 on the IA32_EFER field ("load IA32_EFER" = 1): reserved bits 0,
 * LMA = "IA-32e mode guest", LME = LMA while CR0.PG = 1. These checks come
 * before the guest state is loaded (26.3.2), so for a PAE guest they come
 * before its PDPTEs are loaded (26.3.2.4, qualification 2 on failure): L2
 * here is a 32-bit PAE guest on L1's CR3, whose PML4 entries are no valid
 * PDPTEs (R/W is reserved in a PDPTE), so only the check order decides the
 * exit qualification.
 */
static void fresh_pae_guest(void)
{
	fresh();
	l2_clear_ctl(VMCS_ENTRY_CONTROLS, ENTRY_IA32E_GUEST);
	l2_write_segment(VMCS_GUEST_CS_SEL, SEL_CODE32,
			 AR_TYPE(AR_TYPE_CODE_RX_ACCESSED) | AR_S | AR_P | AR_DB | AR_G, 0xFFFFFFFF, 0);
}

static void efer_checks(void)
{
	uint64_t efer = rdmsr(MSR_IA32_EFER);

	/* The control: with "load IA32_EFER" = 0, EFER.LMA/LME come from the
	 * control and are not checked; the PDPTEs fail to load. */
	fresh_pae_guest();
	entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_PDPTE,
		    "32-bit PAE guest on L1's CR3 (PML4 entries as PDPTEs, bit 1 reserved)");
	if (!can_set(&caps.entry, ENTRY_LOAD_EFER)) {
		report_skip("guest IA32_EFER field checks: \"load IA32_EFER\" entry control not allowed");
		return;
	}
	fresh_pae_guest();
	l2_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_EFER);
	vmw(VMCS_GUEST_EFER, efer);
	entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_NONE,
		    "load IA32_EFER, guest EFER.LMA = 1 without IA-32e mode guest (32-bit PAE "
		    "guest: the EFER check precedes PDPTE loading)");
	fresh_pae_guest();
	l2_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_EFER);
	vmw(VMCS_GUEST_EFER, (efer & ~(uint64_t)EFER_LMA) | EFER_LME);
	entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_NONE,
		    "load IA32_EFER, guest EFER.LME = 1, LMA = 0 with CR0.PG = 1 (32-bit PAE guest)");
	fresh();
	l2_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_EFER);
	vmw(VMCS_GUEST_EFER, efer & ~(uint64_t)EFER_LME);
	entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_NONE,
		    "load IA32_EFER, guest EFER.LME = 0, LMA = 1 with CR0.PG = 1 (IA-32e mode guest)");
	fresh();
	l2_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_EFER);
	vmw(VMCS_GUEST_EFER, efer | EFER_BIT9);
	entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_NONE,
		    "load IA32_EFER, guest EFER bit 9 (reserved) set");
	fresh();
	l2_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_EFER);
	vmw(VMCS_GUEST_EFER, efer);
	l2_enter(&g, L2_LAUNCH);
	check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_only,
		   "load IA32_EFER with L1's EFER (LMA = LME = 1) in an IA-32e mode guest: L2 runs");
}

/* ---- 26.4 "Loading MSRs": exit reason 34, qualification = entry number ----- */

struct msr_entry {
	uint32_t index, reserved;
	uint64_t value;
};

static struct msr_entry msr_list[4] __attribute__((aligned(16)));

static void msr_load_case(unsigned count, unsigned bad, const struct msr_entry *e, const char *what)
{
	fresh();
	for (unsigned i = 0; i < count; i++)
		msr_list[i] = (struct msr_entry){ MSR_STAR, 0, rdmsr(MSR_STAR) };
	msr_list[bad - 1] = *e;
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)msr_list);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, count);
	entry_fails(EXIT_REASON_MSR_LOADING, bad, what);
}

/*
 * IA32_EFER in the VM-entry MSR-load list, loaded "as WRMSR would" in L2's
 * context (26.4): WRMSR may not change LME while CR0.PG = 1 (Vol. 3A, 4.1.2
 * "Paging-Mode Enabling"), sets no reserved bit, and cannot change LMA, a
 * read-only bit (Vol. 3A, 2.2.1, Table 2-1 "IA32_EFER.LMA (R)").
 */
static struct vmx_region efer_msr_bitmap;

static void msr_load_efer_checks(void)
{
	uint64_t efer = rdmsr(MSR_IA32_EFER), got;

	msr_load_case(2, 2, &(struct msr_entry){ MSR_IA32_EFER, 0, efer & ~(uint64_t)EFER_LME },
		      "VM-entry MSR-load entry 2 of 2 clears IA32_EFER.LME while L2's CR0.PG = 1 "
		      "(WRMSR: #GP)");
	msr_load_case(1, 1, &(struct msr_entry){ MSR_IA32_EFER, 0, efer | EFER_BIT9 },
		      "VM-entry MSR-load entry 1 sets IA32_EFER bit 9 (reserved)");

	/* LMA clear in the entry, LME unchanged: WRMSR leaves LMA alone, L2 runs
	 * in IA-32e mode and reads EFER.LMA = 1 (MSR bitmap: RDMSR does not exit). */
	fresh();
	if (!l2_set_ctl(VMCS_PROC_CONTROLS, PROC_USE_MSR_BITMAPS)) {
		report_skip("VM-entry MSR-load of IA32_EFER with LMA = 0: MSR bitmaps not allowed");
		return;
	}
	memset(&efer_msr_bitmap, 0, sizeof(efer_msr_bitmap));
	vmw(VMCS_MSR_BITMAP, region_pa(&efer_msr_bitmap));
	vmw(VMCS_GUEST_RIP, (uintptr_t)l2_rdmsr);
	g.regs.rcx = MSR_IA32_EFER;
	msr_list[0] = (struct msr_entry){ MSR_IA32_EFER, 0, efer & ~(uint64_t)EFER_LMA };
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)msr_list);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	l2_enter(&g, L2_LAUNCH);
	if (check_exit(&g, EXIT_REASON_VMCALL, l2_rdmsr_done,
		       "VM-entry MSR-load entry 1 writes IA32_EFER with LMA = 0, LME = 1 (WRMSR "
		       "ignores LMA): L2 runs")) {
		got = g.regs.rax | g.regs.rdx << 32;
		report(got == efer, "... L2 reads IA32_EFER 0x%llx, LMA still 1 (got 0x%llx)",
		       U64(efer), U64(got));
	}
}

/*
 * 26.3 "Checking and Loading Guest State" comes before 26.4 "Loading MSRs":
 * an entry whose guest state fails a check loads no MSR. Here the CPU, not
 * an earlier software check, finds the guest TR unusable; the list would
 * have written IA32_KERNEL_GS_BASE (an MSR outside the VMCS).
 */
static void msr_load_after_guest_checks(void)
{
	uint64_t before = rdmsr(MSR_KERNEL_GS_BASE), after;
	uint64_t other = before ^ 0x123000ull;

	fresh();
	msr_list[0] = (struct msr_entry){ MSR_KERNEL_GS_BASE, 0, other };
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)msr_list);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	vmw(VMCS_GUEST_TR_AR, AR_TSS64_BUSY | AR_UNUSABLE);
	entry_fails(EXIT_REASON_INVALID_GUEST, ENTRY_FAIL_QUAL_NONE,
		    "guest TR unusable and a VM-entry MSR-load list writing IA32_KERNEL_GS_BASE");
	after = rdmsr(MSR_KERNEL_GS_BASE);
	report(after == before,
	       "... the failed entry loaded no MSR: IA32_KERNEL_GS_BASE still 0x%llx (got 0x%llx)",
	       U64(before), U64(after));
	wrmsr(MSR_KERNEL_GS_BASE, before);
}

static void msr_load_checks(void)
{
	/* IA32_SMBASE is writable only in SMM: WRMSR would #GP. Bochs 2.7
	 * deviation: it ignores writes to MSRs it does not model (cpu option
	 * ignore_bad_msrs, on by default), in VM-entry MSR loading too. */
	if (bare_metal_bochs)
		report_skip("VM-entry MSR-load entry IA32_SMBASE -> exit 34: Bochs 2.7 ignores "
			    "the write (ignore_bad_msrs)");
	else
		msr_load_case(2, 2, &(struct msr_entry){ MSR_IA32_SMBASE, 0, 0 },
			      "VM-entry MSR-load entry 2 of 2 is IA32_SMBASE (0x9e)");
	msr_load_case(1, 1, &(struct msr_entry){ MSR_STAR, 1, 0 },
		      "VM-entry MSR-load entry 1 with reserved bits 63:32 set");
	msr_load_case(1, 1, &(struct msr_entry){ MSR_FS_BASE, 0, 0 },
		      "VM-entry MSR-load entry 1 is IA32_FS_BASE");
	msr_load_case(3, 3, &(struct msr_entry){ MSR_GS_BASE, 0, 0 },
		      "VM-entry MSR-load entry 3 of 3 is IA32_GS_BASE");
	msr_load_case(2, 2, &(struct msr_entry){ MSR_IA32_SYSENTER_EIP, 0, NONCANONICAL },
		      "VM-entry MSR-load entry 2 writes a non-canonical IA32_SYSENTER_EIP (#GP)");
	msr_load_after_guest_checks();
	/* A good list loads: L2 starts with it, L1 gets its own value back only
	 * through the exit MSR-load list (checked in l2_exits.c). */
	msr_load_efer_checks();
}

void test_entry_checks(void)
{
	printf("vmx: --- VM-entry checks (SDM 26.1-26.4, 28.8) ---\n");
	if (!vmx_ensure_on())
		return;
	basic_checks();
	control_checks();
	msr_list_address_checks();
	injection_checks();
	injection_real_mode();
	host_checks();
	guest_checks();
	efer_checks();
	msr_load_checks();
}
