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
 * Exits that can happen during event delivery: all but those caused by
 * executing an instruction (SDM Vol. 3C, 25.1 "Instructions That Cause VM
 * Exits") and VM-entry failures, which never happen during event delivery,
 * so their IDT-vectoring information is never valid and is not read (28.2.4
 * "Information for VM Exits During Event Delivery"). Their handlers run
 * through vectored(), which reads it before and re-injects the event after.
 * Every reason not named here goes to handle_fatal: dump and end the run.
 */
static void vectored(struct vcpu *v, const struct exit_ctx *x);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"  /* the default, then the named ones */
static const exit_handler_fn vectored_handlers[EXIT_REASON_COUNT] = {
	[0 ... EXIT_REASON_COUNT - 1] = handle_fatal,
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_INIT_SIGNAL] = handle_init_signal,
	[EXIT_REASON_NMI_WINDOW] = handle_nmi_window,
	[EXIT_REASON_TASK_SWITCH] = handle_task_switch,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
};

/*
 * L1's exits by basic reason: instruction exits straight to their handler,
 * the others through vectored(). The table is total, so dispatch is one
 * bounds test of the raw reason (a VM-entry failure, bit 31, is beyond
 * every index) and one indirect call.
 */
static const exit_handler_fn exit_dispatch[EXIT_REASON_COUNT] = {
	[0 ... EXIT_REASON_COUNT - 1] = vectored,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_GETSEC] = handle_inject_ud,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_INVD] = handle_invd,
	[EXIT_REASON_INVLPG] = handle_fatal,
	[EXIT_REASON_RDPMC] = handle_fatal,
	[EXIT_REASON_RDTSC] = handle_fatal,
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
	[EXIT_REASON_DR_ACCESS] = handle_fatal,
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_MSR_READ] = handle_rdmsr,
	[EXIT_REASON_MSR_WRITE] = handle_wrmsr,
	[EXIT_REASON_MWAIT] = handle_fatal,
	[EXIT_REASON_MONITOR] = handle_fatal,
	[EXIT_REASON_PAUSE] = handle_fatal,
	[EXIT_REASON_GDTR_IDTR] = handle_fatal,
	[EXIT_REASON_LDTR_TR] = handle_fatal,
	[EXIT_REASON_INVEPT] = handle_invept_invvpid,
	[EXIT_REASON_RDTSCP] = handle_fatal,
	[EXIT_REASON_INVVPID] = handle_invept_invvpid,
	[EXIT_REASON_WBINVD] = handle_fatal,
	[EXIT_REASON_XSETBV] = handle_xsetbv,
	[EXIT_REASON_RDRAND] = handle_fatal,
	[EXIT_REASON_INVPCID] = handle_fatal,
	[EXIT_REASON_VMFUNC] = handle_inject_ud,
	[EXIT_REASON_RDSEED] = handle_fatal,
	/* VM-entry failures: no event was being delivered (SDM Vol. 3C, 26.8). */
	[EXIT_REASON_INVALID_GUEST_STATE] = handle_fatal,
	[EXIT_REASON_MSR_LOADING] = handle_fatal,
	[EXIT_REASON_MCE_DURING_VMENTRY] = handle_fatal,
};
#pragma GCC diagnostic pop

/* Whether exit reason r (basic) may have interrupted an event's delivery. */
bool exit_in_delivery(uint32_t r)
{
	return r >= EXIT_REASON_COUNT || exit_dispatch[r] == vectored;
}

static void vectored(struct vcpu *v, const struct exit_ctx *cx)
{
	struct exit_ctx *x = (struct exit_ctx *)cx;  /* the dispatcher's history slot */

	x->idt_vectoring = vmread32(VMCS_IDT_VECTORING_INFO);
	vectored_handlers[x->reason](v, x);
	/* Unless the handler switched to L2 (VMLAUNCH/VMRESUME), L1 resumes. A task
	 * switch through a task gate delivers its event itself (exit_task_switch.c). */
	if (x->idt_vectoring && !nested.in_l2 && x->reason != EXIT_REASON_TASK_SWITCH)
		vcpu_reinject_idt_vectoring(x);
}

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

static struct vcpu *frame_vcpu(struct vcpu_frame *f)
{
	return (struct vcpu *)((char *)f - offsetof(struct vcpu, frame));
}

/*
 * The exit's information, read straight into the next slot of the exit
 * history (panic dumps print it), which is the handler's exit_ctx. Returns
 * the raw exit reason.
 */
static inline __attribute__((always_inline)) uint32_t read_exit(struct vcpu *v,
								struct exit_ctx **slot)
{
	struct exit_ctx *x = (struct exit_ctx *)((char *)v->history +
						  v->history_bytes % sizeof(v->history));

	v->history_bytes += sizeof(*x);
	vmread_to(VMCS_VM_EXIT_REASON, &x->raw_reason);  /* its low half is x->reason */
	vmread_to(VMCS_EXIT_QUALIFICATION, &x->qualification);
	vmread_to(VMCS_VM_EXIT_INSTRUCTION_LEN, &x->insn_len);
	vmread_to(VMCS_GUEST_RIP, &x->rip);
	*slot = x;
	return (uint32_t)x->raw_reason;
}

/* The end-of-run count of exits by basic reason. */
static inline void count_exit(struct vcpu *v, uint32_t reason)
{
	if (reason < EXIT_REASON_COUNT)
		v->exit_count[reason]++;
}

/* log = trace: every exit, before its handler logs anything. Out of line and
 * reading the VMCS itself, so the exit path keeps nothing live across it. */
static __attribute__((noinline, cold)) void trace_exit(const char *level)
{
	uint32_t reason = vmread32(VMCS_VM_EXIT_REASON) & EXIT_REASON_BASIC_MASK;

	log_line("exit %s rip=0x%lx qual=0x%lx%s", exit_reason_name(reason),
		 vmreadnat(VMCS_GUEST_RIP), vmreadnat(VMCS_EXIT_QUALIFICATION), level);
}

/* The full path's first steps: the probes' start, trace logging. */
static inline __attribute__((always_inline)) void exit_begin(const struct vcpu_frame *f,
							     const char *level)
{
	PROBE_START(f->exit_tsc);
	(void)f;
	if (log_level >= NV_LOG_TRACE)
		trace_exit(level);
}

/* L1's exits the table cannot take: VM-entry failures (bit 31). */
static __attribute__((noinline)) void l1_exit_beyond(struct vcpu *v, struct exit_ctx *x)
{
	count_exit(v, x->reason);
	x->idt_vectoring = 0;
	handle_fatal(v, x);
}

/*
 * Every VM exit comes here through its stub (vmx/entry.asm): L1's exits
 * from VMCS01's HOST_RIP, L2's from VMCS02's, so the level costs no test.
 * `full` is a constant of each instance: with it, the exit accounting, trace
 * logging and probes of the exit; without it, none of their tests either.
 * Which instance runs is fixed when the VMCS is written (vmx_exit_stub_l1/2).
 */
static inline __attribute__((always_inline)) void l1_exit(struct vcpu_frame *f, bool full)
{
	struct vcpu *v = frame_vcpu(f);
	struct exit_ctx *x;
	uint64_t r;

	if (full)
		exit_begin(f, "");
	r = read_exit(v, &x);
	if (full) {
		PROBE(P_EXIT_READ);
		acct_exit_reason(x->reason);
	}
	if (r < EXIT_REASON_COUNT) {
		v->exit_count[r]++;
		exit_dispatch[r](v, x);  /* vectored() reads x->idt_vectoring where it is valid */
	} else {
		l1_exit_beyond(v, x);
	}
	if (full)
		PROBE(P_HANDLER);
	/* current_vcpu is v: nothing of v is kept live across the handler's call. */
	if (l0_events_pending())
		vcpu_deliver_events(current_vcpu);
	if (full) {
		if (acct.on)
			acct_l1_exit_done(nested.in_l2);
		PROBE(P_EXIT_DONE);
	}
}

static inline __attribute__((always_inline)) void l2_exit(struct vcpu_frame *f, bool full)
{
	struct vcpu *v = frame_vcpu(f);
	struct exit_ctx *x;
	unsigned level;

	if (full)
		exit_begin(f, " (L2)");
	read_exit(v, &x);
	count_exit(v, x->reason);
	if (full)
		acct_exit_reason(x->reason);
	/* Reflected exits carry it to L1 (nested/sync.c). */
	x->idt_vectoring = exit_in_delivery(x->reason) ? vmread32(VMCS_IDT_VECTORING_INFO) : 0;
	if (full)
		PROBE(P_EXIT_READ);
	level = nested_l2_exit(v, x);
	if (l0_events_pending())
		vcpu_deliver_events(current_vcpu);
	if (full) {
		if (acct.on)
			acct_l2_exit_done(level);
		PROBE(P_EXIT_DONE);
	}
}

void vmx_l1_exit(struct vcpu_frame *f) { l1_exit(f, false); }
void vmx_l1_exit_full(struct vcpu_frame *f) { l1_exit(f, true); }
void vmx_l2_exit(struct vcpu_frame *f) { l2_exit(f, false); }
void vmx_l2_exit_full(struct vcpu_frame *f) { l2_exit(f, true); }

/*
 * The _full stubs take the exit's timestamp: exit accounting charges from
 * it, probes count from it, and a VM-exit MSR-store list of L1's stores
 * IA32_TSC as of the exit (nested/msr_lists.c). Trace logging takes the full
 * path too, so that the lean one has no test of the log level.
 */
static bool exits_full(void)
{
#ifdef NV_PROBES
	return true;
#else
	return acct.on || log_level >= NV_LOG_TRACE;
#endif
}

uint64_t vmx_exit_stub_l1_addr(void)
{
	return (uint64_t)(exits_full() ? vmx_exit_stub_l1_full : vmx_exit_stub_l1);
}

uint64_t vmx_exit_stub_l2_addr(bool timestamp)
{
	return (uint64_t)(timestamp || exits_full() ? vmx_exit_stub_l2_full : vmx_exit_stub_l2);
}

/* A VM entry failed (vmx/entry.asm): a VMCS02 the CPU refused, or an L0 bug. */
void vmx_entry_failed(struct vcpu_frame *f, int result)
{
	struct vcpu *v = frame_vcpu(f);

	if (nested.in_l2) {
		/* L1's VMCS12 got past L0's checks but not the CPU's. */
		nested_vmcs02_refused(v, result == VMX_FAIL_VALID);
		return;
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
	vmx_start(&v->frame);
}
