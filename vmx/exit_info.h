/* SPDX-License-Identifier: MIT */
/*
 * Exit qualifications decoded once into named fields.
 * SDM Vol. 3C, 28.2.1 "Basic VM-Exit Information", Tables 28-2 (task switch),
 * 28-3 (CR access), 28-5 (I/O instructions), 28-7 (EPT violations).
 */
#ifndef NESTVISOR_VMX_EXIT_INFO_H
#define NESTVISOR_VMX_EXIT_INFO_H

#include <stdbool.h>
#include <stdint.h>

/* Table 28-2 "Exit Qualification for Task Switches" */
enum task_switch_source {
	TASK_SWITCH_CALL = 0, TASK_SWITCH_IRET = 1, TASK_SWITCH_JMP = 2, TASK_SWITCH_IDT_GATE = 3
};
struct task_switch_info {
	uint16_t selector;               /* bits 15:0: the new task's TSS */
	enum task_switch_source source;  /* bits 31:30 */
};

static inline struct task_switch_info decode_task_switch(uint64_t q)
{
	return (struct task_switch_info){
		.selector = (uint16_t)q,
		.source = (enum task_switch_source)((q >> 30) & 3),
	};
}

/* Table 28-3 "Exit Qualification for Control-Register Accesses" */
enum cr_access_type { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };
struct cr_access_info {
	unsigned cr;               /* bits 3:0 */
	enum cr_access_type type;  /* bits 5:4 */
	bool lmsw_memory;          /* bit 6 */
	unsigned gpr;              /* bits 11:8 */
	uint16_t lmsw_source;      /* bits 31:16 */
};

static inline struct cr_access_info decode_cr_access(uint64_t q)
{
	return (struct cr_access_info){
		.cr = q & 0xf,
		.type = (enum cr_access_type)((q >> 4) & 3),
		.lmsw_memory = (q >> 6) & 1,
		.gpr = (q >> 8) & 0xf,
		.lmsw_source = (uint16_t)(q >> 16),
	};
}

/* Table 28-5 "Exit Qualification for I/O Instructions" */
struct io_info {
	unsigned size;   /* bytes: 1, 2 or 4 (bits 2:0 + 1) */
	bool in;         /* bit 3 */
	bool string;     /* bit 4 */
	bool rep;        /* bit 5 */
	bool immediate;  /* bit 6 */
	uint16_t port;   /* bits 31:16 */
};

/* The bits of RAX an I/O access of this size uses. */
static inline uint32_t io_size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static inline struct io_info decode_io(uint64_t q)
{
	return (struct io_info){
		.size = (unsigned)(q & 7) + 1,
		.in = (q >> 3) & 1,
		.string = (q >> 4) & 1,
		.rep = (q >> 5) & 1,
		.immediate = (q >> 6) & 1,
		.port = (uint16_t)(q >> 16),
	};
}

/* Table 28-7 "Exit Qualification for EPT Violations" */
struct ept_violation_info {
	bool read, write, fetch;         /* bits 0-2: the access */
	bool readable, writable, executable;  /* bits 3-5: what the entry allowed */
	bool linear_valid;               /* bit 7: guest linear address field valid */
	bool translation;                /* bit 8: access to the final translation */
	bool nmi_unblocking;             /* bit 12 */
};

static inline struct ept_violation_info decode_ept_violation(uint64_t q)
{
	return (struct ept_violation_info){
		.read = q & 1,
		.write = (q >> 1) & 1,
		.fetch = (q >> 2) & 1,
		.readable = (q >> 3) & 1,
		.writable = (q >> 4) & 1,
		.executable = (q >> 5) & 1,
		.linear_valid = (q >> 7) & 1,
		.translation = (q >> 8) & 1,
		.nmi_unblocking = (q >> 12) & 1,
	};
}

#endif
