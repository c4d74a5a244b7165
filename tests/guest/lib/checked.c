/* SPDX-License-Identifier: MIT */
/* catch_exception's results and the checked operations built on it (both widths). */
#include <guest.h>
#include <internal.h>

int catch_vector;
uint32_t catch_error;
uintptr_t catch_fault_ip;

const char *exception_name(int vector)
{
	static const char *const names[NUM_EXCEPTIONS] = {
		[VEC_DE] = "#DE", [VEC_DB] = "#DB", [VEC_NMI] = "NMI", [VEC_BP] = "#BP",
		[VEC_OF] = "#OF", [VEC_BR] = "#BR", [VEC_UD] = "#UD", [VEC_NM] = "#NM",
		[VEC_DF] = "#DF", [9] = "CSO", [VEC_TS] = "#TS", [VEC_NP] = "#NP",
		[VEC_SS] = "#SS", [VEC_GP] = "#GP", [VEC_PF] = "#PF", [VEC_MF] = "#MF",
		[VEC_AC] = "#AC", [VEC_MC] = "#MC", [VEC_XM] = "#XM", [VEC_VE] = "#VE",
		[VEC_CP] = "#CP",
	};

	if (vector == NO_EXCEPTION)
		return "none";
	if (vector < 0 || vector >= NUM_EXCEPTIONS || !names[vector])
		return "reserved";
	return names[vector];
}

uint32_t caught_error_code(void)
{
	return catch_error;
}

uint32_t caught_eip(void)
{
	return (uint32_t)catch_fault_ip;
}

uintptr_t caught_ip(void)
{
	return catch_fault_ip;
}

/* ---- Checked operations: each runs one instruction under catch_exception. */

struct msr_op {
	uint32_t msr;
	uint64_t val;
};

static void do_rdmsr(void *p)
{
	struct msr_op *op = p;

	op->val = rdmsr(op->msr);
}

static void do_wrmsr(void *p)
{
	struct msr_op *op = p;

	wrmsr(op->msr, op->val);
}

int rdmsr_checked(uint32_t msr, uint64_t *val)
{
	struct msr_op op = { msr, 0 };
	int v = catch_exception(do_rdmsr, &op);

	if (v == NO_EXCEPTION && val)
		*val = op.val;
	return v;
}

int wrmsr_checked(uint32_t msr, uint64_t val)
{
	struct msr_op op = { msr, val };

	return catch_exception(do_wrmsr, &op);
}

static void do_write_cr4(void *p)
{
	write_cr4(*(uint32_t *)p);
}

int write_cr4_checked(uint32_t val)
{
	return catch_exception(do_write_cr4, &val);
}

static void do_write_cr0(void *p)
{
	write_cr0(*(ureg_t *)p);
}

int write_cr0_checked(ureg_t val)
{
	return catch_exception(do_write_cr0, &val);
}

/* SDM Vol. 2C: VMCALL is 0F 01 C1; VMXON m64 is F3 0F C7 /6 (here ModRM 0x30 = [eax]).
 * Raw bytes, so no assembler or -march has to know VMX. */
static void do_vmcall(void *p)
{
	asm volatile(".byte 0x0f, 0x01, 0xc1" : : : "memory");
}

static void do_vmxon(void *p)
{
	uint64_t *region_ptr = p;

	asm volatile(".byte 0xf3, 0x0f, 0xc7, 0x30" : : "a"(region_ptr) : "memory", "cc");
}

int vmcall_checked(void)
{
	return catch_exception(do_vmcall, NULL);
}

int vmxon_checked(uint32_t vmxon_region_phys)
{
	uint64_t operand = vmxon_region_phys;

	return catch_exception(do_vmxon, &operand);
}
