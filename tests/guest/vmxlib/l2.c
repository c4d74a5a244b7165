/* SPDX-License-Identifier: MIT */
/*
 * The L2 guest every L2 case starts from: a 64-bit guest sharing L1's page
 * tables, GDT and TSS, with its own stack and IDT, entered from and exiting to
 * l2_entry.asm. l2_init writes every field it relies on into a freshly cleared
 * VMCS, so that cases do not depend on each other.
 */
#include "vmxlib.h"

#define TSS64_LIMIT 0x67u
#define L2_IDT_VECTORS 256

/* The frame l2_entry.asm uses (R_RAX ... R_R15 there). */
_Static_assert(offsetof(struct l2_regs, rax) == 0 * 8, "l2_entry.asm R_RAX");
_Static_assert(offsetof(struct l2_regs, rbx) == 3 * 8, "l2_entry.asm R_RBX");
_Static_assert(offsetof(struct l2_regs, rdi) == 6 * 8, "l2_entry.asm R_RDI");
_Static_assert(offsetof(struct l2_regs, r8) == 7 * 8, "l2_entry.asm R_R8");
_Static_assert(offsetof(struct l2_regs, r15) == 14 * 8, "l2_entry.asm R_R15");
/* The event log l2_code.asm writes (EV_COUNT ... EV_FIXUP there). */
_Static_assert(offsetof(struct l2_event_log, count) == 0 * 8, "l2_code.asm EV_COUNT");
_Static_assert(offsetof(struct l2_event_log, rip) == 3 * 8, "l2_code.asm EV_RIP");
_Static_assert(offsetof(struct l2_event_log, fixup_rip) == 6 * 8, "l2_code.asm EV_FIXUP");

volatile struct l2_event_log l2_events;

/* SDM Vol. 3A, 6.14.1 "64-Bit Mode IDT": L2's own 16-byte gates. */
struct l2_gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi, reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct l2_gate) == 16, "64-bit IDT gate");
#define GATE_INT64      0x0Eu
#define GATE_PRESENT    0x80u

extern const uint64_t l2_idt_stubs[L2_IDT_VECTORS];     /* l2_code.asm */
extern char tss64[];                                    /* lib/64/entry64.asm */
static struct l2_gate l2_idt[L2_IDT_VECTORS] __attribute__((aligned(16)));
static uint8_t l2_stack[16384] __attribute__((aligned(16)));
static struct vmx_region l2_vmcs;

void l2_idt_init(void)
{
	for (unsigned v = 0; v < L2_IDT_VECTORS; v++) {
		uint64_t a = l2_idt_stubs[v];

		l2_idt[v] = (struct l2_gate){
			.offset_lo = (uint16_t)a, .selector = SEL_CODE64, .ist = 0,
			.type_attr = GATE_PRESENT | GATE_INT64, .offset_mid = (uint16_t)(a >> 16),
			.offset_hi = (uint32_t)(a >> 32), .reserved = 0,
		};
	}
	memset((void *)&l2_events, 0, sizeof(l2_events));
}

void l2_idt_set_present(unsigned vector, bool present)
{
	if (present)
		l2_idt[vector].type_attr |= GATE_PRESENT;
	else
		l2_idt[vector].type_attr &= (uint8_t)~GATE_PRESENT;
}

void vmx_write_host_rsp(uint64_t rsp)
{
	uint64_t enc = VMCS_HOST_RSP;

	if (vmx_is_on)          /* else the VMLAUNCH under test raises #UD itself */
		asm volatile("vmwrite %0, %1" : : "r"(rsp), "r"(enc) : "cc", "memory");
}

void write_host_state(void)
{
	/* SDM Vol. 3C, 25.5 "Host-State Area": L1's own state, so that a VM exit
	 * resumes L1 in vmx_exit_point as if vmx_launch had returned. */
	vmw(VMCS_HOST_CR0, read_cr0());
	vmw(VMCS_HOST_CR3, read_cr3());
	vmw(VMCS_HOST_CR4, read_cr4());
	vmw(VMCS_HOST_ES_SEL, SEL_DATA32);
	vmw(VMCS_HOST_CS_SEL, SEL_CODE64);
	vmw(VMCS_HOST_SS_SEL, SEL_DATA32);
	vmw(VMCS_HOST_DS_SEL, SEL_DATA32);
	vmw(VMCS_HOST_FS_SEL, SEL_DATA32);
	vmw(VMCS_HOST_GS_SEL, SEL_DATA32);
	vmw(VMCS_HOST_TR_SEL, SEL_TSS64);
	vmw(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmw(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmw(VMCS_HOST_TR_BASE, (uintptr_t)tss64);
	vmw(VMCS_HOST_GDTR_BASE, l1_gdt_base);
	vmw(VMCS_HOST_IDTR_BASE, l1_idt_base);
	vmw(VMCS_HOST_SYSENTER_CS, (uint32_t)rdmsr(MSR_IA32_SYSENTER_CS));
	vmw(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmw(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	vmw(VMCS_HOST_RIP, (uintptr_t)vmx_exit_point);
	vmw(VMCS_HOST_RSP, 0);  /* l2_entry.asm writes the real one */
}

void l2_write_segment(uint32_t sel_field, uint16_t sel, uint32_t ar, uint32_t limit, uint64_t base)
{
	/* The fields of one segment are at fixed distances from its selector
	 * field (B.2/B.3/B.4: same index in each group). */
	uint32_t index = sel_field - VMCS_GUEST_ES_SEL;

	vmw(sel_field, sel);
	vmw(VMCS_GUEST_ES_LIMIT + index, limit);
	vmw(VMCS_GUEST_ES_AR + index, ar);
	vmw(VMCS_GUEST_ES_BASE + index, base);
}

static void write_guest_state(const void *entry)
{
	/* SDM Vol. 3C, 25.4 "Guest-State Area" and 26.3.1 "Checks on the Guest State Area". */
	vmw(VMCS_GUEST_CR0, read_cr0());
	vmw(VMCS_GUEST_CR3, read_cr3());
	vmw(VMCS_GUEST_CR4, read_cr4());
	vmw(VMCS_GUEST_DR7, DR7_FIXED1);
	vmw(VMCS_GUEST_RSP, (uintptr_t)(l2_stack + sizeof(l2_stack)));
	vmw(VMCS_GUEST_RIP, (uintptr_t)entry);
	vmw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	l2_write_segment(VMCS_GUEST_ES_SEL, SEL_DATA32, AR_DATA, 0xFFFFFFFF, 0);
	l2_write_segment(VMCS_GUEST_CS_SEL, SEL_CODE64, AR_CODE64, 0xFFFFFFFF, 0);
	l2_write_segment(VMCS_GUEST_SS_SEL, SEL_DATA32, AR_DATA, 0xFFFFFFFF, 0);
	l2_write_segment(VMCS_GUEST_DS_SEL, SEL_DATA32, AR_DATA, 0xFFFFFFFF, 0);
	l2_write_segment(VMCS_GUEST_FS_SEL, SEL_DATA32, AR_DATA, 0xFFFFFFFF, 0);
	l2_write_segment(VMCS_GUEST_GS_SEL, SEL_DATA32, AR_DATA, 0xFFFFFFFF, 0);
	l2_write_segment(VMCS_GUEST_LDTR_SEL, 0, AR_UNUSABLE, 0, 0);
	l2_write_segment(VMCS_GUEST_TR_SEL, SEL_TSS64, AR_TSS64_BUSY, TSS64_LIMIT, (uintptr_t)tss64);
	vmw(VMCS_GUEST_GDTR_BASE, l1_gdt_base);
	vmw(VMCS_GUEST_GDTR_LIMIT, l1_gdt_limit);
	vmw(VMCS_GUEST_IDTR_BASE, (uintptr_t)l2_idt);
	vmw(VMCS_GUEST_IDTR_LIMIT, sizeof(l2_idt) - 1);
	vmw(VMCS_GUEST_DEBUGCTL, 0);
	vmw(VMCS_GUEST_SYSENTER_CS, 0);
	vmw(VMCS_GUEST_SYSENTER_ESP, 0);
	vmw(VMCS_GUEST_SYSENTER_EIP, 0);
	vmw(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmw(VMCS_GUEST_PENDING_DBG, 0);
	vmw(VMCS_VMCS_LINK_POINTER, ~0ull);
	if (field_exists(GATE_GUEST_EFER))
		vmw(VMCS_GUEST_EFER, rdmsr(MSR_IA32_EFER));
	if (field_exists(GATE_GUEST_PAT))
		vmw(VMCS_GUEST_PAT, rdmsr(MSR_IA32_PAT));
}

static void write_controls(void)
{
	/* SDM Vol. 3C, 25.6-25.8: only the bits that must be 1, plus the two a
	 * 64-bit guest of a 64-bit host needs. Nothing else exits. */
	vmw(VMCS_PIN_CONTROLS, ctl_adjust(&caps.pin, 0));
	vmw(VMCS_PROC_CONTROLS, ctl_adjust(&caps.proc, 0));
	if (field_exists(GATE_SECONDARY))
		vmw(VMCS_PROC_CONTROLS2, ctl_adjust(&caps.proc2, 0));
	vmw(VMCS_EXIT_CONTROLS, ctl_adjust(&caps.exit, EXIT_HOST_ADDR_SPACE));
	vmw(VMCS_ENTRY_CONTROLS, ctl_adjust(&caps.entry, ENTRY_IA32E_GUEST));
	vmw(VMCS_EXCEPTION_BITMAP, 0);
	vmw(VMCS_PF_ERROR_CODE_MASK, 0);
	vmw(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmw(VMCS_CR3_TARGET_COUNT, 0);
	vmw(VMCS_CR0_GUEST_HOST_MASK, 0);
	vmw(VMCS_CR4_GUEST_HOST_MASK, 0);
	vmw(VMCS_CR0_READ_SHADOW, read_cr0());
	vmw(VMCS_CR4_READ_SHADOW, read_cr4());
	vmw(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmw(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmw(VMCS_ENTRY_INTR_INFO, 0);
	vmw(VMCS_ENTRY_EXCEPTION_ERROR, 0);
	vmw(VMCS_ENTRY_INSN_LEN, 0);
	vmw(VMCS_TSC_OFFSET, 0);
}

void l2_init(struct l2 *g, const void *entry)
{
	uint64_t pa;

	memset(g, 0, sizeof(*g));
	g->vmcs = &l2_vmcs;
	pa = region_pa(g->vmcs);
	vmclear(pa);                    /* it may still be active from a previous case */
	region_init(g->vmcs, caps.revision);
	if (!res_is(vmclear(pa), WANT_OK) || !res_is(vmptrld(pa), WANT_OK))
		report(false, "set-up: VMCLEAR + VMPTRLD of the L2 VMCS at 0x%llx", U64(pa));
	l2_idt_init();
	write_controls();
	write_host_state();
	write_guest_state(entry);
}

static void read_exit_info(struct exit_info *e)
{
	/* SDM Vol. 3C, 25.9 "VM-Exit Information Fields" */
	e->reason = (uint32_t)vmr(VMCS_EXIT_REASON);
	e->qual = vmr(VMCS_EXIT_QUALIFICATION);
	e->insn_len = (uint32_t)vmr(VMCS_EXIT_INSN_LEN);
	e->insn_info = (uint32_t)vmr(VMCS_EXIT_INSN_INFO);
	e->intr_info = (uint32_t)vmr(VMCS_EXIT_INTR_INFO);
	e->intr_error = (uint32_t)vmr(VMCS_EXIT_INTR_ERROR);
	e->idt_info = (uint32_t)vmr(VMCS_IDT_VECTORING_INFO);
	e->idt_error = (uint32_t)vmr(VMCS_IDT_VECTORING_ERROR);
	e->guest_linear = vmr(VMCS_GUEST_LINEAR_ADDR);
	e->rip = vmr(VMCS_GUEST_RIP);
	e->rsp = vmr(VMCS_GUEST_RSP);
	e->rflags = vmr(VMCS_GUEST_RFLAGS);
	e->interruptibility = (uint32_t)vmr(VMCS_GUEST_INTERRUPTIBILITY);
	e->activity = (uint32_t)vmr(VMCS_GUEST_ACTIVITY_STATE);
}

struct enter_ctx {
	struct l2 *g;
	enum l2_how how;
	uint64_t flags;
};

static void do_enter(void *p)
{
	struct enter_ctx *c = p;

	switch (c->how) {
	case L2_LAUNCH:
		c->flags = vmx_launch(&c->g->regs);
		break;
	case L2_RESUME:
		c->flags = vmx_resume(&c->g->regs);
		break;
	case L2_LAUNCH_MOVSS:
		c->flags = vmx_launch_movss(&c->g->regs);
		break;
	}
}

bool l2_enter(struct l2 *g, enum l2_how how)
{
	struct enter_ctx c = { .g = g, .how = how, .flags = 0 };
	int v = catch_exception(do_enter, &c);

	memset(&g->exit, 0, sizeof(g->exit));
	if (v != NO_EXCEPTION || c.flags != 0) {
		g->entry = res_from(v, c.flags);
		return false;
	}
	g->entry = WANT_OK;
	read_exit_info(&g->exit);
	/* 26.1: only a VM entry that completes makes the VMCS "launched"; a
	 * failure exit (reason bit 31) leaves it clear. */
	if (!(g->exit.reason & EXIT_REASON_ENTRY_FAILURE))
		g->launched = true;
	return true;
}

bool l2_run(struct l2 *g)
{
	return l2_enter(g, g->launched ? L2_RESUME : L2_LAUNCH);
}

void l2_skip(struct l2 *g)
{
	vmw(VMCS_GUEST_RIP, g->exit.rip + g->exit.insn_len);
}

static struct ctl_cap *ctl_cap_of(uint32_t field)
{
	switch (field) {
	case VMCS_PIN_CONTROLS:   return &caps.pin;
	case VMCS_PROC_CONTROLS:  return &caps.proc;
	case VMCS_PROC_CONTROLS2: return &caps.proc2;
	case VMCS_EXIT_CONTROLS:  return &caps.exit;
	case VMCS_ENTRY_CONTROLS: return &caps.entry;
	}
	return NULL;
}

bool l2_set_ctl(uint32_t field, uint32_t bits)
{
	struct ctl_cap *c = ctl_cap_of(field);

	if (!c || !can_set(c, bits))
		return false;
	if (field == VMCS_PROC_CONTROLS2) {
		if (!can_set(&caps.proc, PROC_SECONDARY_CONTROLS))
			return false;
		vmw(VMCS_PROC_CONTROLS, vmr(VMCS_PROC_CONTROLS) | PROC_SECONDARY_CONTROLS);
	}
	vmw(field, vmr(field) | bits);
	return true;
}

void l2_clear_ctl(uint32_t field, uint32_t bits)
{
	vmw(field, vmr(field) & ~(uint64_t)bits);
}

const char *exit_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[EXIT_REASON_EXCEPTION_NMI] = "EXCEPTION_NMI", [EXIT_REASON_EXTINT] = "EXTINT",
		[EXIT_REASON_TRIPLE_FAULT] = "TRIPLE_FAULT", [EXIT_REASON_INTR_WINDOW] = "INTR_WINDOW",
		[EXIT_REASON_NMI_WINDOW] = "NMI_WINDOW", [EXIT_REASON_CPUID] = "CPUID",
		[EXIT_REASON_HLT] = "HLT", [EXIT_REASON_INVD] = "INVD", [EXIT_REASON_INVLPG] = "INVLPG",
		[EXIT_REASON_RDPMC] = "RDPMC", [EXIT_REASON_RDTSC] = "RDTSC",
		[EXIT_REASON_VMCALL] = "VMCALL", [EXIT_REASON_VMCLEAR] = "VMCLEAR",
		[EXIT_REASON_VMLAUNCH] = "VMLAUNCH", [EXIT_REASON_VMPTRLD] = "VMPTRLD",
		[EXIT_REASON_VMPTRST] = "VMPTRST", [EXIT_REASON_VMREAD] = "VMREAD",
		[EXIT_REASON_VMRESUME] = "VMRESUME", [EXIT_REASON_VMWRITE] = "VMWRITE",
		[EXIT_REASON_VMXOFF] = "VMXOFF", [EXIT_REASON_VMXON] = "VMXON",
		[EXIT_REASON_CR_ACCESS] = "CR_ACCESS", [EXIT_REASON_DR_ACCESS] = "DR_ACCESS",
		[EXIT_REASON_IO] = "IO", [EXIT_REASON_RDMSR] = "RDMSR", [EXIT_REASON_WRMSR] = "WRMSR",
		[EXIT_REASON_INVALID_GUEST] = "INVALID_GUEST_STATE",
		[EXIT_REASON_MSR_LOADING] = "MSR_LOADING", [EXIT_REASON_MWAIT] = "MWAIT",
		[EXIT_REASON_MTF] = "MTF", [EXIT_REASON_MONITOR] = "MONITOR",
		[EXIT_REASON_PAUSE] = "PAUSE", [EXIT_REASON_MCE_DURING_ENTRY] = "MCE_DURING_ENTRY",
		[EXIT_REASON_TPR_BELOW] = "TPR_BELOW_THRESHOLD",
		[EXIT_REASON_APIC_ACCESS] = "APIC_ACCESS",
		[EXIT_REASON_EPT_VIOLATION] = "EPT_VIOLATION",
		[EXIT_REASON_EPT_MISCONFIG] = "EPT_MISCONFIG", [EXIT_REASON_INVEPT] = "INVEPT",
		[EXIT_REASON_RDTSCP] = "RDTSCP", [EXIT_REASON_PREEMPT_TIMER] = "PREEMPTION_TIMER",
		[EXIT_REASON_INVVPID] = "INVVPID", [EXIT_REASON_WBINVD] = "WBINVD",
		[EXIT_REASON_XSETBV] = "XSETBV", [EXIT_REASON_RDRAND] = "RDRAND",
		[EXIT_REASON_INVPCID] = "INVPCID", [EXIT_REASON_VMFUNC] = "VMFUNC",
	};
	uint32_t basic = EXIT_REASON_BASIC(reason);

	if (basic < sizeof(names) / sizeof(names[0]) && names[basic])
		return names[basic];
	return "?";
}

bool check_exit(struct l2 *g, uint32_t reason, const void *rip, const char *fmt, ...)
{
	char name[200];
	va_list ap;
	const struct exit_info *e = &g->exit;
	bool exited = g->entry.outcome == VMX_OK;
	bool ok = exited && e->reason == reason && (!rip || e->rip == (uintptr_t)rip);

	va_start(ap, fmt);
	nv_vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (ok)
		return report(true, "%s -> exit 0x%x (%s)%s", name, reason, exit_reason_name(reason),
			      rip ? " at the expected RIP" : "");
	if (!exited)
		return report(false, "%s -> exit 0x%x (%s) (got: the entry instruction ended in %s)",
			      name, reason, exit_reason_name(reason), res_str(g->entry));
	return report(false, "%s -> exit 0x%x (%s) at 0x%llx (got exit 0x%x (%s) rip 0x%llx qual 0x%llx "
		      "len %u intr 0x%x/0x%x idt 0x%x/0x%x; L2 events %llu, last vector %llu "
		      "rip 0x%llx)", name, reason, exit_reason_name(reason), U64((uintptr_t)rip),
		      e->reason, exit_reason_name(e->reason), U64(e->rip), U64(e->qual), e->insn_len,
		      e->intr_info, e->intr_error, e->idt_info, e->idt_error, U64(l2_events.count),
		      U64(l2_events.vector), U64(l2_events.rip));
}
