/* SPDX-License-Identifier: MIT */
/* 32-bit kernels: IDT for the 32 exception vectors and the C exception handler. */
#include <guest.h>
#include <internal.h>
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

/* Catch state shared with entry.asm (catch_exception); the rest is in internal.h. */
uint32_t catch_esp;     /* non-zero while a catch is active */

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

void exception_handler(struct exc_frame *f)
{
	if (catch_esp) {
		catch_vector = (int)f->vector;
		catch_error = f->error_code;
		catch_fault_ip = f->eip;
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
