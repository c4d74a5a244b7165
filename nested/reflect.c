/* SPDX-License-Identifier: MIT */
#include "nested/reflect.h"
#include "nested/checks.h"
#include "vmx/exit_info.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmx_bits.h"
#include "core/x86.h"

static bool proc(const struct vmcs12 *v, uint32_t bit)
{
	return v->CPU_BASED_VM_EXEC_CONTROL & bit;
}

static bool proc2(const struct vmcs12 *v, uint32_t bit)
{
	return vmcs12_proc2(v) & bit;
}

/* A bit of an L1 bitmap; an unreadable bitmap counts as "exit" (the safe answer). */
static bool bitmap_bit(uint64_t page, uint32_t bit, l1_reader_fn read)
{
	uint8_t byte;

	if (!read(page + bit / 8, &byte, 1))
		return true;
	return byte >> (bit % 8) & 1;
}

/* 25.1.3: I/O instructions with I/O bitmaps: any byte of the access with its bit set. */
static bool io_exits(const struct vmcs12 *v, const struct l2_exit *e, l1_reader_fn read)
{
	struct io_info io = decode_io(e->qualification);

	if (!proc(v, PROC_USE_IO_BITMAPS))
		return proc(v, PROC_UNCOND_IO_EXITING);
	for (unsigned i = 0; i < io.size; i++) {
		uint32_t port = io.port + i;

		if (port > 0xffff)  /* wrap-around exits (25.1.3) */
			return true;
		if (bitmap_bit(port < 0x8000 ? v->IO_BITMAP_A : v->IO_BITMAP_B, port & 0x7fff, read))
			return true;
	}
	return false;
}

/* 25.1.3: RDMSR/WRMSR with MSR bitmaps (25.6.9 "MSR-Bitmap Address"). */
static bool msr_exits(const struct vmcs12 *v, const struct l2_exit *e, bool write,
		      l1_reader_fn read)
{
	uint32_t msr = e->msr, base = write ? 2048 : 0;

	if (!proc(v, PROC_USE_MSR_BITMAPS))
		return true;
	if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		base += 1024;
	else if (msr > 0x1fff)
		return true;
	return bitmap_bit(v->MSR_BITMAP + base, msr & 0x1fff, read);
}

/* 25.1.3: MOV to CR0/CR4 exits when a masked bit differs from the read shadow. */
static bool cr_exits(const struct vmcs12 *v, const struct l2_exit *e)
{
	struct cr_access_info cr = decode_cr_access(e->qualification);
	uint64_t mask0 = v->CR0_GUEST_HOST_MASK, shadow0 = v->CR0_READ_SHADOW;

	switch (cr.type) {
	case CR_MOV_TO:
		if (cr.cr == 0)
			return (e->cr_value ^ shadow0) & mask0;
		if (cr.cr == 4)
			return (e->cr_value ^ v->CR4_READ_SHADOW) & v->CR4_GUEST_HOST_MASK;
		if (cr.cr == 3) {
			if (!proc(v, PROC_CR3_LOAD_EXITING))
				return false;
			for (uint32_t i = 0; i < v->CR3_TARGET_COUNT && i < 4; i++) {
				const uint64_t *t = &v->CR3_TARGET_VALUE0;

				if (t[i] == e->cr_value)
					return false;
			}
			return true;
		}
		if (cr.cr == 8)
			return proc(v, PROC_CR8_LOAD_EXITING);
		return true;
	case CR_MOV_FROM:
		return cr.cr == 3 ? proc(v, PROC_CR3_STORE_EXITING)
				  : cr.cr == 8 ? proc(v, PROC_CR8_STORE_EXITING) : true;
	case CR_CLTS:
		return (mask0 & CR0_TS) && (shadow0 & CR0_TS);
	case CR_LMSW:
		/* Exits if it would set a masked bit of 3:0 differing from the shadow,
		 * or clear a masked PE that the shadow has set. */
		return (mask0 & 0xe & (cr.lmsw_source ^ shadow0)) ||
		       ((mask0 & CR0_PE) && !(shadow0 & CR0_PE) && (cr.lmsw_source & CR0_PE));
	}
	return true;
}

/* 25.2: exceptions by the exception bitmap, #PF by error-code mask/match. */
static bool exception_exits(const struct vmcs12 *v, const struct l2_exit *e)
{
	unsigned type = (e->intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	unsigned vector = e->intr_info & INTR_INFO_VECTOR_MASK;

	if (type == INTR_TYPE_NMI)
		return v->PIN_BASED_VM_EXEC_CONTROL & PIN_NMI_EXITING;
	if (vector == VEC_PF) {
		bool match = (e->intr_error_code & v->PAGE_FAULT_ERROR_CODE_MASK) ==
			     v->PAGE_FAULT_ERROR_CODE_MATCH;

		return !!(v->EXCEPTION_BITMAP & (1u << VEC_PF)) == match;
	}
	return vector < 32 && (v->EXCEPTION_BITMAP & (1u << vector));
}

bool nested_l1_wants_exit(const struct vmcs12 *v, const struct l2_exit *e, l1_reader_fn read)
{
	if (nested_exit_always_reflected(e->reason))
		return true;
	switch (e->reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		return exception_exits(v, e);
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		return v->PIN_BASED_VM_EXEC_CONTROL & PIN_EXTINT_EXITING;
	case EXIT_REASON_INTERRUPT_WINDOW:
		return proc(v, PROC_INTR_WINDOW_EXITING);
	case EXIT_REASON_NMI_WINDOW:
		return proc(v, PROC_NMI_WINDOW_EXITING);
	case EXIT_REASON_HLT:
		return proc(v, PROC_HLT_EXITING);
	case EXIT_REASON_INVLPG:
		return proc(v, PROC_INVLPG_EXITING);
	case EXIT_REASON_RDPMC:
		return proc(v, PROC_RDPMC_EXITING);
	case EXIT_REASON_RDTSC:
	case EXIT_REASON_RDTSCP:
		return proc(v, PROC_RDTSC_EXITING);
	case EXIT_REASON_CR_ACCESS:
		return cr_exits(v, e);
	case EXIT_REASON_DR_ACCESS:
		return proc(v, PROC_MOV_DR_EXITING);
	case EXIT_REASON_IO_INSTRUCTION:
		return io_exits(v, e, read);
	case EXIT_REASON_MSR_READ:
		return msr_exits(v, e, false, read);
	case EXIT_REASON_MSR_WRITE:
		return msr_exits(v, e, true, read);
	case EXIT_REASON_MWAIT:
		return proc(v, PROC_MWAIT_EXITING);
	case EXIT_REASON_MONITOR:
		return proc(v, PROC_MONITOR_EXITING);
	case EXIT_REASON_PAUSE:
		return proc(v, PROC_PAUSE_EXITING);
	case EXIT_REASON_GDTR_IDTR:
	case EXIT_REASON_LDTR_TR:
		return proc2(v, PROC2_DESC_TABLE_EXITING);
	case EXIT_REASON_WBINVD:
		return proc2(v, PROC2_WBINVD_EXITING);
	case EXIT_REASON_RDRAND:
		return proc2(v, PROC2_RDRAND_EXITING);
	case EXIT_REASON_RDSEED:
		return proc2(v, PROC2_RDSEED_EXITING);
	case EXIT_REASON_INVPCID:
		return proc(v, PROC_INVLPG_EXITING) && proc2(v, PROC2_ENABLE_INVPCID);
	case EXIT_REASON_PREEMPTION_TIMER:
		/* Only L1's timer runs while L2 does (25.5.1). */
		return v->PIN_BASED_VM_EXEC_CONTROL & PIN_PREEMPTION_TIMER;
	default:
		/* EPT violations/misconfigurations (EPT01) and anything L1 cannot
		 * have asked for are L0's. */
		return false;
	}
}
