/* SPDX-License-Identifier: MIT */
/* The run loop and table-driven exit dispatch. */
#include "vmx/exit.h"
#include "nested/nested.h"
#include "vmx/acct.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/mce.h"
#include "core/nmi.h"
#include "core/panic.h"
#include "core/probe.h"
#include "core/run.h"

#include <stddef.h>

struct vcpu *current_vcpu;

static const char *const exit_names[EXIT_REASON_COUNT] = {
#define EXIT_REASON(name, num) [num] = #name,
#include "vmx/exit_reasons.def"
#undef EXIT_REASON
};

const char *exit_reason_name(uint32_t reason)
{
	return reason < EXIT_REASON_COUNT && exit_names[reason] ? exit_names[reason] : "UNKNOWN";
}

/*
 * Every reason not named here goes to handle_fatal: dump and end the run.
 * The table is total, so dispatch is one bounds test of the raw reason (a
 * VM-entry failure, bit 31, is beyond every index) and one indirect call.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"  /* the default, then the named ones */
static const exit_handler_fn exit_handlers[EXIT_REASON_COUNT] = {
	[0 ... EXIT_REASON_COUNT - 1] = handle_fatal,
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_INIT_SIGNAL] = handle_init_signal,
	[EXIT_REASON_NMI_WINDOW] = handle_nmi_window,
	[EXIT_REASON_TASK_SWITCH] = handle_task_switch,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_GETSEC] = handle_inject_ud,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_INVD] = handle_invd,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_VMCLEAR] = handle_vmclear,
	[EXIT_REASON_VMLAUNCH] = handle_vmlaunch,
	[EXIT_REASON_VMPTRLD] = handle_vmptrld,
	[EXIT_REASON_VMPTRST] = handle_vmptrst,
	[EXIT_REASON_VMREAD] = handle_vmread,
	[EXIT_REASON_VMRESUME] = handle_vmresume,
	[EXIT_REASON_VMWRITE] = handle_vmwrite,
	[EXIT_REASON_VMXOFF] = handle_vmxoff,
	[EXIT_REASON_VMXON] = handle_vmxon,
	[EXIT_REASON_CR_ACCESS] = handle_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_MSR_READ] = handle_rdmsr,
	[EXIT_REASON_MSR_WRITE] = handle_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_INVEPT] = handle_invept_invvpid,
	[EXIT_REASON_INVVPID] = handle_invept_invvpid,
	[EXIT_REASON_XSETBV] = handle_xsetbv,
	[EXIT_REASON_VMFUNC] = handle_inject_ud,
};
#pragma GCC diagnostic pop

/* SDM Vol. 3C, 27.6 "Event Injection". */
void vcpu_inject_exception(unsigned vector, bool has_error, uint32_t error_code)
{
	uint32_t info = INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) |
			(vector & INTR_INFO_VECTOR_MASK);

	if (has_error) {
		info |= INTR_INFO_DELIVER_CODE;
		vmwrite32(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	}
	vmwrite32(VMCS_VM_ENTRY_INTR_INFO, info);
}

/*
 * An exit during event delivery leaves the event in the IDT-vectoring
 * information; resuming without re-injecting it would lose it.
 * SDM Vol. 3C, 28.2.4 "Information for VM Exits During Event Delivery".
 */
void vcpu_reinject_idt_vectoring(const struct exit_ctx *x)
{
	uint32_t idt = x->idt_vectoring;
	uint32_t type;

	if (!(idt & INTR_INFO_VALID) || (vmread32(VMCS_VM_ENTRY_INTR_INFO) & INTR_INFO_VALID))
		return;
	type = (idt & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if (idt & INTR_INFO_DELIVER_CODE)
		vmwrite32(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, vmread32(VMCS_IDT_VECTORING_ERROR_CODE));
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION ||
	    type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmwrite32(VMCS_VM_ENTRY_INSTRUCTION_LEN, vmread32(VMCS_VM_EXIT_INSTRUCTION_LEN));
	vmwrite32(VMCS_VM_ENTRY_INTR_INFO, idt & ~INTR_INFO_NMI_UNBLOCK_IRET);
}

/*
 * Exits caused by executing an instruction (SDM Vol. 3C, 25.1 "Instructions
 * That Cause VM Exits"), and VM-entry failures. These never happen during
 * event delivery, so their IDT-vectoring information is never valid and is
 * not read (28.2.4 "Information for VM Exits During Event Delivery"): for an
 * entry failure the field still holds an older exit's.
 */
#define BIT(n) (1ull << (n))
static const uint64_t instruction_exits =
	BIT(EXIT_REASON_CPUID) | BIT(EXIT_REASON_GETSEC) | BIT(EXIT_REASON_HLT) |
	BIT(EXIT_REASON_INVD) | BIT(EXIT_REASON_INVLPG) | BIT(EXIT_REASON_RDPMC) |
	BIT(EXIT_REASON_RDTSC) | BIT(EXIT_REASON_VMCALL) | BIT(EXIT_REASON_VMCLEAR) |
	BIT(EXIT_REASON_VMLAUNCH) | BIT(EXIT_REASON_VMPTRLD) | BIT(EXIT_REASON_VMPTRST) |
	BIT(EXIT_REASON_VMREAD) | BIT(EXIT_REASON_VMRESUME) | BIT(EXIT_REASON_VMWRITE) |
	BIT(EXIT_REASON_VMXOFF) | BIT(EXIT_REASON_VMXON) | BIT(EXIT_REASON_CR_ACCESS) |
	BIT(EXIT_REASON_DR_ACCESS) | BIT(EXIT_REASON_IO_INSTRUCTION) |
	BIT(EXIT_REASON_MSR_READ) | BIT(EXIT_REASON_MSR_WRITE) | BIT(EXIT_REASON_MWAIT) |
	BIT(EXIT_REASON_MONITOR) | BIT(EXIT_REASON_PAUSE) | BIT(EXIT_REASON_GDTR_IDTR) |
	BIT(EXIT_REASON_LDTR_TR) | BIT(EXIT_REASON_INVEPT) | BIT(EXIT_REASON_RDTSCP) |
	BIT(EXIT_REASON_INVVPID) | BIT(EXIT_REASON_WBINVD) | BIT(EXIT_REASON_XSETBV) |
	BIT(EXIT_REASON_RDRAND) | BIT(EXIT_REASON_INVPCID) | BIT(EXIT_REASON_VMFUNC) |
	BIT(EXIT_REASON_RDSEED) |
	/* VM-entry failures: no event was being delivered (SDM Vol. 3C, 26.8). */
	BIT(EXIT_REASON_INVALID_GUEST_STATE) | BIT(EXIT_REASON_MSR_LOADING) |
	BIT(EXIT_REASON_MCE_DURING_VMENTRY);
#undef BIT

static void read_exit(struct exit_ctx *x)
{
	x->raw_reason = vmread32(VMCS_VM_EXIT_REASON);
	x->reason = x->raw_reason & EXIT_REASON_BASIC_MASK;
	x->qualification = vmreadnat(VMCS_EXIT_QUALIFICATION);
	x->insn_len = vmread32(VMCS_VM_EXIT_INSTRUCTION_LEN);
	x->rip = vmreadnat(VMCS_GUEST_RIP);
	x->idt_vectoring = x->reason < 64 && (instruction_exits >> x->reason & 1)
				   ? 0 : vmread32(VMCS_IDT_VECTORING_INFO);
}

static void record(struct vcpu *v, const struct exit_ctx *x)
{
	struct exit_record *r = &v->history[v->exits_total % EXIT_HISTORY];

	r->reason = x->raw_reason;
	r->rip = x->rip;
	r->qualification = x->qualification;
	v->exits_total++;
	if (x->reason < EXIT_REASON_COUNT)
		v->exit_count[x->reason]++;
}

static struct vcpu *frame_vcpu(struct vcpu_frame *f)
{
	return (struct vcpu *)((char *)f - offsetof(struct vcpu, frame));
}

/* Every VM exit, called by vmx/entry.asm on L0's stack. */
int vmx_exit_handler(struct vcpu_frame *f)
{
	struct vcpu *v = frame_vcpu(f);
	struct exit_ctx x;
	unsigned level;

	PROBE_START(f->exit_tsc);
	v->launched = true;
	read_exit(&x);
	record(v, &x);
	PROBE(P_EXIT_READ);
	pr_trace("exit %s rip=0x%lx qual=0x%lx", exit_reason_name(x.reason), x.rip,
		 x.qualification);

	if (nested.in_l2) {
		level = nested_l2_exit(v, &x);
		if (nmi_pending | mce_pending)
			vcpu_deliver_events(v);
		acct_charge(f, level, x.reason);
		if (level == NV_ACCT_L2_REFLECTED)
			acct_l1_handles(x.reason);
		PROBE(P_EXIT_DONE);
		return !v->launched;
	}
	level = acct_l1_level();
	(x.raw_reason < EXIT_REASON_COUNT ? exit_handlers[x.raw_reason] : handle_fatal)(v, &x);
	PROBE(P_HANDLER);
	/* Unless the handler switched to L2 (VMLAUNCH/VMRESUME), L1 resumes. */
	/* A task switch through a task gate delivers its event itself (exit_task_switch.c). */
	if (!nested.in_l2 && x.idt_vectoring && x.reason != EXIT_REASON_TASK_SWITCH)
		vcpu_reinject_idt_vectoring(&x);
	if (nmi_pending | mce_pending)
		vcpu_deliver_events(v);
	acct_charge(f, level, x.reason);
	if (nested.in_l2)
		acct_l2_entered();
	PROBE(P_EXIT_DONE);
	return !v->launched;
}

/* A VM entry failed (vmx/entry.asm): a VMCS02 the CPU refused, or an L0 bug. */
int vmx_entry_failed(struct vcpu_frame *f, int result)
{
	struct vcpu *v = frame_vcpu(f);

	if (nested.in_l2) {
		/* L1's VMCS12 got past L0's checks but not the CPU's. */
		nested_vmcs02_refused(v, result == VMX_FAIL_VALID);
		return !v->launched;
	}
	if (result == VMX_FAIL_VALID)
		log_line("VM entry to L1 failed: VMfailValid, VM-instruction error %u",
			 vmread32(VMCS_VM_INSTRUCTION_ERROR));
	else
		log_line("VM entry to L1 failed: VMfailInvalid (no current VMCS)");
	vcpu_dump(v);
	run_end_failure("VM entry to L1 failed (L0 bug: VMCS01 is invalid)");
}

void vcpu_run(struct vcpu *v)
{
	current_vcpu = v;
	vmx_start(&v->frame, !v->launched);
}
