/* SPDX-License-Identifier: MIT */
/*
 * Instructions allowed to fault in L0 (an MSR L1 asked for may not exist).
 * Each site registers (faulting RIP, resume RIP) in section .nv_fixup; the
 * trap handler resumes there and leaves the vector in fixup_vector.
 */
#include "core/mce.h"
#include "core/nmi.h"
#include "core/trap.h"
#include "core/panic.h"
#include "core/x86.h"

struct fixup_entry {
	uint64_t fault_rip;
	uint64_t resume_rip;
};

extern const struct fixup_entry __fixup_start[], __fixup_end[];

volatile int fixup_vector = -1;

#define FIXUP_SITE(insn)                                       \
	"1: " insn "\n"                                        \
	"2:\n"                                                 \
	".pushsection .nv_fixup, \"a\"\n"                      \
	".balign 8\n"                                          \
	".quad 1b, 2b\n"                                       \
	".popsection\n"

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;

	fixup_vector = -1;
	__asm__ volatile(FIXUP_SITE("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*value = ((uint64_t)hi << 32) | lo;
	return fixup_vector;
}

int wrmsr_safe(uint32_t msr, uint64_t value)
{
	fixup_vector = -1;
	__asm__ volatile(FIXUP_SITE("wrmsr")::"c"(msr), "a"((uint32_t)value),
			 "d"((uint32_t)(value >> 32))
			 : "memory");
	return fixup_vector;
}

int xsetbv_safe(uint32_t index, uint64_t value)
{
	fixup_vector = -1;
	__asm__ volatile(FIXUP_SITE("xsetbv")::"c"(index), "a"((uint32_t)value),
			 "d"((uint32_t)(value >> 32))
			 : "memory");
	return fixup_vector;
}

volatile union l0_events l0_events;

void trap_handler(struct trap_frame *f)
{
	/* An NMI while L0 runs is the guest's: latched, delivered at the next entry. */
	if (f->vector == 2) {
		l0_events.n.nmi++;
		return;
	}
	if (f->vector == 18) {
		mce_in_l0(f);  /* returns only if L0 can go on */
		return;
	}
	for (const struct fixup_entry *e = __fixup_start; e < __fixup_end; e++) {
		if (e->fault_rip == f->rip) {
			fixup_vector = (int)f->vector;
			f->rip = e->resume_rip;
			return;
		}
	}
	panic_trap(f);
}
