/* SPDX-License-Identifier: MIT */
/*
 * VMX instructions, each run under catch_exception with every arithmetic flag
 * set beforehand, so that the outcome is exact: SDM Vol. 3C, 31.2
 * "Conventions": VMsucceed clears CF, PF, AF, ZF, SF, OF; VMfailInvalid sets
 * CF and clears the rest; VMfailValid sets ZF, clears the rest and stores the
 * error number in the VM-instruction error field. Anything else is
 * VMX_BAD_FLAGS. Memory operands use one of several addressing forms (vmxlib.h).
 */
#include "vmxlib.h"

#define RFLAGS_CF    (1ull << 0)
#define RFLAGS_FIXED (1ull << 1)
#define RFLAGS_PF    (1ull << 2)
#define RFLAGS_AF    (1ull << 4)
#define RFLAGS_ZF    (1ull << 6)
#define RFLAGS_SF    (1ull << 7)
#define RFLAGS_OF    (1ull << 11)
#define ARITH_FLAGS  (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
/* What POPFQ loads before each instruction: IF stays 0, DF 0 (the C ABI). */
#define FLAGS_PRESET (ARITH_FLAGS | RFLAGS_FIXED)

#define GS_TEST_BASE  0x10000ull        /* FORM_MEM_GS: GS.base during the instruction */
#define ADDR32_GARBAGE (0xDEAD0000ull << 32) /* FORM_MEM_ADDR32: bits 63:32 of the base */
#define SIB_INDEX     3ull              /* FORM_MEM_SIB: [base + 3*4 + 8] */

/*
 * The memory operand of the non-_at forms: vmx_operand_area[1]. The other two
 * quadwords are guards (a store must not touch them). A global, not static:
 * FORM_MEM_RIP names it in the instruction.
 */
uint64_t vmx_operand_area[3] __attribute__((aligned(16)));
#define OPERAND (&vmx_operand_area[1])
#define GUARD   0x6767676767676767ull

/* Before and after each instruction: load the preset flags, then capture them. */
#define PRE  "push %[fl]\n\tpopfq\n\t"
#define POST "\n\tpushfq\n\tpop %[fl]"

const char *form_name(enum vmx_form f)
{
	static const char *const names[NUM_FORMS] = {
		[FORM_REG] = "reg", [FORM_REG_HIGH] = "reg r9/r12", [FORM_MEM_BASE] = "[base]",
		[FORM_MEM_SIB] = "[base+index*4+8]", [FORM_MEM_RIP] = "[rip+disp32]",
		[FORM_MEM_ADDR32] = "addr32 [ecx]", [FORM_MEM_GS] = "gs:[base]",
	};

	return f < NUM_FORMS ? names[f] : "?";
}

/* ---- One instruction with an m64 operand: VMXON, VMCLEAR, VMPTRLD, VMPTRST. */

struct op {
	uint64_t addr;          /* the memory operand (or, for the register forms, unused) */
	uint64_t enc, val;      /* VMREAD/VMWRITE: encoding, value in/out */
	uint64_t flags;
	enum vmx_form form;
};

#define M64_INSN(fn, mnem)                                                              \
static void fn(void *p)                                                                 \
{                                                                                       \
	struct op *op = p;                                                              \
	uint64_t fl = FLAGS_PRESET, a = op->addr;                                       \
                                                                                        \
	switch (op->form) {                                                             \
	case FORM_MEM_SIB: {                                                            \
		uint64_t i = SIB_INDEX, b = a - 8 - SIB_INDEX * 4;                      \
		asm volatile(PRE mnem " 8(%[b],%[i],4)" POST                             \
			     : [fl] "+r"(fl) : [b] "r"(b), [i] "r"(i) : "cc", "memory");  \
		break;                                                                  \
	}                                                                               \
	case FORM_MEM_RIP:                                                              \
		asm volatile(PRE mnem " vmx_operand_area+8(%%rip)" POST                 \
			     : [fl] "+r"(fl) : : "cc", "memory");                         \
		break;                                                                  \
	case FORM_MEM_ADDR32: {                                                         \
		uint64_t b = ADDR32_GARBAGE | (uint32_t)a;                              \
		asm volatile(PRE mnem " (%k[b])" POST                                   \
			     : [fl] "+r"(fl) : [b] "r"(b) : "cc", "memory");              \
		break;                                                                  \
	}                                                                               \
	case FORM_MEM_GS: {                                                             \
		uint64_t b = a - GS_TEST_BASE;                                          \
		asm volatile(PRE mnem " %%gs:(%[b])" POST                               \
			     : [fl] "+r"(fl) : [b] "r"(b) : "cc", "memory");              \
		break;                                                                  \
	}                                                                               \
	default:                                                                        \
		asm volatile(PRE mnem " (%[b])" POST                                    \
			     : [fl] "+r"(fl) : [b] "r"(a) : "cc", "memory");              \
		break;                                                                  \
	}                                                                               \
	op->flags = fl;                                                                 \
}

M64_INSN(do_vmxon, "vmxon")
M64_INSN(do_vmclear, "vmclear")
M64_INSN(do_vmptrld, "vmptrld")
M64_INSN(do_vmptrst, "vmptrst")

/* The VM-instruction error, read directly: only after VMfailValid, when there
 * is a current VMCS by definition. */
static uint32_t insn_error(void)
{
	uint64_t v = ~0ull, fl = FLAGS_PRESET, enc = VMCS_VM_INSTRUCTION_ERROR;

	asm volatile(PRE "vmread %[enc], %[v]" POST
		     : [fl] "+r"(fl), [v] "+r"(v) : [enc] "r"(enc) : "cc");
	return (fl & ARITH_FLAGS) ? ~0u : (uint32_t)v;
}

struct vmx_res res_from(int vector, uint64_t flags)
{
	struct vmx_res r = { .rflags = flags };

	if (vector != NO_EXCEPTION) {
		r.outcome = VMX_EXCEPTION;
		r.vector = vector;
		r.error_code = caught_error_code();
		r.rflags = 0;
		return r;
	}
	switch (flags & ARITH_FLAGS) {
	case 0:
		r.outcome = VMX_OK;
		break;
	case RFLAGS_CF:
		r.outcome = VMX_FAIL_INVALID;
		break;
	case RFLAGS_ZF:
		r.outcome = VMX_FAIL_VALID;
		r.error = insn_error();
		break;
	default:
		r.outcome = VMX_BAD_FLAGS;
		break;
	}
	return r;
}

/* Runs fn with op's form: sets GS.base around FORM_MEM_GS (restored even
 * after an exception). */
static struct vmx_res run(void (*fn)(void *), struct op *op)
{
	uint64_t gs_base = 0;
	int v;

	if (op->form == FORM_MEM_GS) {
		gs_base = rdmsr(MSR_GS_BASE);
		wrmsr(MSR_GS_BASE, GS_TEST_BASE);
	}
	v = catch_exception(fn, op);
	if (op->form == FORM_MEM_GS)
		wrmsr(MSR_GS_BASE, gs_base);
	return res_from(v, op->flags);
}

static struct vmx_res m64_store_operand(void (*fn)(void *), uint64_t pa, enum vmx_form form)
{
	struct op op = { .addr = (uintptr_t)OPERAND, .form = form };

	if (form < FORM_FIRST_MEM)
		form = op.form = FORM_MEM_BASE;         /* m64 only: no register form */
	*OPERAND = pa;
	return run(fn, &op);
}

static struct vmx_res m64_at(void (*fn)(void *), const void *operand)
{
	struct op op = { .addr = (uintptr_t)operand, .form = FORM_MEM_BASE };

	return run(fn, &op);
}

struct vmx_res vmxon(uint64_t pa) { return m64_store_operand(do_vmxon, pa, FORM_MEM_BASE); }
struct vmx_res vmxon_form(uint64_t pa, enum vmx_form f) { return m64_store_operand(do_vmxon, pa, f); }
struct vmx_res vmxon_at(const void *operand) { return m64_at(do_vmxon, operand); }
struct vmx_res vmclear(uint64_t pa) { return m64_store_operand(do_vmclear, pa, FORM_MEM_BASE); }
struct vmx_res vmclear_form(uint64_t pa, enum vmx_form f) { return m64_store_operand(do_vmclear, pa, f); }
struct vmx_res vmclear_at(const void *operand) { return m64_at(do_vmclear, operand); }
struct vmx_res vmptrld(uint64_t pa) { return m64_store_operand(do_vmptrld, pa, FORM_MEM_BASE); }
struct vmx_res vmptrld_form(uint64_t pa, enum vmx_form f) { return m64_store_operand(do_vmptrld, pa, f); }
struct vmx_res vmptrld_at(const void *operand) { return m64_at(do_vmptrld, operand); }

struct vmx_res vmptrst_form(enum vmx_form form)
{
	struct vmx_res r;

	vmx_operand_area[0] = vmx_operand_area[2] = GUARD;
	r = m64_store_operand(do_vmptrst, GUARD, form);
	r.value = *OPERAND;
	if (vmx_operand_area[0] != GUARD || vmx_operand_area[2] != GUARD)
		report(false, "VMPTRST (%s) stored 8 bytes only (guards 0x%016llx 0x%016llx)",
		       form_name(form), U64(vmx_operand_area[0]), U64(vmx_operand_area[2]));
	return r;
}

struct vmx_res vmptrst(void) { return vmptrst_form(FORM_MEM_BASE); }
struct vmx_res vmptrst_at(void *operand) { return m64_at(do_vmptrst, operand); }

/* ---- VMXOFF, VMCALL: no operand. */

static void do_vmxoff(void *p)
{
	struct op *op = p;
	uint64_t fl = FLAGS_PRESET;

	asm volatile(PRE "vmxoff" POST : [fl] "+r"(fl) : : "cc", "memory");
	op->flags = fl;
}

static void do_vmcall(void *p)
{
	struct op *op = p;
	uint64_t fl = FLAGS_PRESET;

	asm volatile(PRE "vmcall" POST : [fl] "+r"(fl) : : "cc", "memory");
	op->flags = fl;
}

struct vmx_res vmxoff(void)
{
	struct op op = { .form = FORM_REG };

	return run(do_vmxoff, &op);
}

struct vmx_res vmcall_root(void)
{
	struct op op = { .form = FORM_REG };

	return run(do_vmcall, &op);
}

/* ---- VMREAD r/m64, r64 and VMWRITE r64, r/m64 (AT&T: source first). */

static void do_vmread(void *p)
{
	struct op *op = p;
	uint64_t fl = FLAGS_PRESET, a = op->addr, enc = op->enc, val = op->val;

	switch (op->form) {
	case FORM_REG:
		asm volatile(PRE "vmread %[enc], %[val]" POST
			     : [fl] "+r"(fl), [val] "+r"(val) : [enc] "r"(enc) : "cc");
		break;
	case FORM_REG_HIGH: {
		register uint64_t e asm("r9") = enc;
		register uint64_t v asm("r12") = val;

		asm volatile(PRE "vmread %%r9, %%r12" POST
			     : [fl] "+r"(fl), "+r"(v) : "r"(e) : "cc");
		val = v;
		break;
	}
	case FORM_MEM_SIB: {
		uint64_t i = SIB_INDEX, b = a - 8 - SIB_INDEX * 4;

		asm volatile(PRE "vmread %[enc], 8(%[b],%[i],4)" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc), [b] "r"(b), [i] "r"(i) : "cc", "memory");
		break;
	}
	case FORM_MEM_RIP:
		asm volatile(PRE "vmread %[enc], vmx_operand_area+8(%%rip)" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc) : "cc", "memory");
		break;
	case FORM_MEM_ADDR32: {
		uint64_t b = ADDR32_GARBAGE | (uint32_t)a;

		asm volatile(PRE "vmread %[enc], (%k[b])" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc), [b] "r"(b) : "cc", "memory");
		break;
	}
	case FORM_MEM_GS: {
		uint64_t b = a - GS_TEST_BASE;

		asm volatile(PRE "vmread %[enc], %%gs:(%[b])" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc), [b] "r"(b) : "cc", "memory");
		break;
	}
	default:
		asm volatile(PRE "vmread %[enc], (%[b])" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc), [b] "r"(a) : "cc", "memory");
		break;
	}
	op->val = val;
	op->flags = fl;
}

static void do_vmwrite(void *p)
{
	struct op *op = p;
	uint64_t fl = FLAGS_PRESET, a = op->addr, enc = op->enc, val = op->val;

	switch (op->form) {
	case FORM_REG:
		asm volatile(PRE "vmwrite %[val], %[enc]" POST
			     : [fl] "+r"(fl) : [val] "r"(val), [enc] "r"(enc) : "cc", "memory");
		break;
	case FORM_REG_HIGH: {
		register uint64_t e asm("r9") = enc;
		register uint64_t v asm("r12") = val;

		asm volatile(PRE "vmwrite %%r12, %%r9" POST
			     : [fl] "+r"(fl) : "r"(v), "r"(e) : "cc", "memory");
		break;
	}
	case FORM_MEM_SIB: {
		uint64_t i = SIB_INDEX, b = a - 8 - SIB_INDEX * 4;

		asm volatile(PRE "vmwrite 8(%[b],%[i],4), %[enc]" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc), [b] "r"(b), [i] "r"(i) : "cc", "memory");
		break;
	}
	case FORM_MEM_RIP:
		asm volatile(PRE "vmwrite vmx_operand_area+8(%%rip), %[enc]" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc) : "cc", "memory");
		break;
	case FORM_MEM_ADDR32: {
		uint64_t b = ADDR32_GARBAGE | (uint32_t)a;

		asm volatile(PRE "vmwrite (%k[b]), %[enc]" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc), [b] "r"(b) : "cc", "memory");
		break;
	}
	case FORM_MEM_GS: {
		uint64_t b = a - GS_TEST_BASE;

		asm volatile(PRE "vmwrite %%gs:(%[b]), %[enc]" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc), [b] "r"(b) : "cc", "memory");
		break;
	}
	default:
		asm volatile(PRE "vmwrite (%[b]), %[enc]" POST
			     : [fl] "+r"(fl) : [enc] "r"(enc), [b] "r"(a) : "cc", "memory");
		break;
	}
	op->flags = fl;
}

#define VMREAD_POISON 0x5A5A5A5A5A5A5A5Aull  /* in the destination beforehand */

struct vmx_res vmread_form(uint64_t enc, enum vmx_form form)
{
	struct op op = { .addr = (uintptr_t)OPERAND, .enc = enc, .val = VMREAD_POISON, .form = form };
	struct vmx_res r;

	vmx_operand_area[0] = vmx_operand_area[2] = GUARD;
	*OPERAND = VMREAD_POISON;
	r = run(do_vmread, &op);
	r.value = form >= FORM_FIRST_MEM ? *OPERAND : op.val;
	if (vmx_operand_area[0] != GUARD || vmx_operand_area[2] != GUARD)
		report(false, "VMREAD (%s) of 0x%llx stored 8 bytes only (guards 0x%016llx 0x%016llx)",
		       form_name(form), U64(enc), U64(vmx_operand_area[0]), U64(vmx_operand_area[2]));
	return r;
}

struct vmx_res vmread(uint64_t enc) { return vmread_form(enc, FORM_REG); }

struct vmx_res vmread_to(uint64_t enc, void *dst)
{
	struct op op = { .addr = (uintptr_t)dst, .enc = enc, .form = FORM_MEM_BASE };

	return run(do_vmread, &op);
}

struct vmx_res vmread_reg_prefilled(uint64_t enc, uint64_t prefill)
{
	struct op op = { .enc = enc, .val = prefill, .form = FORM_REG };
	struct vmx_res r = run(do_vmread, &op);

	r.value = op.val;
	return r;
}

struct vmx_res vmwrite_form(uint64_t enc, uint64_t val, enum vmx_form form)
{
	struct op op = { .addr = (uintptr_t)OPERAND, .enc = enc, .val = val, .form = form };

	*OPERAND = val;
	return run(do_vmwrite, &op);
}

struct vmx_res vmwrite(uint64_t enc, uint64_t val) { return vmwrite_form(enc, val, FORM_REG); }

struct vmx_res vmwrite_from(uint64_t enc, const void *src)
{
	struct op op = { .addr = (uintptr_t)src, .enc = enc, .form = FORM_MEM_BASE };

	return run(do_vmwrite, &op);
}

/* ---- INVEPT/INVVPID r64, m128 */

static void do_invept(void *p)
{
	struct op *op = p;
	uint64_t fl = FLAGS_PRESET;

	asm volatile(PRE "invept (%[d]), %[t]" POST
		     : [fl] "+r"(fl) : [d] "r"(op->addr), [t] "r"(op->val) : "cc", "memory");
	op->flags = fl;
}

static void do_invvpid(void *p)
{
	struct op *op = p;
	uint64_t fl = FLAGS_PRESET;

	asm volatile(PRE "invvpid (%[d]), %[t]" POST
		     : [fl] "+r"(fl) : [d] "r"(op->addr), [t] "r"(op->val) : "cc", "memory");
	op->flags = fl;
}

struct vmx_res invept(uint64_t type, const void *descriptor)
{
	struct op op = { .addr = (uintptr_t)descriptor, .val = type, .form = FORM_MEM_BASE };

	return run(do_invept, &op);
}

struct vmx_res invvpid(uint64_t type, const void *descriptor)
{
	struct op op = { .addr = (uintptr_t)descriptor, .val = type, .form = FORM_MEM_BASE };

	return run(do_invvpid, &op);
}

/* ---- VMXON in compatibility mode: a far return to the 32-bit code segment
 * (CS.L = 0 while EFER.LMA = 1), the instruction, a far return back. An
 * exception is taken through the 64-bit IDT, which returns to 64-bit mode. */

static void do_vmxon_compat(void *p)
{
	struct op *op = p;
	uint64_t fl = FLAGS_PRESET, a = op->addr;

	asm volatile("push %[fl]\n\t"
		     "popfq\n\t"
		     "lea 1f(%%rip), %%rdx\n\t"
		     "pushq %[cs32]\n\t"
		     "push %%rdx\n\t"
		     "lretq\n\t"
		     ".code32\n"
		     "1:\n\t"
		     "vmxon (%k[a])\n\t"
		     "pushfl\n\t"
		     "popl %k[fl]\n\t"
		     "pushl %[cs64]\n\t"
		     "pushl $2f\n\t"
		     "lretl\n\t"
		     ".code64\n"
		     "2:"
		     : [fl] "+a"(fl)   /* registers that exist in 32-bit code */
		     : [a] "b"(a), [cs32] "i"(SEL_CODE32), [cs64] "i"(SEL_CODE64)
		     : "rdx", "cc", "memory");
	op->flags = (uint32_t)fl;
}

struct vmx_res vmxon_compat(uint64_t pa)
{
	struct op op = { .addr = (uintptr_t)OPERAND, .form = FORM_MEM_BASE };

	*OPERAND = pa;
	return run(do_vmxon_compat, &op);
}

/* ---- Other VMX instructions in compatibility mode: the same far returns. */

#define COMPAT_RUN(insn)                                                        \
	asm volatile("push %[fl]\n\t"                                          \
		     "popfq\n\t"                                                \
		     "lea 1f(%%rip), %%rdx\n\t"                                 \
		     "pushq %[cs32]\n\t"                                        \
		     "push %%rdx\n\t"                                           \
		     "lretq\n\t"                                                \
		     ".code32\n"                                                 \
		     "1:\n\t"                                                   \
		     insn "\n\t"                                                \
		     "pushfl\n\t"                                               \
		     "popl %k[fl]\n\t"                                          \
		     "pushl %[cs64]\n\t"                                        \
		     "pushl $2f\n\t"                                            \
		     "lretl\n\t"                                                \
		     ".code64\n"                                                 \
		     "2:"                                                        \
		     : [fl] "+a"(fl), [a] "+b"(a), [c] "+c"(c)                   \
		     : [cs32] "i"(SEL_CODE32), [cs64] "i"(SEL_CODE64)            \
		     : "rdx", "cc", "memory")

static void do_compat(void *p)
{
	struct op *op = p;
	uint64_t fl = FLAGS_PRESET, a = op->addr, c = op->enc;

	switch ((enum compat_insn)op->val) {
	case COMPAT_VMREAD: COMPAT_RUN("vmread %%ecx, %%ebx"); break;
	case COMPAT_VMWRITE: COMPAT_RUN("vmwrite %%ebx, %%ecx"); break;
	case COMPAT_VMPTRLD: COMPAT_RUN("vmptrld (%%ebx)"); break;
	case COMPAT_VMPTRST: COMPAT_RUN("vmptrst (%%ebx)"); break;
	case COMPAT_VMCLEAR: COMPAT_RUN("vmclear (%%ebx)"); break;
	case COMPAT_VMLAUNCH: COMPAT_RUN("vmlaunch"); break;
	case COMPAT_VMRESUME: COMPAT_RUN("vmresume"); break;
	case COMPAT_VMXOFF: COMPAT_RUN("vmxoff"); break;
	}
	op->flags = (uint32_t)fl;
}

struct vmx_res vmx_insn_compat(enum compat_insn insn, uint64_t operand, uint32_t enc)
{
	struct op op = { .addr = (uintptr_t)OPERAND, .val = insn, .enc = enc,
			 .form = FORM_MEM_BASE };

	*OPERAND = operand;
	return run(do_compat, &op);
}

/* ---- Set-up helpers and reporting */

uint64_t vmr(uint64_t enc)
{
	struct vmx_res r = vmread(enc);

	if (r.outcome != VMX_OK)
		report(false, "set-up: VMREAD 0x%04llx -> VMsucceed (got %s)", U64(enc), res_str(r));
	return r.value;
}

void vmw(uint64_t enc, uint64_t val)
{
	struct vmx_res r = vmwrite(enc, val);

	if (r.outcome != VMX_OK)
		report(false, "set-up: VMWRITE 0x%04llx = 0x%llx -> VMsucceed (got %s)", U64(enc),
		       U64(val), res_str(r));
}

const char *res_str(struct vmx_res r)
{
	static char bufs[8][48];
	static unsigned next;
	char *b = bufs[next++ % 8];

	switch (r.outcome) {
	case VMX_OK:
		return "VMsucceed";
	case VMX_FAIL_INVALID:
		return "VMfailInvalid";
	case VMX_FAIL_VALID:
		nv_snprintf(b, sizeof(bufs[0]), "VMfailValid(%u)", r.error);
		return b;
	case VMX_EXCEPTION:
		nv_snprintf(b, sizeof(bufs[0]), "%s(0x%x)", exception_name(r.vector), r.error_code);
		return b;
	case VMX_BAD_FLAGS:
		nv_snprintf(b, sizeof(bufs[0]), "RFLAGS 0x%llx (no VMX convention)", U64(r.rflags));
		return b;
	}
	return "?";
}

bool res_is(struct vmx_res got, struct vmx_res want)
{
	if (got.outcome != want.outcome)
		return false;
	if (got.outcome == VMX_FAIL_VALID)
		return got.error == want.error;
	if (got.outcome == VMX_EXCEPTION)
		return got.vector == want.vector && got.error_code == want.error_code;
	return true;
}

bool check_res(struct vmx_res got, struct vmx_res want, const char *fmt, ...)
{
	char name[200];
	va_list ap;
	bool ok = res_is(got, want);

	va_start(ap, fmt);
	nv_vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (ok)
		return report(true, "%s -> %s", name, res_str(want));
	return report(false, "%s -> %s (got %s)", name, res_str(want), res_str(got));
}
