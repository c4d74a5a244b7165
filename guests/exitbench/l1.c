/* SPDX-License-Identifier: MIT */
/*
 * Kind l1: an instruction of L1 that exits to L0, which handles it and
 * resumes L1. One sample is one such instruction (l1_timed.asm), so it holds
 * the VM exit, L0's handler and the VM entry back.
 *
 *   cpuid         CPUID leaf 0: every L0 intercepts CPUID
 *   hypercall     nestvisor's NOP hypercall (CPUID 0x40000002, ECX 0)
 *   rdmsr/wrmsr   IA32_FEATURE_CONTROL, which nestvisor emulates for L1; the
 *                 WRMSR writes the value it holds, while it is still unlocked
 *   io            IN AL, 0xF4: nestvisor's test exit port (reads 0xFF)
 *   vmread/vmwrite  GUEST_RIP of the current VMCS: the field L1 hypervisors
 *                 touch at every exit, one a shadow VMCS holds
 *   vmptrld       alternately two VMCSs: what switching between L2s costs
 *   vmread-cold/vmwrite-cold  GUEST_ES_LIMIT, a field no shadow VMCS holds
 *                 (KVM's shadow field list leaves it out): always an exit
 *
 * The VMX operations run after VMXON; wrmsr must run before it (VMXON needs
 * IA32_FEATURE_CONTROL locked, and then every write raises #GP), which the
 * plan's order (main.c) ensures.
 */
#include "exitbench.h"

/* Values the VMX operations read and write: written once into both VMCSs,
 * so the timed VMWRITEs change nothing. */
#define VMCS_RIP_VALUE   0x12345000ull
#define VMCS_LIMIT_VALUE 0xFFFFull

struct l1_op {
	enum op op;
	l1_timed_fn *timed;
	uint32_t reason;        /* the exit each operation costs in L0 */
	bool shadowed;          /* no exit at all when L0 gives L1 a shadow VMCS */
	/* Sets the operation's registers; false if it cannot run (line printed). */
	bool (*prepare)(const struct meas *m, struct eb_regs *r);
	/* Functional checks after the timed loop (optional). */
	void (*verify)(const struct meas *m, const struct eb_regs *r);
};

/* ---- The VMCSs of the VMX operations ---------------------------------------- */

static struct vmx_region vmcs_region[2];
static uint64_t vmcs_pa[2];
static unsigned vmptrld_next;   /* which VMCS the next timed VMPTRLD loads */

static bool vmx_failed(const struct meas *m, const char *what, struct vmx_res r)
{
	return !setup_ok(m, what, r.outcome == VMX_OK, "%s", res_str(r));
}

/* VMX operation, both VMCSs cleared and filled, vmcs_region[0] current. */
static bool vmcs_current(const struct meas *m)
{
	static bool filled;
	const char *why;

	if (!vmx_ready(&why)) {
		skip(m, "%s", why);
		return false;
	}
	if (!filled) {
		for (unsigned i = 0; i < 2; i++) {
			region_init(&vmcs_region[i], caps.revision);
			vmcs_pa[i] = region_pa(&vmcs_region[i]);
			if (vmx_failed(m, "setup-vmclear", vmclear(vmcs_pa[i])) ||
			    vmx_failed(m, "setup-vmptrld", vmptrld(vmcs_pa[i])) ||
			    vmx_failed(m, "setup-vmwrite", vmwrite(VMCS_GUEST_RIP, VMCS_RIP_VALUE)) ||
			    vmx_failed(m, "setup-vmwrite", vmwrite(VMCS_GUEST_ES_LIMIT, VMCS_LIMIT_VALUE)))
				return false;
		}
		filled = true;
	}
	return !vmx_failed(m, "setup-vmptrld", vmptrld(vmcs_pa[0]));
}

/* ---- Preparation and checks, one pair per operation ------------------------ */

static bool prep_cpuid(const struct meas *m, struct eb_regs *r)
{
	(void)m;
	r->rax = 0;
	r->rcx = 0;
	return true;
}

static bool prep_hypercall(const struct meas *m, struct eb_regs *r)
{
	uint32_t status;

	if (!l0.nestvisor) {
		skip(m, "L0 %s has no nestvisor hypercall", l0.name);
		return false;
	}
	if (!l0.hypercall) {
		skip(m, "nestvisor interface %u: max leaf below 0x%x (no hypercall)", l0.interface,
		     NV_CPUID_HYPERCALL);
		return false;
	}
	r->rax = NV_CPUID_HYPERCALL;
	r->rcx = NV_HC_NOP;
	status = nv_hypercall(NV_HC_NOP, 0, 0, 0, NULL);
	return check(m, "nop-status", status == NV_HC_OK, "NV_HC_NOP returned %u want %u", status,
		     NV_HC_OK);
}

static bool prep_rdmsr(const struct meas *m, struct eb_regs *r)
{
	(void)m;
	r->rcx = MSR_IA32_FEATURE_CONTROL;
	return true;
}

static bool prep_wrmsr(const struct meas *m, struct eb_regs *r)
{
	uint64_t fc;
	int v = rdmsr_checked(MSR_IA32_FEATURE_CONTROL, &fc);

	if (v != NO_EXCEPTION) {
		skip(m, "RDMSR IA32_FEATURE_CONTROL raises %s", exception_name(v));
		return false;
	}
	/* SDM Vol. 3C, 24.7 "Enabling and Entering VMX Operation": once the
	 * lock bit is set, WRMSR to the MSR raises #GP. */
	if (fc & FEATURE_CONTROL_LOCKED) {
		skip(m, "IA32_FEATURE_CONTROL is locked (0x%llx): WRMSR would raise #GP", U64(fc));
		return false;
	}
	r->rcx = MSR_IA32_FEATURE_CONTROL;
	r->rax = (uint32_t)fc;
	r->rdx = fc >> 32;
	return true;
}

static void verify_wrmsr(const struct meas *m, const struct eb_regs *r)
{
	uint64_t want = r->rdx << 32 | r->rax, got = rdmsr(MSR_IA32_FEATURE_CONTROL);

	check(m, "value-kept", got == want, "IA32_FEATURE_CONTROL=0x%llx want 0x%llx", U64(got),
	      U64(want));
}

static bool prep_io(const struct meas *m, struct eb_regs *r)
{
	(void)m;
	(void)r;
	return true;
}

static void verify_io(const struct meas *m, const struct eb_regs *r)
{
	uint8_t got;

	(void)r;
	if (!l0.nestvisor)
		return;         /* elsewhere port 0xF4 is whatever device sits there */
	got = inb(0xF4);
	check(m, "value", got == 0xFF, "IN 0xF4 read 0x%x want 0xff (no device)", got);
}

static bool prep_vmread(const struct meas *m, struct eb_regs *r)
{
	r->rcx = VMCS_GUEST_RIP;
	return vmcs_current(m);
}

static bool prep_vmwrite(const struct meas *m, struct eb_regs *r)
{
	r->rcx = VMCS_GUEST_RIP;
	r->rbx = VMCS_RIP_VALUE;
	return vmcs_current(m);
}

static bool prep_vmread_cold(const struct meas *m, struct eb_regs *r)
{
	r->rcx = VMCS_GUEST_ES_LIMIT;
	return vmcs_current(m);
}

static bool prep_vmwrite_cold(const struct meas *m, struct eb_regs *r)
{
	r->rcx = VMCS_GUEST_ES_LIMIT;
	r->rbx = VMCS_LIMIT_VALUE;
	return vmcs_current(m);
}

/* The field the operation used still holds the value written at set-up. */
static void verify_field(const struct meas *m, const struct eb_regs *r)
{
	uint64_t want = r->rcx == VMCS_GUEST_RIP ? VMCS_RIP_VALUE : VMCS_LIMIT_VALUE;
	struct vmx_res got = vmread(r->rcx);

	check(m, "field-value", got.outcome == VMX_OK && got.value == want,
	      "VMREAD 0x%llx: %s value 0x%llx want 0x%llx", U64(r->rcx), res_str(got),
	      U64(got.value), U64(want));
}

static bool prep_vmptrld(const struct meas *m, struct eb_regs *r)
{
	(void)r;
	vmptrld_next = 1;       /* vmcs_region[0] is current: switch to the other */
	return vmcs_current(m);
}

/* The current VMCS is the one the last timed VMPTRLD loaded. */
static void verify_vmptrld(const struct meas *m, const struct eb_regs *r)
{
	struct vmx_res got = vmptrst();
	uint64_t want = vmcs_pa[(vmptrld_next + 1) & 1];

	(void)r;
	check(m, "current-vmcs", got.outcome == VMX_OK && got.value == want,
	      "VMPTRST: %s 0x%llx want 0x%llx", res_str(got), U64(got.value), U64(want));
}

static const struct l1_op l1_ops[] = {
	{ OP_CPUID, eb_l1_cpuid, EXIT_REASON_CPUID, false, prep_cpuid, NULL },
	{ OP_HYPERCALL, eb_l1_cpuid, EXIT_REASON_CPUID, false, prep_hypercall, NULL },
	{ OP_RDMSR, eb_l1_rdmsr, EXIT_REASON_RDMSR, false, prep_rdmsr, NULL },
	{ OP_WRMSR, eb_l1_wrmsr, EXIT_REASON_WRMSR, false, prep_wrmsr, verify_wrmsr },
	{ OP_IO, eb_l1_in_f4, EXIT_REASON_IO, false, prep_io, verify_io },
	{ OP_VMREAD, eb_l1_vmread, EXIT_REASON_VMREAD, true, prep_vmread, verify_field },
	{ OP_VMWRITE, eb_l1_vmwrite, EXIT_REASON_VMWRITE, true, prep_vmwrite, verify_field },
	{ OP_VMPTRLD, eb_l1_vmptrld, EXIT_REASON_VMPTRLD, false, prep_vmptrld, verify_vmptrld },
	{ OP_VMREAD_COLD, eb_l1_vmread, EXIT_REASON_VMREAD, false, prep_vmread_cold, verify_field },
	{ OP_VMWRITE_COLD, eb_l1_vmwrite, EXIT_REASON_VMWRITE, false, prep_vmwrite_cold,
	  verify_field },
};

static const struct l1_op *find_op(enum op o)
{
	for (size_t i = 0; i < sizeof(l1_ops) / sizeof(l1_ops[0]); i++)
		if (l1_ops[i].op == o)
			return &l1_ops[i];
	return NULL;
}

bool l1_has_op(enum op o)
{
	return find_op(o) != NULL;
}

/* ---- The timed loop ------------------------------------------------------- */

/* `count` operations; the deltas go to eb_samples if `record`. */
static void run_ops(const struct l1_op *op, struct eb_regs *r, uint32_t count, bool record)
{
	for (uint32_t i = 0; i < count; i++) {
		int64_t delta;

		if (op->op == OP_VMPTRLD) {
			r->rsi = (uintptr_t)&vmcs_pa[vmptrld_next];
			vmptrld_next ^= 1;
		}
		delta = op->timed(r);
		if (record)
			eb_samples[i] = delta;
	}
}

struct first_op {
	const struct l1_op *op;
	struct eb_regs *r;
};

static void run_first(void *p)
{
	struct first_op *f = p;

	run_ops(f->op, f->r, 1, false);
}

void l1_measure(const struct meas *m)
{
	const struct l1_op *op = find_op(m->op);
	struct eb_regs r = { 0 };
	struct first_op first = { op, &r };
	int v;

	if (!op->prepare(m, &r))
		return;
	/* The first operation, untimed, where an exception cannot end the run:
	 * an L0 may refuse what nestvisor allows. */
	v = catch_exception(run_first, &first);
	if (v != NO_EXCEPTION) {
		skip(m, "the first %s raised %s", op_name(m->op), exception_name(v));
		return;
	}
	run_ops(op, &r, opt.warmup, false);
	acct_begin();
	run_ops(op, &r, opt.n, true);
	acct_end();

	result_print(m, opt.n);
	if (op->shadowed && l0_shadowing())
		acct_expect_none(m);
	else
		acct_expect(m, NV_ACCT_L1, op->reason, 1, opt.n);
	if (op->verify)
		op->verify(m, &r);
}
