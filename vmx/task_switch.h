/* SPDX-License-Identifier: MIT */
/*
 * Hardware task switches of a 32-bit guest, emulated (the TASK_SWITCH exit,
 * vmx/exit_task_switch.c). Pure: it sees the guest only through struct
 * ts_state and struct ts_mem, so host unit tests run it (tests/unit).
 *
 * SDM Vol. 3A, 7.2 "Task Management Data Structures", 7.3 "Task Switching",
 * 7.4 "Task Linking", 6.12.2 "Interrupt Tasks", 6.15 "Exception and Interrupt
 * Reference" (Interrupt 8, Table 6-5); Vol. 3C, 26.4.2 "Treatment of Task
 * Switches" (what the CPU checks before it exits) and Table 28-2 "Exit
 * Qualification for Task Switches".
 *
 * What it does not do: 16-bit TSSs (old or new: TS_UNSUPPORTED, the caller
 * reports it); the privilege checks of the gate or TSS descriptor (the CPU makes
 * them before the exit, and the exit does not say whether a gate was used).
 */
#ifndef NESTVISOR_VMX_TASK_SWITCH_H
#define NESTVISOR_VMX_TASK_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

/* A segment register: selector and descriptor cache, the access rights in the
 * VMCS format (SDM Vol. 3C, 25.4.1 "Guest Register State": bits 7:0 and 15:12
 * of the descriptor's second dword >> 8, bit 16 unusable); limit in bytes. */
struct ts_seg {
	uint16_t sel;
	uint32_t base, limit, ar;
};

/* The SDM's order (and the TSS's, and the VMCS encodings'), then LDTR and TR. */
enum ts_sreg { TS_ES, TS_CS, TS_SS, TS_DS, TS_FS, TS_GS, TS_LDTR, TS_TR, TS_NSREGS };

/* Access rights bits (the VMCS format). */
#define TS_AR_TYPE_MASK  0xfu
#define TS_AR_S          (1u << 4)
#define TS_AR_DPL_SHIFT  5
#define TS_AR_P          (1u << 7)
#define TS_AR_DB         (1u << 14)
#define TS_AR_G          (1u << 15)
#define TS_AR_UNUSABLE   (1u << 16)

/* System descriptor types (SDM Vol. 3A, 3.5, Table 3-2 "System-Segment and Gate-Descriptor Types"). */
#define TS_TYPE_TSS16_AVAIL 1
#define TS_TYPE_LDT         2
#define TS_TYPE_TSS16_BUSY  3
#define TS_TYPE_TSS32_AVAIL 9
#define TS_TYPE_TSS32_BUSY  11
#define TS_TYPE_BUSY_BIT    2

#define TS_EFLAGS_TF   (1u << 8)
#define TS_EFLAGS_NT   (1u << 14)
#define TS_EFLAGS_VM   (1u << 17)
#define TS_CR0_TS      (1u << 3)
#define TS_CR0_PG      (1u << 31)

/* The guest state a task switch reads and writes. */
struct ts_state {
	uint32_t gpr[8];            /* EAX ECX EDX EBX ESP EBP ESI EDI */
	uint32_t eip, eflags;
	uint32_t cr0;               /* as the guest sees it: TS is set by every switch */
	uint32_t cr3;
	struct ts_seg seg[TS_NSREGS];
	uint32_t gdtr_base, gdtr_limit;
};

/* A fault for the guest: vector, error code, CR2 for #PF. */
struct ts_fault {
	uint8_t vector;
	bool has_error;
	uint32_t error_code;
	uint32_t cr2;
};

enum ts_mem_status {
	TS_MEM_OK = 0,
	TS_MEM_FAULT,       /* the access faults for the guest (fault filled in) */
	TS_MEM_ABORT,       /* not the guest's memory: the caller ends the run */
};

/*
 * The guest's memory at linear addresses, accessed as the CPU does for the TSS
 * and descriptor tables (supervisor accesses through the guest's current
 * paging, which load_cr3 changes).
 */
struct ts_mem {
	void *ctx;
	enum ts_mem_status (*read)(void *ctx, uint32_t la, void *buf, unsigned len,
				   struct ts_fault *f);
	enum ts_mem_status (*write)(void *ctx, uint32_t la, const void *buf, unsigned len,
				    struct ts_fault *f);
	/* Load CR3 with paging on (after the commit point); false if the CPU would
	 * refuse it (PAE paging with a reserved bit in a present PDPTE): #GP(0). */
	bool (*load_cr3)(void *ctx, uint32_t cr3);
};

/* What started the switch: the source field of the exit qualification (Table 28-2). */
enum ts_source { TS_SRC_CALL = 0, TS_SRC_IRET = 1, TS_SRC_JMP = 2, TS_SRC_IDT_GATE = 3 };

struct ts_request {
	enum ts_source source;
	uint16_t selector;          /* the new task's TSS (for IRET: the back link) */
	uint32_t old_eip;           /* EIP saved in the old TSS (the return point) */
	bool ext;                   /* caused by an event external to the program: EXT in error codes */
	bool push_error;            /* an exception with an error code (6.12.2): onto the new stack */
	uint32_t error_code;
};

enum ts_outcome {
	TS_DONE,            /* the new task runs: write the state back */
	TS_FAULT,           /* raise fault; committed says in which task's context */
	TS_UNSUPPORTED,     /* a 16-bit TSS: nothing was changed, why says what */
	TS_ABORT,           /* the memory interface refused (TS_MEM_ABORT) */
	TS_UNREPRESENTABLE, /* committed, but the CPU state the fault leaves cannot be
			     * entered under VMX (why says which): the caller ends the run */
};

struct ts_result {
	enum ts_outcome outcome;
	/* TR and the registers hold the new task (the commit point was passed):
	 * write the state back, and a fault is raised in the new task's context. */
	bool committed;
	struct ts_fault fault;
	/* TS_DONE: the new TSS's T flag: a debug trap (DR6.BT) before the new
	 * task's first instruction (SDM Vol. 3A, 7.2.1 "Task-State Segment"). */
	bool debug_trap;
	uint32_t abort_la;          /* TS_ABORT: the linear address */
	const char *why;            /* the check that failed, for logs */
};

/* Switch from the task in s (TR) to r->selector's. s is updated as far as the
 * switch got (all of it for TS_DONE; nothing before the commit point). */
struct ts_result task_switch(struct ts_state *s, const struct ts_request *r,
			     const struct ts_mem *m);

/*
 * A fault raised while delivering hardware exception `first` (through a task
 * gate): SDM Vol. 3A, 6.15, Interrupt 8, Table 6-5 "Conditions for Generating
 * a Double Fault". Returns the vector to deliver: second, TS_VEC_DF (#DF with
 * error code 0), or TS_SHUTDOWN (a fault while delivering #DF: triple fault).
 */
#define TS_VEC_DF    8
#define TS_SHUTDOWN  (-1)
int ts_fault_during_exception(unsigned first, unsigned second);

#endif
