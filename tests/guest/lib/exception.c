/* SPDX-License-Identifier: MIT */
/* IDT for the 32 exception vectors, the C exception handler and catch_exception helpers. */
#include <guest.h>
#include <stddef.h>

/* The stack exc_common (entry.asm) builds: pushad, then what the stub and CPU pushed. */
struct exc_frame {
	uint32_t edi, esi, ebp, esp_pushad, ebx, edx, ecx, eax; /* pushad */
	uint32_t vector;                                        /* stub */
	uint32_t error_code;                                    /* CPU or stub (0) */
	uint32_t eip, cs, eflags;                               /* CPU, no privilege change */
};
_Static_assert(offsetof(struct exc_frame, eax) == 7 * 4, "pushad pushes 8 registers");
_Static_assert(offsetof(struct exc_frame, vector) == 8 * 4, "stub pushes vector last");
_Static_assert(offsetof(struct exc_frame, eip) == 10 * 4, "CPU frame follows the error code");

/* SDM Vol. 3A, 6.11 "IDT Descriptors": a 32-bit interrupt gate. */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;      /* P=1, DPL=0, type 0xE (32-bit interrupt gate) */
	uint16_t offset_hi;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 8, "IDT gate is 8 bytes");
#define IDT_GATE_INT32_PRESENT 0x8E

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint32_t base;
};

extern const uint32_t exc_stubs[NUM_EXCEPTIONS];       /* entry.asm */
extern char catch_resume[];                            /* entry.asm */

static struct idt_gate idt[NUM_EXCEPTIONS] __attribute__((aligned(8)));

/* Catch state shared with entry.asm (catch_exception). */
uint32_t catch_esp;     /* non-zero while a catch is active */
int catch_vector;
static uint32_t catch_error;
static uint32_t catch_fault_eip;

void idt_init(void);
void exception_handler(struct exc_frame *f);

void idt_init(void)
{
	struct dtr d = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

	for (int v = 0; v < NUM_EXCEPTIONS; v++) {
		idt[v].offset_lo = exc_stubs[v] & 0xFFFF;
		idt[v].offset_hi = exc_stubs[v] >> 16;
		idt[v].selector = SEL_CODE32;
		idt[v].zero = 0;
		idt[v].type_attr = IDT_GATE_INT32_PRESENT;
	}
	asm volatile("lidt %0" : : "m"(d));
}

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

void exception_handler(struct exc_frame *f)
{
	if (catch_esp) {
		catch_vector = (int)f->vector;
		catch_error = f->error_code;
		catch_fault_eip = f->eip;
		f->eip = (uint32_t)(uintptr_t)catch_resume;    /* iret lands there */
		f->cs = SEL_CODE32;
		return;
	}
	printf("EXCEPTION: vector %u (%s) error 0x%x eip 0x%08x cr2 0x%08x eflags 0x%x\n",
	       f->vector, exception_name((int)f->vector), f->error_code, f->eip,
	       read_cr2(), f->eflags);
	printf("EXCEPTION: eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x\n",
	       f->eax, f->ebx, f->ecx, f->edx);
	printf("EXCEPTION: esi 0x%08x edi 0x%08x ebp 0x%08x esp 0x%08x\n",
	       f->esi, f->edi, f->ebp, f->esp_pushad + 5 * 4);
	guest_exit(GUEST_EXIT_EXCEPTION);
}

uint32_t caught_error_code(void)
{
	return catch_error;
}

uint32_t caught_eip(void)
{
	return catch_fault_eip;
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
