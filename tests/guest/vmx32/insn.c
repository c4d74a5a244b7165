/* SPDX-License-Identifier: MIT */
/*
 * Running one VMX instruction (a stub of stubs.asm) under catch_exception with
 * every arithmetic flag set beforehand, so that the outcome is exact: SDM Vol.
 * 3C, 31.2 "Conventions": VMsucceed clears CF, PF, AF, ZF, SF, OF;
 * VMfailInvalid sets CF only; VMfailValid sets ZF only and stores the error
 * number in the VM-instruction error field. Anything else is VMX_BAD_FLAGS.
 */
#include "vmx32.h"

#define EFL_CF (1u << 0)
#define EFL_PF (1u << 2)
#define EFL_AF (1u << 4)
#define EFL_ZF (1u << 6)
#define EFL_SF (1u << 7)
#define EFL_OF (1u << 11)
#define ARITH_FLAGS (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF)

#define SIB_DISP  0x12345678u   /* stubs.asm */
#define SIB_INDEX 0x11u
#define A16_DISP  0x1010u
#define A16_BX    0xF000u       /* bx + si + disp exceeds 0xFFFF: wraps in 16 bits */
#define GARBAGE_HI_BX 0xDEAD0000u
#define GARBAGE_HI_SI 0xBEEF0000u
#define REG_POISON 0xA5A5A5A5u

struct insn_ctx {
	uint32_t stub;
	struct regs32 r;
	uint32_t fs, gs, ss;
	uint32_t flags;
};
_Static_assert(offsetof(struct insn_ctx, r.eax) == 4, "stubs.asm CTX_EAX");
_Static_assert(offsetof(struct insn_ctx, r.edi) == 28, "stubs.asm CTX_EDI");
_Static_assert(offsetof(struct insn_ctx, fs) == 32, "stubs.asm CTX_FS");
_Static_assert(offsetof(struct insn_ctx, flags) == 44, "stubs.asm CTX_FLAGS");
_Static_assert(offsetof(struct regs32, edi) == 24, "stubs.asm R_EDI");

extern const uint32_t mem_stubs[NUM_OPS][NUM_MODES];
extern const uint32_t vmread_reg_stubs[VMREAD_REG_VARIANTS];
extern const uint32_t vmwrite_reg_stubs[VMWRITE_REG_VARIANTS];
extern const uint32_t vmxoff_stub;
void insn_exec(struct insn_ctx *c);

uint32_t abs_area[6] __attribute__((aligned(16)));
static uint32_t operand[4] __attribute__((aligned(16)));

const char *mode_name(enum mem_mode m)
{
	static const char *const names[NUM_MODES] = {
		[M_BASE] = "[ecx]", [M_SIB] = "[ebx+esi*4+disp32]", [M_ABS] = "[disp32]",
		[M_A16] = "addr16 gs:[bx+si+disp16]", [M_FS] = "fs:[ecx] (base 0x1000)",
		[M_GS] = "gs:[ecx] (base 0xFFFFF000)", [M_SS] = "ss:[ecx]",
		[M_EBP] = "[ebp] (SS)", [M_CS] = "cs:[ecx]",
	};

	return m < NUM_MODES ? names[m] : "?";
}

struct mem mem_at(enum mem_mode mode, uint32_t la)
{
	switch (mode) {
	case M_A16:
		return seg_off(mode, SEL_SEG16, la - seg16_base);
	case M_FS:
		return seg_off(mode, SEL_BASE1000, la - BASE1000);
	case M_GS:
		return seg_off(mode, SEL_WRAP, la - WRAP_BASE);    /* mod 2^32 */
	case M_SS:
		return seg_off(mode, SEL_STACK16M, la);
	default:
		return seg_off(mode, 0, la);
	}
}

static void restore_segments(void)
{
	asm volatile("mov %0, %%fs\n\tmov %0, %%gs\n\tmov %0, %%ss" : : "r"(SEL_DATA32));
}

static void do_exec(void *p)
{
	insn_exec(p);
}

static bool reading_error;

static struct vres res_from(int vector, uint32_t flags)
{
	struct vres r = { 0 };

	if (vector != NO_EXCEPTION) {
		r.outcome = VMX_EXCEPTION;
		r.vector = vector;
		r.error_code = caught_error_code();
		if (vector == VEC_PF)
			r.cr2 = (uint32_t)read_cr2();
		return r;
	}
	switch (flags & ARITH_FLAGS) {
	case 0:
		r.outcome = VMX_OK;
		break;
	case EFL_CF:
		r.outcome = VMX_FAIL_INVALID;
		break;
	case EFL_ZF:
		r.outcome = VMX_FAIL_VALID;
		if (!reading_error) {
			struct vres e;

			reading_error = true;
			e = vmread_reg(0, F_VM_INSN_ERROR, 0);
			reading_error = false;
			r.error = e.outcome == VMX_OK ? e.value : ~0u;
		}
		break;
	default:
		r.outcome = VMX_BAD_FLAGS;
		r.value = flags;
		break;
	}
	return r;
}

static struct vres exec(struct insn_ctx *c)
{
	int v = catch_exception(do_exec, c);

	restore_segments();
	return res_from(v, c->flags);
}

static void poison(struct insn_ctx *c)
{
	c->r = (struct regs32){ REG_POISON, REG_POISON, REG_POISON, REG_POISON, REG_POISON,
				REG_POISON, REG_POISON };
	c->fs = c->gs = c->ss = 0;
}

struct vres vmx_mem(enum vmx_op op, struct mem m, uint32_t enc)
{
	struct insn_ctx c;

	poison(&c);
	c.stub = mem_stubs[op][m.mode];
	c.r.eax = enc;
	switch (m.mode) {
	case M_SIB:
		c.r.esi = SIB_INDEX;
		c.r.ebx = m.off - SIB_DISP - SIB_INDEX * 4;   /* the sum wraps at 2^32 */
		break;
	case M_ABS:
		break;
	case M_A16:
		c.r.ebx = GARBAGE_HI_BX | A16_BX;
		c.r.esi = GARBAGE_HI_SI | ((m.off - A16_BX - A16_DISP) & 0xFFFFu);
		c.gs = m.sel;
		break;
	case M_EBP:
		c.r.ebp = m.off;
		c.ss = m.sel;
		break;
	default:
		c.r.ecx = m.off;
		if (m.mode == M_FS)
			c.fs = m.sel;
		else if (m.mode == M_GS)
			c.gs = m.sel;
		else if (m.mode == M_SS)
			c.ss = m.sel;
		break;
	}
	return exec(&c);
}

const char *vmread_reg_name(unsigned variant)
{
	static const char *const n[VMREAD_REG_VARIANTS] = {
		"vmread ebx, eax", "vmread esi, ebp", "vmread ecx, edi", "vmread edx, edx",
	};

	return variant < VMREAD_REG_VARIANTS ? n[variant] : "?";
}

const char *vmwrite_reg_name(unsigned variant)
{
	static const char *const n[VMWRITE_REG_VARIANTS] = {
		"vmwrite eax, ebx", "vmwrite ebp, esi", "vmwrite edi, ecx",
	};

	return variant < VMWRITE_REG_VARIANTS ? n[variant] : "?";
}

struct vres vmread_reg(unsigned variant, uint32_t enc, uint32_t prefill)
{
	struct insn_ctx c;
	struct vres r;

	poison(&c);
	c.stub = vmread_reg_stubs[variant];
	switch (variant) {
	case 0: c.r.eax = enc; c.r.ebx = prefill; break;
	case 1: c.r.ebp = enc; c.r.esi = prefill; break;
	case 2: c.r.edi = enc; c.r.ecx = prefill; break;
	default: c.r.edx = enc; break;
	}
	r = exec(&c);
	if (r.outcome == VMX_BAD_FLAGS)
		return r;
	switch (variant) {
	case 0: r.value = c.r.ebx; break;
	case 1: r.value = c.r.esi; break;
	case 2: r.value = c.r.ecx; break;
	default: r.value = c.r.edx; break;
	}
	return r;
}

struct vres vmwrite_reg(unsigned variant, uint32_t enc, uint32_t val)
{
	struct insn_ctx c;

	poison(&c);
	c.stub = vmwrite_reg_stubs[variant];
	switch (variant) {
	case 0: c.r.eax = enc; c.r.ebx = val; break;
	case 1: c.r.ebp = enc; c.r.esi = val; break;
	default: c.r.edi = enc; c.r.ecx = val; break;
	}
	return exec(&c);
}

struct vres vmxoff(void)
{
	struct insn_ctx c;

	poison(&c);
	c.stub = vmxoff_stub;
	return exec(&c);
}

static struct vres m64_pa(enum vmx_op op, uint64_t pa)
{
	memcpy(operand, &pa, sizeof(pa));
	return vmx_mem(op, mem_at(M_BASE, (uint32_t)(uintptr_t)operand), 0);
}

struct vres vmxon_pa(uint64_t pa) { return m64_pa(OP_VMXON, pa); }
struct vres vmclear_pa(uint64_t pa) { return m64_pa(OP_VMCLEAR, pa); }
struct vres vmptrld_pa(uint64_t pa) { return m64_pa(OP_VMPTRLD, pa); }

struct vres vmptrst_get(uint64_t *pa)
{
	struct vres r;

	operand[0] = operand[1] = 0x67676767u;
	r = vmx_mem(OP_VMPTRST, mem_at(M_BASE, (uint32_t)(uintptr_t)operand), 0);
	memcpy(pa, operand, sizeof(*pa));
	return r;
}

struct vres vmread(uint32_t enc)
{
	return vmread_reg(0, enc, 0xDEADBEEFu);
}

struct vres vmwrite(uint32_t enc, uint32_t val)
{
	return vmwrite_reg(0, enc, val);
}

uint32_t vmr(uint32_t enc)
{
	struct vres r = vmread(enc);

	if (r.outcome != VMX_OK)
		report(false, "set-up: VMREAD 0x%04x -> VMsucceed (got %s)", enc, res_str(r));
	return r.value;
}

void vmw(uint32_t enc, uint32_t val)
{
	struct vres r = vmwrite(enc, val);

	if (r.outcome != VMX_OK)
		report(false, "set-up: VMWRITE 0x%04x = 0x%x -> VMsucceed (got %s)", enc, val,
		       res_str(r));
}

void vmw64(uint32_t enc, uint64_t val)
{
	vmw(enc, (uint32_t)val);                /* clears bits 63:32 ... */
	vmw(enc | 1, (uint32_t)(val >> 32));    /* ... which the high access then writes */
}

const char *res_str(struct vres r)
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
		if (r.vector == VEC_PF)
			nv_snprintf(b, sizeof(bufs[0]), "#PF(0x%x) CR2 0x%08x", r.error_code, r.cr2);
		else
			nv_snprintf(b, sizeof(bufs[0]), "%s(0x%x)", exception_name(r.vector),
				    r.error_code);
		return b;
	case VMX_BAD_FLAGS:
		nv_snprintf(b, sizeof(bufs[0]), "EFLAGS 0x%x (no VMX convention)", r.value);
		return b;
	}
	return "?";
}

bool res_is(struct vres got, struct vres want)
{
	if (got.outcome != want.outcome)
		return false;
	if (got.outcome == VMX_FAIL_VALID)
		return got.error == want.error;
	if (got.outcome == VMX_EXCEPTION)
		return got.vector == want.vector && got.error_code == want.error_code;
	return true;
}

static bool check_va(struct vres got, struct vres want, bool cr2_ok, const char *fmt, va_list ap)
{
	char name[256];
	bool ok = res_is(got, want) && cr2_ok;

	nv_vsnprintf(name, sizeof(name), fmt, ap);
	if (ok)
		return report(true, "%s -> %s", name, res_str(want));
	return report(false, "%s -> %s (got %s)", name, res_str(want), res_str(got));
}

bool check_res(struct vres got, struct vres want, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = check_va(got, want, true, fmt, ap);
	va_end(ap);
	return ok;
}

bool check_pf(struct vres got, uint32_t error_code, uint32_t cr2, const char *fmt, ...)
{
	struct vres want = WANT_EXC(VEC_PF, error_code);
	va_list ap;
	bool ok;

	want.cr2 = cr2;
	va_start(ap, fmt);
	ok = check_va(got, want, got.cr2 == cr2, fmt, ap);
	va_end(ap);
	return ok;
}
