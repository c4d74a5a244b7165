/* SPDX-License-Identifier: MIT */
/* 64-bit kernels: IDT for the 32 exception vectors and the C exception handler. */
#include <guest.h>
#include <internal.h>
#include <stddef.h>

/* The stack exc64_common (entry64.asm) builds: 15 pushes, then what the stub and CPU pushed. */
struct exc_frame64 {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector;                                /* stub */
	uint64_t error_code;                            /* CPU or stub (0) */
	uint64_t rip, cs, rflags, rsp, ss;              /* CPU: always all five in 64-bit mode */
};
_Static_assert(offsetof(struct exc_frame64, rax) == 14 * 8, "15 registers pushed, RAX first");
_Static_assert(offsetof(struct exc_frame64, vector) == 15 * 8, "stub pushes vector last");
_Static_assert(offsetof(struct exc_frame64, rip) == 17 * 8, "CPU frame follows the error code");

/* SDM Vol. 3A, 6.14.1 "64-Bit Mode IDT": 16-byte gates. */
struct idt_gate64 {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;      /* P=1, DPL=0, type 0xE (64-bit interrupt gate) */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate64) == 16, "64-bit IDT gate is 16 bytes");
#define IDT_GATE_INT64_PRESENT 0x8E

struct __attribute__((packed)) dtr64 {
	uint16_t limit;
	uint64_t base;
};

extern const uint64_t exc64_stubs[NUM_EXCEPTIONS];     /* entry64.asm */
extern char catch_resume[];                            /* entry64.asm */

static struct idt_gate64 idt64[NUM_EXCEPTIONS] __attribute__((aligned(16)));

/* Catch state shared with entry64.asm (catch_exception); the rest is in internal.h. */
uint64_t catch_rsp;     /* non-zero while a catch is active */

void exception_handler64(struct exc_frame64 *f);

void idt_init(void)
{
	struct dtr64 d = { sizeof(idt64) - 1, (uint64_t)(uintptr_t)idt64 };

	for (int v = 0; v < NUM_EXCEPTIONS; v++) {
		uint64_t a = exc64_stubs[v];

		idt64[v] = (struct idt_gate64){
			.offset_lo = (uint16_t)a, .selector = SEL_CODE64, .ist = 0,
			.type_attr = IDT_GATE_INT64_PRESENT, .offset_mid = (uint16_t)(a >> 16),
			.offset_hi = (uint32_t)(a >> 32), .reserved = 0,
		};
	}
	asm volatile("lidt %0" : : "m"(d));
}

void (*nmi_hook)(void);

void exception_handler64(struct exc_frame64 *f)
{
	/* An NMI the kernel expects: counted by its hook, then IRETQ resumes. */
	if (f->vector == 2 && nmi_hook) {
		nmi_hook();
		return;
	}
	if (catch_rsp) {
		catch_vector = (int)f->vector;
		catch_error = (uint32_t)f->error_code;
		catch_fault_ip = f->rip;
		f->rip = (uint64_t)(uintptr_t)catch_resume;   /* iretq lands there */
		f->cs = SEL_CODE64;
		return;
	}
	printf("EXCEPTION: vector %llu (%s) error 0x%llx rip 0x%016llx cs 0x%llx rflags 0x%llx\n",
	       (unsigned long long)f->vector, exception_name((int)f->vector),
	       (unsigned long long)f->error_code, (unsigned long long)f->rip,
	       (unsigned long long)f->cs, (unsigned long long)f->rflags);
	printf("EXCEPTION: rsp 0x%016llx ss 0x%llx cr2 0x%016llx cr3 0x%llx cr0 0x%llx cr4 0x%llx\n",
	       (unsigned long long)f->rsp, (unsigned long long)f->ss,
	       (unsigned long long)read_cr2(), (unsigned long long)read_cr3(),
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr4());
	printf("EXCEPTION: rax 0x%016llx rbx 0x%016llx rcx 0x%016llx rdx 0x%016llx\n",
	       (unsigned long long)f->rax, (unsigned long long)f->rbx,
	       (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	printf("EXCEPTION: rsi 0x%016llx rdi 0x%016llx rbp 0x%016llx r8  0x%016llx\n",
	       (unsigned long long)f->rsi, (unsigned long long)f->rdi,
	       (unsigned long long)f->rbp, (unsigned long long)f->r8);
	printf("EXCEPTION: r9  0x%016llx r10 0x%016llx r11 0x%016llx r12 0x%016llx\n",
	       (unsigned long long)f->r9, (unsigned long long)f->r10,
	       (unsigned long long)f->r11, (unsigned long long)f->r12);
	printf("EXCEPTION: r13 0x%016llx r14 0x%016llx r15 0x%016llx\n",
	       (unsigned long long)f->r13, (unsigned long long)f->r14,
	       (unsigned long long)f->r15);
	guest_exit(GUEST_EXIT_EXCEPTION);
}
