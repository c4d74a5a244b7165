/* SPDX-License-Identifier: MIT */
/*
 * TASK_SWITCH exits of L1 (exit reason 9): task switches are not allowed in
 * VMX non-root operation, every attempt exits (SDM Vol. 3C, 26.4.2 "Treatment
 * of Task Switches"), after the CPU's own checks of the gate and of the new TSS
 * descriptor. L0 performs the switch as the CPU would (vmx/task_switch.c) on
 * L1's state in VMCS01, writes the result back, and raises what the switch
 * raised, in the old or the new task's context. L2's task switches are L1's
 * (nested/reflect.h).
 */
#include "vmx/exit.h"
#include "vmx/exit_info.h"
#include "vmx/guest_mem.h"
#include "vmx/guest_regs.h"
#include "vmx/l1.h"
#include "vmx/task_switch.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/run.h"
#include "core/x86.h"

#define DR6_BT (1ull << 15)  /* SDM Vol. 3B, 19.2.3 "Debug Status Register (DR6)" */

/* ---- The engine's memory: L1's linear addresses through its paging, at CPL 0. */

struct l1_mem {
	uint64_t gpa;   /* GM_NOT_L1_MEMORY: where */
};

static enum ts_mem_status gm_result(struct l1_mem *c, enum gm_status st,
				    const struct gm_error *e, struct ts_fault *f)
{
	if (st == GM_OK)
		return TS_MEM_OK;
	if (st == GM_NOT_L1_MEMORY) {
		c->gpa = e->gpa;
		return TS_MEM_ABORT;
	}
	*f = (struct ts_fault){ .vector = (uint8_t)e->vector, .has_error = e->has_error_code,
				.error_code = e->error_code, .cr2 = (uint32_t)e->cr2 };
	return TS_MEM_FAULT;
}

static enum ts_mem_status l1_ts_read(void *ctx, uint32_t la, void *buf, unsigned len,
				     struct ts_fault *f)
{
	struct gm_error e = { 0 };

	return gm_result(ctx, l1_read_linear(la, buf, len, &e), &e, f);
}

static enum ts_mem_status l1_ts_write(void *ctx, uint32_t la, const void *buf, unsigned len,
				      struct ts_fault *f)
{
	struct gm_error e = { 0 };

	return gm_result(ctx, l1_write_linear(la, buf, len, &e), &e, f);
}

/*
 * CR3 from the new TSS, as a MOV to CR3 loads it: with PAE paging the PDPTEs
 * are loaded and checked (SDM Vol. 3A, 4.4.1 "PDPTE Registers"). L1's CR3
 * writes do not exit, so this is the only CR3 L0 changes under a running L1:
 * its VPID's translations go, as the CPU's own CR3 load flushes them (4.10.4.1).
 */
static bool l1_ts_load_cr3(void *ctx, uint32_t cr3)
{
	if ((vmreadnat(VMCS_GUEST_CR4) & CR4_PAE) && !l1_load_pdptes(cr3))
		return false;
	if (cr3 == vmreadnat(VMCS_GUEST_CR3))
		return true;
	vmwritenat(VMCS_GUEST_CR3, cr3);
	if (vmread32(VMCS_SECONDARY_VM_EXEC_CONTROL) & PROC2_ENABLE_VPID)
		vmx_invvpid_single(vmread16(VMCS_VIRTUAL_PROCESSOR_ID));
	return true;
}

_Static_assert(TASK_SWITCH_CALL == (int)TS_SRC_CALL && TASK_SWITCH_IRET == (int)TS_SRC_IRET &&
	       TASK_SWITCH_JMP == (int)TS_SRC_JMP && TASK_SWITCH_IDT_GATE == (int)TS_SRC_IDT_GATE,
	       "the engine's sources are Table 28-2's encodings");

/* ---- L1's state in VMCS01 <-> the engine's. */

#define FOR_EACH_SEG(X)                                                       \
	X(TS_ES, ES) X(TS_CS, CS) X(TS_SS, SS) X(TS_DS, DS) X(TS_FS, FS) X(TS_GS, GS) \
	X(TS_LDTR, LDTR) X(TS_TR, TR)

static void load_state(const struct vcpu *v, struct ts_state *s)
{
	for (unsigned i = 0; i < 8; i++)
		s->gpr[i] = (uint32_t)gpr_read(v, i);
	s->eip = (uint32_t)vmreadnat(VMCS_GUEST_RIP);
	s->eflags = (uint32_t)vmreadnat(VMCS_GUEST_RFLAGS);
	s->cr0 = (uint32_t)guest_visible_cr0();
	s->cr3 = (uint32_t)vmreadnat(VMCS_GUEST_CR3);
	s->gdtr_base = (uint32_t)vmreadnat(VMCS_GUEST_GDTR_BASE);
	s->gdtr_limit = vmread32(VMCS_GUEST_GDTR_LIMIT);
#define READ_SEG(i, SEG)                                                          \
	s->seg[i] = (struct ts_seg){ .sel = vmread16(VMCS_GUEST_##SEG##_SELECTOR),   \
				     .base = (uint32_t)vmreadnat(VMCS_GUEST_##SEG##_BASE), \
				     .limit = vmread32(VMCS_GUEST_##SEG##_LIMIT),         \
				     .ar = vmread32(VMCS_GUEST_##SEG##_AR_BYTES) };
	FOR_EACH_SEG(READ_SEG)
#undef READ_SEG
}

/* After the commit point: everything but CR3 (l1_ts_load_cr3 wrote it). */
static void store_state(struct vcpu *v, const struct ts_state *s)
{
	uint64_t cr0 = s->cr0;  /* outside IA-32e mode CR0 is 32 bits */

	for (unsigned i = 0; i < 8; i++)
		gpr_write(v, i, s->gpr[i]);
	vmwritenat(VMCS_GUEST_RIP, s->eip);
	vmwritenat(VMCS_GUEST_RFLAGS, s->eflags);
	/* CR0.TS: through the read shadow and L0's fixed bits, as exit_cr.c writes CR0. */
	vmwritenat(VMCS_CR0_READ_SHADOW, cr0);
	vmwritenat(VMCS_GUEST_CR0, l1_real_cr0(cr0));
#define WRITE_SEG(i, SEG)                                                 \
	vmwrite16(VMCS_GUEST_##SEG##_SELECTOR, s->seg[i].sel);            \
	vmwritenat(VMCS_GUEST_##SEG##_BASE, s->seg[i].base);              \
	vmwrite32(VMCS_GUEST_##SEG##_LIMIT, s->seg[i].limit);             \
	vmwrite32(VMCS_GUEST_##SEG##_AR_BYTES, s->seg[i].ar);
	FOR_EACH_SEG(WRITE_SEG)
#undef WRITE_SEG
}

static bool sw_event(uint32_t type)
{
	return type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	       type == INTR_TYPE_SW_EXCEPTION;
}

static void set_interruptibility(uint32_t clear, uint32_t set)
{
	uint32_t intr = vmread32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	uint32_t want = (intr & ~clear) | set;

	if (want != intr)
		vmwrite32(VMCS_GUEST_INTERRUPTIBILITY_INFO, want);
}

/* The fault the switch raised; during an exception's delivery, as a second fault. */
static void raise_fault(struct vcpu *v, const struct exit_ctx *x, const struct ts_result *res,
			bool exception, unsigned first)
{
	const struct ts_fault *f = &res->fault;
	int vector = exception ? ts_fault_during_exception(first, f->vector) : f->vector;

	pr_debug("L1 task switch (rip 0x%lx, qualification 0x%lx): %s: vector %u error 0x%x in "
		 "the %s task", x->rip, x->qualification, res->why, f->vector, f->error_code,
		 res->committed ? "new" : "old");
	if (vector == TS_SHUTDOWN) {
		vcpu_dump(v);
		run_end_failure("L1 triple fault (shutdown): vector %u (%s) while delivering "
				"exception %u through a task gate (rip 0x%lx)",
				f->vector, res->why, first, x->rip);
	}
	if (vector == TS_VEC_DF) {
		vcpu_inject_exception(VEC_DF, true, 0);
		return;
	}
	if (f->vector == VEC_PF)
		write_cr2(f->cr2);  /* CR2 is not switched by VMX: L1 sees the real one */
	vcpu_inject_exception(f->vector, f->has_error, f->error_code);
}

void handle_task_switch(struct vcpu *v, const struct exit_ctx *x)
{
	struct task_switch_info q = decode_task_switch(x->qualification);
	uint32_t idt = x->idt_vectoring;
	uint32_t type = (idt & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	unsigned vector = idt & INTR_INFO_VECTOR_MASK;
	bool event = q.source == TASK_SWITCH_IDT_GATE;
	struct l1_mem mc = { 0 };
	const struct ts_mem mem = { &mc, l1_ts_read, l1_ts_write, l1_ts_load_cr3 };
	struct ts_request r = { .source = (enum ts_source)q.source, .selector = q.selector };
	struct ts_state s;
	struct ts_result res;

	/* In IA-32e mode every task switch is #GP instead, without an exit (SDM 7.7). */
	if (l1_long_mode()) {
		vcpu_dump(v);
		run_end_failure("TASK_SWITCH exit from L1 in IA-32e mode, which the CPU never "
				"gives (L0 bug or CPU erratum) at rip 0x%lx", x->rip);
	}
	/* Through the IDT, the IDT-vectoring information names the event (SDM 28.2.4). */
	if (event && !(idt & INTR_INFO_VALID)) {
		vcpu_dump(v);
		run_end_failure("TASK_SWITCH through the IDT without IDT-vectoring information "
				"(rip 0x%lx)", x->rip);
	}
	/*
	 * The EIP the old task resumes at: after the instruction (CALL, JMP, IRET,
	 * and INT n, INT3, INTO, INT1 through a task gate, whose length the exit
	 * gives, SDM 28.2.5), or at the interrupted one (interrupts, NMIs,
	 * hardware exceptions). EXT is clear for software interrupts (6.13).
	 */
	r.old_eip = (uint32_t)x->rip;
	if (!event || sw_event(type))
		r.old_eip += x->insn_len;
	if (event) {
		r.ext = type != INTR_TYPE_SW_INTR && type != INTR_TYPE_SW_EXCEPTION;
		r.push_error = idt & INTR_INFO_DELIVER_CODE;
		if (r.push_error)
			r.error_code = vmread32(VMCS_IDT_VECTORING_ERROR_CODE);
	}
	/* The event is delivered by this switch (or replaced by its fault): the
	 * dispatcher does not re-inject a task switch's event (vmx/exit.c). */
	load_state(v, &s);
	res = task_switch(&s, &r, &mem);
	if (res.outcome == TS_UNSUPPORTED) {
		vcpu_dump(v);
		run_end_failure("L1's task switch to TSS selector 0x%x (rip 0x%lx): %s, which "
				"nestvisor does not emulate", q.selector, x->rip, res.why);
	}
	if (res.outcome == TS_UNREPRESENTABLE) {
		vcpu_dump(v);
		run_end_failure("L1's task switch to TSS selector 0x%x (rip 0x%lx): %s (vector %u), a "
				"CPU state no VM entry accepts (SDM Vol. 3C, 26.3.1.2)", q.selector,
				x->rip, res.why, res.fault.vector);
	}
	if (res.outcome == TS_ABORT) {
		vcpu_dump(v);
		run_end_failure("L1 made L0 access guest-physical 0x%lx, which is not L1's memory "
				"(task switch to TSS 0x%x: %s at linear 0x%x, rip 0x%lx)",
				mc.gpa, q.selector, res.why, res.abort_la, x->rip);
	}
	if (res.committed) {
		store_state(v, &s);
		/* The instruction or event is done: no STI / MOV SS blocking after it;
		 * an NMI blocks NMIs until an IRET, and an IRET unblocks them (SDM
		 * 6.7.1, 25.4.1 with virtual NMIs). */
		set_interruptibility(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS |
					     (q.source == TASK_SWITCH_IRET ? INTERRUPTIBILITY_NMI : 0),
				     event && type == INTR_TYPE_NMI ? INTERRUPTIBILITY_NMI : 0);
	}
	if (res.outcome == TS_FAULT) {
		raise_fault(v, x, &res, event && type == INTR_TYPE_HW_EXCEPTION, vector);
		return;
	}
	pr_debug("L1 task switch %u to TSS 0x%x: eip 0x%x", q.source, q.selector, s.eip);
	/* The new TSS's T flag: #DB before its first instruction, DR6.BT set (7.2.1). */
	if (res.debug_trap) {
		uint64_t dr6;

		__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
		__asm__ volatile("mov %0, %%dr6" : : "r"(dr6 | DR6_BT));
		vcpu_inject_exception(VEC_DB, false, 0);
	}
}
